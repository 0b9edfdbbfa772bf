"""Stored inbound messages, the addresses a tenant receives at, and its inbound settings."""

from django.db import models
from django.utils import timezone

from keydesk.core.models import TenantOwned, TenantSettings

SENDER_HOURLY_LIMIT_DEFAULT = 20


class InboundEmail(TenantOwned):
    """One message for one tenant, kept with its raw source whatever becomes of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        HELD = "held", "Held"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    reason = models.CharField(max_length=500, blank=True, help_text="Why it has this status.")
    envelope_from = models.CharField(
        max_length=320, blank=True, help_text="MAIL FROM; empty for bounces."
    )
    recipients = models.TextField(help_text="The envelope recipients of this tenant.")
    peer = models.GenericIPAddressField(null=True, blank=True, help_text="The sending server.")
    # The message exactly as received, Fernet-encrypted: it carries personal data.
    raw_encrypted = models.BinaryField()
    size = models.PositiveIntegerField(help_text="Bytes of the raw message.")
    sha256 = models.CharField(max_length=64, help_text="Of the raw message.")
    # Filled in by processing, for the email log.
    message_id = models.CharField(max_length=255, blank=True)
    sender = models.CharField(max_length=254, blank=True, help_text="The From address.")
    subject = models.CharField(max_length=255, blank=True)
    auto_submitted = models.BooleanField(
        default=False, help_text="An auto-reply or bulk mail: it is never answered automatically."
    )
    # Set in the transaction that changed a ticket; unique per tenant, so a second delivery of
    # the same message (same Message-ID, or same bytes when it has none) changes nothing.
    # NULL, not "", for "not applied": the unique constraint leaves NULLs alone.
    applied_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_emails",
    )
    comment = models.ForeignKey(
        "tickets.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(
        default=timezone.now, help_text="When a processing task was last queued for it."
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    held_until = models.DateTimeField(
        null=True, blank=True, help_text="A held message is processed again from then on."
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "applied_key"], name="mail_inbound_applied_once_per_tenant"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-received_at"]),
            models.Index(fields=["tenant", "status", "-received_at"]),
            models.Index(fields=["status", "enqueued_at"]),
            models.Index(fields=["status", "held_until"]),
            models.Index(fields=["tenant", "sender", "processed_at"]),
            models.Index(fields=["tenant", "message_id"]),
        ]

    def __str__(self) -> str:
        return f"Email from {self.sender or self.envelope_from or 'unknown sender'}"


class InboundAddress(TenantOwned):
    """An extra address the tenant receives mail at, besides support@SLUG.BASE."""

    address = models.CharField(max_length=254, unique=True, help_text="Stored in lower case.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address


class InboundSettings(TenantSettings):
    """A tenant's inbound mail knobs ("Account › Channels › Email addresses")."""

    tenant = models.OneToOneField(
        "tenants.Tenant",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="inbound_settings",
    )
    sender_hourly_limit = models.PositiveSmallIntegerField(
        "Messages per sender per hour",
        default=SENDER_HOURLY_LIMIT_DEFAULT,
        help_text="Mail beyond this from one address within an hour is held and processed "
        "once the hour has passed.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Inbound settings of {self.tenant_id}"
