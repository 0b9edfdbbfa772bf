"""Storing what the listener accepts, and turning stored messages into tickets and comments.

A message's life (`InboundEmail.status`): `received` when stored; then `processed` (a new
ticket, a reply, an internal note, or a duplicate that changed nothing), `rejected` (the
access list refused it, or nobody could act on it), `held` (over a limit; processed again
once `held_until` has passed) or `failed` (unreadable, with the error). An admin may queue a
failed, rejected or held message again ("reprocess").

Nothing is lost and nothing happens twice:

- `inbound_store` commits the raw message and a processing task (`inbound_drain`, one for a
  burst of mail) in one transaction, and the listener answers 250 only after that commit.
- `inbound_process` claims the message with a conditional UPDATE inside the transaction
  that also writes the ticket, the comment and the new status; a worker killed halfway
  rolls all of it back and the message is still `received`. A second run for the same
  message finds it claimed (or, waiting on the row, finished) and does nothing.
- `inbound_sweep` (every few minutes, from the worker's scheduler) queues again a message
  still `received` long after it was queued (its task died with a worker), and held
  messages that have come due.
- The Message-ID (or, without one, the SHA-256 of the raw bytes) is the message's
  `applied_key`, unique per tenant: a second delivery of the same message adds nothing.
"""

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, require
from keydesk.core.crypto import decrypt_bytes, encrypt_bytes
from keydesk.core.errors import ApplicationError, NotFound
from keydesk.core.worker import work_through
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.tenants.models import Tenant
from keydesk.tickets.attachments import (
    NewFile,
    attachment_files_write,
    attachments_discard,
)

from .models import InboundEmail
from .parse import ParsedEmail, UnusableMessage, parse_message
from .routing import Outcome, route

logger = logging.getLogger(__name__)

Status = InboundEmail.Status
# A message still `received` this long after its task was queued has lost that task.
STALE_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 1000
DRAIN_SECONDS = 2.0
REPROCESSABLE = (Status.FAILED, Status.REJECTED, Status.HELD)


def _enqueue(email_id: int) -> None:
    from .tasks import process_inbound_email

    process_inbound_email.enqueue(email_id)


def _enqueue_drain() -> None:
    """Queue a run of `inbound_drain`, unless one is queued and not yet started.

    A queued run will see every message committed before it starts, so one is enough. The
    row lock keeps a worker from starting that run until this transaction has committed
    (workers skip locked rows), so it cannot start, find nothing, and miss this message.
    """
    from django_tasks_db.models import DBTaskResult

    from .tasks import process_inbound_mail

    waiting = (
        DBTaskResult.objects.select_for_update()
        .filter(task_path=process_inbound_mail.module_path, status="READY")
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is None:
        process_inbound_mail.enqueue()


def inbound_store(
    *, raw: bytes, envelope_from: str, recipients: dict[int, list[str]], peer: str | None
) -> list[InboundEmail]:
    """Store one message for each tenant it is addressed to, and queue its processing.

    Returns once the rows and their tasks are committed; only then may the listener answer
    250. On SQLite this connection commits with `synchronous=FULL`, so a commit survives a
    power cut too, not only a crash of the process.
    """
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=FULL")
    envelope_from = "" if envelope_from in ("<>", None) else envelope_from
    token = encrypt_bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    tenants = Tenant.objects.in_bulk(list(recipients))
    stored = []
    with transaction.atomic():
        for tenant_id, addresses in recipients.items():
            stored.append(
                InboundEmail.objects.create(
                    tenant=tenants[tenant_id],
                    envelope_from=envelope_from[:320],
                    recipients=", ".join(addresses),
                    peer=peer,
                    raw_encrypted=token,
                    size=len(raw),
                    sha256=digest,
                )
            )
        if connection.vendor == "postgresql":
            # PostgreSQL checks foreign keys at commit, locking the tenant row then: after the
            # event chain's row, the reverse of ticket creation (tenant, then chain), which
            # would deadlock with it. Checking them now keeps the order: tenant, then chain.
            connection.check_constraints()
        for email in stored:
            record(
                email.tenant,
                None,
                EventAction.MAIL_RECEIVED,
                email,
                envelope_from=envelope_from,
                recipients=recipients[email.tenant_id],
                size=len(raw),
                peer=peer,
            )
        _enqueue_drain()
    return stored


def _claim(email_id: int, now: datetime) -> bool:
    """Take the message for processing; of two workers, the second waits and then finds it done."""
    return bool(
        InboundEmail.objects.filter(pk=email_id)
        .filter(Q(status=Status.RECEIVED) | Q(status=Status.HELD, held_until__lte=now))
        .update(attempts=F("attempts") + 1)
    )


_EVENTS = {
    Status.PROCESSED: EventAction.MAIL_PROCESSED,
    Status.REJECTED: EventAction.MAIL_REJECTED,
    Status.HELD: EventAction.MAIL_HELD,
    Status.FAILED: EventAction.MAIL_FAILED,
}


def _finish(email: InboundEmail, outcome: Outcome, now: datetime) -> None:
    email.status = outcome.status
    email.reason = outcome.reason[:500]
    email.ticket = outcome.ticket or email.ticket
    email.comment = outcome.comment
    email.held_until = outcome.held_until
    email.processed_at = now if outcome.status == Status.PROCESSED else email.processed_at
    email.save(
        update_fields=[
            "status",
            "reason",
            "ticket",
            "comment",
            "held_until",
            "processed_at",
            "message_id",
            "sender",
            "subject",
            "auto_submitted",
        ]
    )
    details = {"reason": email.reason, "sender": email.sender, **outcome.details}
    if outcome.held_until is not None:
        details["held_until"] = outcome.held_until.isoformat()
    if email.auto_submitted:
        details["auto_submitted"] = True
    record(email.tenant, None, _EVENTS[outcome.status], email, **details)


def _read(email: InboundEmail) -> ParsedEmail:
    """The parsed message; raises UnusableMessage (with what could be read) when it is beyond use."""
    try:
        raw = decrypt_bytes(email.raw_encrypted)
    except ValueError as exc:
        raise UnusableMessage(f"Cannot read the stored message: {exc}.") from None
    try:
        return parse_message(raw, envelope_from=email.envelope_from)
    except UnusableMessage:
        raise
    except Exception as exc:  # malformed beyond what the parser survives
        logger.warning("inbound message %s could not be parsed", email.pk, exc_info=True)
        raise UnusableMessage(f"Could not read the message: {type(exc).__name__}: {exc}") from None


def _files(parsed: ParsedEmail) -> list[NewFile]:
    return [
        NewFile(filename=a.filename, content_type=a.content_type, data=a.data, inline=a.inline)
        for a in parsed.attachments
    ]


def inbound_process(*, email_id: int, now: datetime | None = None) -> str:
    """Process one stored message; returns its status. Safe to run twice for the same message."""
    now = now or timezone.now()
    email = InboundEmail.objects.select_related("tenant").filter(pk=email_id).first()
    if email is None:
        return "missing"
    if not (
        email.status == Status.RECEIVED
        or (email.status == Status.HELD and email.held_until and email.held_until <= now)
    ):
        return email.status
    # Parsing and writing attachments happen before the transaction, which stays short.
    try:
        parsed, problem = _read(email), None
    except UnusableMessage as exc:
        parsed, problem = None, exc
    files = attachment_files_write(tenant=email.tenant, files=_files(parsed)) if parsed else []
    applied = False
    try:
        with transaction.atomic():
            if not _claim(email.pk, now):
                return InboundEmail.objects.get(pk=email.pk).status
            if parsed is not None:
                email.message_id = parsed.message_id
                email.sender = parsed.sender
                email.subject = parsed.subject[:255]
                email.auto_submitted = parsed.auto_submitted
            else:
                email.message_id = problem.message_id
                email.subject = problem.subject[:255]
            try:
                with transaction.atomic():
                    outcome = (
                        route(email, parsed, files, now)
                        if parsed is not None
                        else Outcome(Status.FAILED, str(problem))
                    )
            except (OperationalError, InterfaceError):
                raise  # the database itself: the message stays received and is tried again
            except Exception as exc:  # one bad message must not stop the others
                logger.exception("inbound message %s failed", email.pk)
                outcome = Outcome(Status.FAILED, f"{type(exc).__name__}: {exc}")
            if parsed is not None and parsed.skipped_attachments and outcome.applied:
                outcome.reason += (
                    f" {parsed.skipped_attachments} more attachments were not stored; "
                    "they are in the raw message."
                )
            _finish(email, outcome, now)
        applied = outcome.applied
    finally:
        if not applied:
            attachments_discard(files)
    return outcome.status


def inbound_drain(*, seconds: float = DRAIN_SECONDS) -> int:
    """Process received messages, oldest first, until none is left; returns how many.

    A message that raises is left `received` for the sweep and does not block the others.
    """

    def received():
        return InboundEmail.objects.filter(status=Status.RECEIVED).order_by("received_at", "pk")

    def hand_over() -> None:
        with transaction.atomic():
            _enqueue_drain()

    return work_through(
        pending=received,
        handle=lambda email_id: inbound_process(email_id=email_id),
        hand_over=hand_over,
        seconds=seconds,
        left_for="the inbound sweep",
    )


def inbound_sweep(*, now: datetime | None = None) -> list[int]:
    """Queue again the messages no task will process: stale `received` ones and due held ones.

    Each row is taken with a conditional UPDATE of `enqueued_at`, so of several workers
    sweeping at once only one queues it; queueing twice would be harmless anyway.
    """
    now = now or timezone.now()
    stale = now - STALE_AFTER
    candidates = (
        InboundEmail.objects.filter(
            Q(status=Status.RECEIVED, enqueued_at__lt=stale)
            | Q(status=Status.HELD, held_until__lte=now, enqueued_at__lt=F("held_until"))
            | Q(status=Status.HELD, held_until__lte=now, enqueued_at__lt=stale)
        )
        .order_by("received_at")
        .values_list("pk", "enqueued_at")[:SWEEP_BATCH]
    )
    queued = []
    for pk, enqueued_at in candidates:
        with transaction.atomic():
            if InboundEmail.objects.filter(pk=pk, enqueued_at=enqueued_at).update(enqueued_at=now):
                _enqueue(pk)
                queued.append(pk)
    if queued:
        logger.info("queued %d inbound messages again", len(queued))
    return queued


def inbound_reprocess(*, actor: User, email_id: int, request=None) -> InboundEmail:
    """An admin's "Reprocess": a failed, rejected or held message is processed again now."""
    require(actor, Perm.CHANNELS_MANAGE)
    with transaction.atomic():
        email = (
            InboundEmail.objects.select_for_update()
            .filter(tenant_id=actor.tenant_id, pk=email_id)
            .first()
        )
        if email is None:
            raise NotFound("message")
        if email.status not in REPROCESSABLE:
            raise ApplicationError(
                "not_reprocessable",
                "Only failed, rejected or held messages can be processed again.",
                status=409,
            )
        before = email.status
        email.status = Status.RECEIVED
        email.reason = f"Queued again by {actor.display_name}."
        email.held_until = None
        email.enqueued_at = timezone.now()
        email.save(update_fields=["status", "reason", "held_until", "enqueued_at"])
        record(
            email.tenant,
            actor,
            EventAction.MAIL_REPROCESSED,
            email,
            request,
            previous_status=before,
        )
        _enqueue(email.pk)
    return email
