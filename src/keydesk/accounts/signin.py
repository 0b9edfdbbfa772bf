"""The sign-in pipeline every method passes through (password now; TAP, SSO, passkeys later).

A first-factor method runs `first_factor_stages`; each stage returns None to continue or a
`Denied` with the reason. The partial state then lives in the session under one key for at
most five minutes while `pending_stages` may send the person to a challenge (second factor,
required actions). Only `finish` authenticates: new session key, methods and time recorded.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.contrib.auth import login, logout
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from keydesk.core.http import client_ip
from keydesk.core.queries import (
    Param,
    PreparedInsert,
    PreparedLookup,
    read_together,
    writes_batched,
)
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from . import lockout
from .models import SignInProtection, SignInSession, User
from .passwords import password_change_due
from .permissions import Perm, can
from .sessions import remember_device

PENDING_KEY = "keydesk.signin"
PENDING_TTL_SECONDS = 300
SIGN_IN_FAILED_MESSAGE = "The email or password is not correct, or this account cannot sign in."
BACKEND = "keydesk.accounts.backends.TenantUserBackend"

_insert_sign_in_session = PreparedInsert(SignInSession)
_user_by_email = PreparedLookup(
    User.objects.filter(tenant_id=Param("tenant_id"), email=Param("email"))
)


@dataclass
class Attempt:
    """What one sign-in knows as it passes the stages."""

    request: object
    tenant: object
    email: str
    method: str  # RFC 8176 amr value of the first factor: "pwd", later "tap", "hwk", …
    secret: str = field(repr=False)
    user: User | None = None
    ip: str | None = None
    protection: SignInProtection | None = None
    # A factor that only lasts so long (a Temporary Access Pass) caps the session it opens.
    session_expires_at: datetime | None = None


@dataclass(frozen=True)
class Denied:
    reason: str  # for the event log (admins); people see one generic message
    # Only stages after the factor check may tell more (the person proved who they are); such
    # a refusal does not count towards the account's lockout either.
    message_after_proof: str | None = None


@dataclass(frozen=True)
class Outcome:
    """`redirect_to` on success or challenge; `error` (generic) when denied."""

    redirect_to: str | None = None
    error: str | None = None


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    return make_password("keydesk-no-such-account")


def identify(attempt: Attempt) -> Denied | None:
    """Find the person by email, and turn away an address blocked for too many failures
    across accounts before any work; both are read in one round trip. An unknown email
    still costs one hash check (no enumeration)."""
    email = attempt.email.strip().lower()
    reads = [_user_by_email.read(tenant_id=attempt.tenant.pk, email=email)]
    if attempt.ip:
        reads.append(lockout.ip_block_read(attempt.tenant, attempt.ip))
    people, *blocking_windows = read_together(*reads)
    if any(blocking_windows):
        return Denied("ip_blocked")
    if not people:
        check_password(attempt.secret, dummy_password_hash())
        return Denied("unknown_user")
    attempt.user = people[0]
    attempt.user.tenant = attempt.tenant  # the later stages read it; spares a query
    return None


# What later stages from other apps read about the person (the second factor stage, their
# authenticators), read in the round trip that takes the try: pairs of a function giving
# the lookup's `read()` for the person, and one keeping its result with the person.
person_reads: list[tuple[Callable[[User], tuple], Callable[[User, list], None]]] = []


def reserve_attempt(attempt: Attempt) -> Denied | None:
    """Take one of the account's tries; a locked account's factor is never checked."""
    user = attempt.user
    reserved, results = lockout.reserve_attempt_reading(
        user, attempt.protection, *(read(user) for read, _ in person_reads)
    )
    if not reserved:
        check_password(attempt.secret, dummy_password_hash())  # same cost as a real check
        return Denied("locked")
    for (_, keep), result in zip(person_reads, results, strict=True):
        keep(user, result)
    return None


def check_password_factor(attempt: Attempt) -> Denied | None:
    """Verify the password; Django re-hashes it when the stored parameters are outdated."""
    if attempt.method != "pwd":
        return None
    if not attempt.user.check_password(attempt.secret):
        return Denied("wrong_password")
    return None


def check_account_may_sign_in(attempt: Attempt) -> Denied | None:
    """Deactivated people and guests (TAP only) are refused after the factor check, so timing matches."""
    user = attempt.user
    if not user.is_active:
        return Denied("inactive")
    if user.is_guest and attempt.method != "tap":
        return Denied("guest_method_not_allowed")
    return None


first_factor_stages: list[Callable[[Attempt], Denied | None]] = [
    identify,
    reserve_attempt,
    check_password_factor,
    check_account_may_sign_in,
]


# Stages after the first factor: each takes (request, pending state) and returns None to go on,
# or the URL of the page that asks the person for more (a second factor, a required action).
def pending_user(request, state: dict) -> User:
    """The person a partial sign-in is for (fetched once per request)."""
    cached = getattr(request, "_pending_user", None)
    if cached is None or cached.pk != state["user_id"]:
        cached = User.objects.select_related("tenant").get(
            pk=state["user_id"], tenant=request.tenant
        )
        request._pending_user = cached
    return cached


def require_password_change(request, state: dict) -> str | None:
    """Required action: an expired or admin-flagged password is replaced before the session."""
    if state["methods"][0] == "pwd" and password_change_due(pending_user(request, state)):
        return reverse("signin_password_change")
    return None


def offer_password_after_tap(request, state: dict) -> str | None:
    """Required action after a pass: someone with no password (not a guest) may set one."""
    if state["methods"][0] != "tap" or state.get("password_offered"):
        return None
    user = pending_user(request, state)
    if user.is_guest or user.has_usable_password():
        return None
    return reverse("signin_password_change")


pending_stages: list[Callable[[object, dict], str | None]] = [
    require_password_change,
    offer_password_after_tap,
]


def home_url(user: User) -> str:
    """Where a person lands after signing in: the agent workspace or the portal."""
    return reverse("tickets:list") if can(user, Perm.TICKET_WORK) else reverse("portal:list")


def safe_next(request, candidate: str | None, default: str = "/") -> str:
    """A `next` parameter only ever leads to a path on this host."""
    if (
        candidate
        and candidate.startswith("/")
        and not candidate.startswith("//")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


def _fail(attempt: Attempt, denied: Denied) -> Outcome:
    record(
        attempt.tenant,
        attempt.user,
        EventAction.LOGIN_FAILED,
        attempt.user or ("email", "", attempt.email[:254]),
        attempt.request,
        method=attempt.method,
        reason=denied.reason,
    )
    if attempt.method == "tap":
        record(
            attempt.tenant,
            attempt.user,
            EventAction.TAP_FAILED,
            attempt.user or ("email", "", attempt.email[:254]),
            attempt.request,
            reason=denied.reason,
        )
    if denied.message_after_proof is not None:
        lockout.register_success(attempt.user)  # the try taken for the factor is given back
        return Outcome(error=denied.message_after_proof)
    if denied.reason != "ip_blocked":
        lockout.register_ip_failure(attempt.tenant, attempt.ip, attempt.protection)
    if attempt.user is not None and denied.reason != "locked":
        lockout.lock_if_exhausted(attempt.user, attempt.protection, request=attempt.request)
    return Outcome(error=SIGN_IN_FAILED_MESSAGE)


def sign_in_with_first_factor(
    request, *, email: str, secret: str, method: str, next_url: str | None = None
) -> Outcome:
    attempt = Attempt(
        request=request,
        tenant=request.tenant,
        email=email,
        method=method,
        secret=secret,
        ip=client_ip(request),
        protection=lockout.protection_for(request.tenant),
    )
    for stage in first_factor_stages:
        denied = stage(attempt)
        if denied is not None:
            return _fail(attempt, denied)
    request.session[PENDING_KEY] = {
        "user_id": attempt.user.pk,
        "tenant_id": attempt.tenant.pk,
        "methods": [method],
        "started_at": time.time(),
        "next": safe_next(request, next_url, default=""),
        "session_expires_at": (
            attempt.session_expires_at.isoformat() if attempt.session_expires_at else None
        ),
    }
    request._pending_user = attempt.user
    return continue_sign_in(request)


def pending_state(request) -> dict | None:
    """The partial sign-in of this session, if it is for this tenant and under five minutes old."""
    state = request.session.get(PENDING_KEY)
    if not state or request.tenant is None or state.get("tenant_id") != request.tenant.pk:
        return None
    if time.time() - state["started_at"] > PENDING_TTL_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return state


def continue_sign_in(request) -> Outcome:
    """Run the stages after the first factor; finish when none of them asks for more."""
    state = pending_state(request)
    if state is None:
        return Outcome(error="Your sign-in took too long. Please start again.")
    for stage in pending_stages:
        challenge_url = stage(request, state)
        if challenge_url is not None:
            return Outcome(redirect_to=challenge_url)
    return finish(request, state)


def finish(request, state: dict) -> Outcome:
    """Authenticate: a new session key, the methods used and the time recorded, the event written."""
    user = pending_user(request, state)
    request.session.pop(PENDING_KEY, None)
    now = timezone.now()
    # Its small writes go out with the statements that need an answer (see writes_batched).
    with transaction.atomic(), writes_batched():
        login(request, user, backend=BACKEND)  # a new session key, drawn when saved below
        request.session["amr"] = state["methods"]
        request.session["auth_time"] = int(now.timestamp())
        if state.get("session_expires_at"):
            request.session.set_expiry(datetime.fromisoformat(state["session_expires_at"]))
        # Written here, not when the response goes out: the session (under its new key) and
        # its sign-in record are committed together or not at all.
        request.session.save()
        _insert_sign_in_session.save_batched(
            SignInSession(
                tenant=user.tenant,
                user=user,
                session_key=request.session.session_key,
                methods=state["methods"],
                auth_time=now,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        # Before the event: the account's lockout row is written before the chain head is
        # locked, in the order a lockout takes them.
        lockout.register_success(user)
        record(
            user.tenant, user, EventAction.LOGIN_SUCCEEDED, user, request, methods=state["methods"]
        )
        # Last: the held writes go out with its lookup, and a new device's alert and event
        # follow the sign-in's.
        request.new_device_id = remember_device(request, user)
    return Outcome(redirect_to=state["next"] or home_url(user))


def sign_out(request) -> None:
    user = request.user
    if user.is_authenticated:
        with transaction.atomic():
            SignInSession.objects.filter(session_key=request.session.session_key).update(
                ended_at=timezone.now()
            )
            record(user.tenant, user, EventAction.LOGOUT, user, request)
    logout(request)
