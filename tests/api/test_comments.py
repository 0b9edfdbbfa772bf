"""Comments over the API: public replies and internal notes."""

import pytest

from keydesk.eventlog.models import Event
from keydesk.tickets.models import Comment
from keydesk.tickets.services import comment_add

from .utils import fields_of, make_ticket, post_json, problem_of


@pytest.fixture
def ticket(acme):
    ticket = make_ticket(acme)
    comment_add(ticket=ticket, actor=acme.agent, body="We are on it.")
    comment_add(ticket=ticket, actor=acme.agent, body="Customer is a VIP.", is_public=False)
    return ticket


def test_staff_list_every_comment(acme, ticket):
    response = acme.api(acme.supervisor).get(f"/api/v1/tickets/{ticket.number}/comments")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(c["body"], c["public"]) for c in items] == [
        ("We are on it.", True),
        ("Customer is a VIP.", False),
    ]
    assert set(items[0]) == {"id", "author", "body", "public", "created_at"}
    assert items[0]["author"] == {
        "id": acme.agent.pk,
        "email": acme.agent.email,
        "name": acme.agent.name,
    }


def test_contact_lists_public_replies_only(acme, ticket):
    items = acme.api(acme.contact).get(f"/api/v1/tickets/{ticket.number}/comments").json()["items"]
    assert [c["body"] for c in items] == ["We are on it."]


def test_contact_gets_404_for_someone_elses_comments(acme, ticket):
    client = acme.api(acme.other_contact)
    problem_of(client.get(f"/api/v1/tickets/{ticket.number}/comments"), 404)
    problem_of(post_json(client, f"/api/v1/tickets/{ticket.number}/comments", {"body": "Hi"}), 404)


def test_staff_add_reply_and_note(acme, ticket):
    client = acme.api(acme.agent)
    url = f"/api/v1/tickets/{ticket.number}/comments"
    response = post_json(client, url, {"body": "Fixed it."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["public"] is True and body["body"] == "Fixed it."
    assert body["author"]["id"] == acme.agent.pk
    note = post_json(client, url, {"body": "Took an hour.", "public": False}).json()
    assert note["public"] is False
    assert Comment.objects.filter(ticket=ticket).count() == 4
    actions = set(
        Event.objects.filter(tenant=acme.tenant, target_id=str(ticket.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"ticket.commented", "ticket.note_added"} <= actions


def test_contact_replies_but_cannot_add_notes(acme, ticket):
    client = acme.api(acme.contact)
    url = f"/api/v1/tickets/{ticket.number}/comments"
    assert post_json(client, url, {"body": "Thanks!"}).status_code == 201
    problem_of(post_json(client, url, {"body": "Secret", "public": False}), 403)
    assert not Comment.objects.filter(body="Secret").exists()


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"body": "x" * 1_000_001}, "body", 422),
        ({"body": 5}, "body", 422),
        ({}, "body", 422),
        ({"body": "ok", "public": "yes"}, "public", 422),
        ({"body": "ok", "public": 1}, "public", 422),
        ({"body": "   "}, "body", 400),
    ],
)
def test_bad_comment_is_refused_and_writes_nothing(acme, ticket, payload, field, status):
    client = acme.api(acme.agent)
    counts = (Comment.objects.count(), Event.objects.count())
    response = post_json(client, f"/api/v1/tickets/{ticket.number}/comments", payload)
    assert fields_of(problem_of(response, status)) == [field]
    assert (Comment.objects.count(), Event.objects.count()) == counts


def test_comments_of_unknown_or_other_tenants_ticket_are_404(acme, globex):
    for _ in range(2):
        theirs = make_ticket(globex)
    client = acme.api(acme.admin)
    for number in (theirs.number, 999):
        problem_of(client.get(f"/api/v1/tickets/{number}/comments"), 404)
        problem_of(post_json(client, f"/api/v1/tickets/{number}/comments", {"body": "x"}), 404)
    assert not Comment.objects.filter(ticket=theirs).exists()
