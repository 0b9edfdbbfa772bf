"""Temporary Access Passes: the policy, creating and deleting passes, signing in with one,
and purging expired ones. A pass is shown once and kept only as a hash."""

import secrets
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from keydesk.accounts.models import SignInSession, User
from keydesk.accounts.permissions import Perm, can_manage_person, require
from keydesk.accounts.signin import dummy_password_hash
from keydesk.core.errors import ApplicationError, PermissionDenied
from keydesk.core.models import tenant_settings
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .models import TapPolicy, TemporaryAccessPass

# Entra ID's alphabet idea: no characters that read alike (0/O, 1/l/I, 5/S, 8/B, 2/Z).
ALPHABET = "ACDEFGHJKLMNPQRTUVWXYabcdefghijkmnpqrstuvwxyz34679"
PURGE_AFTER = timedelta(days=30)

POLICY_FIELDS = (
    "enabled",
    "min_lifetime_minutes",
    "max_lifetime_minutes",
    "default_lifetime_minutes",
    "one_time",
    "length",
)


def policy_for(tenant) -> TapPolicy:
    """The tenant's pass policy; a tenant that never saved one gets the defaults (TAP off)."""
    return tenant_settings(TapPolicy, tenant)


def _lifetime_bounds() -> tuple[int, int]:
    return (
        int(TapPolicy.MIN_LIFETIME.total_seconds() // 60),
        int(TapPolicy.MAX_LIFETIME.total_seconds() // 60),
    )


def tap_policy_update(*, tenant, actor: User | None, request=None, **changes) -> TapPolicy:
    """Save the pass policy after checking every bound; passes made later follow it."""
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ApplicationError("invalid_field", f"Unknown setting {', '.join(sorted(unknown))}.")
    policy = policy_for(tenant)
    before = {k: getattr(policy, k) for k in POLICY_FIELDS}
    for key, value in changes.items():
        setattr(policy, key, value)
    low, high = _lifetime_bounds()
    for field in ("min_lifetime_minutes", "max_lifetime_minutes", "default_lifetime_minutes"):
        if not low <= getattr(policy, field) <= high:
            raise ApplicationError(
                "out_of_range", f"Choose from {low} minutes to {high // 1440} days.", field=field
            )
    if policy.max_lifetime_minutes < policy.min_lifetime_minutes:
        raise ApplicationError(
            "out_of_range",
            "The maximum lifetime cannot be below the minimum.",
            field="max_lifetime_minutes",
        )
    if (
        not policy.min_lifetime_minutes
        <= policy.default_lifetime_minutes
        <= policy.max_lifetime_minutes
    ):
        raise ApplicationError(
            "out_of_range",
            "The default lifetime must lie between the minimum and the maximum.",
            field="default_lifetime_minutes",
        )
    if not TapPolicy.MIN_LENGTH <= policy.length <= TapPolicy.MAX_LENGTH:
        raise ApplicationError(
            "out_of_range",
            f"Choose a length from {TapPolicy.MIN_LENGTH} to {TapPolicy.MAX_LENGTH} characters.",
            field="length",
        )
    changed = {
        k: [before[k], getattr(policy, k)] for k in POLICY_FIELDS if before[k] != getattr(policy, k)
    }
    with transaction.atomic():
        policy.save()
        if changed:
            # Turning TAP off stops every pass at once, the sessions opened with one included.
            turned_off = "enabled" in changed and not policy.enabled
            record(
                tenant,
                actor,
                EventAction.TAP_POLICY_CHANGED,
                ("settings", "tap", "Temporary Access Pass"),
                request,
                changes=changed,
                sessions_ended=end_pass_sessions(tenant=tenant) if turned_off else 0,
            )
    return policy


def may_create_pass_for(actor: User, user: User) -> bool:
    """Admins for anyone else; managers for the agents, supervisors and contacts they manage."""
    if actor.pk == user.pk or actor.tenant_id != user.tenant_id:
        return False
    return can_manage_person(actor, kind=user.kind, role=user.role)


def tap_create(
    *,
    user: User,
    actor: User,
    valid_from: datetime | None = None,
    lifetime_minutes: int | None = None,
    one_time: bool = False,
    request=None,
) -> tuple[TemporaryAccessPass, str]:
    """Create the person's pass (replacing any earlier one); the returned secret is shown once."""
    if not may_create_pass_for(actor, user):
        raise PermissionDenied("You cannot create a pass for this person.")
    policy = policy_for(user.tenant)
    if not policy.enabled:
        raise ApplicationError("tap_disabled", "Temporary Access Pass is turned off.")
    if not user.is_active:
        raise ApplicationError("inactive", "This person is deactivated.")
    now = timezone.now()
    valid_from = valid_from or now
    if valid_from < now - timedelta(minutes=1):
        raise ApplicationError(
            "in_the_past", "The start time cannot be in the past.", field="valid_from"
        )
    lifetime = lifetime_minutes or policy.default_lifetime_minutes
    if not policy.min_lifetime_minutes <= lifetime <= policy.max_lifetime_minutes:
        raise ApplicationError(
            "out_of_range",
            f"The duration must be from {policy.min_lifetime_minutes} to "
            f"{policy.max_lifetime_minutes} minutes.",
            field="lifetime_minutes",
        )
    secret = "".join(secrets.choice(ALPHABET) for _ in range(policy.length))
    one_time = one_time or policy.one_time
    with transaction.atomic():
        TemporaryAccessPass.objects.filter(user=user).delete()
        tap = TemporaryAccessPass.objects.create(
            tenant=user.tenant,
            user=user,
            pass_hash=make_password(secret),
            created_by=actor,
            valid_from=valid_from,
            expires_at=valid_from + timedelta(minutes=lifetime),
            one_time=one_time,
        )
        record(
            user.tenant,
            actor,
            EventAction.TAP_CREATED,
            user,
            request,
            valid_from=valid_from.isoformat(),
            lifetime_minutes=lifetime,
            one_time=one_time,
        )
    return tap, secret


def end_pass_sessions(*, tenant, user: User | None = None) -> int:
    """End the open sessions that a pass opened (of one person, or of the whole tenant)."""
    sessions = SignInSession.objects.filter(tenant=tenant, ended_at__isnull=True)
    if user is not None:
        sessions = sessions.filter(user=user)
    # Few sessions are open at once; their methods are read here rather than queried as JSON,
    # which SQLite cannot search inside.
    keys = [
        s.session_key for s in sessions.only("session_key", "methods") if s.methods[:1] == ["tap"]
    ]
    Session.objects.filter(session_key__in=keys).delete()
    SignInSession.objects.filter(session_key__in=keys).update(
        ended_at=timezone.now(), end_reason="pass_withdrawn"
    )
    return len(keys)


def tap_delete(*, user: User, actor: User, request=None) -> None:
    """Delete the person's pass; sessions it opened end with it."""
    if not may_create_pass_for(actor, user):
        raise PermissionDenied("You cannot delete this person's pass.")
    with transaction.atomic():
        if TemporaryAccessPass.objects.filter(user=user).delete()[0]:
            ended = end_pass_sessions(tenant=user.tenant, user=user)
            record(user.tenant, actor, EventAction.TAP_DELETED, user, request, sessions_ended=ended)


def tap_status(tap: TemporaryAccessPass, *, now: datetime | None = None) -> str:
    """ "not yet valid", "active", "used" or "expired" (the tab's status column)."""
    now = now or timezone.now()
    if tap.one_time and tap.used_at:
        return "used"
    if now >= tap.expires_at:
        return "expired"
    if now < tap.valid_from:
        return "not yet valid"
    return "active"


def tap_purge(*, now: datetime | None = None) -> int:
    """Delete passes that expired over 30 days ago, in every tenant; each tenant gets an event."""
    cutoff = (now or timezone.now()) - PURGE_AFTER
    old = TemporaryAccessPass.objects.filter(expires_at__lt=cutoff).select_related("tenant")
    by_tenant: dict = {}
    for tap in old:
        by_tenant.setdefault(tap.tenant, []).append(tap.pk)
    for tenant, ids in by_tenant.items():
        with transaction.atomic():
            count = TemporaryAccessPass.objects.filter(pk__in=ids).delete()[0]
            record(tenant, None, EventAction.TAP_PURGED, None, count=count)
    return sum(len(ids) for ids in by_tenant.values())


def tap_check(user: User | None, secret: str) -> tuple[TemporaryAccessPass | None, str | None]:
    """(the pass, None) when `secret` signs `user` in now; else (None, reason for admins).

    The hash is checked before the pass's state so that the answer takes the same time
    whatever is wrong; a one-time pass is consumed by a conditional UPDATE, so of many
    requests racing with it, one wins.
    """
    tap = TemporaryAccessPass.objects.filter(user=user).first() if user is not None else None
    if tap is None:
        check_password(secret, dummy_password_hash())
        return None, "no_pass" if user is not None else "unknown_user"
    if not check_password(secret, tap.pass_hash):
        return None, "wrong"
    if not policy_for(user.tenant).enabled:
        return None, "disabled"
    status = tap_status(tap)
    if status != "active":
        return None, status.replace(" ", "_")
    if tap.one_time and not TemporaryAccessPass.objects.filter(
        pk=tap.pk, used_at__isnull=True
    ).update(used_at=timezone.now()):
        return None, "used"
    return tap, None
