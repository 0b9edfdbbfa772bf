"""The delivery lifecycle the mail and SMS outboxes share.

A message row is queued, claimed by one worker with a conditional UPDATE (queued → sending),
then sent, kept, re-queued with back-off, or given up after the last attempt (or at once on
a permanent refusal). A message that holds a one-time secret has its body erased once
nothing will send it again.

A worker that dies while sending leaves its message in "sending", and a task lost between a
commit and its enqueue leaves one in "queued" with nothing to run it: `stranded` finds both
once they are clearly overdue, and the outbox's recovery queues them again. Delivery is at
least once: a worker killed after the server accepted the message but before the row says
so sends it again after recovery (with the same Message-ID, which mail clients deduplicate).
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

MAX_ATTEMPTS = 6
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
# Far longer than one send can take (every SMTP or HTTP step has a timeout of seconds), so
# a message still in "sending" after this has no live worker behind it.
STUCK_AFTER = timedelta(minutes=10)


def claim(model, pk: int) -> bool:
    """Take a queued message for sending; of two workers, one gets it."""
    return bool(
        model.objects.filter(pk=pk, status=QUEUED).update(status=SENDING, claimed_at=timezone.now())
    )


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
    message.next_attempt_at = None
    fields = ["status", "attempts", "sent_at", "last_error", "next_attempt_at"]
    if status == SENT:
        _erase_secret(message, fields)
    message.save(update_fields=fields)


def mark_attempt_failed(message, error: str, *, permanent: bool = False) -> bool:
    """Record a failed attempt; True when the message failed for good.

    That is after the last attempt, or at once when the failure is `permanent` (the server
    refused the message and would refuse it again). Otherwise the message is queued again,
    due after `retry_delay`, and the caller enqueues it for then.
    """
    message.attempts += 1
    message.last_error = error[:500]
    fields = ["status", "attempts", "last_error", "next_attempt_at"]
    if permanent or message.attempts >= MAX_ATTEMPTS:
        message.status = FAILED
        message.next_attempt_at = None
        _erase_secret(message, fields)  # nothing will send it again
        message.save(update_fields=fields)
        return True
    message.status = QUEUED
    message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
    message.save(update_fields=fields)
    return False


def stranded(model, *, now=None):
    """Messages no worker will deliver on its own: claimed long ago, or overdue long ago."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    return model.objects.filter(
        Q(status=SENDING, claimed_at__lt=cutoff)
        | Q(status=SENDING, claimed_at__isnull=True)
        | Q(status=QUEUED, next_attempt_at__lt=cutoff)
        | Q(status=QUEUED, next_attempt_at__isnull=True, created_at__lt=cutoff)
    )


def requeue_stranded(model, enqueue=None, *, now=None) -> list[int]:
    """Queue stranded messages again and hand each to `enqueue`, if given; returns their ids.

    A stale claim goes back to "queued" with a conditional UPDATE, so a late worker that
    finishes meanwhile keeps its outcome. Enqueuing a message twice is harmless: the claim
    lets one run send it.
    """
    now = now or timezone.now()
    requeued = []
    for pk, status in stranded(model, now=now).values_list("pk", "status"):
        if status == SENDING:
            taken_back = (
                model.objects.filter(pk=pk, status=SENDING)
                .filter(Q(claimed_at__lt=now - STUCK_AFTER) | Q(claimed_at__isnull=True))
                .update(status=QUEUED, claimed_at=None, next_attempt_at=now)
            )
            if not taken_back:
                continue
        else:
            # Pushed forward so that the next recovery pass does not enqueue it once more.
            model.objects.filter(pk=pk, status=QUEUED).update(next_attempt_at=now)
        if enqueue is not None:
            enqueue(pk)
        requeued.append(pk)
    return requeued


def queue_again(model, pk: int) -> bool:
    """An admin's retry of a failed message: a fresh round of attempts; False if not failed."""
    return bool(
        model.objects.filter(pk=pk, status=FAILED).update(
            status=QUEUED, attempts=0, claimed_at=None, next_attempt_at=timezone.now()
        )
    )
