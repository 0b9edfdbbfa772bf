"""The event log page and its CSV export: admins only, one tenant only."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from keydesk.eventlog.models import Event
from keydesk.eventlog.services import record

from .conftest import events_of, make_ticket


@pytest.mark.parametrize("role", ["manager", "supervisor", "agent", "contact"])
def test_event_log_is_404_for_everyone_but_admins(acme, role):
    client = acme.client(getattr(acme, role))
    assert client.get("/account/events/").status_code == 404
    assert client.get("/account/events/export.csv").status_code == 404
    assert not events_of(acme, "events.exported").exists()


def test_event_log_shows_the_events(acme):
    ticket = make_ticket(acme, subject="Coffee machine")
    html = acme.client(acme.admin).get("/account/events/").content.decode()
    assert "Ticket created" in html and "ticket.created" in html
    assert "contact@acme.test" in html and "Coffee machine" in html
    assert "User created" in html
    for label in ("Actor email", "Action", "Target", "From", "To"):
        assert f">{label}" in html
    assert ">Export CSV</a>" in html
    assert ticket.number


def test_event_log_filters(acme):
    make_ticket(acme, subject="Coffee machine")
    make_ticket(acme, subject="Tea kettle", requester=acme.other_contact)
    client = acme.client(acme.admin)

    def shown(**params):
        return {
            (e.action, e.target_label)
            for e in client.get("/account/events/", params).context["page"].object_list
        }

    assert {a for a, _ in shown(action="ticket.created")} == {"ticket.created"}
    assert len(shown(action="ticket.created")) == 2
    assert shown(action="ticket.created", actor="other@") == {("ticket.created", "#2 Tea kettle")}
    assert shown(target="coffee") == {("ticket.created", "#1 Coffee machine")}
    today = timezone.now().date()
    assert (
        len(shown(since=today.isoformat(), until=today.isoformat()))
        == Event.objects.filter(tenant=acme.tenant).count()
    )
    assert shown(until=(today - timedelta(days=1)).isoformat()) == set()
    assert shown(since=(today + timedelta(days=1)).isoformat()) == set()


def test_invalid_filters_are_reported_not_fatal(acme):
    response = acme.client(acme.admin).get(
        "/account/events/", {"action": "nope", "since": "yesterday"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"action", "since"}


def test_event_log_htmx_fragment(acme):
    response = acme.client(acme.admin).get(
        "/account/events/", {"action": "user.created"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="event-results"' in html
    assert 'href="/account/events/export.csv?action=user.created"' in html


def test_event_log_pagination_50_per_page(acme):
    for i in range(60):
        record(acme.tenant, acme.admin, "tenant.created", None, None, n=i)
    total = Event.objects.filter(tenant=acme.tenant).count()
    client = acme.client(acme.admin)
    first = client.get("/account/events/")
    assert len(first.context["page"].object_list) == 50
    last = client.get("/account/events/", {"page": first.context["page"].paginator.num_pages})
    assert len(last.context["page"].object_list) == total - 50 * (
        first.context["page"].paginator.num_pages - 1
    )


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_csv_export_streams_the_filtered_events_and_records_the_export(acme):
    make_ticket(acme, subject="Coffee machine")
    make_ticket(acme, subject="Tea kettle")
    client = acme.client(acme.admin)
    response = client.get("/account/events/export.csv", {"action": "ticket.created", "page": "2"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="events-')
    rows = _csv(response)
    assert [row["target"] for row in rows] == ["#2 Tea kettle", "#1 Coffee machine"]
    assert rows[0]["action"] == "ticket.created"
    assert rows[0]["action_label"] == "Ticket created"
    assert rows[0]["actor"] == "contact@acme.test"
    assert '"priority": "normal"' in rows[0]["details"]
    exported = events_of(acme, "events.exported").get()
    assert exported.actor == acme.admin
    assert exported.details == {"filters": {"action": "ticket.created"}}
    assert exported.ip == "127.0.0.1"


def test_csv_export_defuses_formulas(acme):
    record(
        acme.tenant,
        acme.admin,
        "tenant.created",
        ("email", "", "=cmd|' /C calc'!A0"),
        None,
        note="@SUM(A1)",
    )
    rows = _csv(
        acme.client(acme.admin).get(
            "/account/events/export.csv", {"action": "tenant.created", "target": "cmd"}
        )
    )
    assert rows[0]["target"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["details"] == '{"note": "@SUM(A1)"}'


def test_event_log_shows_only_this_tenants_events(acme, globex):
    make_ticket(globex, subject="Globex secret")
    client = acme.client(acme.admin)
    assert "Globex secret" not in client.get("/account/events/").content.decode()
    rows = _csv(client.get("/account/events/export.csv"))
    assert rows and all("globex" not in str(row).lower() for row in rows)
    assert (
        "Globex secret" not in client.get("/account/events/", {"target": "Globex"}).content.decode()
    )
