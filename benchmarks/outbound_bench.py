"""Outgoing mail: acknowledgements sent per second by one task worker to a local SMTP relay.

The relay is aiosmtpd in this process; the worker is Django's `db_worker`, run in this process
too, in batch mode until the queue is empty, with its database connection kept between tasks
as `keydesk worker` keeps it. Each mail is a ticket's acknowledgement, queued by
`ticket_create` as in real use; the timing covers only the worker's sending of them.
"""

import socket
import time

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from keydesk.core.worker import keep_database_connections
from keydesk.mail.models import OutboundEmail
from keydesk.tickets.services import ticket_create


class _CountingRelay:
    """Accepts every message and counts them; it keeps nothing."""

    def __init__(self):
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope):
        self.accepted += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_worker() -> None:
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


def bench_outbound(world, count: int) -> dict:
    """Queue `count` acknowledgements, then time one worker sending them all."""
    relay = _CountingRelay()
    port = _free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    keys = ("SMTP_URL", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_USE_SSL")
    saved = {key: getattr(settings, key, None) for key in keys}
    settings.SMTP_URL = f"smtp://127.0.0.1:{port}"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    max_age = connections.settings["default"]["CONN_MAX_AGE"]
    keep_database_connections()
    try:
        _run_worker()  # mail queued by the benchmarks before this one goes first, untimed
        contacts = world.contacts
        started = time.perf_counter()
        for i in range(count):
            ticket_create(
                tenant=world.tenant,
                actor=world.agent,
                subject=f"Outbound benchmark {i}",
                description="Please confirm you received this.",
                requester_email=contacts[i % len(contacts)].email,
            )
        queue_seconds = time.perf_counter() - started
        before = relay.accepted
        started = time.perf_counter()
        _run_worker()
        seconds = time.perf_counter() - started
        sent = relay.accepted - before
        acknowledgements = OutboundEmail.objects.filter(
            tenant=world.tenant, template="ticket_created", status=OutboundEmail.Status.SENT
        ).count()
        if sent != count or acknowledgements != count:
            return {"error": f"{count} queued, {sent} accepted, {acknowledgements} marked sent"}
        return {
            "mails": count,
            "seconds": seconds,
            "per_second": count / seconds,
            "queued_per_second": count / queue_seconds,
        }
    finally:
        for key, value in saved.items():
            setattr(settings, key, value)
        connections.settings["default"]["CONN_MAX_AGE"] = max_age
        connections["default"].close()  # the next benchmark connects as a web process does
        controller.stop()
