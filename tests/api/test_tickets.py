"""Tickets over the API: list, create, get, update; role limits, tenants, bad input."""

import pytest

from keydesk.accounts.models import User
from keydesk.accounts.services import team_create
from keydesk.eventlog.models import Event
from keydesk.tickets.models import Ticket
from keydesk.tickets.services import ticket_update

from .utils import fields_of, make_ticket, patch_json, post_json, problem_of

TICKET_KEYS = {
    "number",
    "subject",
    "description",
    "status",
    "priority",
    "source",
    "requester",
    "assignee",
    "team",
    "created_at",
    "updated_at",
    "solved_at",
    "closed_at",
}


# List


def test_list_shape_and_order(acme):
    first = make_ticket(acme, subject="First")
    make_ticket(acme, subject="Second", description="Details")
    response = acme.api(acme.agent).get("/api/v1/tickets")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (2, 1, 50)
    assert [t["subject"] for t in body["items"]] == ["Second", "First"]
    item = body["items"][1]
    assert set(item) == TICKET_KEYS
    assert item["number"] == first.number
    assert item["requester"] == {
        "id": acme.contact.pk,
        "email": acme.contact.email,
        "name": acme.contact.name,
    }
    assert item["assignee"] is None and item["team"] is None
    assert item["status"] == "new" and item["priority"] == "normal" and item["source"] == "web"


def test_list_pages(acme):
    for i in range(5):
        make_ticket(acme, subject=f"T{i}")
    client = acme.api(acme.agent)
    page1 = client.get("/api/v1/tickets?page_size=2").json()
    page3 = client.get("/api/v1/tickets?page_size=2&page=3").json()
    beyond = client.get("/api/v1/tickets?page_size=2&page=9").json()
    assert page1["count"] == page3["count"] == beyond["count"] == 5
    assert [t["subject"] for t in page1["items"]] == ["T4", "T3"]
    assert [t["subject"] for t in page3["items"]] == ["T0"]
    assert beyond["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999", "page"),
        ("status=sleeping", "status"),
        ("assignee=someone", "assignee"),
        ("assignee=99999999999999999999", "assignee"),
        ("team=x", "team"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_list_bad_query_is_422_naming_the_parameter(acme, query, field):
    body = problem_of(acme.api(acme.agent).get(f"/api/v1/tickets?{query}"), 422)
    assert fields_of(body) == [field]


def test_list_filters(acme):
    team = team_create(tenant=acme.tenant, actor=None, name="Level 2", members=[acme.agent])
    mine = make_ticket(acme, subject="Mine")
    ticket_update(ticket=mine, actor=acme.admin, assignee_id=acme.agent.pk, status="pending")
    theirs = make_ticket(acme, subject="Theirs")
    ticket_update(ticket=theirs, actor=acme.admin, assignee_id=acme.manager.pk, team_id=team.pk)
    loose = make_ticket(acme, subject="Loose ends", description="the printer hums")
    client = acme.api(acme.agent)

    def subjects(query):
        response = client.get(f"/api/v1/tickets?{query}")
        assert response.status_code == 200, response.content
        return [t["subject"] for t in response.json()["items"]]

    assert subjects("assignee=me") == ["Mine"]
    assert subjects(f"assignee={acme.manager.pk}") == ["Theirs"]
    assert subjects("assignee=none") == ["Loose ends"]
    assert subjects("status=pending") == ["Mine"]
    assert subjects(f"team={team.pk}") == ["Theirs"]
    assert subjects("q=printer") == ["Loose ends"]
    assert subjects(f"q=%23{loose.number}") == ["Loose ends"]
    assert subjects("status=closed") == []


def test_contact_lists_only_own_tickets(acme):
    make_ticket(acme, subject="Carla's")
    make_ticket(acme, requester=acme.other_contact, subject="Otto's")
    body = acme.api(acme.contact).get("/api/v1/tickets").json()
    assert body["count"] == 1
    assert [t["subject"] for t in body["items"]] == ["Carla's"]


def test_list_shows_nothing_of_another_tenant(acme, globex):
    make_ticket(globex, subject="Globex secret")
    team = team_create(tenant=globex.tenant, actor=None, name="Globex team")
    client = acme.api(acme.admin)
    assert client.get("/api/v1/tickets").json()["count"] == 0
    assert client.get(f"/api/v1/tickets?team={team.pk}").json()["count"] == 0
    assert client.get(f"/api/v1/tickets?assignee={globex.agent.pk}").json()["count"] == 0


# Create


def test_staff_creates_ticket_for_a_new_contact(acme):
    response = post_json(
        acme.api(acme.agent),
        "/api/v1/tickets",
        {
            "subject": "  VPN down ",
            "description": "Since 9am",
            "priority": "high",
            "requester_email": "New.Customer@Example.com",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == TICKET_KEYS
    assert body["subject"] == "VPN down"
    assert body["source"] == "api" and body["priority"] == "high" and body["status"] == "new"
    assert body["requester"]["email"] == "new.customer@example.com"
    requester = User.objects.get(tenant=acme.tenant, email="new.customer@example.com")
    assert requester.kind == User.Kind.CONTACT
    ticket = Ticket.objects.get(tenant=acme.tenant, number=body["number"])
    assert ticket.source == "api"
    assert Event.objects.filter(
        tenant=acme.tenant, action="ticket.created", target_id=str(ticket.pk)
    ).exists()


def test_contact_creates_own_ticket_and_requester_email_is_ignored(acme):
    response = post_json(
        acme.api(acme.contact),
        "/api/v1/tickets",
        {"subject": "Help", "requester_email": acme.other_contact.email},
    )
    assert response.status_code == 201, response.content
    assert response.json()["requester"]["id"] == acme.contact.pk


def test_staff_must_name_the_requester(acme):
    body = problem_of(post_json(acme.api(acme.agent), "/api/v1/tickets", {"subject": "Hi"}), 400)
    assert fields_of(body) == ["requester_email"]


def test_requester_must_be_a_contact(acme):
    response = post_json(
        acme.api(acme.agent),
        "/api/v1/tickets",
        {"subject": "Hi", "requester_email": acme.manager.email},
    )
    assert fields_of(problem_of(response, 400)) == ["requester_email"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": "x" * 256, "requester_email": "a@acme.test"}, "subject"),
        (
            {"subject": "ok", "description": "d" * 1_000_001, "requester_email": "a@acme.test"},
            "description",
        ),
        ({"subject": 123, "requester_email": "a@acme.test"}, "subject"),
        ({"subject": ["x"], "requester_email": "a@acme.test"}, "subject"),
        ({"subject": None, "requester_email": "a@acme.test"}, "subject"),
        ({"requester_email": "a@acme.test"}, "subject"),
        ({"subject": "ok", "priority": "whenever", "requester_email": "a@acme.test"}, "priority"),
        ({"subject": "ok", "requester_email": 42}, "requester_email"),
        ({"subject": "ok", "requester_email": "a@acme.test", "status": "open"}, "status"),
    ],
)
def test_create_rejects_bad_fields_with_422_and_writes_nothing(acme, payload, field):
    client = acme.api(acme.agent)
    counts = (Ticket.objects.count(), Event.objects.count(), User.objects.count())
    body = problem_of(post_json(client, "/api/v1/tickets", payload), 422)
    assert field in fields_of(body)
    assert all(e["message"] for e in body["errors"])
    assert (Ticket.objects.count(), Event.objects.count(), User.objects.count()) == counts


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": "   ", "requester_email": "a@acme.test"}, "subject"),
        ({"subject": "ok", "requester_email": "not-an-email"}, "requester_email"),
    ],
)
def test_create_rule_failures_are_400_and_write_nothing(acme, payload, field):
    client = acme.api(acme.agent)
    counts = (Ticket.objects.count(), Event.objects.count(), User.objects.count())
    body = problem_of(post_json(client, "/api/v1/tickets", payload), 400)
    assert fields_of(body) == [field]
    assert (Ticket.objects.count(), Event.objects.count(), User.objects.count()) == counts


@pytest.mark.parametrize(
    "raw",
    [b'{"subject": "unterminated', b"not json", b"{'subject': 'single quotes'}", b"\xff\xfe"],
)
def test_malformed_json_is_400(acme, raw):
    client = acme.api(acme.agent)
    counts = (Ticket.objects.count(), Event.objects.count())
    response = client.post("/api/v1/tickets", data=raw, content_type="application/json")
    body = problem_of(response, 400)
    assert "not valid JSON" in body["detail"]
    assert (Ticket.objects.count(), Event.objects.count()) == counts


@pytest.mark.parametrize("raw", [b"[]", b'"a string"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(acme, raw):
    response = acme.api(acme.agent).post(
        "/api/v1/tickets", data=raw, content_type="application/json"
    )
    body = problem_of(response, 422)
    assert body["errors"] == [{"field": None, "message": "The request body must be a JSON object."}]


def test_missing_body_is_422_naming_the_required_field(acme):
    response = acme.api(acme.agent).post("/api/v1/tickets", content_type="application/json")
    assert fields_of(problem_of(response, 422)) == ["subject"]


def test_body_over_the_upload_limit_is_413(acme, settings):
    client = acme.api(acme.agent)
    counts = (Ticket.objects.count(), Event.objects.count())
    payload = {
        "subject": "big",
        "description": "x" * (5 * 1024 * 1024 + 1),
        "requester_email": "a@acme.test",
    }
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 5 * 1024 * 1024
    problem_of(post_json(client, "/api/v1/tickets", payload), 413)
    assert (Ticket.objects.count(), Event.objects.count()) == counts


def test_failure_midway_rolls_back_ticket_contact_and_events(acme, monkeypatch):
    """The new contact and its event are written before the ticket; a late failure undoes all."""
    import keydesk.tickets.services as ticket_services

    real_record = ticket_services.record

    def failing_record(tenant, actor, action, *args, **kwargs):
        if action == "ticket.created":
            raise RuntimeError("disk full")
        return real_record(tenant, actor, action, *args, **kwargs)

    monkeypatch.setattr(ticket_services, "record", failing_record)
    client = acme.api(acme.agent)
    counts = (Ticket.objects.count(), Event.objects.count(), User.objects.count())
    response = post_json(
        client,
        "/api/v1/tickets",
        {"subject": "Hi", "requester_email": "brand.new@acme.test"},
    )
    body = problem_of(response, 500)
    assert "disk full" not in response.content.decode()
    assert "Traceback" not in body["detail"]
    assert (Ticket.objects.count(), Event.objects.count(), User.objects.count()) == counts
    assert not User.objects.filter(email="brand.new@acme.test").exists()


# Get


def test_get_ticket(acme):
    ticket = make_ticket(acme, subject="Detail me", description="Long text")
    for user in (acme.agent, acme.supervisor, acme.contact):
        response = acme.api(user).get(f"/api/v1/tickets/{ticket.number}")
        assert response.status_code == 200
        assert response.json()["description"] == "Long text"


def test_get_unknown_ticket_is_404(acme):
    problem_of(acme.api(acme.agent).get("/api/v1/tickets/999"), 404)


@pytest.mark.parametrize("number", ["abc", "0", "-1", "1.5", "99999999999999999999"])
def test_get_bad_number_is_422(acme, number):
    body = problem_of(acme.api(acme.agent).get(f"/api/v1/tickets/{number}"), 422)
    assert fields_of(body) == ["number"]


def test_contact_gets_404_for_someone_elses_ticket(acme):
    ticket = make_ticket(acme, requester=acme.other_contact)
    problem_of(acme.api(acme.contact).get(f"/api/v1/tickets/{ticket.number}"), 404)


def test_other_tenants_ticket_is_404(acme, globex):
    for _ in range(3):
        ticket = make_ticket(globex)
    make_ticket(acme)
    assert ticket.number == 3
    client = acme.api(acme.admin)
    problem_of(client.get(f"/api/v1/tickets/{ticket.number}"), 404)
    problem_of(patch_json(client, f"/api/v1/tickets/{ticket.number}", {"status": "open"}), 404)
    ticket.refresh_from_db()
    assert ticket.status == "new"


# Update


def test_patch_changes_only_the_fields_sent(acme):
    team = team_create(tenant=acme.tenant, actor=None, name="Level 2")
    ticket = make_ticket(acme)
    client = acme.api(acme.agent)
    url = f"/api/v1/tickets/{ticket.number}"

    body = patch_json(client, url, {"assignee_id": acme.agent.pk, "team_id": team.pk}).json()
    assert body["assignee"]["id"] == acme.agent.pk and body["team"]["name"] == "Level 2"

    response = patch_json(client, url, {"status": "pending", "priority": "urgent"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["priority"]) == ("pending", "urgent")
    assert body["assignee"]["id"] == acme.agent.pk and body["team"]["id"] == team.pk

    body = patch_json(client, url, {"assignee_id": None}).json()
    assert body["assignee"] is None and body["team"]["id"] == team.pk
    body = patch_json(client, url, {"team_id": None}).json()
    assert body["team"] is None and body["status"] == "pending"

    body = patch_json(client, url, {"status": "solved"}).json()
    assert body["solved_at"] is not None
    assert patch_json(client, url, {}).json()["status"] == "solved"

    actions = list(
        Event.objects.filter(tenant=acme.tenant, target_type="ticket", target_id=str(ticket.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "ticket.created",
        "ticket.assigned",
        "ticket.updated",
        "ticket.status_changed",
        "ticket.updated",
        "ticket.assigned",
        "ticket.updated",
        "ticket.status_changed",
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"priority": 3}, "priority"),
        ({"assignee_id": "5"}, "assignee_id"),
        ({"assignee_id": 1.5}, "assignee_id"),
        ({"assignee_id": 0}, "assignee_id"),
        ({"team_id": True}, "team_id"),
        ({"team_id": 2**70}, "team_id"),
        ({"subject": "renamed"}, "subject"),
    ],
)
def test_patch_wrong_types_are_422(acme, payload, field):
    ticket = make_ticket(acme)
    response = patch_json(acme.api(acme.agent), f"/api/v1/tickets/{ticket.number}", payload)
    assert fields_of(problem_of(response, 422)) == [field]


def test_patch_unknown_assignee_is_400_and_changes_nothing(acme, globex):
    ticket = make_ticket(acme)
    url = f"/api/v1/tickets/{ticket.number}"
    client = acme.api(acme.agent)
    events = Event.objects.filter(tenant=acme.tenant).count()
    for payload in (
        {"assignee_id": 999_999, "status": "open"},
        {"assignee_id": globex.agent.pk, "status": "open"},
        {"assignee_id": acme.contact.pk, "status": "open"},
    ):
        body = problem_of(patch_json(client, url, payload), 400)
        assert fields_of(body) == ["assignee_id"]
    team = team_create(tenant=globex.tenant, actor=None, name="Globex team")
    assert fields_of(problem_of(patch_json(client, url, {"team_id": team.pk}), 400)) == ["team_id"]
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.assignee is None
    assert Event.objects.filter(tenant=acme.tenant).count() == events


def test_contact_cannot_patch_own_ticket(acme):
    ticket = make_ticket(acme)
    response = patch_json(
        acme.api(acme.contact), f"/api/v1/tickets/{ticket.number}", {"status": "closed"}
    )
    problem_of(response, 403)
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_contact_patching_someone_elses_ticket_is_404(acme):
    ticket = make_ticket(acme, requester=acme.other_contact)
    response = patch_json(
        acme.api(acme.contact), f"/api/v1/tickets/{ticket.number}", {"status": "closed"}
    )
    problem_of(response, 404)


def test_closed_ticket_cannot_change(acme):
    ticket = make_ticket(acme)
    client = acme.api(acme.agent)
    url = f"/api/v1/tickets/{ticket.number}"
    assert patch_json(client, url, {"status": "closed"}).status_code == 200
    body = problem_of(patch_json(client, url, {"status": "open"}), 409)
    assert body["code"] == "closed"
