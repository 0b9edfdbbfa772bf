"""The contacts' portal: own tickets only, public replies only."""

from keydesk.tickets.models import Comment, Ticket
from keydesk.tickets.services import comment_add, ticket_update

from .conftest import events_of, make_ticket


def test_portal_lists_only_the_contacts_own_tickets(acme, globex):
    make_ticket(acme, subject="Mine")
    make_ticket(acme, subject="Someone else's", requester=acme.other_contact)
    make_ticket(globex, subject="Other tenant")
    html = acme.client(acme.contact).get("/portal/").content.decode()
    assert "Mine" in html
    assert "Someone else" not in html and "Other tenant" not in html


def test_portal_empty_state(acme):
    html = acme.client(acme.contact).get("/portal/").content.decode()
    assert "You have no tickets yet." in html


def test_contact_opens_a_ticket(acme):
    client = acme.client(acme.contact)
    form = client.get("/portal/new").content.decode()
    assert '<label for="id_subject">Subject' in form and ">Submit ticket</button>" in form
    response = client.post("/portal/new", {"subject": "Broken link", "description": "On /help"})
    ticket = Ticket.objects.get(tenant=acme.tenant)
    assert response.url == f"/portal/{ticket.number}/"
    assert ticket.requester == acme.contact and ticket.source == "web"
    event = events_of(acme, "ticket.created").get()
    assert event.actor == acme.contact and event.ip == "127.0.0.1"


def test_contact_cannot_set_requester_or_priority(acme):
    acme.client(acme.contact).post(
        "/portal/new",
        {
            "subject": "Sneaky",
            "requester_email": "other@acme.test",
            "priority": "urgent",
        },
    )
    ticket = Ticket.objects.get(tenant=acme.tenant)
    assert ticket.requester == acme.contact and ticket.priority == "normal"


def test_portal_create_errors_on_the_field(acme):
    response = acme.client(acme.contact).post("/portal/new", {"subject": "  "})
    assert response.context["form"].errors["subject"]
    assert not Ticket.objects.exists()


def test_portal_detail_shows_public_replies_but_no_internal_notes(acme):
    ticket = make_ticket(acme, subject="Help", description="Please")
    comment_add(ticket=ticket, actor=acme.agent, body="Public answer")
    comment_add(ticket=ticket, actor=acme.agent, body="Secret staff note", is_public=False)
    html = acme.client(acme.contact).get(f"/portal/{ticket.number}/").content.decode()
    assert "Please" in html and "Public answer" in html
    assert "Secret staff note" not in html
    assert "Internal note" not in html


def test_contact_replies_and_the_ticket_reopens(acme):
    ticket = make_ticket(acme)
    ticket_update(ticket=ticket, actor=acme.agent, status="pending")
    client = acme.client(acme.contact)
    response = client.post(f"/portal/{ticket.number}/reply", {"body": "Still broken"})
    assert response.url == f"/portal/{ticket.number}/"
    comment = Comment.objects.get(ticket=ticket)
    assert comment.is_public and comment.author == acme.contact
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert events_of(acme, "ticket.commented").count() == 1


def test_contact_reply_cannot_become_a_note(acme):
    ticket = make_ticket(acme)
    acme.client(acme.contact).post(
        f"/portal/{ticket.number}/reply", {"body": "hello", "is_public": "false"}
    )
    assert Comment.objects.get(ticket=ticket).is_public


def test_another_contacts_ticket_is_404(acme):
    ticket = make_ticket(acme, requester=acme.other_contact, subject="Private matter")
    client = acme.client(acme.contact)
    response = client.get(f"/portal/{ticket.number}/")
    assert response.status_code == 404
    assert "Private matter" not in response.content.decode()
    assert client.post(f"/portal/{ticket.number}/reply", {"body": "hi"}).status_code == 404
    assert not Comment.objects.exists()


def test_another_tenants_ticket_is_404(acme, globex):
    ticket = make_ticket(acme)
    client = globex.client(globex.contact)
    assert client.get(f"/portal/{ticket.number}/").status_code == 404
    assert client.post(f"/portal/{ticket.number}/reply", {"body": "hi"}).status_code == 404


def test_staff_are_sent_from_the_portal_to_the_workspace(acme):
    client = acme.client(acme.agent)
    assert client.get("/portal/").url == "/tickets/"
    assert client.get("/portal/new").url == "/tickets/"
    assert client.get("/portal/7/").url == "/tickets/7/"


def test_portal_needs_sign_in(acme):
    response = acme.client().get("/portal/new")
    assert response.url == "/login?next=/portal/new"


def test_closed_ticket_offers_no_reply_form(acme):
    ticket = make_ticket(acme)
    ticket_update(ticket=ticket, actor=acme.agent, status="closed")
    html = acme.client(acme.contact).get(f"/portal/{ticket.number}/").content.decode()
    assert "This ticket is closed." in html and "Send reply" not in html
