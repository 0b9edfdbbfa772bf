"""Admins' security settings besides the password policy: sign-in protection, sessions, sign-up."""

from django.db import transaction

from keydesk.core.errors import ApplicationError
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .lockout import protection_for
from .models import SessionPolicy, SignInProtection, User
from .permissions import Perm, require
from .sessions import session_policy_for

# (field, lowest, highest) for each number an admin may set.
PROTECTION_BOUNDS = {
    "max_failures": (3, 100),
    "lock_minutes": (1, 24 * 60),
    "max_lock_minutes": (1, 7 * 24 * 60),
    "forget_after_hours": (1, 30 * 24),
    "ip_max_failures": (5, 100_000),
    "ip_window_minutes": (1, 24 * 60),
    "ip_block_minutes": (1, 7 * 24 * 60),
}
SESSION_BOUNDS = {
    "staff_idle_minutes": (5, 30 * 24 * 60),
    "staff_max_days": (1, 365),
    "contact_idle_minutes": (5, 30 * 24 * 60),
    "contact_max_days": (1, 365),
}


def _apply(instance, changes: dict, bounds: dict, flags: tuple[str, ...]) -> dict:
    unknown = set(changes) - set(bounds) - set(flags)
    if unknown:
        raise ApplicationError("invalid_field", f"Unknown setting {', '.join(sorted(unknown))}.")
    for field, value in changes.items():
        if field in bounds:
            low, high = bounds[field]
            if not isinstance(value, int) or not low <= value <= high:
                raise ApplicationError(
                    "out_of_range", f"Enter a whole number from {low} to {high}.", field=field
                )
    changed = {
        k: [getattr(instance, k), v] for k, v in changes.items() if getattr(instance, k) != v
    }
    for field, (_, value) in changed.items():
        setattr(instance, field, value)
    return changed


def _save(tenant, actor, request, instance, changed: dict, section: str) -> None:
    with transaction.atomic():
        instance.save()
        if changed:
            record(
                tenant,
                actor,
                EventAction.SECURITY_SETTINGS_UPDATED,
                ("settings", section, section.replace("_", " ").capitalize()),
                request,
                section=section,
                changes=changed,
            )


def sign_in_protection_update(
    *, tenant, actor: User | None, request=None, **changes
) -> SignInProtection:
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    protection = protection_for(tenant)
    changed = _apply(protection, changes, PROTECTION_BOUNDS, ())
    if protection.max_lock_minutes < protection.lock_minutes:
        raise ApplicationError(
            "out_of_range", "The cap cannot be below the first lock time.", field="max_lock_minutes"
        )
    _save(tenant, actor, request, protection, changed, "sign_in_protection")
    return protection


def session_policy_update(*, tenant, actor: User | None, request=None, **changes) -> SessionPolicy:
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    policy = session_policy_for(tenant)
    changed = _apply(policy, changes, SESSION_BOUNDS, ("new_device_alerts",))
    _save(tenant, actor, request, policy, changed, "sessions")
    return policy


def self_registration_update(*, tenant, actor: User | None, enabled: bool, request=None):
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    changed = _apply(tenant, {"self_registration": enabled}, {}, ("self_registration",))
    with transaction.atomic():
        tenant.save(update_fields=["self_registration"])
        if changed:
            record(
                tenant,
                actor,
                EventAction.SECURITY_SETTINGS_UPDATED,
                ("settings", "registration", "Registration"),
                request,
                section="registration",
                changes=changed,
            )
    return tenant
