"""A real SMTP server (aiosmtpd) on a free local port, and the worker run in-process."""

import socket
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command


class Inbox:
    """Collects what the SMTP server accepted; `fail_next` answers 451 to that many messages."""

    def __init__(self):
        self.messages = []
        self.fail_next = 0

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


@pytest.fixture
def test_templates(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [Path(__file__).parent / "templates"]}]


def run_worker():
    """Run every task that is due, as `keydesk worker` would, then return."""
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
