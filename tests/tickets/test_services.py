"""Tickets: creation, numbering, updates, comments, and who sees what."""

import threading

import pytest
from django.db import connection

from keydesk.core.errors import ApplicationError, NotFound, PermissionDenied
from keydesk.eventlog.models import Event
from keydesk.tickets.models import Comment, Ticket
from keydesk.tickets.selectors import comment_list, ticket_get, ticket_list
from keydesk.tickets.services import comment_add, ticket_create, ticket_update


def _actions(tenant):
    return list(
        Event.objects.filter(tenant=tenant).order_by("seq").values_list("action", flat=True)
    )


def test_contact_creates_a_ticket_for_themself(acme):
    ticket = ticket_create(
        tenant=acme.tenant,
        actor=acme.contact,
        subject=" Printer ",
        description="It is on fire",
        requester_email="someone@else.test",
    )
    assert (ticket.number, ticket.subject, ticket.requester) == (1, "Printer", acme.contact)
    assert ticket.status == "new"
    assert _actions(acme.tenant)[-1] == "ticket.created"


def test_staff_ticket_creates_an_unknown_requester_as_contact(acme):
    ticket = ticket_create(
        tenant=acme.tenant,
        actor=acme.agent,
        subject="Call back",
        requester_email="New.Customer@Example.com",
        source="api",
    )
    assert ticket.requester.email == "new.customer@example.com"
    assert ticket.requester.kind == "contact"
    assert _actions(acme.tenant)[-3:] == [
        "user.created",
        "contact.verification_sent",
        "ticket.created",
    ]


def test_staff_ticket_needs_a_contact_requester(acme):
    with pytest.raises(ApplicationError) as exc:
        ticket_create(tenant=acme.tenant, actor=acme.agent, subject="x")
    assert exc.value.field == "requester_email"
    with pytest.raises(ApplicationError) as exc:
        ticket_create(
            tenant=acme.tenant, actor=acme.agent, subject="x", requester_email="manager@acme.test"
        )
    assert exc.value.field == "requester_email"


@pytest.mark.parametrize(
    "subject, description, field",
    [("", "", "subject"), ("x" * 256, "", "subject"), ("ok", "y" * 1_000_001, "description")],
)
def test_oversized_or_missing_fields_write_nothing(acme, subject, description, field):
    events = Event.objects.count()
    with pytest.raises(ApplicationError) as exc:
        ticket_create(
            tenant=acme.tenant, actor=acme.contact, subject=subject, description=description
        )
    assert exc.value.field == field
    assert Ticket.objects.count() == 0 and Event.objects.count() == events


def test_numbers_are_per_tenant(acme, globex):
    a = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="a")
    g = ticket_create(tenant=globex.tenant, actor=globex.contact, subject="g")
    b = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="b")
    assert (a.number, g.number, b.number) == (1, 1, 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_unique_numbers():
    from tests.conftest import TenantWorld

    world = TenantWorld("busy")
    errors = []

    def create():
        try:
            for _ in range(5):
                ticket_create(tenant=world.tenant, actor=world.contact, subject="load")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(Ticket.objects.filter(tenant=world.tenant).values_list("number", flat=True))
    assert numbers == list(range(1, 21))


def test_assign_status_priority_each_record_an_event(acme):
    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="x")
    ticket = ticket_update(
        ticket=ticket,
        actor=acme.agent,
        status="pending",
        priority="high",
        assignee_id=acme.agent.pk,
    )
    assert (ticket.status, ticket.priority, ticket.assignee) == ("pending", "high", acme.agent)
    assert _actions(acme.tenant)[-3:] == [
        "ticket.status_changed",
        "ticket.assigned",
        "ticket.updated",
    ]
    ticket = ticket_update(ticket=ticket, actor=acme.agent, status="solved")
    assert ticket.solved_at is not None


def test_assignee_must_be_active_staff_of_the_tenant(acme, globex):
    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="x")
    for bad in (globex.agent.pk, acme.contact.pk, 999999):
        with pytest.raises(ApplicationError) as exc:
            ticket_update(ticket=ticket, actor=acme.agent, assignee_id=bad)
        assert exc.value.field == "assignee"


def test_contacts_cannot_update_tickets(acme):
    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="x")
    with pytest.raises(PermissionDenied):
        ticket_update(ticket=ticket, actor=acme.contact, status="closed")


def test_closed_is_final(acme):
    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="x")
    ticket_update(ticket=ticket, actor=acme.agent, status="closed")
    with pytest.raises(ApplicationError):
        ticket_update(ticket=ticket, actor=acme.agent, status="open")
    with pytest.raises(ApplicationError):
        comment_add(ticket=ticket, actor=acme.contact, body="hello?")


def test_replies_move_the_ticket_and_notes_stay_internal(acme):
    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="x")
    comment_add(ticket=ticket, actor=acme.agent, body="Looking", is_public=True)
    ticket.refresh_from_db()
    assert ticket.status == "open"
    comment_add(ticket=ticket, actor=acme.agent, body="secret note", is_public=False)
    ticket_update(ticket=ticket, actor=acme.agent, status="solved")
    comment_add(ticket=ticket, actor=acme.contact, body="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert [c.body for c in comment_list(ticket=ticket, actor=acme.contact)] == [
        "Looking",
        "Still broken",
    ]
    assert len(comment_list(ticket=ticket, actor=acme.agent)) == 3
    with pytest.raises(PermissionDenied):
        comment_add(ticket=ticket, actor=acme.contact, body="sneaky", is_public=False)
    assert Comment.objects.filter(body="sneaky").count() == 0


def test_contacts_see_only_their_own_tickets(acme):
    mine = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="mine")
    theirs = ticket_create(tenant=acme.tenant, actor=acme.other_contact, subject="theirs")
    assert list(ticket_list(actor=acme.contact)) == [mine]
    with pytest.raises(NotFound):
        ticket_get(actor=acme.contact, number=theirs.number)
    with pytest.raises(NotFound):
        comment_add(ticket=theirs, actor=acme.contact, body="hi")


def test_ticket_selectors_never_cross_tenants(acme, globex):
    ticket_create(tenant=globex.tenant, actor=globex.contact, subject="globex only")
    assert list(ticket_list(actor=acme.admin)) == []
    with pytest.raises(NotFound):
        ticket_get(actor=acme.admin, number=1)


def test_list_filters(acme):
    a = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="Printer jam")
    b = ticket_create(
        tenant=acme.tenant,
        actor=acme.contact,
        subject="VPN down",
        description="cannot reach the printer share",
    )
    ticket_update(ticket=b, actor=acme.agent, assignee_id=acme.agent.pk, status="open")
    assert list(ticket_list(actor=acme.agent, q="printer")) == [b, a]
    assert list(ticket_list(actor=acme.agent, status="open")) == [b]
    assert list(ticket_list(actor=acme.agent, assignee_id=acme.agent.pk)) == [b]
    assert list(ticket_list(actor=acme.agent, unassigned=True)) == [a]
    assert list(ticket_list(actor=acme.agent, q=f"#{a.number}")) == [a]


def test_team_changes_while_a_deactivated_assignee_stays(acme):
    from keydesk.accounts.services import team_create, user_deactivate

    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="x")
    ticket = ticket_update(ticket=ticket, actor=acme.manager, assignee_id=acme.agent.pk)
    user_deactivate(user=acme.agent, actor=acme.admin)
    team = team_create(tenant=acme.tenant, actor=acme.manager, name="Field")
    ticket = ticket_update(
        ticket=ticket, actor=acme.manager, assignee_id=acme.agent.pk, team_id=team.pk
    )
    assert (ticket.assignee, ticket.team) == (acme.agent, team)
