"""Navigation by role: agent workspace, account administration, portal."""

from keydesk.accounts.permissions import Perm, can


def navigation(request):
    user = getattr(request, "user", None)
    tenant = getattr(request, "tenant", None)
    if user is None or not user.is_authenticated or tenant is None:
        return {"tenant": tenant, "nav": {}}
    return {
        "tenant": tenant,
        "nav": {
            "workspace": can(user, Perm.TICKET_WORK),
            "portal": user.is_contact,
            "people": can(user, Perm.USER_VIEW),
            "teams": can(user, Perm.TEAM_MANAGE),
            "events": can(user, Perm.EVENTLOG_VIEW),
            "tokens": can(user, Perm.API_TOKEN_OWN),
        },
    }
