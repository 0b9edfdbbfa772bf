"""Queueing and delivering outgoing email through the outbox.

`email_queue` renders `mail/<template>_subject.txt` and `mail/<template>_message.txt` (plus
`_message.html` when present, else an HTML part made from the text), stores the message
encrypted and, once the caller's transaction commits, makes sure a delivery run is queued.
`email_deliver_due` (that run, in the worker) sends every due message with `email_deliver`,
over SMTP with retries; every outcome is an event. Guests receive
no email, and people who turned notifications off receive no notification: those messages
are suppressed, and that is an event too.
"""

import contextlib
import json
import logging
import math
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import Context
from django.template.defaultfilters import urlize
from django.template.loader import TemplateDoesNotExist, get_template, render_to_string
from django.utils import timezone
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, require
from keydesk.core import outbox
from keydesk.core.crypto import decrypt, encrypt
from keydesk.core.errors import ApplicationError, NotFound
from keydesk.core.worker import work_through
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .models import OutboundEmail
from .outbound import smtp
from .outbound.sender import mail_settings_for, reply_to_address, sender_address

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
DELIVERY_RUN_SECONDS = 2.0
RETRY_WINDOW = timedelta(seconds=10)
# Mail is stamped due by the clock of the host that queued it, and taken by the worker's:
# a web host's clock a little ahead must not leave new mail behind a run that found it not
# yet due. (Retries are due 30 s and more after a try; taking one this much early is fine.)
CLOCK_SKEW_ALLOWED = timedelta(seconds=5)
ERASED_BODY = "[erased after delivery: this message held a one-time secret]"

__all__ = [
    "ERASED_BODY",
    "MAX_ATTEMPTS",
    "email_bodies",
    "email_deliver",
    "email_deliver_due",
    "email_queue",
    "email_recover_stranded",
    "email_retry",
    "sender_address",
]


def _render_text(name: str, context: dict) -> str:
    # Plain text is not HTML: a name like O'Brien or a reply saying "a < b" must arrive as
    # written, so the text templates render without HTML escaping.
    return get_template(name).template.render(Context(context, autoescape=False))


def _render(template: str, context: dict) -> tuple[str, dict[str, str]]:
    """The subject and the bodies: the text, and the HTML when the template has its own."""
    subject = " ".join(_render_text(f"mail/{template}_subject.txt", context).split())
    bodies = {"text": _render_text(f"mail/{template}_message.txt", context).strip() + "\n"}
    # Without its own HTML template, the HTML part is made from the text when the mail is
    # sent, by the worker rather than on the request's path.
    with contextlib.suppress(TemplateDoesNotExist):
        bodies["html"] = render_to_string(f"mail/{template}_message.html", context)
    return subject[:255], bodies


def _html_from_text(text: str) -> str:
    # urlize escapes the text and makes its links clickable; linebreaks adds paragraphs.
    body = mark_safe(linebreaks(urlize(text, autoescape=True)))  # noqa: S308
    return render_to_string("mail/base_message.html", {"body": body})


def _suppressed_by(user: User | None, *, notification: bool) -> EventAction | None:
    """Why this person gets no mail, as the event that says so; None when they get it."""
    if user is None:
        return None
    if user.is_guest:
        return EventAction.MAIL_SUPPRESSED_GUEST
    if notification and not user.email_notifications:
        return EventAction.MAIL_SUPPRESSED_PREFERENCE
    return None


def email_queue(
    *,
    tenant,
    template: str,
    to: User | str,
    context: dict,
    sensitive: bool = False,
    notification: bool = False,
    ticket=None,
    in_reply_to: str = "",
    references: str = "",
    request=None,
) -> OutboundEmail:
    """Render and store one email; it leaves after the surrounding transaction commits.

    `notification` marks mail a person may turn off (ticket news), as opposed to security
    mail (codes, resets, alerts), which always goes. `ticket` is the ticket the mail is about.
    Mail to a guest, or a notification to someone who turned them off, is stored as
    suppressed, without a body, and recorded.
    """
    user = to if isinstance(to, User) else None
    recipient = user.email if user else to
    suppressed_by = _suppressed_by(user, notification=notification)
    subject, bodies = _render(template, {"tenant": tenant, "recipient": user, **context})
    if suppressed_by:
        body, status, due = "", OutboundEmail.Status.SUPPRESSED, None
    else:
        body = encrypt(json.dumps(bodies))
        status, due = OutboundEmail.Status.QUEUED, timezone.now()
    domain = f"{tenant.slug}.{settings.BASE_DOMAIN}"
    with transaction.atomic():
        email = OutboundEmail.objects.create(
            tenant=tenant,
            recipient=recipient,
            recipient_user=user,
            template=template,
            ticket=ticket,
            subject=subject,
            body_encrypted=body,
            sensitive=sensitive,
            message_id=make_msgid(domain=domain),
            in_reply_to=in_reply_to,
            references=references,
            status=status,
            next_attempt_at=due,
        )
        if suppressed_by:
            record(
                tenant, None, suppressed_by, _event_target(email), request, **_event_details(email)
            )
            return email
        transaction.on_commit(_enqueue_delivery)
    return email


def _enqueue_delivery(delay: timedelta | None = None) -> None:
    """Queue a delivery run: now, unless one is waiting to start; or after `delay` (a retry).

    Called after the mail's commit: a run still waiting has not started, so it will see this
    mail. One run sends a burst of mail; a task per mail cost the worker about as much
    bookkeeping as the sending itself.
    """
    from django_tasks_db.models import DBTaskResult

    from .tasks import deliver_queued_email

    runs = DBTaskResult.objects.filter(task_path=deliver_queued_email.module_path)
    if delay is None:
        if not runs.ready().exists():
            deliver_queued_email.enqueue()
        return
    # Mail that failed together (the relay is down) is retried together: by one run, at the
    # end of the window its retries fall due in.
    due = timezone.now() + delay
    run_after = datetime.fromtimestamp(
        math.ceil(due.timestamp() / RETRY_WINDOW.total_seconds()) * RETRY_WINDOW.total_seconds(),
        tz=UTC,
    )
    if not runs.filter(status="READY", run_after=run_after).exists():
        deliver_queued_email.using(run_after=run_after).enqueue()


def email_bodies(email: OutboundEmail) -> dict[str, str]:
    """The decrypted text and HTML bodies, or the erasure note for a delivered secret."""
    if not email.body_encrypted:
        return {"text": ERASED_BODY, "html": ""}
    bodies = json.loads(decrypt(email.body_encrypted))
    if "html" not in bodies:
        bodies["html"] = _html_from_text(bodies["text"])
    return bodies


def _event_target(email: OutboundEmail):
    # Mail about a ticket is filed under the ticket, so the log answers "was the customer
    # told?" from the ticket's side; other mail under the person it went to.
    if email.ticket_id is not None:
        return email.ticket
    return email.recipient_user or ("email", "", email.recipient)


def _event_details(email: OutboundEmail) -> dict:
    details = {"recipient": email.recipient, "template": email.template}
    if email.ticket_id is not None:
        details["ticket"] = email.ticket.number
    details["message_id"] = email.message_id
    return details


def _message(email: OutboundEmail) -> EmailMultiAlternatives:
    tenant = email.tenant
    chosen = mail_settings_for(tenant)
    bodies = email_bodies(email)
    # Everything Keydesk sends is automatic: Auto-Submitted (RFC 3834) keeps well-behaved
    # auto-responders from answering it, so two systems cannot mail each other in a loop.
    headers = {"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"}
    if email.in_reply_to:
        headers["In-Reply-To"] = email.in_reply_to
    if email.references:
        headers["References"] = email.references
    reply_to = reply_to_address(tenant, chosen)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=bodies["text"],
        from_email=sender_address(tenant, chosen),
        to=[email.recipient],
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
        connection=smtp.smtp_connection(),
    )
    message.attach_alternative(bodies["html"], "text/html")
    return message


def _claim(email_id: int) -> tuple[bool, OutboundEmail]:
    """Whether this call took the email for sending, and the email."""
    claimed = outbox.claim(OutboundEmail, email_id)
    email = OutboundEmail.objects.select_related("tenant", "recipient_user", "ticket").get(
        pk=email_id
    )
    return claimed, email


def email_deliver(*, email_id: int) -> str:
    """Send one queued email; returns its new status. Safe to run twice for the same email.

    The row's new status and its event commit together.
    """
    if not settings.SMTP_URL:
        # Nothing leaves, so nothing can happen between the claim and its outcome: both
        # commit together.
        with transaction.atomic():
            claimed, email = _claim(email_id)
            if not claimed:
                return email.status
            outbox.mark_done(email, OutboundEmail.Status.KEPT)
            record(
                email.tenant,
                None,
                EventAction.NOTIFICATION_KEPT,
                _event_target(email),
                **_event_details(email),
            )
        return email.status
    claimed, email = _claim(email_id)
    if not claimed:
        return email.status
    try:
        message = _message(email)
    except Exception as exc:
        # A body that no longer decrypts (the secret key changed) or a header Django refuses:
        # no later attempt would do better, and the recovery must not pick it up forever.
        logger.exception("could not build email %s", email.pk)
        return _retry_or_fail(email, exc, permanent=True)
    try:
        message.send()
    except smtp.SEND_ERRORS as exc:
        return _retry_or_fail(email, exc, permanent=smtp.is_permanent(exc))
    with transaction.atomic():
        outbox.mark_done(email, OutboundEmail.Status.SENT)
        record(
            email.tenant,
            None,
            EventAction.NOTIFICATION_SENT,
            _event_target(email),
            **_event_details(email),
            attempts=email.attempts,
        )
    return email.status


def email_deliver_due(*, seconds: float = DELIVERY_RUN_SECONDS) -> int:
    """Deliver the due mail, oldest first, until none is left; returns how many were tried.

    Of two runs at once, each mail goes to the one whose claim wins (`email_deliver`); the
    other moves on. A mail whose delivery raised stays in "sending" for the recovery.
    """

    def due():
        return OutboundEmail.objects.filter(
            status=OutboundEmail.Status.QUEUED,
            next_attempt_at__lte=timezone.now() + CLOCK_SKEW_ALLOWED,
        ).order_by("next_attempt_at", "pk")

    return work_through(
        pending=due,
        handle=lambda email_id: email_deliver(email_id=email_id),
        hand_over=_enqueue_delivery,
        seconds=seconds,
        left_for="the outbox's recovery",
    )


def _retry_or_fail(email: OutboundEmail, exc: Exception, *, permanent: bool) -> str:
    with transaction.atomic():
        if outbox.mark_attempt_failed(email, smtp.describe(exc), permanent=permanent):
            record(
                email.tenant,
                None,
                EventAction.NOTIFICATION_FAILED,
                _event_target(email),
                **_event_details(email),
                attempts=email.attempts,
                permanent=permanent,
                error=email.last_error,
            )
        else:
            delay = outbox.retry_delay(email.attempts)
            transaction.on_commit(lambda: _enqueue_delivery(delay))
    return email.status


def email_recover_stranded(*, now=None) -> list[int]:
    """Queue again the mail a stopped worker left in "sending" or a lost task left queued."""
    recovered = outbox.requeue_stranded(OutboundEmail, now=now)
    if recovered:
        _enqueue_delivery()
        logger.warning("queued %d stranded emails again", len(recovered))
    return recovered


def email_retry(*, email: OutboundEmail, actor: User, request=None) -> OutboundEmail:
    """An admin sends a failed mail again, with a fresh round of attempts."""
    require(actor, Perm.CHANNELS_MANAGE)
    if email.tenant_id != actor.tenant_id:
        raise NotFound("email")
    if email.status != OutboundEmail.Status.FAILED:
        raise ApplicationError("not_failed", "Only a failed message can be sent again.", status=409)
    if not email.body_encrypted:
        raise ApplicationError(
            "erased",
            "This message held a one-time secret and was erased; ask for a new one instead.",
            status=409,
        )
    with transaction.atomic():
        if not outbox.queue_again(OutboundEmail, email.pk):
            raise ApplicationError(
                "not_failed", "Only a failed message can be sent again.", status=409
            )
        record(
            email.tenant,
            actor,
            EventAction.NOTIFICATION_RETRIED,
            _event_target(email),
            request,
            **_event_details(email),
            attempts=email.attempts,
            error=email.last_error,
        )
        transaction.on_commit(_enqueue_delivery)
    email.refresh_from_db()
    return email
