"""Inbound mail: messages per second from SMTP acceptance to ticket, one listener, one worker.

The listener is Keydesk's own (aiosmtpd) in this process, answering 250 only once each
message is committed; the worker is `keydesk worker` in a process of its own, as in
production. One SMTP client sends the messages one after another, each a new ticket from
one of the tenant's contacts; the clock runs from the first MAIL FROM until the worker has
turned the last message into a ticket. The worker also sends each ticket's acknowledgement
(kept in the outbox: no relay is configured), as it would in real use.
"""

import os
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from keydesk.core.process import freeze_startup_objects
from keydesk.mail.inbound.addresses import inbound_settings_update
from keydesk.mail.inbound.listener import listener_create, listener_stop
from keydesk.mail.models import InboundEmail
from keydesk.tenants.limits import tenant_lift_limits

BODY = (
    "Hello team,\n\nsince this morning the VPN drops every few minutes. I tried another "
    "network and a restart, nothing changed. Could you take a look?\n\nThank you,\n"
)
WAIT_LIMIT_S = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _message(world, i: int) -> bytes:
    contact = world.contacts[i % len(world.contacts)]
    message = EmailMessage()
    message["From"] = f"{contact.name} <{contact.email}>"
    message["To"] = f"support@{world.tenant.slug}.localhost"
    message["Subject"] = f"VPN drops ({i})"
    message["Message-ID"] = make_msgid(domain="customer.example")
    message.set_content(BODY)
    return message.as_bytes(policy=SMTP)


def _processed(tenant) -> int:
    return InboundEmail.objects.filter(tenant=tenant, status=InboundEmail.Status.PROCESSED).count()


def _wait_for(tenant, count: int, worker: subprocess.Popen, *, idle: bool = False) -> bool:
    """Wait until `count` messages are tickets (and, if `idle`, the worker has nothing left)."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while _processed(tenant) < count or (idle and DBTaskResult.objects.ready().exists()):
        if worker.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def bench_inbound(world, count: int) -> dict:
    """Send `count` messages over SMTP; time until the worker made all of them tickets."""
    tenant = world.tenant
    tenant_lift_limits(tenant=tenant)
    inbound_settings_update(tenant=tenant, actor=world.admin, sender_hourly_limit=10_000)
    port = _free_port()
    freeze_startup_objects()  # as `keydesk mail listen` does before it listens
    controller = listener_create(host="127.0.0.1", port=port)
    controller.start()
    worker = subprocess.Popen(  # the environment names this run's database and data dir
        [sys.executable, "-m", "keydesk.cli", "worker"],
        env={**os.environ, "KEYDESK_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    recipient = f"support@{tenant.slug}.localhost"
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            # Warm-up: the worker is up once this one is a ticket, and idle once the mail
            # queued before (the contacts' verification links) is out of its way.
            client.sendmail(world.contacts[0].email, [recipient], _message(world, -1))
            if not _wait_for(tenant, 1, worker, idle=True):
                return {"error": "the worker did not process the warm-up message"}
            messages = [_message(world, i) for i in range(count)]
            window_start = timezone.now()
            started = time.perf_counter()
            for i, raw in enumerate(messages):
                sender = world.contacts[i % len(world.contacts)].email
                refused = client.sendmail(sender, [recipient], raw)
                if refused:
                    return {"error": f"message {i} refused: {refused}"}
            accepted = time.perf_counter() - started
        if not _wait_for(tenant, count + 1, worker):
            return {"error": f"only {_processed(tenant) - 1} of {count} became tickets in time"}
        seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        listener_stop(controller)
        connection.close()
    busy = _worker_seconds(window_start)
    return {
        "messages": count,
        "seconds": seconds,
        "per_second": count / seconds,
        "accepted_per_second": count / accepted,
        # Where the worker's time went: turning mail into tickets, and everything else (the
        # acknowledgements, mostly).
        "worker_inbound_seconds": busy["inbound"],
        "worker_other_seconds": busy["other"],
    }


def _worker_seconds(since) -> dict:
    busy = {"inbound": 0.0, "other": 0.0}
    finished = DBTaskResult.objects.filter(
        started_at__gte=since, finished_at__isnull=False
    ).values_list("task_path", "started_at", "finished_at")
    for path, began, ended in finished:
        kind = "inbound" if path.startswith("keydesk.mail.inbound.") else "other"
        busy[kind] += (ended - began).total_seconds()
    return busy
