"""Queueing and delivering outgoing email through the outbox.

`email_queue` renders `mail/<template>_subject.txt` and `mail/<template>_message.txt` (plus
`_message.html` when present), stores the message encrypted and hands it to the worker once
the caller's transaction commits. `email_deliver` (run by the worker) sends it over SMTP with
retries; every outcome is an event. Guests receive no email: their messages are suppressed.
"""

import json
import smtplib
from datetime import timedelta
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import TemplateDoesNotExist, render_to_string
from django.utils import timezone
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

from keydesk.accounts.models import User
from keydesk.core import outbox
from keydesk.core.crypto import decrypt, encrypt
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .models import OutboundEmail

MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
ERASED_BODY = "[erased after delivery: this message held a one-time secret]"


def sender_address(tenant) -> str:
    """`"Tenant name" <support@SLUG.BASE>` unless the operator set a global From address."""
    address = settings.MAIL_FROM or f"support@{tenant.slug}.{settings.BASE_DOMAIN}"
    return formataddr((tenant.name, address))


def _render(template: str, context: dict) -> tuple[str, str, str]:
    subject = " ".join(render_to_string(f"mail/{template}_subject.txt", context).split())
    text = render_to_string(f"mail/{template}_message.txt", context).strip() + "\n"
    try:
        html = render_to_string(f"mail/{template}_message.html", context)
    except TemplateDoesNotExist:
        body = mark_safe(linebreaks(text, autoescape=True))  # noqa: S308 - escaped by linebreaks
        html = render_to_string("mail/base_message.html", {"body": body})
    return subject[:255], text, html


def email_queue(
    *,
    tenant,
    template: str,
    to: User | str,
    context: dict,
    sensitive: bool = False,
    in_reply_to: str = "",
    references: str = "",
    request=None,
) -> OutboundEmail:
    """Render and store one email; it leaves after the surrounding transaction commits."""
    user = to if isinstance(to, User) else None
    recipient = user.email if user else to
    subject, text, html = _render(template, {"tenant": tenant, "recipient": user, **context})
    domain = f"{tenant.slug}.{settings.BASE_DOMAIN}"
    with transaction.atomic():
        email = OutboundEmail.objects.create(
            tenant=tenant,
            recipient=recipient,
            recipient_user=user,
            template=template,
            subject=subject,
            body_encrypted=encrypt(json.dumps({"text": text, "html": html})),
            sensitive=sensitive,
            message_id=make_msgid(domain=domain),
            in_reply_to=in_reply_to,
            references=references,
        )
        if user is not None and user.is_guest:
            email.status = OutboundEmail.Status.SUPPRESSED
            email.body_encrypted = ""
            email.save(update_fields=["status", "body_encrypted"])
            record(
                tenant,
                None,
                EventAction.MAIL_SUPPRESSED_GUEST,
                user,
                request,
                template=template,
            )
            return email
        transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _enqueue(email_id: int, delay: timedelta | None = None) -> None:
    from .tasks import deliver_email

    task = deliver_email.using(run_after=timezone.now() + delay) if delay else deliver_email
    task.enqueue(email_id)


def email_bodies(email: OutboundEmail) -> dict[str, str]:
    """The decrypted text and HTML bodies, or the erasure note for a delivered secret."""
    if not email.body_encrypted:
        return {"text": ERASED_BODY, "html": ""}
    return json.loads(decrypt(email.body_encrypted))


def _smtp_connection():
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        fail_silently=False,
        timeout=settings.EMAIL_TIMEOUT,
    )


def email_deliver(*, email_id: int) -> str:
    """Send one queued email; returns its new status. Safe to run twice for the same email."""
    claimed = outbox.claim(OutboundEmail, email_id)
    email = OutboundEmail.objects.select_related("tenant", "recipient_user").get(pk=email_id)
    if not claimed:
        return email.status
    tenant = email.tenant
    target = email.recipient_user or ("email", "", email.recipient)
    if not settings.SMTP_URL:
        outbox.mark_done(email, OutboundEmail.Status.KEPT)
        record(
            tenant,
            None,
            EventAction.NOTIFICATION_KEPT,
            target,
            template=email.template,
            message_id=email.message_id,
        )
        return email.status
    bodies = email_bodies(email)
    headers = {"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"}
    if email.in_reply_to:
        headers["In-Reply-To"] = email.in_reply_to
    if email.references:
        headers["References"] = email.references
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=bodies["text"],
        from_email=sender_address(tenant),
        to=[email.recipient],
        headers=headers,
        connection=_smtp_connection(),
    )
    message.attach_alternative(bodies["html"], "text/html")
    try:
        message.send()
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        return _retry_or_fail(email, exc)
    outbox.mark_done(email, OutboundEmail.Status.SENT)
    record(
        tenant,
        None,
        EventAction.NOTIFICATION_SENT,
        target,
        template=email.template,
        message_id=email.message_id,
        attempts=email.attempts,
    )
    return email.status


def _retry_or_fail(email: OutboundEmail, exc: Exception) -> str:
    if outbox.mark_attempt_failed(email, f"{type(exc).__name__}: {exc}"):
        record(
            email.tenant,
            None,
            EventAction.NOTIFICATION_FAILED,
            email.recipient_user or ("email", "", email.recipient),
            template=email.template,
            message_id=email.message_id,
            error=email.last_error,
        )
    else:
        _enqueue(email.pk, delay=outbox.retry_delay(email.attempts))
    return email.status
