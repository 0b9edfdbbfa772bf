"""The second-factor stage of the sign-in pipeline, and checking a code during a challenge.

Wrong codes count toward the same account lockout as wrong passwords (a try is reserved
before each check), and each method allows five wrong codes per challenge.
"""

from django.urls import reverse

from keydesk.accounts import lockout
from keydesk.accounts.signin import PENDING_KEY, pending_user
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from . import codes, recovery_codes, totp
from .models import Authenticator
from .policy import is_required, methods_of, recovery_authenticator
from .services import _notify, mark_used

MAX_WRONG_PER_METHOD = 5
RECOVERY = "recovery"
# RFC 8176 "amr" values for each way of passing the second factor.
AMR = {
    Authenticator.Type.TOTP: "otp",
    Authenticator.Type.EMAIL: "otp",
    Authenticator.Type.SMS: "sms",
    RECOVERY: "otp",
}


def second_factor_stage(request, state: dict) -> str | None:
    """Pipeline stage: challenge a person who has 2FA; send one who must have it to setup."""
    if state.get("mfa_done"):
        return None
    user = pending_user(request, state)
    has_methods = bool(methods_of(user))
    # A Temporary Access Pass satisfies the second factor; someone who must have 2FA and has
    # none still sets it up (the pass is how people recover a lost method).
    if has_methods and state["methods"][0] != "tap":
        return reverse("mfa_challenge")
    if not has_methods and is_required(user) and not state.get("mfa_skipped"):
        return reverse("mfa_setup_at_sign_in")
    return None


def save_state(request, state: dict) -> None:
    request.session[PENDING_KEY] = state


def mark_passed(request, state: dict, method: str) -> None:
    state["mfa_done"] = True
    state["methods"] = [*state["methods"], AMR[method]]
    save_state(request, state)


class ChallengeOutcome:
    PASSED, WRONG, EXHAUSTED, LOCKED = "passed", "wrong", "exhausted", "locked"


def verify(request, state: dict, *, method: str, code: str) -> str:
    """Check one code for the pending sign-in; returns a ChallengeOutcome value."""
    user = pending_user(request, state)
    failures = state.setdefault("mfa_failures", {})
    if failures.get(method, 0) >= MAX_WRONG_PER_METHOD:
        return ChallengeOutcome.EXHAUSTED
    protection = lockout.protection_for(user.tenant)
    if not lockout.reserve_attempt(user, protection):
        record(
            user.tenant,
            user,
            EventAction.MFA_CHALLENGE_FAILED,
            user,
            request,
            method=method,
            reason="locked",
        )
        return ChallengeOutcome.LOCKED
    authenticator = _check(user, method, code)
    if authenticator is None:
        failures[method] = failures.get(method, 0) + 1
        save_state(request, state)
        record(
            user.tenant,
            user,
            EventAction.MFA_CHALLENGE_FAILED,
            user,
            request,
            method=method,
            reason="wrong_code",
        )
        if lockout.lock_if_exhausted(user, protection, request=request):
            return ChallengeOutcome.LOCKED
        if failures[method] >= MAX_WRONG_PER_METHOD:
            return ChallengeOutcome.EXHAUSTED
        return ChallengeOutcome.WRONG
    # The lockout count is cleared when the whole sign-in finishes, not here.
    if method != Authenticator.Type.TOTP:  # the app's check already noted the use
        mark_used(authenticator)
    record(user.tenant, user, EventAction.MFA_CHALLENGE_SUCCEEDED, user, request, method=method)
    if method == RECOVERY:
        left = recovery_codes.remaining(authenticator)
        record(user.tenant, user, EventAction.MFA_RECOVERY_CODE_USED, user, request, left=left)
        _notify(user, f"A recovery code was used to sign in. {left} codes are left.", request)
    mark_passed(request, state, method)
    return ChallengeOutcome.PASSED


def _check(user, method: str, code: str) -> Authenticator | None:
    """The authenticator that accepts `code`, consuming it; None when nothing does."""
    if method == RECOVERY:
        authenticator = recovery_authenticator(user)
        ok = authenticator is not None and recovery_codes.consume(authenticator, code)
        return authenticator if ok else None
    authenticator = Authenticator.objects.filter(user=user, type=method).first()
    if authenticator is None:
        return None
    if method == Authenticator.Type.TOTP:
        ok = totp.verify(authenticator, code)
    else:
        ok = codes.consume(user, method, code)
    return authenticator if ok else None
