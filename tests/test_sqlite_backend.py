"""SQLite: a writer waiting for the write lock goes on as soon as the lock is free."""

import sqlite3
import statistics
import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from keydesk.tenants.models import Tenant

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock"),
]


class LockHolder(threading.Thread):
    """Another process's writer: holds the write lock for `seconds`, then commits."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.locked = threading.Event()
        self.released_at = None

    def run(self):
        other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        other.execute("PRAGMA synchronous = OFF")  # its COMMIT then frees the lock at once
        try:
            other.execute("BEGIN IMMEDIATE")
            self.locked.set()
            time.sleep(self.seconds)
            self.released_at = time.monotonic()  # the lock is free once this COMMIT returns
            other.execute("COMMIT")
        finally:
            other.close()


def _hold_lock(seconds: float) -> LockHolder:
    holder = LockHolder(seconds)
    holder.start()
    assert holder.locked.wait(5)
    return holder


def _transaction() -> None:
    with transaction.atomic():
        Tenant.objects.count()


def _single_write() -> None:
    Tenant.objects.filter(slug="nobody").update(name="Nobody")  # outside any transaction


@pytest.mark.parametrize("writer", [_transaction, _single_write])
def test_a_waiting_writer_goes_on_as_soon_as_the_lock_is_free(writer):
    connection.ensure_connection()
    delays = []
    for _ in range(5):
        holder = _hold_lock(0.25)
        writer()
        done_at = time.monotonic()
        holder.join()
        delays.append(done_at - holder.released_at)
    # SQLite's own busy handler sleeps in growing steps and would wake about 80 ms after each
    # of these releases; polling notices it within a millisecond or two. (The median: now and
    # then SQLite itself stalls a try while the other connection commits.)
    assert 0 <= statistics.median(delays) < 0.03


def test_a_transaction_gives_up_after_the_timeout_and_the_connection_recovers(settings):
    connection.ensure_connection()
    options = connection.settings_dict["OPTIONS"]
    configured = options["timeout"]
    options["timeout"] = 0.1
    try:
        holder = _hold_lock(1.0)
        began = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            pass
        assert 0.1 <= time.monotonic() - began < 0.9
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 100  # statements outside it wait as before
        holder.join()
    finally:
        options["timeout"] = configured
    with transaction.atomic():
        assert Tenant.objects.count() >= 0
