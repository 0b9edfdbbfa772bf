"""Changing people, teams and API tokens; each action is atomic and records its event."""

from django.contrib.auth import update_session_auth_hash
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from keydesk.access.services import access_require
from keydesk.core.errors import ApplicationError, PermissionDenied
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.tenants.limits import creation_take

from .models import PasswordHistory, PasswordPolicy, SignInSession, Team, User
from .passwords import password_problems, policy_for
from .permissions import Perm, can, can_manage_person, require
from .verification import verification_send


def normalize_email(raw: str, *, field: str = "email") -> str:
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            "invalid_email", "Enter a valid email address.", field=field
        ) from None
    return email


def _check_kind_and_role(kind: str, role: str) -> str:
    if kind not in User.Kind.values:
        raise ApplicationError("invalid_kind", "Kind must be staff or contact.", field="kind")
    if kind == User.Kind.STAFF:
        if role not in User.Role.values:
            raise ApplicationError(
                "invalid_role", "Role must be admin, manager, supervisor or agent.", field="role"
            )
        return role
    if role:
        raise ApplicationError("invalid_role", "Contacts have no role.", field="role")
    return ""


def validate_new_password(password: str, *, user: User) -> None:
    """Raise an ApplicationError on `password` naming every rule of the tenant's policy it breaks."""
    problems = password_problems(password, user=user, policy=policy_for(user.tenant))
    if problems:
        raise ApplicationError("weak_password", " ".join(problems), field="password")


def _check_actor_may_manage(actor: User | None, *, kind: str, role: str) -> None:
    # No actor means the platform operator's command line, which may do anything.
    if actor is not None and not can_manage_person(actor, kind=kind, role=role):
        raise PermissionDenied("You are not allowed to manage this person.")


def user_create(
    *,
    tenant,
    actor: User | None,
    email: str,
    kind: str,
    role: str = "",
    name: str = "",
    is_guest: bool = False,
    language: str = "",
    phone: str = "",
    password: str | None = None,
    request=None,
    counts_toward_limits: bool = True,
    send_verification: bool = True,
) -> User:
    """Create a staff member or a contact; a new tenant's daily user limit applies.

    `counts_toward_limits` is False only for a tenant's first admin, who comes with the account.
    `send_verification=False` mails a new contact no verification link (a contact made from
    an automatic email, which must not be answered automatically).
    """
    email = normalize_email(email)
    role = _check_kind_and_role(kind, role)
    _check_actor_may_manage(actor, kind=kind, role=role)
    if actor is not None and kind == User.Kind.CONTACT:
        # A contact added by staff or the API is judged on its address, not the agent's IP.
        access_require(
            tenant=tenant,
            action="register",
            request=request,
            email=email,
            audience="contacts",
            kinds=("email", "domain"),
        )
    user = User(
        tenant=tenant,
        email=email,
        name=name.strip(),
        kind=kind,
        role=role,
        is_guest=is_guest,
        language=language.strip(),
        phone=phone.strip(),
    )
    if password:
        validate_new_password(password, user=user)
        user.set_password(password)
        user.password_changed_at = timezone.now()
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            if counts_toward_limits:
                creation_take(tenant=tenant, kind="user", request=request, actor=actor)
            user.save()
            record(
                tenant,
                actor,
                EventAction.USER_CREATED,
                user,
                request,
                kind=kind,
                role=role,
                is_guest=is_guest,
            )
            if user.is_contact and send_verification:
                verification_send(user=user, actor=actor, request=request)
    except IntegrityError:
        raise ApplicationError(
            "email_taken", "A person with this email already exists.", field="email", status=409
        ) from None
    return user


USER_EDITABLE_FIELDS = (
    "email",
    "name",
    "role",
    "is_guest",
    "language",
    "phone",
    "email_notifications",
)


def _active_admin_count(tenant) -> int:
    return User.objects.filter(
        tenant=tenant, kind=User.Kind.STAFF, role=User.Role.ADMIN, is_active=True
    ).count()


def user_update(*, user: User, actor: User | None, request=None, **changes) -> User:
    unknown = set(changes) - set(USER_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError("invalid_field", f"Cannot change {', '.join(sorted(unknown))}.")
    _check_actor_may_manage(actor, kind=user.kind, role=user.role)
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
    if "role" in changes:
        changes["role"] = _check_kind_and_role(user.kind, changes["role"])
        _check_actor_may_manage(actor, kind=user.kind, role=changes["role"])
    for key in ("name", "language", "phone"):
        if key in changes:
            changes[key] = (changes[key] or "").strip()
    changed = {k: v for k, v in changes.items() if getattr(user, k) != v}
    if not changed:
        return user
    if "is_guest" in changed and actor is not None and not can(actor, Perm.STAFF_MANAGE_PRIVILEGED):
        raise PermissionDenied("Only admins change whether a person is a guest.")
    try:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            if (
                changed.get("role", User.Role.ADMIN) != User.Role.ADMIN
                and locked.role == User.Role.ADMIN
                and locked.is_active
                and _active_admin_count(user.tenant) <= 1
            ):
                raise ApplicationError(
                    "last_admin", "The last active admin cannot lose the admin role.", field="role"
                )
            before = {k: getattr(locked, k) for k in changed}
            for key, value in changed.items():
                setattr(locked, key, value)
            locked.save(update_fields=[*changed, "updated_at"])
            record(
                user.tenant,
                actor,
                EventAction.USER_UPDATED,
                locked,
                request,
                changes={k: [before[k], v] for k, v in changed.items()},
            )
            if "is_guest" in changed:
                record(
                    user.tenant,
                    actor,
                    EventAction.USER_GUEST_CHANGED,
                    locked,
                    request,
                    is_guest=changed["is_guest"],
                )
    except IntegrityError:
        raise ApplicationError(
            "email_taken", "A person with this email already exists.", field="email", status=409
        ) from None
    return locked


def email_notifications_set(*, user: User, enabled: bool, request=None) -> User:
    """A person turns ticket notification mail on or off for themselves (never security mail)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.email_notifications == enabled:
            return locked
        locked.email_notifications = enabled
        locked.save(update_fields=["email_notifications", "updated_at"])
        record(
            locked.tenant,
            locked,
            EventAction.USER_UPDATED,
            locked,
            request,
            changes={"email_notifications": [not enabled, enabled]},
        )
    return locked


def end_sessions_of(user: User, *, except_key: str | None = None) -> int:
    """End every open browser session of `user` but `except_key`; returns how many ended."""
    open_sessions = SignInSession.objects.filter(user=user, ended_at__isnull=True)
    if except_key:
        open_sessions = open_sessions.exclude(session_key=except_key)
    keys = list(open_sessions.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    open_sessions.update(ended_at=timezone.now())
    return len(keys)


def user_deactivate(*, user: User, actor: User | None, request=None) -> User:
    _check_actor_may_manage(actor, kind=user.kind, role=user.role)
    if actor is not None and actor.pk == user.pk:
        raise ApplicationError("self_deactivation", "You cannot deactivate your own account.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            return locked
        if locked.role == User.Role.ADMIN and _active_admin_count(user.tenant) <= 1:
            raise ApplicationError("last_admin", "The last active admin cannot be deactivated.")
        locked.is_active = False
        locked.save(update_fields=["is_active", "updated_at"])
        sessions = end_sessions_of(locked)
        record(
            user.tenant,
            actor,
            EventAction.USER_DEACTIVATED,
            locked,
            request,
            sessions_ended=sessions,
        )
    return locked


def user_reactivate(*, user: User, actor: User | None, request=None) -> User:
    _check_actor_may_manage(actor, kind=user.kind, role=user.role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            return locked
        locked.is_active = True
        locked.save(update_fields=["is_active", "updated_at"])
        record(user.tenant, actor, EventAction.USER_REACTIVATED, locked, request)
    return locked


def user_set_password(
    *,
    user: User,
    actor: User | None,
    password: str,
    request=None,
    keep_current_session: bool = False,
    must_change: bool = False,
) -> None:
    """Set a new password under the policy; every session of the person ends but, on request,
    the one making the change (its key rotates)."""
    if actor is not None and actor.pk != user.pk:
        _check_actor_may_manage(actor, kind=user.kind, role=user.role)
    validate_new_password(password, user=user)
    with transaction.atomic():
        if user.has_usable_password():
            PasswordHistory.objects.create(tenant=user.tenant, user=user, password=user.password)
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.must_change_password = must_change
        user.save(
            update_fields=["password", "password_changed_at", "must_change_password", "updated_at"]
        )
        kept = None
        if keep_current_session and request is not None:
            old_key = request.session.session_key
            # Django ties sessions to the password hash; refresh this one's and rotate its key.
            update_session_auth_hash(request, user)
            request.session.save()  # draws the new key, written with the session's data
            kept = request.session.session_key
            SignInSession.objects.filter(session_key=old_key).update(session_key=kept)
        ended = end_sessions_of(user, except_key=kept)
        record(
            user.tenant, actor, EventAction.PASSWORD_CHANGED, user, request, sessions_ended=ended
        )


POLICY_FIELDS = (
    "min_length",
    "max_length",
    "require_upper",
    "require_lower",
    "require_digit",
    "require_symbol",
    "reject_common",
    "reject_personal",
    "min_strength",
    "history_count",
    "max_age_days",
)


def password_policy_update(
    *, tenant, actor: User | None, force_change_all: bool = False, request=None, **changes
) -> PasswordPolicy:
    """Save the tenant's password policy; optionally ask everyone for a new password."""
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ApplicationError("invalid_field", f"Unknown setting {', '.join(sorted(unknown))}.")
    policy = policy_for(tenant)
    for key, value in changes.items():
        setattr(policy, key, value)
    if policy.min_length < PasswordPolicy.ABSOLUTE_MIN_LENGTH:
        raise ApplicationError(
            "too_short", "The minimum length cannot be below 8.", field="min_length"
        )
    if policy.max_length < max(PasswordPolicy.MAX_LENGTH_FLOOR, policy.min_length):
        raise ApplicationError(
            "too_short",
            "The maximum length must be at least 64 and the minimum.",
            field="max_length",
        )
    if not 0 <= policy.min_strength <= 4:
        raise ApplicationError(
            "out_of_range", "Strength is a score from 0 to 4.", field="min_strength"
        )
    if policy.max_age_days == 0:
        policy.max_age_days = None
    with transaction.atomic():
        policy.save()
        flagged = 0
        if force_change_all:
            flagged = User.objects.filter(tenant=tenant, is_active=True).update(
                must_change_password=True
            )
        record(
            tenant,
            actor,
            EventAction.PASSWORD_POLICY_UPDATED,
            ("password_policy", tenant.pk, "Password policy"),
            request,
            changes={k: changes[k] for k in sorted(changes)},
            flagged_for_change=flagged,
        )
    return policy


# Teams


def _check_team_members(tenant, members) -> list[User]:
    members = list(members)
    for member in members:
        if member.tenant_id != tenant.pk or member.kind != User.Kind.STAFF:
            raise ApplicationError("invalid_member", "Team members must be staff.", field="members")
    return members


def team_create(*, tenant, actor: User | None, name: str, members=(), request=None) -> Team:
    if actor is not None:
        require(actor, Perm.TEAM_MANAGE)
    name = name.strip()
    if not name:
        raise ApplicationError("required", "Enter a name.", field="name")
    members = _check_team_members(tenant, members)
    try:
        with transaction.atomic():
            team = Team.objects.create(tenant=tenant, name=name)
            team.members.set(members)
            record(
                tenant,
                actor,
                EventAction.TEAM_CREATED,
                team,
                request,
                members=[m.email for m in members],
            )
    except IntegrityError:
        raise ApplicationError(
            "name_taken", "A team with this name exists.", field="name"
        ) from None
    return team


def team_update(*, team: Team, actor: User | None, name: str, members, request=None) -> Team:
    if actor is not None:
        require(actor, Perm.TEAM_MANAGE)
    name = name.strip()
    if not name:
        raise ApplicationError("required", "Enter a name.", field="name")
    members = _check_team_members(team.tenant, members)
    try:
        with transaction.atomic():
            team.name = name
            team.save(update_fields=["name"])
            team.members.set(members)
            record(
                team.tenant,
                actor,
                EventAction.TEAM_UPDATED,
                team,
                request,
                members=[m.email for m in members],
            )
    except IntegrityError:
        raise ApplicationError(
            "name_taken", "A team with this name exists.", field="name"
        ) from None
    return team


def team_delete(*, team: Team, actor: User | None, request=None) -> None:
    if actor is not None:
        require(actor, Perm.TEAM_MANAGE)
    with transaction.atomic():
        record(team.tenant, actor, EventAction.TEAM_DELETED, team, request)
        team.delete()
