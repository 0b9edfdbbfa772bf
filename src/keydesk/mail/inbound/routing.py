"""Where a stored message goes: the ticket it answers, a new ticket, or an internal note.

`route` runs the filters in order — mail loops, the access list (`ticket.email`), the
sender's hourly rate — then applies the message in one transaction with its `applied_key`,
so a second delivery of the same message adds nothing. The caller (`process.inbound_process`)
records the outcome.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction

from keydesk.access.services import access_check_ticket_email
from keydesk.accounts.models import User
from keydesk.accounts.services import user_create
from keydesk.accounts.verification import verification_send
from keydesk.core.errors import ApplicationError
from keydesk.tenants.limits import CreationLimitReached, creation_refusal_record
from keydesk.tenants.models import Tenant
from keydesk.tickets.attachments import attachments_attach
from keydesk.tickets.models import Attachment, Comment, Ticket
from keydesk.tickets.services import comment_add, ticket_create

from ..models import OutboundEmail
from .addresses import inbound_settings_for, tenant_for_recipient
from .models import InboundEmail
from .parse import ParsedEmail
from .text import trim_quoted

Status = InboundEmail.Status
RATE_WINDOW = timedelta(hours=1)
THREAD_IDS_CHECKED = 50
_SUBJECT_REFERENCE = re.compile(r"\[#(\d{1,18})\]")
EMPTY_REPLY = "(No text: see the attachments.)"


@dataclass
class Outcome:
    status: str
    reason: str
    ticket: Ticket | None = None
    comment: Comment | None = None
    held_until: datetime | None = None
    applied: bool = False
    details: dict = field(default_factory=dict)


def _thread_ticket(tenant, parsed: ParsedEmail) -> Ticket | None:
    """The ticket a reply belongs to: by its threading headers, else by `[#123]` in the subject.

    Only this tenant's tickets and mail are searched, so a reference to another tenant's
    message finds nothing here.
    """
    ids = parsed.thread_ids[:THREAD_IDS_CHECKED]
    if ids:
        found: dict[str, int] = {}
        for message_id, ticket_id in OutboundEmail.objects.filter(
            tenant=tenant, message_id__in=ids, ticket__isnull=False
        ).values_list("message_id", "ticket_id"):
            found.setdefault(message_id, ticket_id)
        for message_id, ticket_id in Ticket.objects.filter(
            tenant=tenant, email_message_id__in=ids
        ).values_list("email_message_id", "pk"):
            found.setdefault(message_id, ticket_id)
        for message_id, ticket_id in InboundEmail.objects.filter(
            tenant=tenant, message_id__in=ids, ticket__isnull=False, applied_key__isnull=False
        ).values_list("message_id", "ticket_id"):
            found.setdefault(message_id, ticket_id)
        for message_id in ids:
            if message_id in found:
                return Ticket.objects.select_related("tenant").get(pk=found[message_id])
    match = _SUBJECT_REFERENCE.search(parsed.subject)
    if match:
        return (
            Ticket.objects.select_related("tenant")
            .filter(tenant=tenant, number=int(match.group(1)))
            .first()
        )
    return None


def _hourly_limit(tenant) -> int:
    return inbound_settings_for(tenant).sender_hourly_limit


def _over_rate_limit(email: InboundEmail, sender: str, now: datetime) -> datetime | None:
    """When the sender may send again, if they are over the hourly limit; else None."""
    limit = _hourly_limit(email.tenant)
    recent = list(
        InboundEmail.objects.filter(
            tenant=email.tenant,
            sender=sender,
            applied_key__isnull=False,
            processed_at__gt=now - RATE_WINDOW,
        )
        .exclude(pk=email.pk)
        .order_by("-processed_at")
        .values_list("processed_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    # The limit-th most recent leaves the window first among those that keep it full.
    return recent[-1] + RATE_WINDOW


def _verification_never_sent(person: User) -> bool:
    return not OutboundEmail.objects.filter(
        tenant_id=person.tenant_id, recipient_user=person, template="verify_email"
    ).exists()


def _duplicate_of(email: InboundEmail, key: str) -> InboundEmail | None:
    return (
        InboundEmail.objects.filter(tenant=email.tenant, applied_key=key)
        .exclude(pk=email.pk)
        .first()
    )


def _duplicate(original: InboundEmail) -> Outcome:
    return Outcome(
        Status.PROCESSED,
        f"A second delivery of message {original.pk}: nothing added.",
        ticket=original.ticket,
        details={"duplicate_of": original.pk},
    )


def _apply_as_contact(
    email: InboundEmail,
    parsed: ParsedEmail,
    person: User | None,
    ticket: Ticket | None,
    files: list[Attachment],
) -> Outcome:
    auto = parsed.auto_submitted
    if person is None:
        person = user_create(
            tenant=email.tenant,
            actor=None,
            email=parsed.sender,
            kind=User.Kind.CONTACT,
            name=parsed.sender_name,
            language=parsed.language or "",
            send_verification=not auto,
        )
    elif not auto and person.email_verified_at is None and _verification_never_sent(person):
        # Made from an automatic mail earlier, so never sent a link: this is their first
        # message of their own.
        verification_send(user=person, actor=None)
    if ticket is not None and ticket.requester_id == person.pk:
        if ticket.status != Ticket.Status.CLOSED:
            comment = comment_add(
                ticket=ticket,
                actor=person,
                body=trim_quoted(parsed.text) or EMPTY_REPLY,
                is_public=True,
                notify_requester=not auto,
            )
            attachments_attach(ticket=ticket, comment=comment, attachments=files)
            return Outcome(
                Status.PROCESSED,
                f"Reply added to #{ticket.number}.",
                ticket=ticket,
                comment=comment,
                applied=True,
                details={"ticket": ticket.number, "comment_id": comment.pk, "kind": "reply"},
            )
        note = f" (#{ticket.number} is closed)"
    elif ticket is not None:
        note = f" (the sender is not the requester of #{ticket.number})"
    else:
        note = ""
    created = ticket_create(
        tenant=email.tenant,
        actor=person,
        subject=parsed.subject,
        description=parsed.text,
        source=Ticket.Source.EMAIL,
        notify_requester=not auto,
        email_message_id=parsed.message_id,
    )
    attachments_attach(ticket=created, comment=None, attachments=files)
    return Outcome(
        Status.PROCESSED,
        f"New ticket #{created.number}{note}.",
        ticket=created,
        applied=True,
        details={"ticket": created.number, "kind": "new_ticket"},
    )


def _apply_as_staff(
    parsed: ParsedEmail, person: User, ticket: Ticket | None, files: list[Attachment]
) -> Outcome:
    # Mail is not authenticated: anyone can write a staff member's address in From. Mail
    # from staff therefore never speaks to a customer; it becomes an internal note.
    if ticket is None or ticket.status == Ticket.Status.CLOSED:
        return Outcome(
            Status.REJECTED,
            "Mail from a staff address only adds internal notes to open tickets; "
            "staff open tickets in the workspace.",
        )
    comment = comment_add(
        ticket=ticket,
        actor=person,
        body=trim_quoted(parsed.text) or EMPTY_REPLY,
        is_public=False,
        notify_requester=False,
    )
    attachments_attach(ticket=ticket, comment=comment, attachments=files)
    return Outcome(
        Status.PROCESSED,
        f"Internal note added to #{ticket.number} (mail from staff is never sent to customers).",
        ticket=ticket,
        comment=comment,
        applied=True,
        details={"ticket": ticket.number, "comment_id": comment.pk, "kind": "note"},
    )


def route(email: InboundEmail, parsed: ParsedEmail, files: list[Attachment], now) -> Outcome:
    tenant = email.tenant
    # A second delivery of a message is found by the unique `applied_key` below.
    key = parsed.message_id or f"sha256:{email.sha256}"
    if parsed.auto_submitted and tenant_for_recipient(parsed.sender) == tenant:
        # The helpdesk's own mail (all of it automatic) come back: a forwarding loop.
        return Outcome(Status.REJECTED, "Sent from this helpdesk's own address: a mail loop.")
    person = User.objects.filter(tenant=tenant, email=parsed.sender).first()
    decision = access_check_ticket_email(
        tenant=tenant, sender=parsed.sender, language=parsed.language, user=person
    )
    if not decision.allowed:
        return Outcome(Status.REJECTED, f"Refused by the access list: {decision.reason}")
    until = _over_rate_limit(email, parsed.sender, now)
    if until is not None:
        limit = _hourly_limit(tenant)
        return Outcome(
            Status.HELD,
            f"Over the limit of {limit} messages per sender per hour.",
            held_until=until,
        )
    for attempt in range(2):
        if attempt:  # after "email_taken": their account was made meanwhile
            person = User.objects.filter(tenant=tenant, email=parsed.sender).first()
        if person is not None and not person.is_active:
            return Outcome(Status.REJECTED, "The sender's account is deactivated.")
        ticket = _thread_ticket(tenant, parsed)
        try:
            with transaction.atomic():
                if connection.features.has_select_for_update:
                    # Locks in the order ticket creation takes them (the tenant row, then the
                    # event chain), so that concurrent creation cannot deadlock. (SQLite
                    # writes one transaction at a time.)
                    Tenant.objects.select_for_update(no_key=True).filter(pk=tenant.pk).values(
                        "pk"
                    ).first()
                InboundEmail.objects.filter(pk=email.pk).update(applied_key=key)
                if person is not None and person.is_staff_member:
                    outcome = _apply_as_staff(parsed, person, ticket, files)
                    if not outcome.applied:
                        # Nothing changed: the key stays free for a later delivery.
                        raise _NotApplied(outcome)
                    return outcome
                return _apply_as_contact(email, parsed, person, ticket, files)
        except _NotApplied as exc:
            return exc.outcome
        except IntegrityError:
            # Another delivery of this message was applied already (or just now, by another
            # worker): the unique key refused this one.
            original = _duplicate_of(email, key)
            if original is None:
                raise
            return _duplicate(original)
        except CreationLimitReached as exc:
            creation_refusal_record(error=exc)
            return Outcome(
                Status.HELD, f"New-account limits: {exc.message}", held_until=exc.resets_at
            )
        except ApplicationError as exc:
            if exc.code == "email_taken" and attempt == 0:
                continue  # the sender became a contact meanwhile (another of their messages)
            return Outcome(Status.FAILED, exc.message)
    raise AssertionError("unreachable")


class _NotApplied(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome
