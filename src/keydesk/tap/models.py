"""Temporary Access Passes: one per person, stored hashed, under the tenant's pass policy."""

from datetime import timedelta

from django.conf import settings
from django.db import models

from keydesk.core.models import TenantOwned, TenantSettings


class TapPolicy(TenantSettings):
    """ "Account › Security › Authentication methods › Temporary Access Pass"."""

    MIN_LIFETIME = timedelta(minutes=10)
    MAX_LIFETIME = timedelta(days=30)
    MIN_LENGTH, MAX_LENGTH = 8, 48

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="tap_policy"
    )
    enabled = models.BooleanField("Enable Temporary Access Pass", default=False)
    min_lifetime_minutes = models.PositiveIntegerField("Minimum lifetime (minutes)", default=60)
    max_lifetime_minutes = models.PositiveIntegerField("Maximum lifetime (minutes)", default=8 * 60)
    default_lifetime_minutes = models.PositiveIntegerField("Default lifetime (minutes)", default=60)
    one_time = models.BooleanField(
        "One-time use", default=False, help_text="When on, every pass works for one sign-in."
    )
    length = models.PositiveSmallIntegerField("Length (characters)", default=8)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Temporary Access Pass policy of {self.tenant_id}"


class TemporaryAccessPass(TenantOwned):
    """A person's pass; the secret is kept only as an Argon2id hash."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="temporary_access_pass"
    )
    pass_hash = models.CharField(max_length=256)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    valid_from = models.DateTimeField()
    expires_at = models.DateTimeField()
    one_time = models.BooleanField(default=False)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"Temporary Access Pass of {self.user_id}"
