"""The SMS outbox: every text message is a row first, delivered by the task worker."""

from django.conf import settings
from django.db import models

from keydesk.core.models import TenantOwned


class OutboundSms(TenantOwned):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        KEPT = "kept", "Kept (log backend: not sent)"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    # E.164: "+" and at most 15 digits.
    recipient = models.CharField(max_length=16)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.CharField(max_length=64)
    # Fernet-encrypted: texts carry sign-in codes and personal data.
    body_encrypted = models.TextField(blank=True)
    sensitive = models.BooleanField(
        default=False, help_text="Holds a one-time secret: the body is erased once delivered."
    )
    message_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a queued message is due to be sent."
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took the message for sending."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"]),
            models.Index(fields=["recipient_user", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "claimed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.status})"
