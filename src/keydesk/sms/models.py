"""The SMS outbox: every text message is a row first, delivered by the task worker."""

from django.db import models

from keydesk.core.models import OutboxMessage


class OutboundSms(OutboxMessage):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        KEPT = "kept", "Kept (log backend: not sent)"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    # E.164: "+" and at most 15 digits.
    recipient = models.CharField(max_length=16)
    message_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)

    class Meta(OutboxMessage.Meta):
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"]),
            models.Index(fields=["recipient_user", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "claimed_at"]),
        ]
