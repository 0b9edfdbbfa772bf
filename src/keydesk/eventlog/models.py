"""The event log: append-only rows, hash-chained per tenant."""

from django.conf import settings
from django.db import models

from .actions import EventAction


class AppendOnlyQuerySet(models.QuerySet):
    """Events are never changed or removed through the application."""

    def update(self, **kwargs):
        raise TypeError("events are append-only")

    def delete(self):
        raise TypeError("events are append-only")


class Event(models.Model):
    """Who did what to what, when; `hash` chains each row to the tenant's previous one."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A snapshot, so the row still reads (and verifies) after the actor changes or is gone.
    actor_label = models.CharField(max_length=254, blank=True)
    # Checked against EventAction by record(); no `choices`, so a new action needs no migration.
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "seq"], name="eventlog_seq_unique")
        ]
        indexes = [
            models.Index(fields=["tenant", "action", "-seq"]),
            models.Index(fields=["tenant", "actor", "-seq"]),
            models.Index(fields=["tenant", "target_type", "target_id"]),
            models.Index(fields=["tenant", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("events are append-only")

    @property
    def action_label(self) -> str:
        try:
            return EventAction(self.action).label
        except ValueError:
            return self.action


class EventChainHead(models.Model):
    """The tenant's last event; its row lock serialises appends so the chain never forks."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.tenant_id}: #{self.last_seq}"
