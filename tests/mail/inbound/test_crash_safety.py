"""Crash safety: a worker killed mid-way loses nothing, and no message is processed twice."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from keydesk.mail.inbound.process import (
    STALE_AFTER,
    inbound_drain,
    inbound_process,
    inbound_sweep,
)
from keydesk.mail.models import InboundEmail
from keydesk.tickets.models import Attachment, Ticket
from tests.conftest import run_worker

from .conftest import mail, stored

pytestmark = pytest.mark.django_db(transaction=True)

PROCESS_TASK = "keydesk.mail.inbound.tasks.process_inbound_mail"


def later() -> timezone.datetime:
    """The time of the worker's next sweep once a lost task is clearly lost."""
    return timezone.now() + STALE_AFTER + timedelta(seconds=1)


def database_url() -> str:
    """The test database, for a worker in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def big_message():
    message = mail(sender="contact@acme.test", subject="Crash test", body="Logs attached.")
    message.add_attachment(
        os.urandom(8 * 1024 * 1024), maintype="application", subtype="gzip", filename="logs.gz"
    )
    return message


def test_a_worker_killed_while_processing_loses_nothing(acme_tx, listener):
    message = big_message()
    assert listener.send(message) == {}
    [email] = stored(acme_tx)
    env = {
        **os.environ,
        "KEYDESK_DATABASE_URL": database_url(),
        "KEYDESK_DATA_DIR": str(settings.DATA_DIR),
        "KEYDESK_SECRET_KEY": settings.SECRET_KEY,
        "KEYDESK_NEW_ACCOUNT_DAYS": "0",
        "KEYDESK_LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "keydesk.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not DBTaskResult.objects.filter(task_path=PROCESS_TASK, status="RUNNING").exists():
            assert time.monotonic() < deadline, "the worker never started the task"
            assert worker.poll() is None, "the worker exited"
            time.sleep(0.005)
    finally:
        # The worker has the message in hand: it dies now, as in a power cut.
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    email.refresh_from_db()
    assert email.status == "received", "the worker finished before it could be killed"
    assert not Ticket.objects.filter(tenant=acme_tx.tenant).exists()
    # Its task is left "running" for ever: a restarted worker does not run it again …
    run_worker()
    email.refresh_from_db()
    assert email.status == "received"
    # … but the sweep finds the stale message and queues it once more.
    assert inbound_sweep(now=later()) == [email.pk]
    assert inbound_sweep(now=later()) == []  # taken once, whichever worker sweeps
    run_worker()
    email.refresh_from_db()
    assert email.status == "processed"
    [ticket] = Ticket.objects.filter(tenant=acme_tx.tenant)
    assert Attachment.objects.get(ticket=ticket).filename == "logs.gz"
    # The sender's server delivering it again changes nothing either.
    assert listener.send(message) == {}
    run_worker()
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 1


def test_a_message_whose_task_was_lost_is_swept_and_processed_once(acme_tx, listener):
    listener.send(mail(sender="contact@acme.test"))
    [email] = stored(acme_tx)
    DBTaskResult.objects.filter(task_path=PROCESS_TASK).delete()
    run_worker()
    assert not Ticket.objects.filter(tenant=acme_tx.tenant).exists()
    assert inbound_sweep() == []  # too early to tell a lost task from a busy worker
    assert inbound_sweep(now=later()) == [email.pk]
    run_worker()
    run_worker()
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("processed", 1)


def test_running_the_task_twice_processes_once(acme_tx, listener):
    listener.send(mail(sender="contact@acme.test"))
    [email] = stored(acme_tx)
    assert inbound_process(email_id=email.pk) == "processed"
    assert inbound_process(email_id=email.pk) == "processed"
    run_worker()  # the queued task finds it done
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_two_workers_at_once_process_a_message_once(acme_tx, listener):
    listener.send(mail(sender="contact@acme.test"))
    [email] = stored(acme_tx)
    start = threading.Barrier(2)
    results = []

    def work():
        try:
            start.wait()
            results.append(inbound_process(email_id=email.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["processed", "processed"]
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 1
    assert InboundEmail.objects.get(pk=email.pk).attempts == 1


def test_a_burst_of_mail_is_one_task_and_a_long_one_takes_turns(acme_tx, listener):
    for n in range(3):
        listener.send(mail(sender="contact@acme.test", subject=f"Burst {n}"))
    # One queued run sees every message committed before it starts.
    assert DBTaskResult.objects.filter(task_path=PROCESS_TASK, status="READY").count() == 1
    # A run out of time ends after one message and leaves the rest to a queued run (which
    # waits behind the other tasks).
    assert inbound_drain(seconds=0) == 1
    assert [e.status for e in stored(acme_tx)] == ["processed", "received", "received"]
    assert DBTaskResult.objects.filter(task_path=PROCESS_TASK, status="READY").count() == 1
    DBTaskResult.objects.filter(task_path=PROCESS_TASK).delete()
    assert inbound_drain(seconds=0) == 1
    assert DBTaskResult.objects.filter(task_path=PROCESS_TASK, status="READY").count() == 1
    run_worker()
    assert [e.status for e in stored(acme_tx)] == ["processed"] * 3
    assert Ticket.objects.filter(tenant=acme_tx.tenant).count() == 3


def test_a_message_that_breaks_processing_does_not_hold_up_the_others(acme_tx, listener):
    listener.send(mail(sender="contact@acme.test", subject="Poison"))
    listener.send(mail(sender="contact@acme.test", subject="Fine"))
    poison, fine = stored(acme_tx)
    # A row the database cannot read back (its raw bytes gone): processing it raises.
    InboundEmail.objects.filter(pk=poison.pk).update(raw_encrypted=b"")
    run_worker()
    poison.refresh_from_db()
    fine.refresh_from_db()
    assert fine.status == "processed"
    assert poison.status == "failed" and poison.reason.startswith("Cannot read the stored message")
