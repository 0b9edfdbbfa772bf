"""The sign-in pipeline's access-list stage (action `login`)."""

from keydesk.accounts.signin import Attempt, Denied

from .services import RESTRICTED_MESSAGE, access_check, audience_of, request_language


def check_access(attempt: Attempt) -> Denied | None:
    """Refuse a proven person whom the tenant's rules keep out; the pipeline shows one message."""
    decision = access_check(
        tenant=attempt.tenant,
        action="login",
        audience=audience_of(attempt.user),
        ip=attempt.ip,
        email=attempt.user.email,
        language=request_language(attempt.request, attempt.user),
        user=attempt.user,
        request=attempt.request,
    )
    if decision.allowed:
        return None
    return Denied("access_denied", message_after_proof=RESTRICTED_MESSAGE)
