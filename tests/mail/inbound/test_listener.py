"""The SMTP listener: who it accepts mail for, and 250 only once the message is stored."""

import smtplib
from email.policy import SMTP

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from keydesk.core.crypto import decrypt_bytes
from keydesk.eventlog.models import Event
from keydesk.mail.inbound.addresses import inbound_address_add
from keydesk.mail.models import InboundEmail
from keydesk.tenants.models import Tenant, TenantDomain
from keydesk.tickets.models import Ticket
from tests.conftest import run_worker

from .conftest import mail, stored

pytestmark = pytest.mark.django_db(transaction=True)

PROCESS_TASK = "keydesk.mail.inbound.tasks.process_inbound_mail"


def rcpt(listener, address: str) -> tuple[int, bytes]:
    with listener.connect() as client:
        client.ehlo()
        client.mail("carla@customer.test")
        return client.rcpt(address)


def test_a_message_for_support_becomes_a_ticket(acme_tx, listener):
    message = mail(subject="Printer on fire", body="Floor 3, right now.")
    assert listener.send(message) == {}
    # Stored before the 250, with its processing queued in the same commit.
    [email] = stored(acme_tx)
    assert email.status == "received"
    assert decrypt_bytes(email.raw_encrypted) == message.as_bytes(policy=SMTP)
    assert b"Floor 3" not in bytes(email.raw_encrypted)  # encrypted at rest
    assert email.envelope_from == "carla@customer.test"
    assert email.recipients == "support@acme.localhost"
    assert email.peer == "127.0.0.1"
    assert DBTaskResult.objects.filter(task_path=PROCESS_TASK).count() == 1
    assert Event.objects.filter(tenant=acme_tx.tenant, action="mail.received").count() == 1
    run_worker()
    email.refresh_from_db()
    assert email.status == "processed"
    ticket = Ticket.objects.get(tenant=acme_tx.tenant)
    assert (ticket.subject, ticket.description, ticket.source) == (
        "Printer on fire",
        "Floor 3, right now.",
        "email",
    )
    assert ticket.email_message_id == message["Message-ID"]
    assert email.ticket == ticket and email.reason == f"New ticket #{ticket.number}."


def test_unknown_recipients_are_refused_at_rcpt(acme_tx, globex, listener):
    assert rcpt(listener, "support@acme.localhost")[0] == 250
    for address in (
        "sales@acme.localhost",  # only support@ is built in
        "support@nobody.localhost",  # no such tenant
        "support@localhost",
        "support@x.acme.localhost",
        "someone@example.com",
    ):
        code, text = rcpt(listener, address)
        assert (code, text) == (550, b"5.1.1 No such mailbox here"), address
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        listener.send(mail(to="sales@acme.localhost"), to=["sales@acme.localhost"])
    assert InboundEmail.objects.count() == 0


def test_custom_domains_and_added_addresses_receive_mail(acme_tx, globex, listener):
    TenantDomain.objects.create(tenant=acme_tx.tenant, domain="help.acme.example")
    inbound_address_add(tenant=acme_tx.tenant, actor=acme_tx.admin, address="Help@Acme.Example")
    assert rcpt(listener, "support@help.acme.example")[0] == 250
    assert rcpt(listener, "HELP@acme.example")[0] == 250
    assert rcpt(listener, "other@help.acme.example")[0] == 550


def test_a_suspended_tenant_receives_nothing(acme_tx, listener):
    Tenant.objects.filter(pk=acme_tx.tenant.pk).update(status="suspended")
    assert rcpt(listener, "support@acme.localhost")[0] == 550


def test_a_message_for_two_tenants_is_stored_once_for_each(acme_tx, globex, listener):
    to = ["support@acme.localhost", "support@globex.localhost"]
    assert listener.send(mail(to=", ".join(to)), to=to) == {}
    run_worker()
    acme_ticket = Ticket.objects.get(tenant=acme_tx.tenant)
    globex_ticket = Ticket.objects.get(tenant=globex.tenant)
    assert acme_ticket.subject == globex_ticket.subject == "Printer on fire"
    assert acme_ticket.requester.tenant == acme_tx.tenant
    assert globex_ticket.requester.tenant == globex.tenant
    [acme_email], [globex_email] = stored(acme_tx), stored(globex)
    assert acme_email.recipients == "support@acme.localhost"
    assert globex_email.recipients == "support@globex.localhost"


def test_a_message_over_the_size_limit_is_refused(acme_tx, settings, start_listener):
    settings.INBOUND_MAX_MB = 1
    listener = start_listener()
    big = mail(body=("y" * 76 + "\n") * 15_000).as_bytes(policy=SMTP)  # about 1.2 MB
    # A client that announces the size is refused at MAIL FROM already.
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        listener.send(big)
    assert refused.value.smtp_code == 552
    # One that does not (plain SMTP) is refused at the end of DATA.
    with listener.connect() as client:
        client.helo()
        client.mail("carla@customer.test")
        client.rcpt("support@acme.localhost")
        assert client.data(big)[0] == 552
    assert InboundEmail.objects.count() == 0
    assert listener.send(mail()) == {}  # the next message is fine


def test_storing_fails_451_and_the_retry_is_stored_once(acme_tx, listener):
    message = mail()
    # A real failure of the database under the listener: its table is gone for a moment.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE mail_inboundemail RENAME TO mail_inboundemail_away")
    try:
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            listener.send(message)
        assert deferred.value.smtp_code == 451
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE mail_inboundemail_away RENAME TO mail_inboundemail")
    assert InboundEmail.objects.count() == 0
    assert not DBTaskResult.objects.filter(task_path=PROCESS_TASK).exists()
    assert not Event.objects.filter(action="mail.received").exists()
    # The sending server tries again later: now it is stored and becomes one ticket.
    assert listener.send(message) == {}
    run_worker()
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 1


def test_a_bounce_with_the_null_sender_is_accepted(acme_tx, listener):
    assert listener.send(mail(sender="MAILER-DAEMON@remote.test"), sender="") == {}
    [email] = stored(acme_tx)
    assert email.envelope_from == ""
    run_worker()
    email.refresh_from_db()
    assert email.status == "processed" and email.auto_submitted


def test_too_many_recipients(acme_tx, listener):
    with listener.connect() as client:
        client.ehlo()
        client.mail("carla@customer.test")
        for _ in range(100):
            assert client.rcpt("support@acme.localhost")[0] == 250
        assert client.rcpt("support@acme.localhost")[0] == 452
