"""The outbox: every outgoing email is a row first, sent by the task worker."""

from django.conf import settings
from django.db import models

from keydesk.core.models import TenantOwned


class OutboundEmail(TenantOwned):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        KEPT = "kept", "Kept (no SMTP server configured)"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    recipient = models.EmailField(max_length=254)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.CharField(max_length=64)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="emails",
        help_text="The ticket this mail is about, for threading and the ticket's history.",
    )
    subject = models.CharField(max_length=255)
    # Text and HTML bodies, Fernet-encrypted: mail carries personal data and one-time links.
    body_encrypted = models.TextField(blank=True)
    sensitive = models.BooleanField(
        default=False, help_text="Holds a one-time secret: the body is erased once delivered."
    )
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.status})"
