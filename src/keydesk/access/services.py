"""Changing rules (each change an event) and checking requests against them."""

import csv
import io
import secrets
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, require
from keydesk.core.errors import ApplicationError
from keydesk.core.http import client_ip
from keydesk.core.spreadsheet import cell_from_spreadsheet
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .engine import KINDS, Decision, decide, subject_from
from .models import ACTIONS, AccessListVersion, AccessRule
from .selectors import (
    CSV_COLUMNS,
    access_decide,
    rules_compile_from_database,
    rules_compiled,
)
from .values import accept_language_first, value_normalise

RESTRICTED_MESSAGE = "Access is restricted. Please contact the helpdesk's administrator."
MAX_IMPORT_ROWS = 200_000


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


def access_check_ticket_email(*, tenant, sender: str, language: str | None) -> Decision:
    """The inbound mail path's check (action `ticket.email`), recorded when it refuses.

    A mail is judged on its sender's address, domain and Content-Language; the connecting
    server's IP is a relay, not the person, so IP rules do not apply to it.
    """
    user = User.objects.filter(tenant=tenant, email=sender.strip().lower()).first()
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


def _clean(
    *,
    list_type: str,
    kind: str,
    value: str,
    include_subdomains: bool,
    actions: list[str] | None,
    audience: str,
    note: str,
    expires_at: datetime | None,
) -> dict:
    if list_type not in AccessRule.List.values:
        raise ApplicationError("invalid_list", "Choose allow or deny.", field="list_type")
    if kind not in AccessRule.Kind.values:
        raise ApplicationError(
            "invalid_kind", "Choose ip, domain, email or language.", field="kind"
        )
    unknown = [a for a in actions or [] if a not in ACTIONS]
    if unknown:
        raise ApplicationError(
            "invalid_actions",
            f"Unknown action {unknown[0]!r}: use {', '.join(ACTIONS)}.",
            field="actions",
        )
    actions = sorted(set(actions or []), key=ACTIONS.index)
    if set(actions) == set(ACTIONS):
        actions = []  # every action is stored as none listed, so future actions count too
    if audience not in AccessRule.Audience.values:
        raise ApplicationError(
            "invalid_audience", "Choose staff, contacts or both.", field="audience"
        )
    if include_subdomains and kind != "domain":
        raise ApplicationError(
            "invalid_subdomains",
            "Only domain rules can include subdomains.",
            field="include_subdomains",
        )
    note = note.strip()
    if len(note) > 500:
        raise ApplicationError("note_too_long", "Keep the note under 500 characters.", field="note")
    return {
        "list_type": list_type,
        "kind": kind,
        "value": value_normalise(kind, value),
        "include_subdomains": include_subdomains,
        "actions": actions,
        "audience": audience,
        "note": note,
        "expires_at": expires_at,
    }


def _bump_version(tenant) -> None:
    count = AccessRule.objects.filter(tenant=tenant).count()
    AccessListVersion.objects.update_or_create(
        tenant=tenant, defaults={"version": secrets.token_hex(16), "rule_count": count}
    )


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
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    fields = _clean(
        list_type=list_type,
        kind=kind,
        value=value,
        include_subdomains=include_subdomains,
        actions=actions,
        audience=audience,
        note=note,
        expires_at=expires_at,
    )
    allowed_before = _allowed_before(tenant=tenant, actor=actor, request=request)
    with transaction.atomic():
        rule = AccessRule.objects.create(tenant=tenant, created_by=actor, **fields)
        _bump_version(tenant)
        locked_out = _guard_self_lockout(
            tenant=tenant,
            actor=actor,
            request=request,
            confirmed=confirm_self_lockout,
            allowed_before=allowed_before,
        )
        record(
            tenant,
            actor,
            EventAction.ACCESS_RULE_CREATED,
            ("access_rule", rule.pk, str(rule)),
            request,
            **_rule_details(rule),
            self_lockout_confirmed=locked_out,
        )
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
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    fields = _clean(
        list_type=list_type,
        kind=kind,
        value=value,
        include_subdomains=include_subdomains,
        actions=actions,
        audience=audience,
        note=note,
        expires_at=expires_at,
    )
    before = _rule_details(rule)
    allowed_before = _allowed_before(tenant=rule.tenant, actor=actor, request=request)
    with transaction.atomic():
        AccessRule.objects.filter(pk=rule.pk).update(**fields)
        _bump_version(rule.tenant)
        locked_out = _guard_self_lockout(
            tenant=rule.tenant,
            actor=actor,
            request=request,
            confirmed=confirm_self_lockout,
            allowed_before=allowed_before,
        )
        for name, new in fields.items():  # the instance follows only a change that stays
            setattr(rule, name, new)
        after = _rule_details(rule)
        record(
            rule.tenant,
            actor,
            EventAction.ACCESS_RULE_UPDATED,
            ("access_rule", rule.pk, str(rule)),
            request,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
            self_lockout_confirmed=locked_out,
        )
    return rule


def rule_delete(
    *, rule: AccessRule, actor: User | None, confirm_self_lockout: bool = False, request=None
) -> None:
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    tenant = rule.tenant
    details = _rule_details(rule)
    target = ("access_rule", rule.pk, str(rule))
    allowed_before = _allowed_before(tenant=tenant, actor=actor, request=request)
    with transaction.atomic():
        AccessRule.objects.filter(pk=rule.pk).delete()
        _bump_version(tenant)
        locked_out = _guard_self_lockout(
            tenant=tenant,
            actor=actor,
            request=request,
            confirmed=confirm_self_lockout,
            allowed_before=allowed_before,
        )
        record(
            tenant,
            actor,
            EventAction.ACCESS_RULE_DELETED,
            target,
            request,
            **details,
            self_lockout_confirmed=locked_out,
        )


class ImportFailed(ApplicationError):
    """Every bad row, by line; nothing was imported."""

    def __init__(self, errors: list[str]):
        shown = errors[:50]
        more = f" (and {len(errors) - 50} more)" if len(errors) > 50 else ""
        super().__init__(
            "import_failed",
            f"Nothing was imported: {len(errors)} bad row(s){more}.",
            field="file",
            errors=[{"field": "file", "message": line} for line in shown],
        )
        self.lines = errors


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "no", "false", "0", "n"):
        return False
    if value in ("yes", "true", "1", "y"):
        return True
    raise ApplicationError("invalid_bool", f"{raw!r} is not yes or no.", field="include_subdomains")


def _parse_expiry(raw: str) -> datetime | None:
    if not raw.strip():
        return None
    parsed = parse_datetime(raw.strip())
    if parsed is None:
        raise ApplicationError(
            "invalid_expiry",
            f"{raw.strip()!r} is not a date and time such as 2027-01-31T18:00:00+00:00.",
            field="expires_at",
        )
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _rule_fields_from_cells(cell: dict[str, str]) -> dict:
    return _clean(
        list_type=cell["list"].strip().lower(),
        kind=cell["kind"].strip().lower(),
        value=cell_from_spreadsheet(cell["value"]),
        include_subdomains=_parse_bool(cell.get("include_subdomains", "")),
        actions=cell.get("actions", "").replace(",", " ").split(),
        audience=cell.get("audience", "").strip().lower() or "both",
        note=cell_from_spreadsheet(cell.get("note", "")),
        expires_at=_parse_expiry(cell.get("expires_at", "")),
    )


def _rows_from_csv(text: str) -> tuple[list[dict], list[str]]:
    """Cleaned rule fields per row, and the errors as "line N: field: message"."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return [], [f"line 1: {exc}"]
    missing = [c for c in ("list", "kind", "value") if c not in header]
    if missing:
        return [], [f"line 1: the header lacks the column(s) {', '.join(missing)}"]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        return [], [f"line 1: unknown column(s) {', '.join(unknown)}"]
    reader.fieldnames = header
    rows, errors = [], []
    try:
        for row in reader:
            line = reader.line_num
            if len(rows) + len(errors) >= MAX_IMPORT_ROWS:
                errors.append(f"line {line}: more than {MAX_IMPORT_ROWS} rows")
                break
            if None in row:
                errors.append(f"line {line}: more cells than columns")
                continue
            cell = {k: (v or "") for k, v in row.items()}
            if not any(v.strip() for v in cell.values()):
                continue  # a blank line
            try:
                rows.append(_rule_fields_from_cells(cell))
            except ApplicationError as exc:
                errors.append(f"line {line}: {exc.field or 'row'}: {exc.message}")
    except csv.Error as exc:  # a cell the csv module cannot read (too long, a stray NUL)
        errors.append(f"line {reader.line_num + 1}: {exc}")  # the line being read
    return rows, errors


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
    rows, errors = _rows_from_csv(text)
    if errors:
        raise ImportFailed(errors)
    allowed_before = _allowed_before(tenant=tenant, actor=actor, request=request)
    with transaction.atomic():
        removed = AccessRule.objects.filter(tenant=tenant).delete()[0] if replace else 0
        AccessRule.objects.bulk_create(
            [AccessRule(tenant=tenant, created_by=actor, **fields) for fields in rows],
            batch_size=2000,
        )
        _bump_version(tenant)
        locked_out = _guard_self_lockout(
            tenant=tenant,
            actor=actor,
            request=request,
            confirmed=confirm_self_lockout,
            allowed_before=allowed_before,
        )
        record(
            tenant,
            actor,
            EventAction.ACCESS_RULES_IMPORTED,
            ("tenant", tenant.pk, tenant.slug),
            request,
            imported=len(rows),
            replaced=removed,
            self_lockout_confirmed=locked_out,
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
