"""Queueing and delivering text messages through the SMS outbox.

`sms_queue` renders `sms/<template>.txt`, stores the message encrypted and hands it to the
worker once the caller's transaction commits. `sms_deliver` (run by the worker) passes it to
the configured backend with retries; every outcome is an event. Guests receive nothing.
"""

import uuid
from datetime import timedelta

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from keydesk.accounts.models import User
from keydesk.core.crypto import decrypt, encrypt
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .backends import DeliveryError, SmsMessage, get_backend
from .models import OutboundSms
from .numbers import mask_number, normalize_number

MAX_ATTEMPTS = 6
ERASED_BODY = "[erased after delivery: this message held a one-time secret]"


def _target(sms: OutboundSms):
    return sms.recipient_user or ("phone", "", mask_number(sms.recipient))


def sms_queue(
    *,
    tenant,
    template: str,
    to: str,
    context: dict,
    user: User | None = None,
    sensitive: bool = False,
    request=None,
) -> OutboundSms:
    """Render and store one text to the number `to` (of `user`, when given); it leaves on commit."""
    number = normalize_number(to)
    body = " ".join(
        render_to_string(f"sms/{template}.txt", {"tenant": tenant, "recipient": user, **context})
        .strip()
        .split()
    )
    with transaction.atomic():
        sms = OutboundSms.objects.create(
            tenant=tenant,
            recipient=number,
            recipient_user=user,
            template=template,
            body_encrypted=encrypt(body),
            sensitive=sensitive,
            message_id=str(uuid.uuid4()),
        )
        if user is not None and user.is_guest:
            sms.status = OutboundSms.Status.SUPPRESSED
            sms.body_encrypted = ""
            sms.save(update_fields=["status", "body_encrypted"])
            record(
                tenant,
                None,
                EventAction.SMS_SUPPRESSED,
                _target(sms),
                request,
                template=template,
                message_id=sms.message_id,
                reason="guest",
            )
            return sms
        transaction.on_commit(lambda: _enqueue(sms.pk))
    return sms


def _enqueue(sms_id: int, delay: timedelta | None = None) -> None:
    from .tasks import deliver_sms

    task = deliver_sms.using(run_after=timezone.now() + delay) if delay else deliver_sms
    task.enqueue(sms_id)


def sms_body(sms: OutboundSms) -> str:
    """The decrypted text, or the erasure note once a delivered secret is gone."""
    if not sms.body_encrypted:
        return ERASED_BODY
    return decrypt(sms.body_encrypted)


def sms_deliver(*, sms_id: int) -> str:
    """Hand one queued text to the backend; returns its new status. Safe to run twice."""
    backend = get_backend()
    # Claiming with a conditional UPDATE means two workers never send the same text.
    claimed = OutboundSms.objects.filter(pk=sms_id, status=OutboundSms.Status.QUEUED).update(
        status=OutboundSms.Status.SENDING
    )
    sms = OutboundSms.objects.select_related("tenant", "recipient_user").get(pk=sms_id)
    if not claimed:
        return sms.status
    message = SmsMessage(
        to=sms.recipient, body=sms_body(sms), message_id=sms.message_id, tenant=sms.tenant.slug
    )
    try:
        backend.send(message)
    except DeliveryError as exc:
        return _retry_or_fail(sms, exc)
    status = OutboundSms.Status.KEPT if backend.keeps else OutboundSms.Status.SENT
    _finish(sms, status)
    record(
        sms.tenant,
        None,
        EventAction.SMS_KEPT if backend.keeps else EventAction.SMS_SENT,
        _target(sms),
        template=sms.template,
        message_id=sms.message_id,
        backend=backend.name,
        attempts=sms.attempts,
    )
    return sms.status


def _finish(sms: OutboundSms, status: str) -> None:
    sms.status = status
    sms.attempts += 1
    sms.sent_at = timezone.now() if status == OutboundSms.Status.SENT else None
    sms.last_error = ""
    fields = ["status", "attempts", "sent_at", "last_error"]
    # A kept text stays readable: with the log backend the outbox is how it reaches anyone.
    if sms.sensitive and status == OutboundSms.Status.SENT:
        sms.body_encrypted = ""
        fields.append("body_encrypted")
    sms.save(update_fields=fields)


def _retry_or_fail(sms: OutboundSms, exc: Exception) -> str:
    sms.attempts += 1
    sms.last_error = str(exc)[:500]
    fields = ["status", "attempts", "last_error"]
    if sms.attempts >= MAX_ATTEMPTS:
        sms.status = OutboundSms.Status.FAILED
        # Nothing will send it again, and its code has expired by now.
        if sms.sensitive:
            sms.body_encrypted = ""
            fields.append("body_encrypted")
        sms.save(update_fields=fields)
        record(
            sms.tenant,
            None,
            EventAction.SMS_FAILED,
            _target(sms),
            template=sms.template,
            message_id=sms.message_id,
            attempts=sms.attempts,
            error=sms.last_error,
        )
        return sms.status
    sms.status = OutboundSms.Status.QUEUED
    sms.save(update_fields=fields)
    # 30 s, 1, 2, 4, 8 minutes: a gateway restart is ridden out.
    _enqueue(sms.pk, delay=timedelta(seconds=30 * 2 ** (sms.attempts - 1)))
    return sms.status
