"""Routing: new tickets, replies matched by threading headers or `[#123]`, who may add what."""

import pytest
from django.utils import timezone

from keydesk.accounts.models import User
from keydesk.accounts.services import user_deactivate
from keydesk.eventlog.models import Event
from keydesk.eventlog.services import events_verify
from keydesk.mail.models import InboundEmail, OutboundEmail
from keydesk.tickets.models import Comment, Ticket
from keydesk.tickets.services import comment_add, ticket_create, ticket_update
from tests.conftest import run_worker

from .conftest import mail

pytestmark = pytest.mark.django_db(transaction=True)


def deliver(listener, message, **kwargs) -> InboundEmail:
    """Send one message through the listener, run the worker; the stored message after it."""
    assert listener.send(message, **kwargs) == {}
    run_worker()
    return InboundEmail.objects.order_by("-pk").first()


def acknowledgement(ticket) -> OutboundEmail:
    return OutboundEmail.objects.get(ticket=ticket, template="ticket_created")


def test_an_unknown_sender_becomes_an_unverified_contact_with_a_verification_mail(
    acme_tx, listener
):
    deliver(
        listener,
        mail(sender="Dana Doe <Dana@Customer.test>", headers={"Content-Language": "fr-CA, en"}),
    )
    dana = User.objects.get(tenant=acme_tx.tenant, email="dana@customer.test")
    assert (dana.kind, dana.name, dana.language) == ("contact", "Dana Doe", "fr-CA")
    assert dana.email_verified_at is None
    assert OutboundEmail.objects.filter(recipient_user=dana, template="verify_email").count() == 1
    ticket = Ticket.objects.get(tenant=acme_tx.tenant)
    assert ticket.requester == dana
    # The acknowledgement with the ticket's reference, threaded under the customer's mail.
    ack = acknowledgement(ticket)
    assert ack.recipient == "dana@customer.test"
    assert f"[#{ticket.number}]" in ack.subject
    assert ack.in_reply_to == ticket.email_message_id
    assert Event.objects.get(tenant=acme_tx.tenant, action="ticket.created").actor == dana
    assert events_verify(tenant=acme_tx.tenant).ok


def test_a_known_contact_opens_a_ticket_without_a_new_verification(acme_tx, listener):
    people = User.objects.filter(tenant=acme_tx.tenant).count()
    verifications = OutboundEmail.objects.filter(template="verify_email").count()
    deliver(listener, mail(sender="contact@acme.test"))
    ticket = Ticket.objects.get(tenant=acme_tx.tenant)
    assert ticket.requester == acme_tx.contact
    assert User.objects.filter(tenant=acme_tx.tenant).count() == people
    assert OutboundEmail.objects.filter(template="verify_email").count() == verifications


def test_a_reply_to_the_acknowledgement_is_a_comment_on_the_ticket(acme_tx, listener):
    first = mail(sender="contact@acme.test", subject="VPN drops")
    deliver(listener, first)
    ticket = Ticket.objects.get(tenant=acme_tx.tenant)
    ack = acknowledgement(ticket)
    reply = mail(
        sender="contact@acme.test",
        subject="Re: something else entirely",
        body=(
            "It happened again at 10:00.\n\n"
            "On Mon, 1 Jan 2024, Acme <support@acme.localhost> wrote:\n"
            "> Thanks for your message.\n> We will reply soon.\n"
        ),
        headers={
            "In-Reply-To": ack.message_id,
            "References": f"{first['Message-ID']} {ack.message_id}",
        },
    )
    email = deliver(listener, reply)
    [comment] = Comment.objects.filter(ticket=ticket)
    assert comment.body == "It happened again at 10:00."
    assert comment.is_public and comment.author == acme_tx.contact
    assert email.comment == comment and email.ticket == ticket
    assert email.reason == f"Reply added to #{ticket.number}."
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 1


@pytest.mark.parametrize("how", ["references", "original_message_id", "subject"])
def test_replies_are_found_by_references_the_original_message_or_the_subject(
    acme_tx, listener, how
):
    first = mail(sender="contact@acme.test", subject="VPN drops")
    deliver(listener, first)
    ticket = Ticket.objects.get(tenant=acme_tx.tenant)
    headers, subject = {}, "Re: VPN"
    if how == "references":
        headers["References"] = f"<unknown@elsewhere.test> {acknowledgement(ticket).message_id}"
    elif how == "original_message_id":
        headers["In-Reply-To"] = first["Message-ID"]
    else:
        subject = f"Re: [#{ticket.number}] VPN drops"
    deliver(
        listener,
        mail(sender="contact@acme.test", subject=subject, body="Still broken.", headers=headers),
    )
    assert [c.body for c in Comment.objects.filter(ticket=ticket)] == ["Still broken."]


def test_a_reply_from_someone_else_opens_their_own_ticket(acme_tx, listener):
    ticket = ticket_create(tenant=acme_tx.tenant, actor=acme_tx.contact, subject="Mine")
    email = deliver(
        listener,
        mail(sender="other@acme.test", subject=f"Re: [#{ticket.number}] Mine", body="Me too"),
    )
    assert not Comment.objects.filter(ticket=ticket).exists()
    theirs = Ticket.objects.exclude(pk=ticket.pk).get(tenant=acme_tx.tenant)
    assert theirs.requester == acme_tx.other_contact
    assert email.reason == (
        f"New ticket #{theirs.number} (the sender is not the requester of #{ticket.number})."
    )


def test_a_reply_to_a_closed_ticket_opens_a_new_one(acme_tx, listener):
    ticket = ticket_create(tenant=acme_tx.tenant, actor=acme_tx.contact, subject="Old")
    ticket_update(ticket=ticket, actor=acme_tx.agent, status="closed")
    deliver(listener, mail(sender="contact@acme.test", subject=f"Re: [#{ticket.number}] Old"))
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 2
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_mail_from_staff_is_only_ever_an_internal_note(acme_tx, listener):
    ticket = ticket_create(tenant=acme_tx.tenant, actor=acme_tx.contact, subject="Help")
    mailed_before = OutboundEmail.objects.filter(recipient=acme_tx.contact.email).count()
    email = deliver(
        listener,
        mail(
            sender="agent@acme.test",
            subject=f"Re: [#{ticket.number}] Help",
            body="Send me your password",
        ),
    )
    [note] = Comment.objects.filter(ticket=ticket)
    assert not note.is_public and note.author == acme_tx.agent
    assert email.status == "processed"
    # A forged staff address cannot make the helpdesk mail the customer.
    assert OutboundEmail.objects.filter(recipient=acme_tx.contact.email).count() == mailed_before
    # And it opens no ticket on its own.
    email = deliver(listener, mail(sender="agent@acme.test", subject="Fresh"))
    assert email.status == "rejected"
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 1


def test_a_deactivated_contact_is_rejected(acme_tx, listener):
    user_deactivate(user=acme_tx.contact, actor=None)
    email = deliver(listener, mail(sender="contact@acme.test"))
    assert (email.status, email.reason) == ("rejected", "The sender's account is deactivated.")
    assert not Ticket.objects.filter(tenant=acme_tx.tenant).exists()
    assert Event.objects.filter(tenant=acme_tx.tenant, action="mail.rejected").count() == 1


def test_a_reply_naming_another_tenants_ticket_never_lands_there(acme_tx, globex, listener):
    theirs = ticket_create(
        tenant=globex.tenant,
        actor=globex.agent,
        subject="Globex secret",
        requester_email="contact@acme.test",
    )
    their_ack = acknowledgement(theirs)
    deliver(
        listener,
        mail(
            sender="contact@acme.test",
            subject=f"Re: [#{theirs.number}] Globex secret",
            body="Reply",
            headers={
                "In-Reply-To": their_ack.message_id,
                "References": theirs.email_message_id or their_ack.message_id,
            },
        ),
    )
    assert not Comment.objects.filter(ticket=theirs).exists()
    mine = Ticket.objects.get(tenant=acme_tx.tenant)
    assert mine.requester == acme_tx.contact and mine.description == "Reply"


def test_quoted_text_is_trimmed_from_replies_only(acme_tx, listener):
    quoted = "New text.\n\n-----Original Message-----\nFrom: Acme\nOld text."
    deliver(listener, mail(sender="contact@acme.test", subject="Forwarded", body=quoted))
    ticket = Ticket.objects.get(tenant=acme_tx.tenant)
    assert ticket.description == quoted  # a new ticket keeps everything
    deliver(listener, mail(sender="contact@acme.test", subject=f"[#{ticket.number}]", body=quoted))
    assert Comment.objects.get(ticket=ticket).body == "New text."


def test_a_reply_to_an_agent_reply_notifies_nobody_but_reopens(acme_tx, listener):
    ticket = ticket_create(tenant=acme_tx.tenant, actor=acme_tx.contact, subject="Help")
    comment_add(ticket=ticket, actor=acme_tx.agent, body="Try turning it off and on.")
    ticket_update(ticket=ticket, actor=acme_tx.agent, status="pending")
    reply = OutboundEmail.objects.get(ticket=ticket, template="ticket_reply")
    deliver(
        listener,
        mail(
            sender="contact@acme.test",
            body="Done, works.",
            headers={"In-Reply-To": reply.message_id},
        ),
    )
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert Comment.objects.filter(ticket=ticket).last().body == "Done, works."


def test_processing_is_recorded_in_the_event_log(acme_tx, listener):
    email = deliver(listener, mail(sender="contact@acme.test"))
    event = Event.objects.get(tenant=acme_tx.tenant, action="mail.processed")
    assert event.target_id == str(email.pk)
    assert event.details["ticket"] == email.ticket.number
    assert event.details["kind"] == "new_ticket"
    assert email.processed_at <= timezone.now()


def test_the_helpdesks_own_mail_coming_back_is_a_loop(acme_tx, listener):
    own = mail(sender="Acme <support@acme.localhost>", headers={"Auto-Submitted": "auto-generated"})
    email = deliver(listener, own)
    assert email.status == "rejected"
    assert email.reason == "Sent from this helpdesk's own address: a mail loop."
    assert not User.objects.filter(tenant=acme_tx.tenant, email="support@acme.localhost").exists()
    assert not Ticket.objects.filter(tenant=acme_tx.tenant).exists()
