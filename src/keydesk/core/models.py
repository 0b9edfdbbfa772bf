"""Base models: every row that belongs to one tenant, and every outbox message."""

import copy
import secrets

from django.conf import settings
from django.db import models, transaction


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


class TenantSettings(models.Model):
    """A tenant's settings row (one per tenant, its primary key the tenant), read by
    `tenant_settings`.

    Saving or deleting one gives the tenant a new random `settings_version` in the same
    transaction. Processes keep the rows they read under that version, and a request reads
    the version with its tenant anyway: settings cost no query while they stay unchanged,
    and a change is seen by every process from the next request on. A copy read inside a
    transaction that did not change the row is committed data too, so it may be kept.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            _new_settings_version(self)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            result = super().delete(*args, **kwargs)
            _new_settings_version(self)
        return result


def new_settings_version() -> str:
    """A settings version never given before: new tenants start with one too, so a cached
    row can never be taken for that of another tenant that once had the same id."""
    return secrets.token_hex(16)


def _new_settings_version(row: TenantSettings) -> None:
    version = new_settings_version()
    tenant_field = row._meta.get_field("tenant")
    tenant_field.related_model.objects.filter(pk=row.tenant_id).update(settings_version=version)
    if tenant_field.is_cached(row):
        row.tenant.settings_version = version  # the caller's tenant reads the change at once
    transaction.on_commit(_SettingsChanged((type(row), row.tenant_id)))


class _SettingsChanged:
    """Marks, among the open transaction's on-commit callbacks, a settings row it changed.

    Django keeps the marker exactly as long as the change can still be undone or read
    uncommitted: it drops it with a rolled-back savepoint or transaction, and runs it (a
    no-op) at commit.
    """

    __slots__ = ("key",)

    def __init__(self, key: tuple[type, int]):
        self.key = key

    def __call__(self) -> None:
        pass


def _changed_in_transaction(key: tuple[type, int]) -> bool:
    pending = transaction.get_connection().run_on_commit  # this thread's own connection
    return any(isinstance(entry[1], _SettingsChanged) and entry[1].key == key for entry in pending)


# (settings model, tenant id) -> (the tenant's settings version, the row or None)
_settings_read: dict[tuple[type, int], tuple[str, TenantSettings | None]] = {}


def tenant_settings(model, tenant):
    """The tenant's settings row of `model`, or an unsaved one with the defaults.

    Served from this process's copy while the tenant's settings version (read with the tenant)
    is the one the copy was read under; a row this transaction changed itself is read back
    from the database instead. Each caller gets its own copy to change.
    """
    key = (model, tenant.pk)
    version = tenant.settings_version
    kept = _settings_read.get(key)
    if _changed_in_transaction(key):
        row = model.objects.filter(tenant=tenant).first()
    elif kept is not None and kept[0] == version:
        row = copy.copy(kept[1])
    else:
        row = model.objects.filter(tenant=tenant).first()
        _settings_read[key] = (version, copy.copy(row))
    if row is None:
        return model(tenant=tenant)
    row.tenant = tenant
    return row


class ScheduledRun(models.Model):
    """When a periodic job last ran, so that several workers run it once between them."""

    name = models.CharField(max_length=64, primary_key=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_run_at}"
