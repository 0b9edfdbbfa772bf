"""Brute-force protection: per-account lockout with doubling lock times, and a per-IP throttle.

Every attempt on a known account first *reserves* one of its remaining tries with a conditional
UPDATE; only a reserved attempt gets its password checked. So when twenty requests race on
one account, at most `max_failures` passwords are ever evaluated, and the counter is exact on
SQLite and PostgreSQL alike.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from keydesk.core.errors import PermissionDenied
from keydesk.core.models import tenant_settings
from keydesk.core.queries import Param, PreparedInsert, PreparedLookup, PreparedUpdate
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .models import AccountLockout, IpFailureWindow, SignInProtection, User
from .permissions import can_manage_person


def protection_for(tenant) -> SignInProtection:
    return tenant_settings(SignInProtection, tenant)


# An account's row is made by its first attempt; one a concurrent attempt made is kept.
_insert_lockout_row = PreparedInsert(AccountLockout, skip_existing=True)


_LOCKOUT_FIELD = AccountLockout._meta.get_field
# An expired lock gives fresh tries (its lockout count stays, so the next lock is longer); a
# quiet period since the last failure forgives both the failures and the lockouts.
_lock_expired = Q(
    locked_until__isnull=False, locked_until__lte=Param("now", _LOCKOUT_FIELD("locked_until"))
)
_forgiven = Q(
    locked_until__isnull=True,
    last_failure_at__lt=Param("quiet_since", _LOCKOUT_FIELD("last_failure_at")),
)
_has_tries = Q(
    locked_until__isnull=True, failures__lt=Param("max_failures", _LOCKOUT_FIELD("failures"))
)
_take_try = PreparedUpdate(
    AccountLockout.objects.filter(user_id=Param("user_id")).filter(
        _lock_expired | _forgiven | _has_tries
    ),
    failures=Case(
        When(_lock_expired | _forgiven, then=Value(1)),
        default=F("failures") + 1,
        output_field=_LOCKOUT_FIELD("failures"),
    ),
    lockouts=Case(
        When(_forgiven, then=Value(0)),
        default=F("lockouts"),
        output_field=_LOCKOUT_FIELD("lockouts"),
    ),
    locked_until=None,
    last_failure_at=Param("now", _LOCKOUT_FIELD("last_failure_at")),
)


def reserve_attempt(user: User, protection: SignInProtection) -> bool:
    """Take one try from the account before checking its factor; False while it is locked."""
    return reserve_attempt_reading(user, protection)[0]


def reserve_attempt_reading(
    user: User, protection: SignInProtection, *reads
) -> tuple[bool, list[list]]:
    """`reserve_attempt`, with lookups (`PreparedLookup.read()`) in the same round trip;
    their results come second.

    One conditional UPDATE decides and takes the try, so the database serialises racing
    attempts. Every case is one CASE of it, computed from the row as it was: an expired
    lock or a quiet period first gives fresh tries, and the try is then the first of them.

    Its commit does not wait for the disk: other attempts see the try at once, and every
    answer to this attempt (success, failure, lockout, a challenge) comes after a commit made
    the usual way, which makes the try durable first.
    """
    now = timezone.now()
    values = {
        "user_id": user.pk,
        "now": now,
        "quiet_since": now - timedelta(hours=protection.forget_after_hours),
        "max_failures": protection.max_failures,
    }
    taken, results = _take_try.run_committed_asynchronously(*reads, **values)
    if taken:
        return True, results
    # Locked, out of tries, or the account's first attempt: with its row made (unless there
    # is one), the same UPDATE decides again.
    _insert_lockout_row.save(AccountLockout(tenant_id=user.tenant_id, user_id=user.pk))
    taken, _ = _take_try.run_committed_asynchronously(**values)
    return taken == 1, results


def is_locked(user: User) -> bool:
    return AccountLockout.objects.filter(user=user, locked_until__gt=timezone.now()).exists()


def lock_if_exhausted(user: User, protection: SignInProtection, *, request=None) -> bool:
    """Lock the account once its tries are used up; True when this call locked it."""
    now = timezone.now()
    rows = AccountLockout.objects.filter(
        user=user, locked_until__isnull=True, failures__gte=protection.max_failures
    )
    row = rows.first()
    if row is None:
        return False
    minutes = min(protection.lock_minutes * 2**row.lockouts, protection.max_lock_minutes)
    locked_until = now + timedelta(minutes=minutes)
    with transaction.atomic():
        if not rows.update(locked_until=locked_until, lockouts=F("lockouts") + 1):
            return False  # another attempt locked it first
        record(
            user.tenant,
            None,
            EventAction.ACCOUNT_LOCKED,
            user,
            request,
            minutes=minutes,
            failures=row.failures,
        )
        _notify_locked(user, locked_until, request)
    return True


def _notify_locked(user: User, locked_until, request) -> None:
    from keydesk.mail.services import email_queue

    email_queue(
        tenant=user.tenant,
        template="account_locked",
        to=user,
        context={"locked_until": locked_until},
        request=request,
    )


_reset = PreparedUpdate(
    AccountLockout.objects.filter(user_id=Param("user_id")),
    failures=0,
    lockouts=0,
    locked_until=None,
)


def register_success(user: User) -> None:
    _reset.run_batched(user_id=user.pk)


def account_unlock(*, user: User, actor: User | None, request=None) -> None:
    """An admin (or manager, for people they manage) lifts a lockout."""
    if actor is not None and not can_manage_person(actor, kind=user.kind, role=user.role):
        raise PermissionDenied("You are not allowed to unlock this person.")
    with transaction.atomic():
        if (
            AccountLockout.objects.filter(user=user)
            .filter(Q(locked_until__isnull=False) | Q(failures__gt=0))
            .update(failures=0, lockouts=0, locked_until=None)
        ):
            record(user.tenant, actor, EventAction.ACCOUNT_UNLOCKED, user, request)


def _window_start(now, minutes: int):
    seconds = minutes * 60
    return now - timedelta(seconds=now.timestamp() % seconds)


_blocking_window = PreparedLookup(
    IpFailureWindow.objects.filter(
        tenant_id=Param("tenant_id"),
        ip=Param("ip"),
        blocked_until__gt=Param("now", IpFailureWindow._meta.get_field("blocked_until")),
    ).only("id")[:1]
)


def ip_block_read(tenant, ip: str):
    """The window that blocks `ip` now, if any: a read for `read_together()`."""
    return _blocking_window.read(tenant_id=tenant.pk, ip=ip, now=timezone.now())


def register_ip_failure(tenant, ip: str | None, protection: SignInProtection) -> None:
    """Count a failure from `ip` in the current window; block the address at the threshold."""
    if not ip:
        return
    now = timezone.now()
    start = _window_start(now, protection.ip_window_minutes)
    try:
        with transaction.atomic():
            IpFailureWindow.objects.get_or_create(tenant=tenant, ip=ip, window_start=start)
    except IntegrityError:
        pass  # a concurrent failure created the window
    windows = IpFailureWindow.objects.filter(tenant=tenant, ip=ip, window_start=start)
    windows.update(failures=F("failures") + 1)
    windows.filter(failures__gte=protection.ip_max_failures, blocked_until__isnull=True).update(
        blocked_until=now + timedelta(minutes=protection.ip_block_minutes)
    )
    # Old windows carry no information any more.
    IpFailureWindow.objects.filter(
        tenant=tenant, ip=ip, window_start__lt=start, blocked_until__lt=now
    ).delete()
