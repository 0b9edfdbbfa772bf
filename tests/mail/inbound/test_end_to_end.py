"""Real SMTP on both sides: a customer's mail in, the helpdesk's answers out to a relay, and back."""

from email.utils import make_msgid

import pytest

from keydesk.eventlog.models import Event
from keydesk.tickets.models import Comment, Ticket
from tests.conftest import run_worker

from .conftest import mail

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "dana@customer.test"


def ticket_mail(inbox) -> list:
    """What the relay got for the customer about tickets (not the verification mail)."""
    return [m for m in inbox.to(CUSTOMER) if "[#" in m["Subject"]]


def reply_to(received, text: str):
    """The customer's answer to `received`, as a mail client writes it: quoting it below."""
    quoted = "\n".join(
        f"> {line}" for line in received.get_body(("plain",)).get_content().splitlines()
    )
    return mail(
        sender=f"Dana Doe <{CUSTOMER}>",
        to=str(received["Reply-To"] or received["From"]),
        subject=f"Re: {received['Subject']}",
        body=f"{text}\n\nOn Tue, 3 Mar 2026 at 10:00, Acme wrote:\n{quoted}\n",
        message_id=make_msgid(domain="customer.test"),
        headers={
            "In-Reply-To": received["Message-ID"],
            "References": f"{received['References'] or ''} {received['Message-ID']}".strip(),
        },
    )


def test_a_conversation_by_mail(acme_tx, listener, smtp_server):
    # 1. The customer writes in.
    first = mail(sender=f"Dana Doe <{CUSTOMER}>", subject="VPN drops", body="Every 5 minutes.")
    assert listener.send(first) == {}
    run_worker()
    ticket = Ticket.objects.get(tenant=acme_tx.tenant)
    assert (ticket.subject, ticket.source, ticket.requester.email) == (
        "VPN drops",
        "email",
        CUSTOMER,
    )
    # 2. The acknowledgement reaches the relay, threaded under the customer's message.
    [ack] = ticket_mail(smtp_server)
    assert ack["Subject"] == f"[#{ticket.number}] VPN drops"
    assert ack["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in ack["References"]
    assert ack["Auto-Submitted"] == "auto-generated"
    assert ack["Message-ID"]
    assert len(smtp_server.to(CUSTOMER)) == 2  # and the verification mail of a new contact
    # 3. The customer answers the acknowledgement: a comment on the same ticket, quote trimmed.
    answer = reply_to(ack, "It also drops on the office wifi.")
    assert listener.send(answer) == {}
    run_worker()
    [comment] = Comment.objects.filter(ticket=ticket)
    assert comment.body == "It also drops on the office wifi."
    assert comment.author == ticket.requester and comment.is_public
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 1
    assert len(ticket_mail(smtp_server)) == 1  # nobody is told of their own reply
    # 4. An agent replies on the ticket page; the reply reaches the customer, in the thread.
    agent = acme_tx.client(acme_tx.agent)
    response = agent.post(
        f"/tickets/{ticket.number}/reply", {"reply-body": "Please update the client."}
    )
    assert response.status_code == 302
    run_worker()
    ack, reply = ticket_mail(smtp_server)
    assert "Please update the client." in reply.get_body(("plain",)).get_content()
    assert reply["In-Reply-To"] == ack["Message-ID"]
    assert reply["References"].split()[0] == first["Message-ID"]
    # 5. And the customer's answer to that lands on the ticket too.
    assert listener.send(reply_to(reply, "Updated, works now. Thanks!")) == {}
    run_worker()
    assert [c.body for c in Comment.objects.filter(ticket=ticket)] == [
        "It also drops on the office wifi.",
        "Please update the client.",
        "Updated, works now. Thanks!",
    ]
    # The event log answers "was a notification sent to the customer?".
    sent = Event.objects.filter(tenant=acme_tx.tenant, action="notification.sent")
    assert {e.details["template"] for e in sent} >= {"ticket_created", "ticket_reply"}
