"""Fixtures: two tenants, people of every role in each, clients bound to a tenant's host, and
real SMTP on both sides (a relay for outgoing mail, the inbound listener)."""

import smtplib
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import Client

from keydesk.accounts.api_tokens import token_create
from keydesk.accounts.models import User
from keydesk.accounts.services import user_create
from keydesk.mail.inbound.listener import listener_create, listener_stop
from keydesk.tenants.services import tenant_create

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "manager", "supervisor", "agent")


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 at production cost is exercised by tests/accounts/test_hashing.py; everywhere
    # else a cheap hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


@pytest.fixture(autouse=True)
def _no_creation_limits(settings):
    # Every tenant a test makes is new, so it would be limited to a few people and tickets a
    # day (tenants/limits.py), and most tests make more than that. The limits are off here
    # and tests/tenants/test_limits.py turns them on where they are the subject.
    settings.NEW_ACCOUNT_DAYS = 0


def host_of(tenant) -> str:
    return f"{tenant.slug}.localhost"


class TenantWorld:
    """One tenant and a person of every role, plus two contacts."""

    def __init__(self, slug: str):
        self.tenant, self.admin, _ = tenant_create(
            slug=slug, name=slug.title(), admin_email=f"admin@{slug}.test", admin_password=PASSWORD
        )
        self.people = {"admin": self.admin}
        for role in ROLES[1:]:
            self.people[role] = user_create(
                tenant=self.tenant,
                actor=None,
                email=f"{role}@{slug}.test",
                kind="staff",
                role=role,
                name=f"{role.title()} {slug.title()}",
                password=PASSWORD,
            )
        self.contact = user_create(
            tenant=self.tenant,
            actor=None,
            email=f"contact@{slug}.test",
            kind="contact",
            name=f"Carla {slug.title()}",
            password=PASSWORD,
        )
        self.other_contact = user_create(
            tenant=self.tenant,
            actor=None,
            email=f"other@{slug}.test",
            kind="contact",
            name=f"Otto {slug.title()}",
            password=PASSWORD,
        )
        self.people["contact"] = self.contact

    @property
    def host(self) -> str:
        return host_of(self.tenant)

    def __getattr__(self, role):
        try:
            return self.__dict__["people"][role]
        except KeyError:
            raise AttributeError(role) from None

    def client(self, user: User | None = None) -> Client:
        """A test client on this tenant's host, signed in as `user` when given."""
        client = Client(HTTP_HOST=self.host)
        if user is not None:
            client.force_login(user, backend="keydesk.accounts.backends.TenantUserBackend")
        return client

    def api(self, user: User) -> Client:
        """A test client on this tenant's host that sends `user`'s bearer token."""
        _, raw = token_create(user=user, actor=None, name="test")
        return Client(HTTP_HOST=self.host, HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def acme(db) -> TenantWorld:
    return TenantWorld("acme")


@pytest.fixture
def globex(db) -> TenantWorld:
    """The second tenant: every isolation test checks nothing of it leaks into acme."""
    return TenantWorld("globex")


@pytest.fixture
def acme_tx(transactional_db) -> TenantWorld:
    """`acme` for tests whose work crosses transactions (the task worker, threads, a live server)."""
    return TenantWorld("acme")


class Inbox:
    """Collects what the SMTP server accepted; `fail_next` answers 451 to that many messages."""

    def __init__(self):
        self.messages = []
        self.fail_next = 0

    def to(self, address: str) -> list:
        """Messages for one recipient (contacts also get their verification mail)."""
        return [m for m in self.messages if m["To"] == address]

    async def handle_DATA(self, server, session, envelope):
        if self.fail_next:
            self.fail_next -= 1
            return "451 Try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.SMTP_URL = f"smtp://127.0.0.1:{port}"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


class Listener:
    """The inbound listener running in this process, and an SMTP client talking to it."""

    def __init__(self, port: int):
        self.host, self.port = "127.0.0.1", port

    def connect(self) -> smtplib.SMTP:
        return smtplib.SMTP(self.host, self.port, timeout=30)

    def send(self, message, *, sender: str | None = None, to=("support@acme.localhost",)):
        """Send one message; returns smtplib's refused recipients (raises on a refused DATA)."""
        raw = message.as_bytes(policy=policy.SMTP) if isinstance(message, EmailMessage) else message
        if sender is None:
            sender = str(message["From"]) if isinstance(message, EmailMessage) else "x@remote.test"
        with self.connect() as client:
            return client.sendmail(sender, list(to), raw)


@pytest.fixture
def start_listener():
    """Start listeners (each after the test set the settings it needs); all stop at teardown."""
    started = []

    def start() -> Listener:
        port = _free_port()
        controller = listener_create(host="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return Listener(port)

    yield start
    for controller in started:
        listener_stop(controller)


@pytest.fixture
def listener(start_listener) -> Listener:
    return start_listener()


@pytest.fixture
def test_templates(settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [Path(__file__).parent / "mail" / "templates"]}
    ]


def run_worker():
    """Run every task that is due, as `keydesk worker` would, then return."""
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
