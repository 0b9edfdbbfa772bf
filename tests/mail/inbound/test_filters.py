"""Filters: duplicates, automatic mail, the access list, the per-sender rate and account limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from keydesk.access.services import rule_create
from keydesk.accounts.models import User
from keydesk.eventlog.models import Event
from keydesk.mail.inbound.addresses import inbound_settings_update
from keydesk.mail.inbound.process import inbound_sweep
from keydesk.mail.inbound.routing import RATE_WINDOW
from keydesk.mail.models import InboundEmail, OutboundEmail
from keydesk.tickets.models import Comment, Ticket
from tests.conftest import run_worker

from .conftest import mail, stored

pytestmark = pytest.mark.django_db(transaction=True)


def tickets(world) -> list[Ticket]:
    return list(Ticket.objects.filter(tenant=world.tenant).order_by("number"))


def test_the_same_message_delivered_twice_makes_one_ticket(acme_tx, listener):
    message = mail(sender="contact@acme.test")
    assert listener.send(message) == {}
    run_worker()
    assert listener.send(message) == {}  # the sending server was not sure we had it
    run_worker()
    [ticket] = tickets(acme_tx)
    first, second = stored(acme_tx)
    assert first.ticket == second.ticket == ticket
    assert second.status == "processed"
    assert second.reason == f"A second delivery of message {first.pk}: nothing added."
    # Only the first counts as applied, and the log says what happened to the second.
    assert Event.objects.filter(tenant=acme_tx.tenant, action="mail.processed").count() == 2


def test_a_duplicate_reply_adds_one_comment(acme_tx, listener):
    ticket = Ticket.objects.create(
        tenant=acme_tx.tenant, number=1, subject="Old", requester=acme_tx.contact
    )
    reply = mail(sender="contact@acme.test", subject="[#1] again", body="Once")
    for _ in range(2):
        listener.send(reply)
        run_worker()
    assert Comment.objects.filter(ticket=ticket).count() == 1


def test_without_a_message_id_identical_bytes_count_as_one_message(acme_tx, listener):
    message = mail(sender="contact@acme.test", message_id="")
    listener.send(message)
    listener.send(message)
    run_worker()
    assert len(tickets(acme_tx)) == 1
    # Different bytes without a Message-ID are different messages.
    listener.send(mail(sender="contact@acme.test", message_id="", body="Another one"))
    run_worker()
    assert len(tickets(acme_tx)) == 2


def test_the_same_message_id_in_two_tenants_is_two_messages(acme_tx, globex, listener):
    message = mail(sender="someone@customer.test")
    listener.send(message, to=["support@acme.localhost"])
    listener.send(message, to=["support@globex.localhost"])
    run_worker()
    assert len(tickets(acme_tx)) == len(tickets(globex)) == 1


AUTOMATIC = [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated"},
    {"Precedence": "bulk"},
    {"Precedence": "list"},
    {"Precedence": "junk"},
    {"X-Autoreply": "yes"},
    {"X-Auto-Response-Suppress": "All"},
]


@pytest.mark.parametrize(
    "headers", AUTOMATIC, ids=lambda h: "-".join(h.items().__iter__().__next__())
)
def test_automatic_mail_makes_a_ticket_but_is_never_answered(acme_tx, listener, headers):
    listener.send(mail(sender="Out Of Office <ooo@customer.test>", headers=headers))
    run_worker()
    [ticket] = tickets(acme_tx)
    [email] = stored(acme_tx)
    assert email.status == "processed" and email.auto_submitted
    # No acknowledgement, and no verification mail either: both would answer a machine.
    assert not OutboundEmail.objects.filter(recipient="ooo@customer.test").exists()
    # An automatic reply on the ticket is added, and again nobody is told.
    listener.send(
        mail(
            sender="ooo@customer.test",
            subject=f"Re: [#{ticket.number}]",
            body="I am away",
            headers=headers,
        )
    )
    run_worker()
    assert Comment.objects.get(ticket=ticket).body == "I am away"
    assert not OutboundEmail.objects.filter(recipient="ooo@customer.test").exists()


def test_auto_submitted_no_is_ordinary_mail(acme_tx, listener):
    listener.send(mail(sender="contact@acme.test", headers={"Auto-Submitted": "no"}))
    run_worker()
    [ticket] = tickets(acme_tx)
    assert OutboundEmail.objects.filter(ticket=ticket, template="ticket_created").exists()


def test_a_contact_made_by_automatic_mail_is_verified_on_their_first_own_mail(acme_tx, listener):
    listener.send(mail(sender="ooo@customer.test", headers={"Auto-Submitted": "auto-replied"}))
    run_worker()
    person = User.objects.get(tenant=acme_tx.tenant, email="ooo@customer.test")
    assert not OutboundEmail.objects.filter(recipient_user=person).exists()
    listener.send(mail(sender="ooo@customer.test", subject="A real question"))
    run_worker()
    assert OutboundEmail.objects.filter(recipient_user=person, template="verify_email").count() == 1
    listener.send(mail(sender="ooo@customer.test", subject="Another question"))
    run_worker()
    assert OutboundEmail.objects.filter(recipient_user=person, template="verify_email").count() == 1


def test_the_access_list_rejects_mail_without_any_reply(acme_tx, globex, listener):
    rule_create(
        tenant=acme_tx.tenant,
        actor=None,
        list_type="deny",
        kind="domain",
        value="spam.test",
        actions=["ticket.email"],
    )
    listener.send(mail(sender="Spammer <bob@spam.test>"))
    listener.send(mail(sender="Spammer <bob@spam.test>"), to=["support@globex.localhost"])
    run_worker()
    [email] = stored(acme_tx)
    assert email.status == "rejected"
    assert email.reason.startswith("Refused by the access list: ")
    assert not tickets(acme_tx)
    assert not User.objects.filter(tenant=acme_tx.tenant, email="bob@spam.test").exists()
    assert not OutboundEmail.objects.filter(recipient="bob@spam.test", tenant=acme_tx.tenant)
    denied = Event.objects.get(tenant=acme_tx.tenant, action="access.denied")
    assert denied.details["refused_action"] == "ticket.email"
    assert Event.objects.filter(tenant=acme_tx.tenant, action="mail.rejected").count() == 1
    # The other tenant's list is its own: globex takes the same mail.
    assert len(tickets(globex)) == 1


def test_the_access_list_judges_the_content_language(acme_tx, listener):
    rule_create(
        tenant=acme_tx.tenant,
        actor=None,
        list_type="deny",
        kind="language",
        value="xx",
        actions=["ticket.email"],
    )
    listener.send(mail(sender="contact@acme.test", headers={"Content-Language": "xx-YY"}))
    listener.send(mail(sender="contact@acme.test", headers={"Content-Language": "en"}))
    run_worker()
    assert [e.status for e in stored(acme_tx)] == ["rejected", "processed"]


def test_over_the_hourly_rate_a_sender_is_held_then_processed(acme_tx, globex, listener):
    inbound_settings_update(tenant=acme_tx.tenant, actor=acme_tx.admin, sender_hourly_limit=2)
    for n in range(3):
        listener.send(mail(sender="contact@acme.test", subject=f"Message {n}"))
    listener.send(mail(sender="other@acme.test", subject="Someone else"))
    run_worker()
    statuses = {e.subject: e.status for e in stored(acme_tx)}
    assert statuses == {
        "Message 0": "processed",
        "Message 1": "processed",
        "Message 2": "held",
        "Someone else": "processed",
    }
    held = InboundEmail.objects.get(tenant=acme_tx.tenant, subject="Message 2")
    first = InboundEmail.objects.get(tenant=acme_tx.tenant, subject="Message 0")
    assert held.held_until == first.processed_at + RATE_WINDOW
    assert held.reason == "Over the limit of 2 messages per sender per hour."
    assert Event.objects.filter(tenant=acme_tx.tenant, action="mail.held").count() == 1
    # Nothing happens before it is due …
    assert inbound_sweep(now=held.held_until - timedelta(seconds=1)) == []
    # … and once the hour has passed, the worker's sweep queues it and it becomes a ticket.
    InboundEmail.objects.filter(tenant=acme_tx.tenant, status="processed").update(
        processed_at=timezone.now() - RATE_WINDOW - timedelta(seconds=1)
    )
    InboundEmail.objects.filter(pk=held.pk).update(held_until=timezone.now())
    assert inbound_sweep() == [held.pk]
    run_worker()
    held.refresh_from_db()
    assert held.status == "processed"
    assert len(tickets(acme_tx)) == 4
    # The other tenant's limit is untouched by acme's setting.
    for n in range(3):
        listener.send(
            mail(sender="contact@acme.test", subject=f"G{n}"), to=["support@globex.localhost"]
        )
    run_worker()
    assert {e.status for e in stored(globex)} == {"processed"}


def test_new_account_limits_hold_mail_until_they_allow_it(acme_tx, settings, listener):
    settings.NEW_ACCOUNT_DAYS = 30
    settings.NEW_ACCOUNT_TICKETS_PER_DAY = 1
    listener.send(mail(sender="contact@acme.test", subject="First"))
    listener.send(mail(sender="contact@acme.test", subject="Second"))
    run_worker()
    first, second = stored(acme_tx)
    assert first.status == "processed"
    assert second.status == "held" and second.reason.startswith("New-account limits: ")
    assert second.held_until > timezone.now()
    assert Event.objects.filter(tenant=acme_tx.tenant, action="tenant.limited_refused").count() == 1
    assert not inbound_sweep()  # not due yet
    # The next day (or once an operator lifts the limits) the worker processes it.
    settings.NEW_ACCOUNT_TICKETS_PER_DAY = 2
    InboundEmail.objects.filter(pk=second.pk).update(held_until=timezone.now())
    assert inbound_sweep() == [second.pk]
    run_worker()
    second.refresh_from_db()
    assert second.status == "processed"
    assert [t.subject for t in tickets(acme_tx)] == ["First", "Second"]
