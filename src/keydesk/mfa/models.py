"""Second factors: each person's authenticators, and each tenant's two-factor policy."""

from django.conf import settings
from django.db import models

from keydesk.core.models import TenantOwned, TenantSettings


class Authenticator(TenantOwned):
    """One second-factor method of a person; secrets live encrypted in `data`."""

    class Type(models.TextChoices):
        TOTP = "totp", "Authenticator app"
        EMAIL = "email", "Email codes"
        SMS = "sms", "SMS codes"
        RECOVERY_CODES = "recovery_codes", "Recovery codes"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authenticators"
    )
    type = models.CharField(max_length=20, choices=Type.choices)
    # Fernet token of a JSON object: the TOTP seed; nothing for email and SMS.
    secret_encrypted = models.TextField(blank=True)
    # The last TOTP time step accepted: a code for this step or an earlier one never works again.
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "type"], name="mfa_one_method_of_a_type")
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} of {self.user_id}"


class RecoveryCode(TenantOwned):
    """One single-use recovery code, kept as a SHA-256 digest (codes carry 80 random bits)."""

    authenticator = models.ForeignKey(
        Authenticator, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["authenticator", "digest"])]

    def __str__(self) -> str:
        return f"Recovery code of {self.authenticator_id}"


class MfaPolicy(TenantSettings):
    """A tenant's two-factor settings ("Account › Security › Two-factor authentication")."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="mfa_policy"
    )
    totp_enabled = models.BooleanField("Authenticator app (TOTP)", default=True)
    email_enabled = models.BooleanField("Email codes", default=True)
    sms_enabled = models.BooleanField("SMS codes", default=False)
    require_staff = models.BooleanField("Require staff to set up 2FA", default=False)
    require_contacts = models.BooleanField(
        "Require contacts (end users) to set up 2FA", default=False
    )
    grace_until = models.DateField(
        "Grace period until",
        null=True,
        blank=True,
        help_text="Until this date, people under a requirement may skip the setup at sign-in.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Two-factor policy of {self.tenant_id}"


class OneTimeCode(TenantOwned):
    """A 6-digit code sent by email or SMS; kept as an HMAC, valid ten minutes, used once."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="one_time_codes"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    wrong_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["user", "channel", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.channel} code for {self.user_id}"


class PhoneNumber(TenantOwned):
    """A person's phone for SMS codes: the verified number, and one awaiting its code."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_phone"
    )
    # E.164; empty until a code sent to it was typed back.
    number = models.CharField(max_length=16, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    # The number the last verification code went to: the code proves this number, no other.
    pending_number = models.CharField(max_length=16, blank=True)

    def __str__(self) -> str:
        return f"Phone of {self.user_id}"
