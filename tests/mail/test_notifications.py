"""Ticket notifications: who hears of what, and how the mail looks when it reaches a real relay."""

import pytest
from django.db import transaction

from keydesk.accounts.models import Team
from keydesk.accounts.password_reset import password_reset_request
from keydesk.accounts.services import (
    email_notifications_set,
    team_create,
    user_deactivate,
    user_update,
)
from keydesk.core.errors import ApplicationError
from keydesk.eventlog.models import Event
from keydesk.eventlog.services import events_verify
from keydesk.mail.models import OutboundEmail
from keydesk.mail.outbound.notifications import REPLY_ABOVE
from keydesk.mail.outbound.sender import mail_settings_update
from keydesk.tickets.services import comment_add, ticket_create, ticket_update
from tests.conftest import run_worker

TICKET_TEMPLATES = (
    "ticket_created",
    "ticket_reply",
    "ticket_solved",
    "ticket_assigned",
    "ticket_new_for_team",
)


def ticket_mail(world, **filters) -> list[tuple[str, str]]:
    """(template, recipient) of the tenant's ticket notifications, oldest first."""
    rows = OutboundEmail.objects.filter(
        tenant=world.tenant, template__in=TICKET_TEMPLATES, **filters
    ).order_by("pk")
    return [(row.template, row.recipient) for row in rows]


def received(inbox, address: str) -> list:
    """Ticket mail the relay accepted for `address` (contacts also get a verification mail)."""
    return [m for m in inbox.to(address) if "[#" in m["Subject"]]


def open_ticket(world, actor=None, **kwargs):
    kwargs.setdefault("subject", "Printer jams on floor 3")
    kwargs.setdefault("description", "It jams on every second page.")
    if actor is None or not actor.is_contact:
        kwargs.setdefault("requester_email", world.contact.email)
    return ticket_create(tenant=world.tenant, actor=actor or world.agent, **kwargs)


# Who is told


def test_a_contact_opening_a_ticket_gets_an_acknowledgement(acme, globex):
    ticket = open_ticket(acme, actor=acme.contact)
    assert ticket_mail(acme) == [("ticket_created", "contact@acme.test")]
    [mail] = OutboundEmail.objects.filter(tenant=acme.tenant, template="ticket_created")
    assert mail.ticket == ticket and mail.recipient_user == acme.contact
    assert mail.subject == f"[#{ticket.number}] Printer jams on floor 3"
    assert ticket_mail(globex) == []


def test_a_ticket_opened_by_an_agent_acknowledges_the_requester_only(acme):
    open_ticket(acme, actor=acme.agent)
    assert ticket_mail(acme) == [("ticket_created", "contact@acme.test")]


def test_public_replies_by_staff_are_mailed_but_notes_and_the_contacts_own_are_not(acme):
    ticket = open_ticket(acme, actor=acme.contact)
    comment_add(ticket=ticket, actor=acme.agent, body="Internal: check the toner.", is_public=False)
    comment_add(ticket=ticket, actor=acme.contact, body="It happened again.")
    assert ticket_mail(acme, template="ticket_reply") == []
    comment_add(ticket=ticket, actor=acme.agent, body="We sent a technician.")
    comment_add(ticket=ticket, actor=acme.admin, body="The technician is on the way.")
    assert ticket_mail(acme, template="ticket_reply") == [
        ("ticket_reply", "contact@acme.test"),
        ("ticket_reply", "contact@acme.test"),
    ]


def test_solving_tells_the_requester_and_other_status_changes_do_not(acme):
    ticket = open_ticket(acme)
    ticket_update(ticket=ticket, actor=acme.agent, status="pending")
    ticket_update(ticket=ticket, actor=acme.agent, status="open")
    assert ticket_mail(acme, template="ticket_solved") == []
    ticket_update(ticket=ticket, actor=acme.agent, status="solved")
    assert ticket_mail(acme, template="ticket_solved") == [("ticket_solved", "contact@acme.test")]


def test_assignment_tells_the_assignee_unless_they_took_it_themselves(acme, globex):
    ticket = open_ticket(acme)
    ticket_update(ticket=ticket, actor=acme.agent, assignee_id=acme.agent.pk)
    assert ticket_mail(acme, template="ticket_assigned") == []
    ticket_update(ticket=ticket, actor=acme.agent, assignee_id=acme.supervisor.pk)
    ticket_update(ticket=ticket, actor=acme.agent, assignee_id=None)
    assert ticket_mail(acme, template="ticket_assigned") == [
        ("ticket_assigned", "supervisor@acme.test")
    ]
    # Another tenant's agent can never be the assignee, so never gets the mail.
    with pytest.raises(ApplicationError):
        ticket_update(ticket=ticket, actor=acme.agent, assignee_id=globex.agent.pk)
    assert ticket_mail(globex) == []


def test_the_chosen_team_hears_of_new_tickets(acme, globex):
    team = team_create(
        tenant=acme.tenant,
        actor=acme.admin,
        name="First line",
        members=[acme.agent, acme.supervisor, acme.manager],
    )
    open_ticket(acme)
    assert ticket_mail(acme, template="ticket_new_for_team") == []  # not configured yet
    mail_settings_update(
        tenant=acme.tenant,
        actor=acme.admin,
        from_name="",
        from_address="",
        new_ticket_team_id=team.pk,
    )
    user_deactivate(user=acme.manager, actor=acme.admin)
    open_ticket(acme, actor=acme.agent)
    # The agent opened it themselves; the deactivated manager is not told.
    assert ticket_mail(acme, template="ticket_new_for_team") == [
        ("ticket_new_for_team", "supervisor@acme.test")
    ]
    assert ticket_mail(globex) == []


def test_another_tenants_team_cannot_be_chosen(acme, globex):
    team = Team.objects.create(tenant=globex.tenant, name="Theirs")
    with pytest.raises(ApplicationError) as refused:
        mail_settings_update(
            tenant=acme.tenant,
            actor=acme.admin,
            from_name="",
            from_address="",
            new_ticket_team_id=team.pk,
        )
    assert refused.value.field == "new_ticket_team"


def test_notify_requester_false_sends_the_requester_nothing(acme):
    team = team_create(tenant=acme.tenant, actor=acme.admin, name="Mail", members=[acme.agent])
    mail_settings_update(
        tenant=acme.tenant,
        actor=acme.admin,
        from_name="",
        from_address="",
        new_ticket_team_id=team.pk,
    )
    ticket = open_ticket(acme, actor=acme.contact, source="email", notify_requester=False)
    comment_add(ticket=ticket, actor=acme.agent, body="Auto-reply noted.", notify_requester=False)
    # Staff still hear of it: only the automatic answer to the sender is held back.
    assert ticket_mail(acme) == [("ticket_new_for_team", "agent@acme.test")]
    comment_add(ticket=ticket, actor=acme.agent, body="A person answers now.")
    assert ticket_mail(acme, template="ticket_reply") == [("ticket_reply", "contact@acme.test")]


def test_a_change_that_rolls_back_sends_nothing(acme, django_capture_on_commit_callbacks):
    ticket = open_ticket(acme)
    before = OutboundEmail.objects.count()
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        comment_add(ticket=ticket, actor=acme.agent, body="We sent a technician.")
        ticket_update(ticket=ticket, actor=acme.agent, status="solved")
        raise RuntimeError("the caller's transaction fails after the services ran")
    assert OutboundEmail.objects.count() == before
    assert callbacks == []  # nothing handed to the worker either


# Preferences and guests


def test_turned_off_notifications_are_suppressed_but_security_mail_goes(acme_tx, smtp_server):
    run_worker()  # the contacts' verification mail goes first
    email_notifications_set(user=acme_tx.contact, enabled=False)
    acme_tx.contact.refresh_from_db()
    ticket = open_ticket(acme_tx, actor=acme_tx.contact)
    password_reset_request(tenant=acme_tx.tenant, email=acme_tx.contact.email)
    run_worker()
    [ack] = OutboundEmail.objects.filter(template="ticket_created")
    assert ack.status == "suppressed" and ack.body_encrypted == ""
    subjects = [m["Subject"] for m in smtp_server.to("contact@acme.test")]
    assert "Reset your Acme password" in subjects
    assert not any("[#" in subject for subject in subjects)
    event = Event.objects.get(tenant=acme_tx.tenant, action="mail.suppressed_preference")
    assert event.target_label == str(ticket)
    assert event.details["recipient"] == "contact@acme.test"
    assert event.details["ticket"] == ticket.number
    # Turned on again, the next reply arrives.
    email_notifications_set(user=acme_tx.contact, enabled=True)
    comment_add(ticket=ticket, actor=acme_tx.agent, body="Fixed it.")
    run_worker()
    [reply] = received(smtp_server, "contact@acme.test")
    assert reply["Subject"] == f"Re: [#{ticket.number}] Printer jams on floor 3"


def test_guests_get_no_notification(acme_tx, smtp_server):
    user_update(user=acme_tx.contact, actor=None, is_guest=True)
    run_worker()
    ticket = open_ticket(acme_tx)
    comment_add(ticket=ticket, actor=acme_tx.agent, body="Hello")
    run_worker()
    statuses = set(
        OutboundEmail.objects.filter(template__in=TICKET_TEMPLATES).values_list("status", flat=True)
    )
    assert statuses == {"suppressed"}
    assert received(smtp_server, "contact@acme.test") == []
    assert Event.objects.filter(tenant=acme_tx.tenant, action="mail.suppressed_guest").count() == 2


# On the wire


def thread_ids(message) -> tuple[str, list[str]]:
    return message["In-Reply-To"], message["References"].split()


def test_a_conversation_threads_in_the_mail_client(acme_tx, smtp_server):
    run_worker()
    # A ticket that came in by email: its Message-ID is the root of the thread.
    ticket = open_ticket(
        acme_tx,
        actor=acme_tx.contact,
        source="email",
        email_message_id="<first.question@customer.example>",
    )
    comment_add(ticket=ticket, actor=acme_tx.agent, body="Which printer model is it?")
    ticket_update(ticket=ticket, actor=acme_tx.agent, status="solved")
    run_worker()
    ack, reply, solved = received(smtp_server, "contact@acme.test")
    assert ack["Subject"] == f"[#{ticket.number}] Printer jams on floor 3"
    assert (
        reply["Subject"] == solved["Subject"] == f"Re: [#{ticket.number}] Printer jams on floor 3"
    )
    root = "<first.question@customer.example>"
    assert thread_ids(ack) == (root, [root])
    assert thread_ids(reply) == (
        ack["Message-ID"],
        ["<first.question@customer.example>", ack["Message-ID"]],
    )
    assert thread_ids(solved) == (
        reply["Message-ID"],
        ["<first.question@customer.example>", ack["Message-ID"], reply["Message-ID"]],
    )
    for message in (ack, reply, solved):
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"].endswith("@acme.localhost>")
    text = reply.get_body(("plain",)).get_content()
    assert text.startswith(REPLY_ABOVE)
    assert "Which printer model is it?" in text
    assert f"http://acme.localhost:8000/portal/{ticket.number}/" in text
    assert "agent@acme.test" not in text  # the agent's address stays private
    html = reply.get_body(("html",)).get_content()
    assert f'<a href="http://acme.localhost:8000/portal/{ticket.number}/"' in html


def test_without_an_acknowledgement_the_first_reply_answers_the_opening_email(acme_tx, smtp_server):
    run_worker()
    ticket = open_ticket(
        acme_tx,
        actor=acme_tx.contact,
        source="email",
        notify_requester=False,
        email_message_id="opening@customer.example",  # brackets are added when missing
    )
    comment_add(ticket=ticket, actor=acme_tx.agent, body="Thanks, we are on it.")
    run_worker()
    [reply] = received(smtp_server, "contact@acme.test")
    assert thread_ids(reply) == ("<opening@customer.example>", ["<opening@customer.example>"])


def test_a_long_thread_keeps_its_first_and_latest_references(acme):
    ticket = open_ticket(acme)
    for n in range(12):
        comment_add(ticket=ticket, actor=acme.agent, body=f"Update {n}")
    mails = list(OutboundEmail.objects.filter(ticket=ticket).order_by("pk"))
    last = mails[-1]
    references = last.references.split()
    assert len(references) == 10
    assert references[0] == mails[0].message_id  # the acknowledgement
    assert references[1:] == [m.message_id for m in mails[-10:-1]]
    assert last.in_reply_to == mails[-2].message_id


def test_text_arrives_as_written_and_html_is_escaped(acme_tx, smtp_server):
    run_worker()
    ticket = open_ticket(acme_tx)
    body = "Use <b>bold</b> & check O'Brien's notes: 2 < 3."
    comment_add(ticket=ticket, actor=acme_tx.agent, body=body)
    run_worker()
    reply = received(smtp_server, "contact@acme.test")[-1]
    assert body in reply.get_body(("plain",)).get_content()
    html = reply.get_body(("html",)).get_content()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; check O&#x27;Brien&#x27;s notes: 2 &lt; 3." in html
    assert "<b>bold</b>" not in html


def test_agents_get_a_link_to_the_workspace(acme_tx, smtp_server):
    run_worker()
    ticket = open_ticket(acme_tx)
    ticket_update(ticket=ticket, actor=acme_tx.admin, assignee_id=acme_tx.agent.pk)
    run_worker()
    [assigned] = received(smtp_server, "agent@acme.test")
    assert assigned["Subject"] == f"[#{ticket.number}] Assigned to you: Printer jams on floor 3"
    text = assigned.get_body(("plain",)).get_content()
    assert f"http://acme.localhost:8000/tickets/{ticket.number}/" in text
    assert "It jams on every second page." in text
    assert REPLY_ABOVE not in text


def test_every_send_is_an_event_filed_under_the_ticket(acme_tx, smtp_server):
    run_worker()
    ticket = open_ticket(acme_tx)
    comment_add(ticket=ticket, actor=acme_tx.agent, body="On it.")
    run_worker()
    sent = Event.objects.filter(
        tenant=acme_tx.tenant, action="notification.sent", target_type="ticket"
    ).order_by("seq")
    assert [(e.details["template"], e.details["recipient"]) for e in sent] == [
        ("ticket_created", "contact@acme.test"),
        ("ticket_reply", "contact@acme.test"),
    ]
    assert {e.target_id for e in sent} == {str(ticket.pk)}
    assert {e.details["ticket"] for e in sent} == {ticket.number}
    assert all("On it." not in str(e.details) for e in sent)  # never the body
    assert events_verify(tenant=acme_tx.tenant).ok


# Sender


def test_the_tenants_sender_name_and_address(acme_tx, smtp_server):
    run_worker()
    mail_settings_update(
        tenant=acme_tx.tenant,
        actor=acme_tx.admin,
        from_name="Acme Support Desk",
        from_address="Help@Acme.localhost",
        new_ticket_team_id=None,
    )
    open_ticket(acme_tx)
    run_worker()
    [ack] = received(smtp_server, "contact@acme.test")
    assert ack["From"].addresses[0].display_name == "Acme Support Desk"
    assert ack["From"].addresses[0].addr_spec == "help@acme.localhost"
    # Replies must come back through the listener, to the address it routes to the ticket.
    assert ack["Reply-To"].addresses[0].addr_spec == "support@acme.localhost"


def test_the_platforms_sender_address_has_replies_go_to_the_tenant(acme_tx, smtp_server, settings):
    settings.MAIL_FROM = "noreply@helpdesk.example"
    run_worker()
    open_ticket(acme_tx)
    run_worker()
    [ack] = received(smtp_server, "contact@acme.test")
    assert ack["From"].addresses[0].addr_spec == "noreply@helpdesk.example"
    assert ack["From"].addresses[0].display_name == "Acme"
    assert ack["Reply-To"].addresses[0].addr_spec == "support@acme.localhost"


def test_the_default_sender_needs_no_reply_to(acme_tx, smtp_server):
    run_worker()
    open_ticket(acme_tx)
    run_worker()
    [ack] = received(smtp_server, "contact@acme.test")
    assert ack["From"].addresses[0].addr_spec == "support@acme.localhost"
    assert ack["Reply-To"] is None
