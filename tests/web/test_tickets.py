"""The agent workspace: list, filters, pagination, create, detail and the actions on a ticket."""

import pytest

from keydesk.accounts.services import team_create
from keydesk.tickets.models import Comment, Ticket
from keydesk.tickets.services import comment_add, ticket_update

from .conftest import events_of, make_ticket


@pytest.mark.parametrize("role", ["admin", "manager", "supervisor", "agent"])
def test_workspace_renders_for_staff(acme, ticket, role):
    client = acme.client(getattr(acme, role))
    response = client.get("/tickets/")
    assert response.status_code == 200
    assert ticket.subject in response.content.decode()
    assert client.get(f"/tickets/{ticket.number}/").status_code == 200
    assert client.get("/tickets/new").status_code == 200


def test_workspace_is_404_for_contacts(acme, ticket):
    client = acme.client(acme.contact)
    for url in ("/tickets/", "/tickets/new", f"/tickets/{ticket.number}/"):
        assert client.get(url).status_code == 404
    response = client.post(f"/tickets/{ticket.number}/note", {"note-body": "sneaky"})
    assert response.status_code == 404
    assert not Comment.objects.filter(body="sneaky").exists()


def test_workspace_needs_sign_in(acme, ticket):
    response = acme.client().get(f"/tickets/{ticket.number}/")
    assert response.status_code == 302
    assert response.url == f"/login?next=/tickets/{ticket.number}/"


def _subjects(response) -> set[str]:
    return {t.subject for t in response.context["page"].object_list}


@pytest.fixture
def spread(acme):
    """Tickets in different states, assignees and teams."""
    team = team_create(tenant=acme.tenant, actor=None, name="Billing", members=[acme.agent])
    a = make_ticket(acme, subject="Invoice wrong")
    b = make_ticket(acme, subject="Cannot log in", description="password reset mail missing")
    c = make_ticket(acme, subject="Feature wish", requester=acme.other_contact)
    ticket_update(ticket=a, actor=acme.admin, assignee_id=acme.agent.pk, team_id=team.pk)
    ticket_update(ticket=b, actor=acme.admin, status="pending", assignee_id=acme.manager.pk)
    return {"team": team, "a": a, "b": b, "c": c}


def test_filter_by_status(acme, spread):
    client = acme.client(acme.agent)
    assert _subjects(client.get("/tickets/", {"status": "pending"})) == {"Cannot log in"}
    assert _subjects(client.get("/tickets/", {"status": "new"})) == {
        "Invoice wrong",
        "Feature wish",
    }


def test_filter_by_assignee(acme, spread):
    client = acme.client(acme.agent)
    assert _subjects(client.get("/tickets/", {"assignee": "me"})) == {"Invoice wrong"}
    assert _subjects(client.get("/tickets/", {"assignee": "unassigned"})) == {"Feature wish"}
    response = client.get("/tickets/", {"assignee": str(acme.manager.pk)})
    assert _subjects(response) == {"Cannot log in"}


def test_filter_by_team_and_text(acme, spread):
    client = acme.client(acme.agent)
    assert _subjects(client.get("/tickets/", {"team": spread["team"].pk})) == {"Invoice wrong"}
    assert _subjects(client.get("/tickets/", {"q": "reset mail"})) == {"Cannot log in"}
    assert _subjects(client.get("/tickets/", {"q": f"#{spread['c'].number}"})) == {"Feature wish"}
    response = client.get("/tickets/", {"q": "invoice", "status": "new", "assignee": "me"})
    assert _subjects(response) == {"Invoice wrong"}


def test_filter_form_shows_the_choices(acme, spread):
    html = acme.client(acme.agent).get("/tickets/").content.decode()
    for label in ("Any status", "Pending", "Anyone", "Me", "Unassigned", "Billing", "Manager Acme"):
        assert label in html
    assert '<label for="id_q">Search' in html


def test_filters_of_another_tenant_are_ignored(acme, globex, spread):
    foreign_team = team_create(tenant=globex.tenant, actor=None, name="Theirs")
    client = acme.client(acme.agent)
    response = client.get("/tickets/", {"team": foreign_team.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["team"]
    assert len(_subjects(response)) == 3
    response = client.get("/tickets/", {"assignee": globex.agent.pk, "status": "nonsense"})
    assert len(_subjects(response)) == 3


def test_htmx_gets_only_the_results(acme, spread):
    client = acme.client(acme.agent)
    response = client.get("/tickets/", {"status": "pending"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="ticket-results"')
    assert "<html" not in html and "Cannot log in" in html and "Invoice wrong" not in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(acme, spread):
    response = acme.client(acme.agent).get(
        "/tickets/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_filter_form_works_without_javascript(acme, spread):
    html = acme.client(acme.agent).get("/tickets/").content.decode()
    assert 'method="get" action="/tickets/"' in html
    assert 'hx-get="/tickets/"' in html
    assert ">Apply filters</button>" in html


def test_pagination_25_per_page(acme):
    for i in range(30):
        make_ticket(acme, subject=f"Ticket {i:02}")
    client = acme.client(acme.agent)
    first = client.get("/tickets/")
    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].paginator.num_pages == 2
    assert "Page 1 of 2" in first.content.decode()
    second = client.get("/tickets/", {"page": 2})
    assert _subjects(second) == {f"Ticket {i:02}" for i in range(5)}
    assert len(client.get("/tickets/", {"page": "999"}).context["page"].object_list) == 5
    assert len(client.get("/tickets/", {"page": "x"}).context["page"].object_list) == 25


def test_pagination_keeps_the_filters(acme):
    for i in range(27):
        make_ticket(acme, subject=f"Ticket {i:02}")
    html = acme.client(acme.agent).get("/tickets/", {"status": "new"}).content.decode()
    assert 'href="?status=new&amp;page=2"' in html


def test_staff_create_a_ticket_for_a_new_contact(acme):
    client = acme.client(acme.agent)
    response = client.post(
        "/tickets/new",
        {
            "subject": "Phone call: VPN down",
            "description": "Called at 9.",
            "requester_email": "New.Person@example.com",
            "priority": "high",
        },
    )
    ticket = Ticket.objects.get(tenant=acme.tenant, subject="Phone call: VPN down")
    assert response.status_code == 302
    assert response.url == f"/tickets/{ticket.number}/"
    assert ticket.requester.email == "new.person@example.com"
    assert ticket.requester.is_contact
    assert ticket.priority == "high"
    event = events_of(acme, "ticket.created").get()
    assert event.actor == acme.agent
    assert event.ip == "127.0.0.1"


def test_create_ticket_errors_land_on_the_fields(acme):
    client = acme.client(acme.agent)
    response = client.post(
        "/tickets/new",
        {
            "subject": "x" * 256,
            "requester_email": "not-an-email",
            "priority": "normal",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "subject" in errors and "requester_email" in errors
    response = client.post(
        "/tickets/new",
        {
            "subject": "For a colleague",
            "requester_email": "manager@acme.test",
            "priority": "normal",
        },
    )
    assert response.context["form"].errors["requester_email"] == [
        "The requester must be a contact."
    ]
    assert not Ticket.objects.filter(tenant=acme.tenant).exists()


def test_detail_shows_description_replies_and_marked_notes(acme, ticket):
    comment_add(ticket=ticket, actor=acme.agent, body="We are on it.")
    comment_add(ticket=ticket, actor=acme.agent, body="Toner supplier again?", is_public=False)
    html = acme.client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert "It smells of toner." in html
    assert "We are on it." in html
    assert "Toner supplier again?" in html
    note = html.split('class="comment note"', 1)[1].split("</article>", 1)[0]
    assert "Internal note" in note and "Toner supplier again?" in note
    for label in ("Send reply", "Add internal note", "Save assignment", "Save status and priority"):
        assert f">{label}</button>" in html


def test_reply_sends_a_public_comment(acme, ticket):
    client = acme.client(acme.agent)
    response = client.post(f"/tickets/{ticket.number}/reply", {"reply-body": "Try turning it off."})
    assert response.status_code == 302
    comment = Comment.objects.get(ticket=ticket)
    assert comment.is_public and comment.author == acme.agent
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert events_of(acme, "ticket.commented").count() == 1
    assert events_of(acme, "ticket.status_changed").count() == 1


def test_note_is_internal(acme, ticket):
    client = acme.client(acme.agent)
    client.post(f"/tickets/{ticket.number}/note", {"note-body": "Customer is a VIP."})
    comment = Comment.objects.get(ticket=ticket)
    assert not comment.is_public
    assert events_of(acme, "ticket.note_added").get().details == {"comment_id": comment.pk}
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_empty_reply_is_refused_on_the_field(acme, ticket):
    response = acme.client(acme.agent).post(f"/tickets/{ticket.number}/reply", {"reply-body": " "})
    assert response.status_code == 200
    assert response.context["reply_form"].errors["body"]
    assert not Comment.objects.exists()


def test_assign_to_agent_and_team(acme, ticket):
    team = team_create(tenant=acme.tenant, actor=None, name="Hardware")
    client = acme.client(acme.agent)
    response = client.post(
        f"/tickets/{ticket.number}/assign", {"assignee": acme.agent.pk, "team": team.pk}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == acme.agent and ticket.team == team
    assigned = events_of(acme, "ticket.assigned").get()
    assert assigned.details == {"assignee": [None, "agent@acme.test"]}
    assert events_of(acme, "ticket.updated").get().details == {
        "changes": {"team": [None, "Hardware"]}
    }
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f'<option value="{acme.agent.pk}" selected>' in html


def test_unassign(acme, ticket):
    ticket_update(ticket=ticket, actor=acme.admin, assignee_id=acme.agent.pk)
    acme.client(acme.agent).post(f"/tickets/{ticket.number}/assign", {"assignee": "", "team": ""})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_assigning_someone_of_another_tenant_is_refused(acme, globex, ticket):
    foreign_team = team_create(tenant=globex.tenant, actor=None, name="Theirs")
    response = acme.client(acme.agent).post(
        f"/tickets/{ticket.number}/assign", {"assignee": globex.agent.pk, "team": foreign_team.pk}
    )
    assert response.status_code == 200
    assert set(response.context["assign_form"].errors) == {"assignee", "team"}
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.team is None
    assert not events_of(acme, "ticket.assigned").exists()


def test_change_status_and_priority(acme, ticket):
    client = acme.client(acme.agent)
    client.post(f"/tickets/{ticket.number}/status", {"status": "solved", "priority": "urgent"})
    ticket.refresh_from_db()
    assert ticket.status == "solved" and ticket.priority == "urgent"
    assert ticket.solved_at is not None
    assert events_of(acme, "ticket.status_changed").get().details == {"status": ["new", "solved"]}
    assert events_of(acme, "ticket.updated").get().details == {
        "changes": {"priority": ["normal", "urgent"]}
    }


def test_a_closed_ticket_refuses_changes_with_a_message(acme, ticket):
    client = acme.client(acme.agent)
    client.post(f"/tickets/{ticket.number}/status", {"status": "closed", "priority": "normal"})
    response = client.post(f"/tickets/{ticket.number}/reply", {"reply-body": "One more thing"})
    assert response.status_code == 200
    assert "This ticket is closed" in response.content.decode()
    response = client.post(
        f"/tickets/{ticket.number}/status", {"status": "open", "priority": "low"}
    )
    assert "A closed ticket cannot be changed." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_actions_need_post(acme, ticket):
    client = acme.client(acme.agent)
    for action in ("reply", "note", "assign", "status"):
        assert client.get(f"/tickets/{ticket.number}/{action}").status_code == 405


def test_ticket_numbers_are_per_tenant(acme, globex):
    make_ticket(acme, subject="Acme one")
    make_ticket(acme, subject="Acme two")
    make_ticket(globex, subject="Globex one")
    client = globex.client(globex.agent)
    assert "Globex one" in client.get("/tickets/1/").content.decode()
    assert client.get("/tickets/2/").status_code == 404
    assert client.post("/tickets/2/reply", {"reply-body": "leak?"}).status_code == 404
    assert client.post("/tickets/2/assign", {"assignee": globex.agent.pk}).status_code == 404
    assert (
        client.post("/tickets/2/status", {"status": "closed", "priority": "low"}).status_code == 404
    )
    listing = client.get("/tickets/").content.decode()
    assert "Acme" not in listing
    assert not Comment.objects.filter(body="leak?").exists()
