"""The outbox: every outgoing email is a row first, sent by the task worker."""

from django.db import models

from keydesk.core.models import OutboxMessage, TenantSettings


class OutboundEmail(OutboxMessage):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        KEPT = "kept", "Kept (no SMTP server configured)"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    recipient = models.EmailField(max_length=254)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="emails",
        help_text="The ticket this mail is about, for threading and the ticket's history.",
    )
    subject = models.CharField(max_length=255)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)

    class Meta(OutboxMessage.Meta):
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "claimed_at"]),
        ]


class MailSettings(TenantSettings):
    """A tenant's outgoing mail ("Account › Channels › Outgoing email")."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="mail_settings"
    )
    from_name = models.CharField(
        "Sender name",
        max_length=100,
        blank=True,
        help_text="The name mail comes from; empty: the helpdesk's name.",
    )
    from_address = models.EmailField(
        "Sender address",
        max_length=254,
        blank=True,
        help_text="An address at the helpdesk's own domain; empty: the default address.",
    )
    new_ticket_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="Team told about new tickets",
        help_text="Its members get an email about every new ticket; empty: nobody.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Mail settings of {self.tenant_id}"


# Inbound mail's models live with the rest of inbound mail; Django finds them through here.
from .inbound.models import InboundAddress, InboundEmail, InboundSettings  # noqa: E402, F401
