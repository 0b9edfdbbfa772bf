"""Base models: every row that belongs to one tenant, and every outbox message."""

from django.conf import settings
from django.db import models


class TenantOwned(models.Model):
    """A row of one tenant; selectors always filter on `tenant`."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class OutboxMessage(TenantOwned):
    """A message (mail or text) waiting in an outbox: the fields `core.outbox` delivers by.

    Each outbox adds its recipient, its `status` (with its own labels for the same values)
    and what the channel needs.
    """

    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.CharField(max_length=64)
    # Fernet-encrypted: messages carry personal data, one-time links and sign-in codes.
    body_encrypted = models.TextField(blank=True)
    sensitive = models.BooleanField(
        default=False, help_text="Holds a one-time secret: the body is erased once delivered."
    )
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
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.status})"


def tenant_settings(model, tenant):
    """The tenant's settings row of `model` (one per tenant), or an unsaved one with the defaults."""
    return model.objects.filter(tenant=tenant).first() or model(tenant=tenant)


class ScheduledRun(models.Model):
    """When a periodic job last ran, so that several workers run it once between them."""

    name = models.CharField(max_length=64, primary_key=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_run_at}"
