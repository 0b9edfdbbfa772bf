"""Navigation by role: agent workspace, account administration, preferences, portal."""

from keydesk.accounts.permissions import Perm, can
from keydesk.tenants.limits import limited_until

# The first matching path prefix names the section the page belongs to.
_SECTIONS = (
    ("/tickets/", "tickets"),
    ("/portal/", "portal"),
    ("/account/agents/", "agents"),
    ("/account/teams/", "teams"),
    ("/account/contacts/", "contacts"),
    ("/account/events/", "events"),
    ("/preferences/tokens/", "tokens"),
    ("/preferences/password", "password"),
    ("/preferences/sessions/", "sessions"),
    ("/preferences/2fa", "mfa"),
    ("/preferences/reauth", "mfa"),
    ("/account/security/2fa", "mfa_policy"),
    ("/account/security/password-policy", "password_policy"),
    ("/account/security/sign-in-protection", "sign_in_protection"),
    ("/account/security/sessions", "session_policy"),
    ("/account/security/tap", "tap_policy"),
    ("/account/security/access-lists/", "access_lists"),
    ("/account/channels/outgoing", "mail_outgoing"),
    ("/account/channels/outbox/", "mail_outbox"),
    ("/account/channels/email/addresses/", "mail_addresses"),
    ("/account/channels/email/settings", "mail_addresses"),
    ("/account/channels/email/log/", "mail_log"),
    ("/preferences/notifications", "notifications"),
)


def _section(path: str) -> str:
    for prefix, name in _SECTIONS:
        if path.startswith(prefix):
            return name
    return ""


def navigation(request):
    """What the navigation shows to this person; hiding only, the services enforce."""
    user = getattr(request, "user", None)
    tenant = getattr(request, "tenant", None)
    if user is None or not user.is_authenticated or tenant is None:
        return {"tenant": tenant, "nav": {}}
    people = can(user, Perm.USER_VIEW)
    return {
        "tenant": tenant,
        "nav": {
            "workspace": can(user, Perm.TICKET_WORK),
            "portal": user.is_contact,
            "people": people,
            "teams": people,
            "contacts": people,
            "events": can(user, Perm.EVENTLOG_VIEW),
            "security": can(user, Perm.SECURITY_MANAGE),
            "channels": can(user, Perm.CHANNELS_MANAGE),
            "tokens": can(user, Perm.API_TOKEN_OWN),
            "section": _section(request.path),
            # From the request's tenant row alone: no query on every page.
            "limited": user.is_staff_member and limited_until(tenant) is not None,
        },
    }
