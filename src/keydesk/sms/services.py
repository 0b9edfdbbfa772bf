"""Queueing and delivering text messages through the SMS outbox.

`sms_queue` renders `sms/<template>.txt`, stores the message encrypted and hands it to the
worker once the caller's transaction commits. `sms_deliver` (run by the worker) passes it to
the configured backend with retries; every outcome is an event. Guests receive nothing.
"""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from keydesk.accounts.models import User
from keydesk.core import outbox
from keydesk.core.crypto import decrypt, encrypt
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .backends import DeliveryError, SmsMessage, get_backend
from .models import OutboundSms
from .numbers import mask_number, normalize_number

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
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
            next_attempt_at=timezone.now(),
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


def sms_recover_stranded(*, now=None) -> list[int]:
    """Queue again the texts a stopped worker left in "sending" or a lost task left queued."""
    recovered = outbox.requeue_stranded(OutboundSms, _enqueue, now=now)
    if recovered:
        logger.warning("queued %d stranded text messages again", len(recovered))
    return recovered


def sms_body(sms: OutboundSms) -> str:
    """The decrypted text, or the erasure note once a delivered secret is gone."""
    if not sms.body_encrypted:
        return ERASED_BODY
    return decrypt(sms.body_encrypted)


def sms_deliver(*, sms_id: int) -> str:
    """Hand one queued text to the backend; returns its new status. Safe to run twice."""
    backend = get_backend()
    claimed = outbox.claim(OutboundSms, sms_id)
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
    outbox.mark_done(sms, status)
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


def _retry_or_fail(sms: OutboundSms, exc: Exception) -> str:
    if outbox.mark_attempt_failed(sms, str(exc)):
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
    else:
        _enqueue(sms.pk, delay=outbox.retry_delay(sms.attempts))
    return sms.status
