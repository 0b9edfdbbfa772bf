"""Account › Security › Access lists: the rules, import and export, the tester, the doc's text."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keydesk.access.forms import MAX_IMPORT_BYTES
from keydesk.access.models import AccessRule
from keydesk.access.services import RESTRICTED_MESSAGE, rule_create
from keydesk.eventlog.models import Event
from tests.conftest import PASSWORD

BASE = "/account/security/access-lists/"
DOC = Path(__file__).resolve().parents[2] / "docs" / "access-lists.md"
RESTRICTED = RESTRICTED_MESSAGE.replace("'", "&#x27;").encode()
CONFIRM = "I understand that my own sign-in will be refused"


def add(world, list_type="deny", kind="ip", value="192.0.2.0/24", **extra):
    return rule_create(
        tenant=world.tenant, actor=world.admin, list_type=list_type, kind=kind, value=value, **extra
    )


def rules_of(world) -> set[tuple]:
    return set(
        AccessRule.objects.filter(tenant=world.tenant).values_list("list_type", "kind", "value")
    )


def events_of(world, action: str) -> list[Event]:
    return list(Event.objects.filter(tenant=world.tenant, action=action).order_by("seq"))


def form_data(**fields) -> dict:
    return {"list_type": "deny", "kind": "ip", "value": "192.0.2.7", "audience": "both"} | fields


def upload(text: str | bytes, name="rules.csv") -> SimpleUploadedFile:
    body = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, body, content_type="text/csv")


def text_of(html: str) -> str:
    """Visible text with markup gone and whitespace normalised."""
    return normalised(BeautifulSoup(html, "html.parser").get_text(" "))


def normalised(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ([.,:;)])", r"\1", text)


# Who reaches the pages


def _paths(rule_id: int) -> list[str]:
    return [
        BASE,
        f"{BASE}new",
        f"{BASE}{rule_id}/",
        f"{BASE}{rule_id}/delete",
        f"{BASE}import",
        f"{BASE}export.csv",
        f"{BASE}test",
    ]


@pytest.mark.parametrize("role", ["manager", "supervisor", "agent", "contact"])
def test_only_admins_reach_the_pages(acme, role):
    rule = add(acme)
    client = acme.client(acme.people[role])
    for path in _paths(rule.pk):
        assert client.get(path).status_code == 404, path
    assert client.post(f"{BASE}new", form_data(value="198.51.100.1")).status_code == 404
    assert client.post(f"{BASE}{rule.pk}/delete").status_code == 404
    assert client.post(f"{BASE}import", {"file": upload("list,kind,value\n")}).status_code == 404
    assert rules_of(acme) == {("deny", "ip", "192.0.2.0/24")}
    assert "Access lists" not in client.get("/preferences/password").content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(acme):
    rule = add(acme)
    for path in _paths(rule.pk):
        response = acme.client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login?next=")


def test_admins_find_the_page_under_security(acme):
    response = acme.client(acme.admin).get(BASE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Account › Security › Access lists" in html
    assert f'<a href="{BASE}" aria-current="page">Access lists</a>' in html
    other = acme.client(acme.admin).get("/account/security/password-policy").content.decode()
    assert f'<a href="{BASE}">Access lists</a>' in other


def test_another_tenants_rule_answers_404_and_never_shows(acme, globex):
    theirs = add(globex, value="203.0.113.0/24", note="globex secret note")
    client = acme.client(acme.admin)
    assert client.get(f"{BASE}{theirs.pk}/").status_code == 404
    assert client.post(f"{BASE}{theirs.pk}/", form_data()).status_code == 404
    assert client.get(f"{BASE}{theirs.pk}/delete").status_code == 404
    assert client.post(f"{BASE}{theirs.pk}/delete").status_code == 404
    assert rules_of(globex) == {("deny", "ip", "203.0.113.0/24")}
    assert rules_of(acme) == set()
    assert b"globex secret note" not in client.get(BASE, {"q": "secret"}).content
    assert b"203.0.113.0" not in client.get(f"{BASE}export.csv").content
    tested = client.get(f"{BASE}test", {"ip": "203.0.113.9", "action": "login", "audience": "auto"})
    assert tested.context["answer"].decision.allowed
    assert events_of(acme, "access.rule_updated") == events_of(acme, "access.rule_deleted") == []


# Add, edit, delete


def test_add_edit_and_delete_a_rule_are_events(acme):
    client = acme.client(acme.admin)
    page = client.get(f"{BASE}new").content.decode()
    for label in ("List", "Kind", "Value", "Include subdomains", "Audience", "Note"):
        assert f">{label}" in page
    assert "Expires at (UTC)" in page and "in UTC, not your local time" in page
    assert "Tickets by email" in page and 'type="datetime-local"' in page
    assert CONFIRM not in page
    assert '<option value="deny" selected>' in page  # an allow rule is never a default

    response = client.post(
        f"{BASE}new",
        form_data(
            list_type="allow",
            kind="domain",
            value="Bücher.Example",
            include_subdomains="on",
            actions=["login", "ticket.web"],
            audience="contacts",
            note="Partner office",
        ),
    )
    assert response.status_code == 302 and response["Location"] == BASE
    rule = AccessRule.objects.get(tenant=acme.tenant)
    assert (rule.value, rule.include_subdomains, rule.actions, rule.audience) == (
        "xn--bcher-kva.example",
        True,
        ["login", "ticket.web"],
        "contacts",
    )
    assert rule.created_by == acme.admin
    [created] = events_of(acme, "access.rule_created")
    assert created.actor_id == acme.admin.pk and created.target_id == str(rule.pk)
    assert created.details["value"] == "xn--bcher-kva.example"
    assert created.details["actions"] == ["login", "ticket.web"]

    listed = client.get(BASE).content.decode()
    assert 'xn--bcher-kva.example</code> <span class="muted">and subdomains' in listed
    assert "Sign-in, Tickets from the portal" in listed and "Partner office" in listed

    edit = client.get(f"{BASE}{rule.pk}/")
    assert edit.context["form"]["value"].value() == "xn--bcher-kva.example"
    response = client.post(
        f"{BASE}{rule.pk}/",
        form_data(list_type="allow", kind="domain", value="example.org", audience="contacts"),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.value, rule.include_subdomains, rule.actions, rule.note) == (
        "example.org",
        False,
        [],
        "",
    )
    [updated] = events_of(acme, "access.rule_updated")
    assert updated.details["changes"]["value"] == ["xn--bcher-kva.example", "example.org"]
    assert updated.details["changes"]["actions"] == [["login", "ticket.web"], "all"]
    assert "all" in client.get(BASE).content.decode()

    confirm = client.get(f"{BASE}{rule.pk}/delete").content.decode()
    assert "Delete this rule?" in confirm and "example.org" in confirm
    assert AccessRule.objects.filter(pk=rule.pk).exists()
    assert client.post(f"{BASE}{rule.pk}/delete").status_code == 302
    assert rules_of(acme) == set()
    [deleted] = events_of(acme, "access.rule_deleted")
    assert deleted.details["value"] == "example.org" and deleted.actor_id == acme.admin.pk


def test_the_service_refusal_lands_on_its_field(acme):
    client = acme.client(acme.admin)
    bad_ip = client.post(f"{BASE}new", form_data(value="10.0.0.300"))
    assert bad_ip.context["form"].errors == {
        "value": ["Enter an IP address or a network such as 192.0.2.0/24 or 2001:db8::/32."]
    }
    subdomains = client.post(f"{BASE}new", form_data(include_subdomains="on"))
    assert subdomains.context["form"].errors == {
        "include_subdomains": ["Only domain rules can include subdomains."]
    }
    wildcard = client.post(f"{BASE}new", form_data(kind="domain", value="*.example.com"))
    assert "include subdomains" in wildcard.context["form"].errors["value"][0]
    unknown = client.post(f"{BASE}new", form_data(actions=["teleport"]))
    assert "actions" in unknown.context["form"].errors
    assert rules_of(acme) == set() and events_of(acme, "access.rule_created") == []


def test_expiry_is_read_and_shown_in_utc_and_past_ones_are_marked(acme):
    client = acme.client(acme.admin)
    client.post(f"{BASE}new", form_data(expires_at="2031-05-01T12:30:00"))
    rule = AccessRule.objects.get(tenant=acme.tenant)
    assert rule.expires_at == datetime(2031, 5, 1, 12, 30, tzinfo=UTC)
    edit = client.get(f"{BASE}{rule.pk}/").content.decode()
    assert 'value="2031-05-01T12:30:00"' in edit
    add(acme, value="198.51.100.0/24", expires_at=timezone.now() - timedelta(hours=1))
    listed = client.get(BASE).content.decode()
    assert listed.count("badge-expired") == 1 and "2031-05-01 12:30" in listed


# The list


def _shown(client, **params) -> set[str]:
    return {rule.value for rule in client.get(BASE, params).context["page"].object_list}


def test_filters_by_list_kind_action_and_text(acme):
    add(acme, value="192.0.2.0/24", actions=["login"], note="VPN exit")
    add(acme, list_type="allow", kind="domain", value="example.com", actions=["ticket.email"])
    add(acme, kind="email", value="spam@example.net")  # every action
    add(acme, kind="language", value="fr", actions=["register", "ticket.web"])
    client = acme.client(acme.admin)
    everything = {"192.0.2.0/24", "example.com", "spam@example.net", "fr"}
    assert _shown(client) == everything
    assert _shown(client, list_type="allow") == {"example.com"}
    assert _shown(client, kind="language") == {"fr"}
    assert _shown(client, action="login") == {"192.0.2.0/24", "spam@example.net"}
    assert _shown(client, action="ticket.email") == {"example.com", "spam@example.net"}
    assert _shown(client, action="ticket.web") == {"fr", "spam@example.net"}
    assert _shown(client, q="vpn") == {"192.0.2.0/24"}
    assert _shown(client, q="EXAMPLE") == {"example.com", "spam@example.net"}
    assert _shown(client, list_type="deny", kind="email", action="register") == {"spam@example.net"}
    assert _shown(client, kind="planet") == everything  # an invalid filter is left out
    empty = client.get(BASE, {"q": "nothing like it"}).content.decode()
    assert "No rules match these filters." in empty


def test_the_list_pages_with_htmx_and_without_a_query_per_rule(acme):
    client = acme.client(acme.admin)
    add(acme, value="10.0.0.1")
    client.get(BASE)  # settings read once and kept, as in any later request
    with CaptureQueriesContext(connection) as few:
        client.get(BASE)
    rules = [
        AccessRule(tenant=acme.tenant, list_type="deny", kind="ip", value=f"10.0.{i // 250}.{i}")
        for i in range(2, 120)
    ]
    AccessRule.objects.bulk_create([*rules])
    AccessRule.objects.filter(tenant=acme.tenant).update(created_by=acme.admin)
    with CaptureQueriesContext(connection) as many:
        first = client.get(BASE)
    assert len(many) == len(few)
    assert len(first.context["page"].object_list) == 50
    assert "119 rules" in first.content.decode()
    fragment = client.get(BASE, {"page": 3, "kind": "ip"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html and 'id="rule-results"' in html
    assert len(fragment.context["page"].object_list) == 19
    assert "HX-Request" in fragment["Vary"]


# Import and export

GOOD_CSV = (
    "list,kind,value,include_subdomains,actions,audience,note,expires_at\n"
    "deny,ip,198.51.100.0/24,no,login,both,Botnet,\n"
    "allow,domain,example.com,yes,,contacts,,2031-01-31T18:00:00\n"
)


def test_import_adds_rules_and_records_it(acme, globex):
    add(acme, value="192.0.2.0/24")
    client = acme.client(acme.admin)
    page = client.get(f"{BASE}import").content.decode()
    assert 'enctype="multipart/form-data"' in page and "Replace all existing rules" in page
    assert "This field is required." not in page
    response = client.post(
        f"{BASE}import", {"file": upload("\ufeff" + GOOD_CSV.replace("\n", "\r\n"))}, follow=True
    )
    assert "2 rules imported." in response.content.decode()
    assert rules_of(acme) == {
        ("deny", "ip", "192.0.2.0/24"),
        ("deny", "ip", "198.51.100.0/24"),
        ("allow", "domain", "example.com"),
    }
    domain = AccessRule.objects.get(tenant=acme.tenant, kind="domain")
    assert domain.include_subdomains and domain.expires_at == datetime(2031, 1, 31, 18, tzinfo=UTC)
    [event] = events_of(acme, "access.rules_imported")
    assert event.details["imported"] == 2 and event.details["replaced"] == 0
    assert rules_of(globex) == set()


def test_replace_removes_the_earlier_rules(acme):
    add(acme, value="192.0.2.0/24")
    client = acme.client(acme.admin)
    response = client.post(
        f"{BASE}import", {"file": upload(GOOD_CSV), "replace": "on"}, follow=True
    )
    assert "2 rules imported. All earlier rules were removed." in response.content.decode()
    assert ("deny", "ip", "192.0.2.0/24") not in rules_of(acme) and len(rules_of(acme)) == 2
    assert events_of(acme, "access.rules_imported")[0].details["replaced"] == 1


def test_bad_rows_are_each_reported_and_nothing_is_imported(acme):
    add(acme, value="192.0.2.0/24")
    text = (
        "list,kind,value,actions\n"
        "deny,ip,198.51.100.0/24,login\n"
        "deny,ip,not-an-ip,\n"
        "allow,domain,example.com,\n"
        "maybe,ip,10.0.0.0/8,\n"
        "deny,email,someone@example.com,teleport\n"
    )
    response = acme.client(acme.admin).post(
        f"{BASE}import", {"file": upload(text), "replace": "on"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported. 3 rows of the file are bad" in text_of(html)
    items = [li.get_text() for li in BeautifulSoup(html, "html.parser").select(".import-errors li")]
    assert [item.split(":")[0] for item in items] == ["line 3", "line 5", "line 6"]
    assert "value" in items[0] and "list_type" in items[1] and "teleport" in items[2]
    assert rules_of(acme) == {("deny", "ip", "192.0.2.0/24")}
    assert events_of(acme, "access.rules_imported") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("list,kind,value\ndeny,email,ren\xe9@example.com\n".encode("latin-1"), "not UTF-8"),
        (b"list,kind,value\x00\n", "NUL characters"),
        (b"", "The submitted file is empty."),
        (b"list,kind,value,note\ndeny,ip,192.0.2.1," + b"x" * 200_000, "Line 2 cannot be read"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(acme, body, message):
    response = acme.client(acme.admin).post(f"{BASE}import", {"file": upload(body)})
    assert message in " ".join(response.context["form"].errors["file"])
    assert rules_of(acme) == set()


def test_a_file_over_20_mb_is_refused_before_it_is_read(acme):
    row = "deny,ip,192.0.2.1,no,,both,padding padding padding,\n"
    body = "list,kind,value,include_subdomains,actions,audience,note,expires_at\n"
    body += row * (MAX_IMPORT_BYTES // len(row) + 1)
    assert len(body) > MAX_IMPORT_BYTES
    response = acme.client(acme.admin).post(
        f"{BASE}import", {"replace": "on", "file": upload(body)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith("The file is larger than 20 MB.")
    assert response.context["form"]["replace"].value() is True
    assert rules_of(acme) == set()


def test_the_import_checks_the_csrf_token(acme):
    client = acme.client(acme.admin)
    client.handler.enforce_csrf_checks = True
    response = client.post(f"{BASE}import", {"file": upload(GOOD_CSV)})
    assert response.status_code == 403
    assert rules_of(acme) == set()


def test_export_downloads_csv_that_imports_back(acme, globex):
    add(acme, value="192.0.2.0/24", actions=["login", "register"], note='Says "hi", twice')
    add(acme, list_type="allow", kind="domain", value="example.com", include_subdomains=True)
    add(
        acme,
        kind="language",
        value="pt-BR",
        audience="contacts",
        expires_at=datetime(2031, 1, 1, tzinfo=UTC),
    )
    add(globex, value="203.0.113.0/24")
    client = acme.client(acme.admin)
    before = list(AccessRule.objects.filter(tenant=acme.tenant).values(*_COMPARED))

    response = client.get(f"{BASE}export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.now().date().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="access-rules-acme-{today}.csv"'
    )
    exported = response.content.decode()
    assert len(list(csv.reader(io.StringIO(exported)))) == 4  # the header and three rules

    client.post(f"{BASE}import", {"file": upload(exported), "replace": "on"})
    after = list(AccessRule.objects.filter(tenant=acme.tenant).values(*_COMPARED))
    assert after == before
    assert rules_of(globex) == {("deny", "ip", "203.0.113.0/24")}


_COMPARED = (
    "list_type",
    "kind",
    "value",
    "include_subdomains",
    "actions",
    "audience",
    "note",
    "expires_at",
)


# Locking oneself out


def test_a_rule_against_the_admins_own_sign_in_needs_confirmation(acme):
    client = acme.client(acme.admin)
    data = form_data(value="127.0.0.1", note="Oops")
    first = client.post(f"{BASE}new", data)
    html = first.content.decode()
    assert first.status_code == 200
    assert "your own current sign-in would be refused" in html and CONFIRM in html
    assert rules_of(acme) == set() and events_of(acme, "access.rule_created") == []

    second = client.post(f"{BASE}new", data | {"confirm_self_lockout": "on"})
    assert second.status_code == 302
    assert rules_of(acme) == {("deny", "ip", "127.0.0.1/32")}
    [event] = events_of(acme, "access.rule_created")
    assert event.details["self_lockout_confirmed"] is True

    signed_out = acme.client()
    refused = signed_out.post("/login", {"email": acme.admin.email, "password": PASSWORD})
    assert RESTRICTED in refused.content and "_auth_user_id" not in signed_out.session


def test_editing_and_deleting_ask_too_and_the_form_keeps_the_answer(acme):
    admits = add(acme, list_type="allow", value="127.0.0.1")
    other = add(acme, list_type="allow", value="10.0.0.0/8")
    client = acme.client(acme.admin)

    edit = client.post(f"{BASE}{admits.pk}/", form_data(list_type="allow", value="10.9.9.9"))
    assert CONFIRM in edit.content.decode()
    assert edit.context["rule"].value == "127.0.0.1/32"  # the page shows the rule as saved
    admits.refresh_from_db()
    assert admits.value == "127.0.0.1/32"

    confirm_page = client.get(f"{BASE}{admits.pk}/delete").content.decode()
    assert CONFIRM not in confirm_page
    refused = client.post(f"{BASE}{admits.pk}/delete")
    assert refused.status_code == 200 and CONFIRM in refused.content.decode()
    assert AccessRule.objects.filter(pk=admits.pk).exists()
    assert (
        client.post(f"{BASE}{admits.pk}/delete", {"confirm_self_lockout": "on"}).status_code == 302
    )
    assert rules_of(acme) == {("allow", "ip", str(other.value))}
    [event] = events_of(acme, "access.rule_deleted")
    assert event.details["self_lockout_confirmed"] is True


def test_an_import_that_would_refuse_the_admin_needs_confirmation(acme):
    text = "list,kind,value\ndeny,ip,127.0.0.0/8\n"
    client = acme.client(acme.admin)
    first = client.post(f"{BASE}import", {"file": upload(text)})
    assert CONFIRM in first.content.decode() and "Choose the file again" in first.content.decode()
    assert rules_of(acme) == set()
    second = client.post(f"{BASE}import", {"file": upload(text), "confirm_self_lockout": "on"})
    assert second.status_code == 302 and rules_of(acme) == {("deny", "ip", "127.0.0.0/8")}


# The rule tester


def _test(client, **params):
    query = {"ip": "", "email": "", "language": "", "action": "login", "audience": "auto"}
    return client.get(f"{BASE}test", query | params)


def test_the_tester_starts_with_the_admins_own_address(acme):
    response = acme.client(acme.admin).get(f"{BASE}test", REMOTE_ADDR="198.51.100.23")
    form = response.context["form"]
    assert form["ip"].value() == "198.51.100.23" and form["action"].value() == "login"
    assert response.context["answer"] is None


def test_the_tester_names_the_decision_and_the_deciding_rule(acme):
    deny_net = add(acme, value="203.0.113.0/24", actions=["login"], audience="staff")
    allow_domain = add(
        acme,
        list_type="allow",
        kind="domain",
        value="acme.test",
        actions=["login"],
        audience="staff",
    )
    client = acme.client(acme.admin)
    before = Event.objects.filter(tenant=acme.tenant).count()

    refused = _test(client, ip="203.0.113.9", email=acme.agent.email)
    html = refused.content.decode()
    assert refused.context["answer"].decision.allowed is False
    assert "<h2>Refused</h2>" in html
    assert f'<a href="{BASE}{deny_net.pk}/">deny ip 203.0.113.0/24 (rule {deny_net.pk})</a>' in html
    assert "(a staff member has this email)" in html

    allowed = _test(client, ip="198.51.100.4", email=acme.agent.email)
    assert "<h2>Allowed</h2>" in allowed.content.decode()
    assert allowed.context["answer"].decision.rule.id == allow_domain.pk

    stranger = _test(client, ip="198.51.100.4", email="bob@other.org", audience="staff")
    answer = stranger.context["answer"]
    assert not answer.decision.allowed and answer.decision.rule is None
    assert "the domain allow list applies" in answer.decision.reason
    assert "no allow rule of that kind matches" in stranger.content.decode()

    contact = _test(client, ip="203.0.113.9", email=acme.contact.email)
    assert contact.context["answer"].decision.allowed  # both rules are for staff only
    assert "(a contact has this email)" in contact.content.decode()

    unknown = _test(client, ip="203.0.113.9", email="new@other.org")
    assert unknown.context["answer"].audience == "contacts"
    assert "nobody has this email yet" in unknown.content.decode()

    anyone = _test(client, ip="203.0.113.9")
    assert anyone.context["answer"].decision.allowed
    assert "(no email given: judged as a contact)" in anyone.content.decode()

    registering = _test(client, ip="203.0.113.9", email=acme.agent.email, action="register")
    assert registering.context["answer"].decision.reason == "no rule applies"

    assert Event.objects.filter(tenant=acme.tenant).count() == before


def test_the_tester_follows_the_language_and_mail_rules(acme):
    add(acme, list_type="allow", kind="language", value="fr")
    add(acme, value="203.0.113.0/24")
    client = acme.client(acme.admin)
    assert _test(client, language="fr-CA", ip="198.51.100.1").context["answer"].decision.allowed
    unknown = _test(client, ip="198.51.100.1").context["answer"]
    assert not unknown.decision.allowed and unknown.language is None

    acme.contact.language = "fr"
    acme.contact.save(update_fields=["language"])
    profile = _test(client, email=acme.contact.email, ip="198.51.100.1").context["answer"]
    assert profile.decision.allowed and profile.language_from_profile

    mail = _test(client, email=acme.contact.email, ip="203.0.113.9", action="ticket.email")
    assert mail.context["answer"].decision.allowed and mail.context["answer"].ip_ignored
    assert "as the connecting server is a relay" in mail.content.decode()


def test_the_tester_checks_its_input_and_answers_htmx_with_a_fragment(acme):
    client = acme.client(acme.admin)
    bad = _test(client, ip="300.1.1.1", email="no at sign", language="français")
    assert set(bad.context["form"].errors) == {"ip", "email", "language"}
    assert bad.context["answer"] is None
    fragment = client.get(
        f"{BASE}test",
        {"ip": "192.0.2.1", "action": "login", "audience": "staff"},
        HTTP_HX_REQUEST="true",
    )
    html = fragment.content.decode()
    assert "<html" not in html and 'id="tester"' in html and "<h2>Allowed</h2>" in html


# The semantics text


def _doc_semantics() -> str:
    doc = DOC.read_text(encoding="utf-8")
    block = doc.split("<!-- semantics:start -->")[1].split("<!-- semantics:end -->")[0]
    block = re.sub(r"^\s*(?:\d+\.|-)\s+", "", block, flags=re.MULTILINE)  # list markers
    return normalised(block.replace("**", "").replace("`", ""))


@pytest.mark.parametrize("path", ["", "test"])
def test_the_page_shows_the_semantics_of_the_doc(acme, path):
    html = acme.client(acme.admin).get(f"{BASE}{path}").content.decode()
    [shown] = BeautifulSoup(html, "html.parser").select(".semantics")
    expected = _doc_semantics()
    assert expected.startswith("For one action") and expected.endswith("for staff only.")
    assert text_of(str(shown)) == expected
