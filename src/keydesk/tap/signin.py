"""The Temporary Access Pass as a first factor of the sign-in pipeline."""

from keydesk.accounts.signin import Attempt, Denied
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .services import tap_check


def check_tap_factor(attempt: Attempt) -> Denied | None:
    """Accept the person's pass; the reason of a refusal goes to the event log only."""
    if attempt.method != "tap":
        return None
    tap, reason = tap_check(attempt.user, attempt.secret)
    if tap is None:
        return Denied(f"tap_{reason}")
    attempt.session_expires_at = tap.expires_at
    record(
        attempt.tenant,
        attempt.user,
        EventAction.TAP_USED,
        attempt.user,
        attempt.request,
        one_time=tap.one_time,
        expires_at=tap.expires_at.isoformat(),
    )
    return None
