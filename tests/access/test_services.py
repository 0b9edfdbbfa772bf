"""Changing rules: validation, events, the compiled copy's refresh, self-lockout, CSV, clearing."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from keydesk.access import selectors
from keydesk.access.models import AccessListVersion, AccessRule
from keydesk.access.selectors import access_decide, rule_get, rules_compiled, rules_export_csv
from keydesk.access.services import (
    ImportFailed,
    SelfLockoutRisk,
    rule_create,
    rule_delete,
    rule_update,
    rules_import_csv,
)
from keydesk.cli import main
from keydesk.core.errors import ApplicationError, NotFound, PermissionDenied
from keydesk.eventlog.models import Event
from keydesk.tenants.models import Tenant


def _events(world, action):
    return list(Event.objects.filter(tenant=world.tenant, action=action).order_by("seq"))


def _admin_request(world, ip="192.0.2.10"):
    request = RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_HOST=world.host)
    request.tenant = world.tenant
    request.user = world.admin
    return request


def _create(world, **fields):
    defaults = {"list_type": "deny", "kind": "ip", "value": "198.51.100.0/24"}
    return rule_create(tenant=world.tenant, actor=world.admin, **(defaults | fields))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"list_type": "maybe"}, "list_type"),
        ({"kind": "country"}, "kind"),
        ({"value": "300.1.2.3"}, "value"),
        ({"kind": "domain", "value": "exa mple.com"}, "value"),
        ({"kind": "domain", "value": "*.example.com"}, "value"),
        ({"kind": "email", "value": "no-at-sign"}, "value"),
        ({"kind": "language", "value": "french!"}, "value"),
        ({"actions": ["login", "teleport"]}, "actions"),
        ({"audience": "robots"}, "audience"),
        ({"include_subdomains": True}, "include_subdomains"),
        ({"note": "x" * 501}, "note"),
    ],
)
def test_bad_rules_name_the_field_and_save_nothing(acme, fields, field):
    with pytest.raises(ApplicationError) as error:
        _create(acme, **fields)
    assert error.value.field == field
    assert not AccessRule.objects.exists()
    assert _events(acme, "access.rule_created") == []


def test_values_are_stored_normalised(acme):
    assert _create(acme, value="10.1.2.3/8").value == "10.0.0.0/8"
    assert _create(acme, value="::FFFF:192.0.2.1").value == "192.0.2.1/32"
    assert _create(acme, kind="domain", value="@Bücher.Example.").value == "xn--bcher-kva.example"
    assert _create(acme, kind="email", value=" Ana@Example.COM ").value == "ana@example.com"
    assert _create(acme, kind="language", value="pt_BR").value == "pt-br"
    every_action = _create(
        acme, actions=["ticket.api", "login", "register", "ticket.web", "ticket.email"]
    )
    assert every_action.actions == []
    assert _create(acme, actions=["ticket.api", "login"]).actions == ["login", "ticket.api"]


def test_only_admins_change_rules(acme):
    for role in ("manager", "agent", "supervisor", "contact"):
        with pytest.raises(PermissionDenied):
            rule_create(
                tenant=acme.tenant,
                actor=getattr(acme, role),
                list_type="deny",
                kind="ip",
                value="192.0.2.1",
            )
    assert not AccessRule.objects.exists()


def test_changes_are_events_without_surprises(acme):
    rule = _create(acme, note="office")
    [created] = _events(acme, "access.rule_created")
    assert created.actor_id == acme.admin.pk
    assert created.details["value"] == "198.51.100.0/24" and created.details["actions"] == "all"
    rule_update(rule=rule, actor=acme.admin, list_type="allow", kind="ip", value="198.51.100.0/25")
    [updated] = _events(acme, "access.rule_updated")
    assert updated.details["changes"]["list"] == ["deny", "allow"]
    assert updated.details["changes"]["value"] == ["198.51.100.0/24", "198.51.100.0/25"]
    rule_id = rule.pk
    rule_delete(rule=rule, actor=acme.admin)
    [deleted] = _events(acme, "access.rule_deleted")
    assert deleted.target_id == str(rule_id)
    assert not AccessRule.objects.exists()


def test_rules_of_another_tenant_are_not_found(acme, globex):
    rule = _create(globex)
    with pytest.raises(NotFound):
        rule_get(tenant=acme.tenant, rule_id=rule.pk)
    assert access_decide(
        tenant=acme.tenant, action="login", audience="staff", ip="198.51.100.1"
    ).allowed
    assert not access_decide(
        tenant=globex.tenant, action="login", audience="staff", ip="198.51.100.1"
    ).allowed


def _as_next_request_reads(tenant) -> Tenant:
    return Tenant.objects.get(pk=tenant.pk)


def _refused(tenant, ip="203.0.113.5") -> bool:
    return not access_decide(tenant=tenant, action="login", audience="staff", ip=ip).allowed


def test_a_change_made_elsewhere_reaches_this_processes_copy(acme_tx):
    """Another process changes the rules: this one recompiles from its next request on."""
    _create(acme_tx)
    here = _as_next_request_reads(acme_tx.tenant)
    first = rules_compiled(tenant=here)
    assert rules_compiled(tenant=here) is first  # kept while nothing changed
    elsewhere = _as_next_request_reads(acme_tx.tenant)
    rule_create(
        tenant=elsewhere, actor=acme_tx.admin, list_type="deny", kind="ip", value="203.0.113.0/24"
    )
    assert not _refused(here)  # a request that began before the change ends as it began
    next_request = _as_next_request_reads(acme_tx.tenant)
    assert _refused(next_request)
    assert rules_compiled(tenant=next_request) is not first


def test_the_changing_callers_tenant_sees_the_new_rules_at_once(acme_tx):
    tenant = acme_tx.tenant
    _create(acme_tx)
    assert not _refused(tenant)
    rule = rule_create(
        tenant=tenant, actor=acme_tx.admin, list_type="deny", kind="ip", value="203.0.113.0/24"
    )
    assert _refused(tenant)
    rule.tenant = tenant  # as the rules page hands its own request's tenant on
    rule_delete(rule=rule, actor=acme_tx.admin)
    assert not _refused(tenant)


def test_the_compiled_copy_ends_at_the_first_expiry(acme):
    rule = _create(acme, expires_at=timezone.now() + timedelta(hours=1))
    assert not access_decide(
        tenant=acme.tenant, action="login", audience="staff", ip="198.51.100.1"
    ).allowed
    AccessRule.objects.filter(pk=rule.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    compiled = rules_compiled(tenant=acme.tenant)
    selectors._compiled[acme.tenant.pk] = (
        AccessListVersion.objects.get(tenant=acme.tenant).version,
        type(compiled)(deny=compiled.deny, allow=compiled.allow, valid_until=timezone.now()),
    )
    assert access_decide(
        tenant=acme.tenant, action="login", audience="staff", ip="198.51.100.1"
    ).allowed


def test_no_rules_cost_no_compilation(acme):
    assert rules_compiled(tenant=acme.tenant).rule_count == 0
    rule = _create(acme)
    rule_delete(rule=rule, actor=acme.admin)
    assert AccessListVersion.objects.get(tenant=acme.tenant).rule_count == 0
    assert access_decide(
        tenant=acme.tenant, action="login", audience="staff", ip="198.51.100.1"
    ).allowed


# Locking yourself out


def test_a_rule_refusing_the_admins_own_sign_in_needs_confirmation(acme):
    request = _admin_request(acme, ip="192.0.2.10")
    with pytest.raises(SelfLockoutRisk) as risk:
        _create(acme, value="192.0.2.0/24", request=request)
    assert risk.value.field == "confirm_self_lockout"
    assert not AccessRule.objects.exists()
    assert AccessListVersion.objects.filter(tenant=acme.tenant, rule_count__gt=0).count() == 0
    rule = _create(acme, value="192.0.2.0/24", request=request, confirm_self_lockout=True)
    [event] = _events(acme, "access.rule_created")
    assert event.details["self_lockout_confirmed"] is True
    # Once refused, further changes do not ask again; nor does lifting the refusal.
    _create(acme, value="203.0.113.0/24", request=request)
    rule_delete(rule=rule, actor=acme.admin, request=request)


def test_deleting_the_allow_rule_that_admits_the_admin_needs_confirmation(acme):
    request = _admin_request(acme, ip="192.0.2.10")
    office = _create(acme, list_type="allow", value="192.0.2.0/24", request=request)
    _create(acme, list_type="allow", value="203.0.113.0/24", request=request)
    with pytest.raises(SelfLockoutRisk):
        rule_delete(rule=office, actor=acme.admin, request=request)
    assert AccessRule.objects.filter(pk=office.pk).exists()
    with pytest.raises(SelfLockoutRisk):
        rule_update(
            rule=office,
            actor=acme.admin,
            request=request,
            list_type="allow",
            kind="ip",
            value="198.51.100.0/24",
        )
    assert AccessRule.objects.get(pk=office.pk).value == "192.0.2.0/24"


# CSV


GOOD_CSV = """list,kind,value,include_subdomains,actions,audience,note,expires_at
deny,ip,203.0.113.0/24,,,,abuse,
allow,domain,Example.COM,yes,login register,staff,,
deny,email,spam@example.org,no,ticket.email,contacts,,2030-01-01T00:00:00
allow,language,fr,,,both,,
"""


def test_import_adds_rules_and_records_it(acme, globex):
    assert rules_import_csv(tenant=acme.tenant, actor=acme.admin, text=GOOD_CSV) == 4
    rules = {r.kind: r for r in AccessRule.objects.filter(tenant=acme.tenant)}
    assert rules["domain"].value == "example.com" and rules["domain"].include_subdomains
    assert rules["domain"].actions == ["login", "register"]
    assert rules["email"].expires_at.year == 2030 and rules["email"].audience == "contacts"
    assert rules["ip"].note == "abuse"
    [event] = _events(acme, "access.rules_imported")
    assert event.details["imported"] == 4
    assert not AccessRule.objects.filter(tenant=globex.tenant).exists()


def test_a_bad_row_imports_nothing_and_every_bad_line_is_named(acme):
    _create(acme)
    text = (
        "list,kind,value,actions\n"
        "deny,ip,203.0.113.0/24,\n"
        "deny,ip,not-an-ip,\n"
        "allow,domain,example.com,\n"
        "maybe,email,a@example.com,\n"
        "deny,language,fr,fly\n"
    )
    with pytest.raises(ImportFailed) as failed:
        rules_import_csv(tenant=acme.tenant, actor=acme.admin, text=text, replace=True)
    assert [line.split(":")[0] for line in failed.value.lines] == ["line 3", "line 5", "line 6"]
    assert "value" in failed.value.lines[0] and "actions" in failed.value.lines[2]
    assert AccessRule.objects.filter(tenant=acme.tenant).count() == 1
    assert _events(acme, "access.rules_imported") == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "kind,value\nip,192.0.2.1\n",
        "list,kind,value,colour\ndeny,ip,192.0.2.1,red\n",
        "list,kind,value\ndeny,ip,192.0.2.1,extra\n",
    ],
)
def test_malformed_files_are_refused_with_a_reason(acme, text):
    with pytest.raises(ImportFailed) as failed:
        rules_import_csv(tenant=acme.tenant, actor=acme.admin, text=text)
    assert failed.value.lines and failed.value.lines[0].startswith("line ")


def test_replace_and_export_round_trip(acme):
    _create(acme, value="192.0.2.0/24")
    rules_import_csv(tenant=acme.tenant, actor=acme.admin, text=GOOD_CSV, replace=True)
    exported = rules_export_csv(tenant=acme.tenant)
    before = sorted(
        AccessRule.objects.filter(tenant=acme.tenant).values_list(
            "list_type",
            "kind",
            "value",
            "include_subdomains",
            "actions",
            "audience",
            "note",
            "expires_at",
        )
    )
    assert len(before) == 4
    rules_import_csv(tenant=acme.tenant, actor=acme.admin, text=exported, replace=True)
    after = sorted(
        AccessRule.objects.filter(tenant=acme.tenant).values_list(
            "list_type",
            "kind",
            "value",
            "include_subdomains",
            "actions",
            "audience",
            "note",
            "expires_at",
        )
    )
    assert after == before
    assert _events(acme, "access.rules_imported")[-1].details["replaced"] == 4


# The operator's way back in


def test_access_clear_removes_every_rule(acme, globex, capsys):
    _create(acme)
    _create(acme, value="192.0.2.1")
    _create(globex)
    assert main(["access", "clear", "--tenant", "acme"]) == 0
    assert "Removed 2 access rules from acme." in capsys.readouterr().out
    assert not AccessRule.objects.filter(tenant=acme.tenant).exists()
    assert AccessRule.objects.filter(tenant=globex.tenant).count() == 1
    [event] = _events(acme, "access.rules_cleared")
    assert event.details["removed"] == 2 and event.actor_id is None
    assert access_decide(
        tenant=acme.tenant, action="login", audience="staff", ip="198.51.100.1"
    ).allowed


def test_access_clear_of_an_unknown_tenant_is_a_usage_error(acme, capsys):
    assert main(["access", "clear", "--tenant", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown tenant" in err


def test_export_is_safe_to_open_in_a_spreadsheet_and_imports_back(acme):
    rule = _create(acme, kind="email", value="=cmd@example.com", note="@SUM(A1:A9)")
    exported = rules_export_csv(tenant=acme.tenant)
    assert "'=cmd@example.com" in exported and "'@SUM(A1:A9)" in exported
    rules_import_csv(tenant=acme.tenant, actor=acme.admin, text=exported, replace=True)
    again = AccessRule.objects.get(tenant=acme.tenant)
    assert (again.value, again.note) == (rule.value, rule.note)


def test_a_cell_the_csv_reader_refuses_is_a_bad_line_not_a_crash(acme):
    text = "list,kind,value,note\ndeny,ip,192.0.2.1,ok\ndeny,ip,192.0.2.2," + "x" * 200_000 + "\n"
    with pytest.raises(ImportFailed) as failed:
        rules_import_csv(tenant=acme.tenant, actor=acme.admin, text=text)
    assert failed.value.lines[-1].startswith("line 3")
    assert not AccessRule.objects.exists()
