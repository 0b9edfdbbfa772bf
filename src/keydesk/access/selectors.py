"""Reading rules, and the compiled rules each process keeps until the tenant's version changes."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from keydesk.core.errors import NotFound
from keydesk.core.models import tenant_settings

from .csv_format import rules_to_csv
from .engine import EMPTY, KINDS, CompiledRules, Decision, decide, rules_compile, subject_from
from .models import AccessListVersion, AccessRule

RULE_FIELDS = (
    "id",
    "list_type",
    "kind",
    "value",
    "include_subdomains",
    "actions",
    "audience",
    "expires_at",
)

# tenant id → (version, compiled rules). A process-wide copy: compiling is the costly part,
# and the tenant's version row says when it is stale.
_compiled: dict[int, tuple[str, CompiledRules]] = {}


def rule_list(
    *, tenant, list_type: str = "", kind: str = "", q: str = "", action: str = ""
) -> QuerySet[AccessRule]:
    """The tenant's rules in list order, as a query: a page of 100,000 rules reads one page."""
    rules = AccessRule.objects.filter(tenant=tenant).select_related("created_by")
    if list_type:
        rules = rules.filter(list_type=list_type)
    if kind:
        rules = rules.filter(kind=kind)
    if q:
        rules = rules.filter(Q(value__icontains=q.strip().lower()) | Q(note__icontains=q.strip()))
    if action:
        # An empty list means every action. JSON containment is not portable (SQLite lacks
        # it), but on every backend the stored text of a list that holds the action contains
        # the action in its JSON quotes, and a quoted action name is never part of another.
        rules = rules.filter(Q(actions=[]) | Q(actions__icontains=f'"{action}"'))
    return rules


def rule_get(*, tenant, rule_id) -> AccessRule:
    rule = AccessRule.objects.filter(tenant=tenant, pk=rule_id).first()
    if rule is None:
        raise NotFound("rule")
    return rule


def rules_compile_from_database(*, tenant) -> CompiledRules:
    """The tenant's rules as they are now in this transaction, compiled (not cached)."""
    rows = AccessRule.objects.filter(tenant=tenant).values(*RULE_FIELDS)
    return rules_compile(rows.iterator(chunk_size=5000), now=timezone.now())


def rules_compiled(*, tenant) -> CompiledRules:
    """The compiled rules, from this process's copy while the tenant's version is unchanged."""
    state = tenant_settings(AccessListVersion, tenant)
    if state.rule_count == 0:
        return EMPTY
    version = state.version
    cached = _compiled.get(tenant.pk)
    if cached is not None and cached[0] == version:
        valid_until = cached[1].valid_until
        if valid_until is None or timezone.now() < valid_until:
            return cached[1]
    compiled = rules_compile_from_database(tenant=tenant)
    _compiled[tenant.pk] = (version, compiled)
    return compiled


def access_decide(
    *,
    tenant,
    action: str,
    audience: str,
    ip: str | None = None,
    email: str | None = None,
    language: str | None = None,
    kinds: tuple[str, ...] = KINDS,
    compiled: CompiledRules | None = None,
) -> Decision:
    """The decision for one request, without recording it (the rule tester uses this too)."""
    return decide(
        compiled if compiled is not None else rules_compiled(tenant=tenant),
        action=action,
        audience=audience,
        subject=subject_from(ip=ip, email=email, language=language),
        kinds=kinds,
    )


def rules_export_csv(*, tenant) -> str:
    """Every rule as CSV, in the columns the import reads."""
    return rules_to_csv(AccessRule.objects.filter(tenant=tenant).iterator(chunk_size=5000))
