"""The tenant's two-factor policy and what it asks of one person."""

from django.utils import timezone

from keydesk.core.models import tenant_settings
from keydesk.core.queries import Param, PreparedLookup

from .models import Authenticator, MfaPolicy

# Methods a person can be challenged with, in the order offered when none was used yet.
CHALLENGE_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.EMAIL, Authenticator.Type.SMS)


def policy_for(tenant) -> MfaPolicy:
    return tenant_settings(MfaPolicy, tenant)


def allowed_types(policy: MfaPolicy) -> list[str]:
    """Methods people of this tenant may set up (recovery codes come with any of them)."""
    flags = {
        Authenticator.Type.TOTP: policy.totp_enabled,
        Authenticator.Type.EMAIL: policy.email_enabled,
        Authenticator.Type.SMS: policy.sms_enabled,
    }
    return [t for t in CHALLENGE_TYPES if flags[t]]


def allowed_types_for(user, policy: MfaPolicy | None = None) -> list[str]:
    """Methods this person may set up: guests receive no email or SMS, so only the app."""
    allowed = allowed_types(policy or policy_for(user.tenant))
    if user.is_guest:
        return [t for t in allowed if t == Authenticator.Type.TOTP]
    return allowed


def is_required(user, policy: MfaPolicy | None = None) -> bool:
    policy = policy or policy_for(user.tenant)
    if user.enforce_mfa:
        return True
    return policy.require_staff if user.is_staff_member else policy.require_contacts


def grace_until(user, policy: MfaPolicy | None = None):
    """The date until which this person may skip setting up 2FA, or None."""
    policy = policy or policy_for(user.tenant)
    if policy.grace_until and policy.grace_until >= timezone.localdate():
        return policy.grace_until
    return None


_authenticators_of_user = PreparedLookup(
    Authenticator.objects.filter(user_id=Param("user_id")).order_by("-last_used_at", "created_at")
)


def authenticators_read(user) -> tuple:
    """The lookup of the person's authenticators, for the sign-in's `person_reads`."""
    return _authenticators_of_user.read(user_id=user.pk)


def keep_authenticators(user, authenticators: list[Authenticator]) -> None:
    """Keeps what `authenticators_read` found for the next `methods_of` of this person."""
    user._authenticators_read = authenticators


def methods_of(user) -> list[Authenticator]:
    """The person's challenge methods, the last used first."""
    authenticators = user.__dict__.pop("_authenticators_read", None)
    if authenticators is None:
        authenticators = _authenticators_of_user.all(user_id=user.pk)
    methods = [m for m in authenticators if m.type in CHALLENGE_TYPES]
    used = [m for m in methods if m.last_used_at]
    return used + [m for m in methods if not m.last_used_at]


def recovery_authenticator(user) -> Authenticator | None:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
