"""A new account's creation limits: for its first days, at most so many users and tickets a day.

A tenant is limited from its creation for `NEW_ACCOUNT_DAYS` days unless an operator lifts
the limits earlier. While limited it may create `NEW_ACCOUNT_USERS_PER_DAY` users and
`NEW_ACCOUNT_TICKETS_PER_DAY` tickets per day; days run from 00:00 to 24:00 UTC.

Each creation takes one unit from its day's `CreationCount` row with a conditional UPDATE
inside the creating transaction, so a creation that fails gives its unit back and concurrent
creations never go past the cap.

A refusal raises `CreationLimitReached`; the caller's transaction then rolls back, and with it
anything written inside it. So `creation_take` does not write the `tenant.limited_refused`
event itself: the surface that reports the refusal — the web form, the API's problem answer,
the command line, the inbound mail that is held — calls `creation_refusal_record` once the
transaction has rolled back.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from keydesk.core.errors import ApplicationError
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .models import CreationCount, Tenant

KINDS = tuple(CreationCount.Kind.values)
_REFUSALS = {
    CreationCount.Kind.USER: "New helpdesks may add at most {cap} users a day, and today's are "
    "used up. More can be added from {when} UTC.",
    CreationCount.Kind.TICKET: "New helpdesks may open at most {cap} tickets a day, and today's "
    "are used up. More can be opened from {when} UTC.",
}


class CreationLimitReached(ApplicationError):
    """Today's users or tickets of a limited tenant are used up; `resets_at` says until when."""

    def __init__(self, *, tenant: Tenant, kind: str, cap: int, resets_at: datetime, actor, request):
        when = resets_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        super().__init__("creation_limited", _REFUSALS[kind].format(cap=cap, when=when), status=429)
        self.tenant = tenant
        self.kind = kind
        self.cap = cap
        self.resets_at = resets_at
        self.actor = actor
        self.request = request
        self.recorded = False

    def retry_after(self, *, now: datetime | None = None) -> int:
        """Whole seconds until the limit resets (at least 1), for a `Retry-After` header."""
        seconds = (self.resets_at - (now or timezone.now())).total_seconds()
        return max(1, math.ceil(seconds))


@dataclass(frozen=True)
class KindLimit:
    """Today's allowance of one kind; `cap` and `remaining` are None when nothing is limited."""

    cap: int | None
    used_today: int
    remaining: int | None
    resets_at: datetime | None


@dataclass(frozen=True)
class LimitsStatus:
    """Whether a tenant is limited, until when, and what is left of today's users and tickets."""

    limited: bool
    until: datetime | None
    user: KindLimit
    ticket: KindLimit

    def of(self, kind: str) -> KindLimit:
        return self.user if kind == CreationCount.Kind.USER else self.ticket

    @property
    def resets_at(self) -> datetime | None:
        return self.user.resets_at


def _cap(kind: str) -> int:
    if kind == CreationCount.Kind.USER:
        return settings.NEW_ACCOUNT_USERS_PER_DAY
    return settings.NEW_ACCOUNT_TICKETS_PER_DAY


def limited_until(tenant: Tenant, *, now: datetime | None = None) -> datetime | None:
    """When the tenant's limits end, or None when it is not limited; reads only the tenant row."""
    if tenant.limits_lifted_at is not None:
        return None
    until = tenant.created_at + timedelta(days=settings.NEW_ACCOUNT_DAYS)
    return until if (now or timezone.now()) < until else None


def _next_reset(now: datetime, until: datetime) -> datetime:
    """The next UTC midnight, or the end of the limits when that comes first."""
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    return min(midnight, until)


def _today(now: datetime):
    return now.astimezone(UTC).date()


def limits_status(*, tenant: Tenant, now: datetime | None = None) -> LimitsStatus:
    """The tenant's limits and today's use of them (one query when limited, none otherwise)."""
    now = now or timezone.now()
    until = limited_until(tenant, now=now)
    if until is None:
        free = KindLimit(cap=None, used_today=0, remaining=None, resets_at=None)
        return LimitsStatus(limited=False, until=None, user=free, ticket=free)
    used = dict(
        CreationCount.objects.filter(tenant=tenant, day=_today(now)).values_list("kind", "count")
    )
    resets_at = _next_reset(now, until)
    kinds = {}
    for kind in KINDS:
        cap = _cap(kind)
        count = used.get(kind, 0)
        kinds[kind] = KindLimit(
            cap=cap, used_today=count, remaining=max(0, cap - count), resets_at=resets_at
        )
    return LimitsStatus(limited=True, until=until, **kinds)


def creation_take(*, tenant: Tenant, kind: str, request=None, actor=None) -> None:
    """Take one of today's creations of `kind` ("user" or "ticket") for a limited tenant.

    Runs inside the caller's transaction, so the unit comes back when the creation fails.
    Raises `CreationLimitReached` when today's are used up; the caller reports it and then
    calls `creation_refusal_record` (see the module's docstring).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("creation_take runs inside the transaction that creates")
    now = timezone.now()
    if limited_until(tenant, now=now) is None:
        # Limits only ever end, so a tenant object that says "not limited" is never wrong.
        return
    # The object may be older than an operator's lift (the mail listener keeps tenants around).
    fresh = Tenant.objects.only("created_at", "limits_lifted_at").get(pk=tenant.pk)
    until = limited_until(fresh, now=now)
    if until is None:
        return
    cap, day = _cap(kind), _today(now)
    # The WHERE count < cap is evaluated against the latest committed row under its row lock,
    # so concurrent takers queue on the row and the cap is never passed.
    counter = CreationCount.objects.filter(tenant=tenant, day=day, kind=kind, count__lt=cap)
    taken = counter.update(count=F("count") + 1)
    if not taken:
        # The day's first creation makes the row; a concurrent maker wins and this one waits
        # for it, then takes from its row like any other creation.
        CreationCount.objects.bulk_create(
            [CreationCount(tenant=tenant, day=day, kind=kind, count=0)], ignore_conflicts=True
        )
        taken = counter.update(count=F("count") + 1)
    if not taken:
        raise CreationLimitReached(
            tenant=tenant,
            kind=kind,
            cap=cap,
            resets_at=_next_reset(now, until),
            actor=actor,
            request=request,
        )


def creation_check(*, tenant: Tenant, kind: str, request=None, actor=None) -> None:
    """Refuse as `creation_take` would when today's `kind` is used up, without taking a unit.

    For answers that must look the same whether or not something is created (sign-up with an
    address that is already registered).
    """
    status = limits_status(tenant=tenant).of(kind)
    if status.remaining == 0:
        raise CreationLimitReached(
            tenant=tenant,
            kind=kind,
            cap=status.cap,
            resets_at=status.resets_at,
            actor=actor,
            request=request,
        )


def creation_refusal_record(*, error: CreationLimitReached) -> None:
    """Record `tenant.limited_refused` for a refusal, after the creating transaction rolled back.

    Call it where the refusal is reported, outside the transaction that tried to create;
    a second call for the same refusal records nothing.
    """
    if error.recorded:
        return
    actor = error.actor if getattr(error.actor, "tenant_id", None) == error.tenant.pk else None
    record(
        error.tenant,
        actor,
        EventAction.TENANT_LIMITED_REFUSED,
        error.tenant,
        error.request,
        kind=error.kind,
        cap=error.cap,
        resets_at=error.resets_at.astimezone(UTC).isoformat(),
    )
    error.recorded = True


def tenant_lift_limits(*, tenant: Tenant, actor=None) -> bool:
    """End a new tenant's creation limits now (platform operators); False when none were left."""
    now = timezone.now()
    with transaction.atomic():
        lifted = Tenant.objects.filter(
            pk=tenant.pk,
            limits_lifted_at__isnull=True,
            created_at__gt=now - timedelta(days=settings.NEW_ACCOUNT_DAYS),
        ).update(limits_lifted_at=now)
        if not lifted:
            return False
        record(
            tenant,
            None,
            EventAction.TENANT_LIMITS_LIFTED,
            tenant,
            operator=getattr(actor, "username", None),
        )
    tenant.limits_lifted_at = now
    return True
