"""The outbox: mail is a row first, delivered by the worker over real SMTP, with retries and events."""

import pytest

from keydesk.accounts.services import user_update
from keydesk.eventlog.models import Event
from keydesk.eventlog.services import events_verify
from keydesk.mail.models import OutboundEmail
from keydesk.mail.services import (
    ERASED_BODY,
    MAX_ATTEMPTS,
    email_bodies,
    email_deliver,
    email_queue,
)
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db(transaction=True)


def _queue(world, to=None, **kwargs):
    return email_queue(
        tenant=world.tenant,
        template="notice",
        to=to or world.agent,
        context={"text": "Your ticket moved."},
        **kwargs,
    )


def test_queued_mail_is_delivered_by_the_worker(acme_tx, smtp_server, test_templates):
    email = _queue(acme_tx)
    assert email.status == "queued"
    assert smtp_server.to("agent@acme.test") == []  # nothing leaves inside the request
    run_worker()
    email.refresh_from_db()
    assert email.status == "sent" and email.attempts == 1
    [message] = smtp_server.to("agent@acme.test")
    assert message["To"] == "agent@acme.test"
    assert message["Subject"] == "Hello from Acme"
    assert (
        message["From"] == '"Acme" <support@acme.localhost>'
        or message["From"] == "Acme <support@acme.localhost>"
    )
    assert message["Message-ID"] == email.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Your ticket moved." in text and "<b>not html</b>" in text
    assert "&lt;b&gt;not html&lt;/b&gt;" in html
    sent = Event.objects.filter(
        tenant=acme_tx.tenant, action="notification.sent", details__message_id=email.message_id
    ).get()
    assert sent.details["message_id"] == email.message_id
    assert events_verify(tenant=acme_tx.tenant).ok


def test_body_is_encrypted_at_rest(acme_tx, test_templates):
    email = _queue(acme_tx)
    assert "Your ticket moved." not in email.body_encrypted
    assert "Your ticket moved." in email_bodies(email)["text"]


def test_sensitive_body_is_erased_after_delivery(acme_tx, smtp_server, test_templates):
    email = _queue(acme_tx, sensitive=True)
    run_worker()
    email.refresh_from_db()
    assert email.status == "sent"
    assert email_bodies(email)["text"] == ERASED_BODY
    assert (
        "Your ticket moved."
        in smtp_server.to("agent@acme.test")[0].get_body(("plain",)).get_content()
    )


def test_guests_receive_nothing(acme_tx, smtp_server, test_templates):
    user_update(user=acme_tx.agent, actor=None, is_guest=True)
    acme_tx.agent.refresh_from_db()
    email = _queue(acme_tx)
    run_worker()
    email.refresh_from_db()
    assert email.status == "suppressed"
    assert smtp_server.to("agent@acme.test") == []
    assert Event.objects.filter(tenant=acme_tx.tenant, action="mail.suppressed_guest").exists()


def test_without_smtp_mail_is_kept_in_the_outbox(acme_tx, settings, test_templates):
    settings.SMTP_URL = None
    email = _queue(acme_tx)
    run_worker()
    email.refresh_from_db()
    assert email.status == "kept"
    assert Event.objects.filter(tenant=acme_tx.tenant, action="notification.kept").exists()


def test_temporary_failure_is_retried_then_delivered(acme_tx, smtp_server, test_templates):
    run_worker()  # the contacts' verification mail goes first
    smtp_server.fail_next = 1
    email = _queue(acme_tx)
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 1)
    assert "451" in email.last_error
    # The retry is scheduled for later; deliver it now as the worker would when it is due.
    assert email_deliver(email_id=email.pk) == "sent"
    assert len(smtp_server.to("agent@acme.test")) == 1


def test_gives_up_after_the_last_attempt(acme_tx, smtp_server, test_templates):
    run_worker()  # the contacts' verification mail goes first
    smtp_server.fail_next = MAX_ATTEMPTS
    email = _queue(acme_tx)
    run_worker()
    for _ in range(MAX_ATTEMPTS - 1):
        email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", MAX_ATTEMPTS)
    assert Event.objects.filter(tenant=acme_tx.tenant, action="notification.failed").exists()
    assert smtp_server.to("agent@acme.test") == []


def test_a_message_is_sent_once_even_if_delivered_twice(acme_tx, smtp_server, test_templates):
    email = _queue(acme_tx)
    run_worker()
    assert email_deliver(email_id=email.pk) == "sent"
    assert len(smtp_server.to("agent@acme.test")) == 1
    assert OutboundEmail.objects.get(pk=email.pk).attempts == 1
