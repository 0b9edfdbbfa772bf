"""Who may do what, by kind and role; docs/permissions.md is the same table in prose.

Services call `require(actor, permission)`; templates ask `can(user, permission)` only to
hide what a person could not do anyway.
"""

from enum import StrEnum

from keydesk.core.errors import PermissionDenied

from .models import User


class Perm(StrEnum):
    TICKET_WORK = "ticket.work"  # see every ticket, reply, note, change status
    TICKET_ASSIGN = "ticket.assign"
    USER_VIEW = "user.view"  # see the agent and contact lists
    CONTACT_MANAGE = "contact.manage"
    STAFF_MANAGE = "staff.manage"  # agents and supervisors
    STAFF_MANAGE_PRIVILEGED = "staff.manage_privileged"  # admins and managers
    TEAM_MANAGE = "team.manage"
    EVENTLOG_VIEW = "eventlog.view"
    SECURITY_MANAGE = "security.manage"  # password policy, sign-in protection, 2FA, access lists
    API_TOKEN_OWN = "api_token.own"
    CHANNELS_MANAGE = "channels.manage"  # email senders and addresses, the outbox and mail log


_AGENT = {Perm.TICKET_WORK, Perm.TICKET_ASSIGN, Perm.API_TOKEN_OWN}
_SUPERVISOR = _AGENT | {Perm.USER_VIEW}
_MANAGER = _SUPERVISOR | {Perm.CONTACT_MANAGE, Perm.STAFF_MANAGE, Perm.TEAM_MANAGE}
_ADMIN = _MANAGER | {
    Perm.STAFF_MANAGE_PRIVILEGED,
    Perm.EVENTLOG_VIEW,
    Perm.SECURITY_MANAGE,
    Perm.CHANNELS_MANAGE,
}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    User.Role.AGENT: frozenset(_AGENT),
    User.Role.SUPERVISOR: frozenset(_SUPERVISOR),
    User.Role.MANAGER: frozenset(_MANAGER),
    User.Role.ADMIN: frozenset(_ADMIN),
}
CONTACT_PERMISSIONS: frozenset[Perm] = frozenset({Perm.API_TOKEN_OWN})


def permissions_of(user) -> frozenset[Perm]:
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.tenant_id is None:
        return frozenset()
    if user.kind == User.Kind.CONTACT:
        return CONTACT_PERMISSIONS
    return ROLE_PERMISSIONS.get(user.role, frozenset())


def can(user, perm: Perm) -> bool:
    return perm in permissions_of(user)


def require(user, perm: Perm) -> None:
    if not can(user, perm):
        raise PermissionDenied()


def can_manage_person(actor, *, kind: str, role: str = "") -> bool:
    """Whether `actor` may create or change a person of this kind and role."""
    if kind == User.Kind.CONTACT:
        return can(actor, Perm.CONTACT_MANAGE)
    if role in (User.Role.ADMIN, User.Role.MANAGER):
        return can(actor, Perm.STAFF_MANAGE_PRIVILEGED)
    return can(actor, Perm.STAFF_MANAGE)
