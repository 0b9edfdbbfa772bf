"""Changing rules (each change an event) and checking requests against them."""

import copy
import secrets
from datetime import datetime

from django.db import transaction

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, require
from keydesk.core.errors import ApplicationError
from keydesk.core.http import client_ip
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .csv_format import ImportFailed, rows_from_csv
from .engine import KINDS, Decision, decide, subject_from
from .models import AccessListVersion, AccessRule
from .selectors import access_decide, rules_compile_from_database, rules_compiled
from .values import accept_language_first, rule_fields_clean

RESTRICTED_MESSAGE = "Access is restricted. Please contact the helpdesk's administrator."


class AccessRefused(ApplicationError):
    """The plain answer people get: it never says which rule refused them."""

    def __init__(self, decision: Decision):
        super().__init__("access_restricted", RESTRICTED_MESSAGE, status=403)
        self.decision = decision


class SelfLockoutRisk(ApplicationError):
    def __init__(self):
        super().__init__(
            "self_lockout",
            "With this change your own current sign-in would be refused. "
            "Confirm to save it anyway.",
            field="confirm_self_lockout",
            status=409,
        )


def audience_of(user: User | None) -> str:
    """Staff or contacts; someone not yet known (registering, a first email) is a contact."""
    return "staff" if user is not None and not user.is_contact else "contacts"


def request_language(request, user: User | None = None) -> str | None:
    """The person's profile language when known, else the first of Accept-Language."""
    if user is not None and user.language:
        return user.language
    if request is None:
        return None
    return accept_language_first(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))


# Checking requests


def access_check(
    *,
    tenant,
    action: str,
    audience: str,
    ip: str | None = None,
    email: str | None = None,
    language: str | None = None,
    user: User | None = None,
    request=None,
    kinds: tuple[str, ...] = KINDS,
) -> Decision:
    """Decide, and record a refusal as `access.denied` (with the rule, for admins)."""
    decision = access_decide(
        tenant=tenant,
        action=action,
        audience=audience,
        ip=ip,
        email=email,
        language=language,
        kinds=kinds,
    )
    if not decision.allowed:
        rule = decision.rule
        record(
            tenant,
            user,
            EventAction.ACCESS_DENIED,
            user or ("email", "", (email or "")[:254]),
            request,
            refused_action=action,
            audience=audience,
            reason=decision.reason,
            rule_id=rule.id if rule else None,
            rule=rule.describe() if rule else None,
            checked_ip=ip,
            checked_language=language,
        )
    return decision


def access_require(
    *,
    tenant,
    action: str,
    request,
    user: User | None = None,
    email: str | None = None,
    audience: str | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> None:
    """Raise AccessRefused unless a web or API request may do `action`.

    Called before the caller's own transaction, so the refusal's event is kept.
    """
    decision = access_check(
        tenant=tenant,
        action=action,
        audience=audience or audience_of(user),
        ip=client_ip(request) if request is not None else None,
        email=email if email is not None else (user.email if user else None),
        language=request_language(request, user),
        user=user,
        request=request,
        kinds=kinds,
    )
    if not decision.allowed:
        raise AccessRefused(decision)


def access_check_ticket_email(
    *, tenant, sender: str, language: str | None, user: User | None
) -> Decision:
    """The inbound mail path's check (action `ticket.email`), recorded when it refuses.

    A mail is judged on its sender's address, domain and Content-Language; the connecting
    server's IP is a relay, not the person, so IP rules do not apply to it. `user` is the
    sender's account in this tenant, or None (the caller has looked it up already).
    """
    return access_check(
        tenant=tenant,
        action="ticket.email",
        audience=audience_of(user),
        email=sender,
        language=language,
        user=user,
        kinds=("email", "domain", "language"),
    )


# Changing rules


def _bump_version(tenant) -> None:
    row = AccessListVersion.objects.select_for_update().filter(tenant=tenant).first()
    row = row or AccessListVersion(tenant=tenant)
    # Saved with the caller's tenant on it, so that tenant's settings version moves on too and
    # its later reads in this request see the new rules.
    row.tenant = tenant
    row.version = secrets.token_hex(16)
    row.rule_count = AccessRule.objects.filter(tenant=tenant).count()
    row.save()


def _own_sign_in_allowed(*, tenant, actor: User, request, compiled) -> bool:
    return decide(
        compiled,
        action="login",
        audience=audience_of(actor),
        subject=subject_from(
            ip=client_ip(request), email=actor.email, language=request_language(request, actor)
        ),
    ).allowed


def _guard_self_lockout(
    *, tenant, actor: User | None, request, confirmed: bool, allowed_before: bool
) -> bool:
    """After a change (inside its transaction): does it now refuse the actor's own sign-in?

    Only a change that turns the actor's own sign-in from allowed to refused asks; it raises
    SelfLockoutRisk unless confirmed, which rolls the change back. Returns whether a
    confirmed change locks the actor out, for the event.
    """
    if actor is None or request is None or not allowed_before:
        return False
    compiled = rules_compile_from_database(tenant=tenant)
    if _own_sign_in_allowed(tenant=tenant, actor=actor, request=request, compiled=compiled):
        return False
    if not confirmed:
        raise SelfLockoutRisk()
    return True


def _allowed_before(*, tenant, actor: User | None, request) -> bool:
    if actor is None or request is None:
        return False
    compiled = rules_compiled(tenant=tenant)
    return _own_sign_in_allowed(tenant=tenant, actor=actor, request=request, compiled=compiled)


def _target(rule: AccessRule) -> tuple:
    return ("access_rule", rule.pk, str(rule))


def _rule_details(rule: AccessRule) -> dict:
    return {
        "list": rule.list_type,
        "kind": rule.kind,
        "value": rule.value,
        "include_subdomains": rule.include_subdomains,
        "actions": rule.actions or "all",
        "audience": rule.audience,
        "expires_at": rule.expires_at.isoformat() if rule.expires_at else None,
    }


def _change_rules(
    *, tenant, actor: User | None, request, confirm_self_lockout: bool, change
) -> None:
    """One change of a tenant's rules, atomically: `change()` writes the rules and returns the
    event's (action, target, details); then the new version stamp, the self-lockout check
    and the event follow in the same transaction."""
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    allowed_before = _allowed_before(tenant=tenant, actor=actor, request=request)
    with transaction.atomic():
        action, target, details = change()
        _bump_version(tenant)
        locked_out = _guard_self_lockout(
            tenant=tenant,
            actor=actor,
            request=request,
            confirmed=confirm_self_lockout,
            allowed_before=allowed_before,
        )
        record(tenant, actor, action, target, request, **details, self_lockout_confirmed=locked_out)


def rule_create(
    *,
    tenant,
    actor: User | None,
    list_type: str,
    kind: str,
    value: str,
    include_subdomains: bool = False,
    actions: list[str] | None = None,
    audience: str = "both",
    note: str = "",
    expires_at: datetime | None = None,
    confirm_self_lockout: bool = False,
    request=None,
) -> AccessRule:
    fields = rule_fields_clean(
        list_type=list_type,
        kind=kind,
        value=value,
        include_subdomains=include_subdomains,
        actions=actions,
        audience=audience,
        note=note,
        expires_at=expires_at,
    )
    rule = AccessRule(tenant=tenant, created_by=actor, **fields)

    def create():
        rule.save()
        return EventAction.ACCESS_RULE_CREATED, _target(rule), _rule_details(rule)

    try:
        _change_rules(
            tenant=tenant,
            actor=actor,
            request=request,
            confirm_self_lockout=confirm_self_lockout,
            change=create,
        )
    except ApplicationError:
        rule.pk = None  # rolled back: the instance was never saved
        raise
    return rule


def rule_update(
    *,
    rule: AccessRule,
    actor: User | None,
    list_type: str,
    kind: str,
    value: str,
    include_subdomains: bool = False,
    actions: list[str] | None = None,
    audience: str = "both",
    note: str = "",
    expires_at: datetime | None = None,
    confirm_self_lockout: bool = False,
    request=None,
) -> AccessRule:
    fields = rule_fields_clean(
        list_type=list_type,
        kind=kind,
        value=value,
        include_subdomains=include_subdomains,
        actions=actions,
        audience=audience,
        note=note,
        expires_at=expires_at,
    )
    changed = copy.copy(rule)
    for name, new in fields.items():
        setattr(changed, name, new)
    before, after = _rule_details(rule), _rule_details(changed)

    def update():
        AccessRule.objects.filter(pk=rule.pk).update(**fields)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        return EventAction.ACCESS_RULE_UPDATED, _target(rule), {"changes": changes}

    _change_rules(
        tenant=rule.tenant,
        actor=actor,
        request=request,
        confirm_self_lockout=confirm_self_lockout,
        change=update,
    )
    for name, new in fields.items():  # the instance follows only a change that was kept
        setattr(rule, name, new)
    return rule


def rule_delete(
    *, rule: AccessRule, actor: User | None, confirm_self_lockout: bool = False, request=None
) -> None:
    def delete():
        AccessRule.objects.filter(pk=rule.pk).delete()
        return EventAction.ACCESS_RULE_DELETED, _target(rule), _rule_details(rule)

    _change_rules(
        tenant=rule.tenant,
        actor=actor,
        request=request,
        confirm_self_lockout=confirm_self_lockout,
        change=delete,
    )


def rules_import_csv(
    *,
    tenant,
    actor: User | None,
    text: str,
    replace: bool = False,
    confirm_self_lockout: bool = False,
    request=None,
) -> int:
    """Add the CSV's rules (or replace all rules with them): every row is good, or none is kept."""
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    rows, errors = rows_from_csv(text)
    if errors:
        raise ImportFailed(errors)

    def import_rows():
        removed = AccessRule.objects.filter(tenant=tenant).delete()[0] if replace else 0
        AccessRule.objects.bulk_create(
            [AccessRule(tenant=tenant, created_by=actor, **fields) for fields in rows],
            batch_size=2000,
        )
        target = ("tenant", tenant.pk, tenant.slug)
        return (
            EventAction.ACCESS_RULES_IMPORTED,
            target,
            {"imported": len(rows), "replaced": removed},
        )

    _change_rules(
        tenant=tenant,
        actor=actor,
        request=request,
        confirm_self_lockout=confirm_self_lockout,
        change=import_rows,
    )
    return len(rows)


def rules_clear(*, tenant, actor: User | None = None, request=None) -> int:
    """Remove every rule of the tenant: the operator's way back in (`keydesk access clear`)."""
    with transaction.atomic():
        removed = AccessRule.objects.filter(tenant=tenant).delete()[0]
        _bump_version(tenant)
        record(
            tenant,
            actor,
            EventAction.ACCESS_RULES_CLEARED,
            ("tenant", tenant.pk, tenant.slug),
            request,
            removed=removed,
        )
    return removed
