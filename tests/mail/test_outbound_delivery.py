"""Delivery over real SMTP: relay down, temporary and permanent refusals, TLS and login, and
messages a stopped worker left behind."""

import asyncio
import datetime
import ipaddress
import os
import signal
import ssl
import subprocess
import sys
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from keydesk.core import outbox
from keydesk.core.schedule import FREQUENT_EVERY, FREQUENT_JOBS, enqueue_due_jobs
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from keydesk.mail.services import (
    RETRY_WINDOW,
    email_deliver_due,
    email_queue,
    email_recover_stranded,
)
from keydesk.settings import _smtp_settings
from keydesk.sms.models import OutboundSms
from keydesk.sms.services import sms_queue, sms_recover_stranded
from tests.conftest import Inbox, _free_port, run_worker

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The SMTPS relay takes a login on a connection that is all TLS; aiosmtpd warns anyway.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]
LATER = timezone.timedelta(minutes=11)


def _queue(world, to="customer@example.com"):
    return email_queue(
        tenant=world.tenant, template="notice", to=to, context={"text": "Your ticket moved."}
    )


def make_due() -> None:
    """Time passes: every task and mail scheduled for later is due now, as after its back-off."""
    now = timezone.now()
    DBTaskResult.objects.filter(status="READY").update(run_after=now)
    OutboundEmail.objects.filter(status="queued").update(next_attempt_at=now)


def use_smtp_url(settings, url: str) -> None:
    """Point delivery at `url`, read exactly as KEYDESK_SMTP_URL is at start-up."""
    settings.SMTP_URL = url
    for key, value in _smtp_settings(url).items():
        setattr(settings, key, value)


@pytest.fixture(autouse=True)
def _templates(test_templates):
    pass


@pytest.fixture
def quiet_contacts(acme_tx, smtp_server):
    """acme with its contacts' verification mail already delivered."""
    run_worker()
    smtp_server.messages.clear()
    return acme_tx


# Delivery runs

DELIVERY_TASK = "keydesk.mail.tasks.deliver_queued_email"


def _waiting_runs():
    return DBTaskResult.objects.filter(task_path=DELIVERY_TASK, status="READY")


def test_a_burst_of_mail_waits_for_one_delivery_run(quiet_contacts, smtp_server):
    emails = [_queue(quiet_contacts, to=f"person{i}@example.com") for i in range(5)]
    assert _waiting_runs().count() == 1
    run_worker()
    assert {e.status for e in OutboundEmail.objects.filter(pk__in=[e.pk for e in emails])} == {
        "sent"
    }
    assert all(len(smtp_server.to(f"person{i}@example.com")) == 1 for i in range(5))
    # Mail queued once that run has started gets a run of its own.
    late = _queue(quiet_contacts, to="late@example.com")
    assert _waiting_runs().count() == 1
    run_worker()
    late.refresh_from_db()
    assert late.status == "sent"


def test_mail_stamped_by_a_clock_a_little_ahead_is_not_left_behind(quiet_contacts, smtp_server):
    email = _queue(quiet_contacts)
    ahead = timezone.now() + timezone.timedelta(seconds=2)  # the web host's clock runs ahead
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=ahead)
    run_worker()
    email.refresh_from_db()
    assert email.status == "sent"


def test_a_run_past_its_time_hands_the_rest_to_its_successor(quiet_contacts, smtp_server):
    for i in range(3):
        _queue(quiet_contacts, to=f"person{i}@example.com")
    _waiting_runs().delete()
    assert email_deliver_due(seconds=0) == 1  # out of time after the first
    assert _waiting_runs().count() == 1
    assert OutboundEmail.objects.filter(status="queued").count() == 2
    run_worker()
    assert OutboundEmail.objects.filter(status="queued").count() == 0
    assert all(len(smtp_server.to(f"person{i}@example.com")) == 1 for i in range(3))


def test_mail_that_failed_together_is_retried_by_one_run(quiet_contacts, settings):
    use_smtp_url(settings, f"smtp://127.0.0.1:{_free_port()}")  # nothing listens there
    emails = [_queue(quiet_contacts, to=f"person{i}@example.com").pk for i in range(4)]
    run_worker()
    tried = OutboundEmail.objects.filter(pk__in=emails)
    assert set(tried.values_list("status", "attempts")) == {("queued", 1)}
    # One run at the end of the window the retries fall due in (two only when the failures
    # straddle the end of a window), never before a mail is due.
    runs = [run.run_after for run in _waiting_runs()]
    assert 1 <= len(runs) <= 2
    for email in tried:
        assert any(
            email.next_attempt_at <= start < email.next_attempt_at + RETRY_WINDOW for start in runs
        )


# Relay down, temporary and permanent refusals


def test_mail_waits_while_the_relay_is_down_and_leaves_when_it_returns(acme_tx, settings):
    port = _free_port()
    use_smtp_url(settings, f"smtp://127.0.0.1:{port}")
    run_worker()  # the contacts' verification mail fails too; it is retried like any other
    email = _queue(acme_tx)
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at > timezone.now()
    run_worker()  # not due yet: nothing happens
    email.refresh_from_db()
    assert email.attempts == 1

    inbox = Inbox()
    relay = Controller(inbox, hostname="127.0.0.1", port=port)
    relay.start()
    try:
        make_due()
        run_worker()
    finally:
        relay.stop()
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, "")
    assert [m["Message-ID"] for m in inbox.to("customer@example.com")] == [email.message_id]
    assert len(inbox.to("contact@acme.test")) == 1  # the waiting verification mail went too


def test_a_temporary_refusal_is_retried_with_back_off(quiet_contacts, smtp_server):
    smtp_server.fail_next = 2
    email = _queue(quiet_contacts)
    delays = []
    for _ in range(2):
        run_worker()
        email.refresh_from_db()
        assert email.status == "queued" and "451" in email.last_error
        delays.append(email.next_attempt_at - timezone.now())
        make_due()
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 3)
    assert timezone.timedelta(seconds=20) < delays[0] < timezone.timedelta(seconds=31)
    assert timezone.timedelta(seconds=50) < delays[1] < timezone.timedelta(seconds=61)
    assert len(smtp_server.to("customer@example.com")) == 1


class RefusingRelay(Inbox):
    """Refuses one mailbox at RCPT with a permanent 550, and everything at DATA when told."""

    def __init__(self):
        super().__init__()
        self.data_reply = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def refusing_relay(settings):
    relay = RefusingRelay()
    port = _free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp_url(settings, f"smtp://127.0.0.1:{port}")
    yield relay
    controller.stop()


def test_a_permanent_refusal_fails_at_once(acme_tx, refusing_relay):
    run_worker()
    email = _queue(acme_tx, to="nobody@example.com")
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 1)
    assert "550" in email.last_error and "No such mailbox" in email.last_error
    assert email.next_attempt_at is None
    failed = Event.objects.get(tenant=acme_tx.tenant, action="notification.failed")
    assert failed.details["permanent"] is True
    assert failed.details["recipient"] == "nobody@example.com"
    make_due()
    run_worker()  # no retry was scheduled
    email.refresh_from_db()
    assert email.attempts == 1


def test_a_message_refused_at_data_fails_at_once(acme_tx, refusing_relay):
    run_worker()
    refusing_relay.data_reply = "554 5.7.1 Message rejected as spam"
    email = _queue(acme_tx)
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 1)
    assert "554" in email.last_error


def test_a_mail_that_cannot_be_read_fails_instead_of_coming_back(quiet_contacts, smtp_server):
    email = _queue(quiet_contacts)
    # As after the secret key changed: the stored body no longer decrypts.
    OutboundEmail.objects.filter(pk=email.pk).update(body_encrypted="gAAAAAnot-a-valid-token")
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 1)
    assert "cannot decrypt" in email.last_error
    assert email_recover_stranded(now=timezone.now() + LATER) == []
    assert Event.objects.get(tenant=quiet_contacts.tenant, action="notification.failed").details[
        "permanent"
    ]
    assert smtp_server.messages == []


# TLS and login


def _certificate(tmp_path) -> tuple[str, str]:
    """A throwaway self-signed certificate for localhost and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "relay.pem", tmp_path / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


class Logins:
    """aiosmtpd's authenticator: accepts one user and password, remembers every try."""

    def __init__(self, user: str, password: str):
        self.expected = (user.encode(), password.encode())
        self.tries: list[tuple[bytes, bytes]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.tries.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd answers a refusal with its standard 535 itself.
        return AuthResult(
            success=(auth_data.login, auth_data.password) == self.expected, handled=False
        )


@pytest.fixture
def tls_relay(tmp_path):
    """Start a relay with TLS and login required; returns (start(mode), inbox, logins, cert)."""
    cert_path, key_path = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    inbox, logins = Inbox(), Logins("keydesk", "s3cret:pass/word")
    controllers = []

    def start(mode: str) -> int:
        port = _free_port()
        common = {
            "hostname": "127.0.0.1",
            "port": port,
            "authenticator": logins,
            "auth_required": True,
        }
        if mode == "starttls":
            controller = Controller(
                inbox,
                tls_context=server_context,
                require_starttls=True,
                auth_require_tls=True,
                **common,
            )
        else:
            # The whole connection is TLS; aiosmtpd only counts STARTTLS as TLS for AUTH.
            controller = Controller(
                inbox, ssl_context=server_context, auth_require_tls=False, **common
            )
        controller.start()
        controllers.append(controller)
        return port

    yield start, inbox, logins, cert_path
    for controller in controllers:
        controller.stop()


@pytest.mark.parametrize(
    "url",
    [
        "smtp://keydesk:s3cret%3Apass%2Fword@localhost:{port}?starttls=1",
        "smtps://keydesk:s3cret%3Apass%2Fword@localhost:{port}",
    ],
    ids=["starttls", "smtps"],
)
def test_mail_goes_over_tls_with_a_login(acme_tx, settings, tls_relay, monkeypatch, url):
    start, inbox, logins, cert_path = tls_relay
    port = start("starttls" if url.startswith("smtp:") else "smtps")
    monkeypatch.setenv("SSL_CERT_FILE", cert_path)  # the relay's certificate is trusted
    use_smtp_url(settings, url.format(port=port))
    email = _queue(acme_tx)
    run_worker()
    email.refresh_from_db()
    assert email.status == "sent", email.last_error
    assert logins.tries[-1] == (b"keydesk", b"s3cret:pass/word")
    assert len(inbox.to("customer@example.com")) == 1


def test_an_untrusted_certificate_stops_the_mail_before_the_password(acme_tx, settings, tls_relay):
    start, inbox, logins, _ = tls_relay
    port = start("starttls")
    use_smtp_url(settings, f"smtp://keydesk:s3cret@localhost:{port}?starttls=1")
    email = _queue(acme_tx)
    run_worker()
    email.refresh_from_db()
    assert email.status == "queued"
    assert "CERTIFICATE_VERIFY_FAILED" in email.last_error
    assert "s3cret" not in email.last_error
    assert logins.tries == [] and inbox.messages == []


def test_a_wrong_password_is_a_permanent_failure(acme_tx, settings, tls_relay, monkeypatch):
    start, inbox, _, cert_path = tls_relay
    port = start("smtps")
    monkeypatch.setenv("SSL_CERT_FILE", cert_path)
    use_smtp_url(settings, f"smtps://keydesk:wrong@localhost:{port}")
    email = _queue(acme_tx)
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 1)
    assert "535" in email.last_error and "wrong" not in email.last_error
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://relay.example", "must look like"),
        ("smtp://user:pass@relay.example:587", "only over TLS"),
        ("smtp://relay.example?starttls=yes", "one option"),
        ("smtp://relay.example?timeout=5", "one option"),
        ("smtps://relay.example?starttls=1", "drop ?starttls=1"),
    ],
)
def test_unsafe_or_unknown_smtp_urls_are_refused_at_start(url, problem):
    with pytest.raises(ValueError, match=problem.replace("?", r"\?")):
        _smtp_settings(url)


def test_smtp_urls_read_as_documented():
    assert _smtp_settings("smtps://u:p%40ss@relay.example") == {
        "EMAIL_HOST": "relay.example",
        "EMAIL_PORT": 465,
        "EMAIL_HOST_USER": "u",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_SSL": True,
        "EMAIL_USE_TLS": False,
    }
    starttls = _smtp_settings("smtp://u:p@relay.example:587?starttls=1")
    assert (starttls["EMAIL_PORT"], starttls["EMAIL_USE_TLS"]) == (587, True)
    # A relay on this machine may take a login without TLS.
    assert _smtp_settings("smtp://u:p@127.0.0.1:2525")["EMAIL_HOST_USER"] == "u"


# Messages a stopped worker left behind


def test_a_message_left_sending_is_queued_again_and_sent_once(quiet_contacts, smtp_server):
    email = _queue(quiet_contacts)
    fresh = _queue(quiet_contacts, to="fresh@example.com")
    # Both claimed by a worker that then died; one of them long ago.
    assert outbox.claim(OutboundEmail, email.pk) and outbox.claim(OutboundEmail, fresh.pk)
    OutboundEmail.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - LATER)
    run_worker()  # their tasks find them claimed and leave them alone
    assert OutboundEmail.objects.get(pk=email.pk).status == "sending"
    assert email_recover_stranded() == [email.pk]  # the recent claim may still be working
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)
    assert len(smtp_server.to("customer@example.com")) == 1
    assert OutboundEmail.objects.get(pk=fresh.pk).status == "sending"
    assert email_recover_stranded(now=timezone.now() + LATER) == [fresh.pk]
    make_due()
    run_worker()
    assert OutboundEmail.objects.get(pk=fresh.pk).status == "sent"
    assert email_recover_stranded(now=timezone.now() + LATER) == []


def test_a_queued_message_whose_task_was_lost_is_sent(quiet_contacts, smtp_server):
    email = _queue(quiet_contacts)
    DBTaskResult.objects.all().delete()  # the enqueue never happened (a crash after commit)
    run_worker()
    assert OutboundEmail.objects.get(pk=email.pk).status == "queued"
    assert email_recover_stranded() == []  # not overdue yet
    assert email_recover_stranded(now=timezone.now() + LATER) == [email.pk]
    # Enqueued once per pass: the next pass finds it due again only later.
    assert email_recover_stranded(now=timezone.now() + LATER / 2) == []
    make_due()
    run_worker()
    assert OutboundEmail.objects.get(pk=email.pk).status == "sent"
    assert len(smtp_server.to("customer@example.com")) == 1


def test_texts_left_behind_are_recovered_too(acme_tx, settings):
    sms = sms_queue(tenant=acme_tx.tenant, template="mfa_code", to="+14155550100", context={})
    assert outbox.claim(OutboundSms, sms.pk)
    assert sms_recover_stranded(now=timezone.now() + LATER) == [sms.pk]
    run_worker()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("kept", 1)


def test_the_worker_runs_the_recovery_every_few_minutes(quiet_contacts, smtp_server):
    email = _queue(quiet_contacts)
    assert outbox.claim(OutboundEmail, email.pk)
    OutboundEmail.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - LATER)
    now = timezone.now()
    assert enqueue_due_jobs(now=now, jobs=FREQUENT_JOBS, every=FREQUENT_EVERY) == list(
        FREQUENT_JOBS
    )
    assert (
        enqueue_due_jobs(now=now + FREQUENT_EVERY / 2, jobs=FREQUENT_JOBS, every=FREQUENT_EVERY)
        == []
    )
    run_worker()  # the recovery job, then the delivery it enqueued
    email.refresh_from_db()
    assert email.status == "sent"
    assert len(smtp_server.to("customer@example.com")) == 1


class StallingRelay(Inbox):
    """Takes the message, then never answers DATA: a worker killed meanwhile delivered nothing."""

    def __init__(self):
        super().__init__()
        self.in_data = threading.Event()
        self.stall = True

    async def handle_DATA(self, server, session, envelope):
        if self.stall:
            self.in_data.set()
            while self.stall:
                await asyncio.sleep(0.05)
            return "451 Connection lost"
        return await super().handle_DATA(server, session, envelope)


def _database_url() -> str:
    """The test database, as KEYDESK_DATABASE_URL for a worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_killed_while_sending_leaves_nothing_lost(quiet_contacts, settings):
    relay = StallingRelay()
    port = _free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp_url(settings, f"smtp://127.0.0.1:{port}")
    env = {
        **os.environ,
        "KEYDESK_DATABASE_URL": _database_url(),
        "KEYDESK_SMTP_URL": settings.SMTP_URL,
        "KEYDESK_SECRET_KEY": settings.SECRET_KEY,
        "KEYDESK_LOG_LEVEL": "ERROR",
    }
    try:
        email = _queue(quiet_contacts)
        worker = subprocess.Popen(
            [sys.executable, "-m", "keydesk.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert relay.in_data.wait(30), "the worker never reached the relay"
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        relay.stall = False
        time.sleep(0.2)
        email.refresh_from_db()
        assert email.status == "sending" and relay.messages == []
        # The worker restarts; once the claim is stale the recovery queues the mail again.
        assert email_recover_stranded(now=timezone.now() + LATER) == [email.pk]
        make_due()
        run_worker()
        email.refresh_from_db()
        assert (email.status, email.attempts) == ("sent", 1)
        assert [m["Message-ID"] for m in relay.to("customer@example.com")] == [email.message_id]
    finally:
        relay.stall = False
        controller.stop()
