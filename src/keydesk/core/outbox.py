"""The delivery lifecycle the mail and SMS outboxes share.

A message row is queued, claimed by one worker with a conditional UPDATE (queued → sending),
then sent, kept, re-queued with back-off, or given up after the last attempt. A message that
holds a one-time secret has its body erased once nothing will send it again.
"""

from datetime import timedelta

from django.utils import timezone

MAX_ATTEMPTS = 6
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


def claim(model, pk: int) -> bool:
    """Take a queued message for sending; of two workers, one gets it."""
    return bool(model.objects.filter(pk=pk, status=QUEUED).update(status=SENDING))


def retry_delay(attempts: int) -> timedelta:
    """30 s, then 1, 2, 4, 8 minutes: a server restart or a greylisting delay is ridden out."""
    return timedelta(seconds=30 * 2 ** (attempts - 1))


def _erase_secret(message, fields: list[str]) -> None:
    if message.sensitive:
        message.body_encrypted = ""
        fields.append("body_encrypted")


def mark_done(message, status: str) -> None:
    """Record a delivery attempt that ended the message's journey (sent, or kept)."""
    message.status = status
    message.attempts += 1
    message.sent_at = timezone.now() if status == SENT else None
    message.last_error = ""
    fields = ["status", "attempts", "sent_at", "last_error"]
    if status == SENT:
        _erase_secret(message, fields)
    message.save(update_fields=fields)


def mark_attempt_failed(message, error: str) -> bool:
    """Record a failed attempt; True when that was the last one and the message failed.

    Otherwise the message is queued again, and the caller enqueues it after `retry_delay`.
    """
    message.attempts += 1
    message.last_error = error[:500]
    fields = ["status", "attempts", "last_error"]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = FAILED
        _erase_secret(message, fields)  # nothing will send it again
        message.save(update_fields=fields)
        return True
    message.status = QUEUED
    message.save(update_fields=fields)
    return False
