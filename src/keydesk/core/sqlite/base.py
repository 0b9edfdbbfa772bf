"""Django's SQLite backend, with transactions that poll for the write lock.

Every Keydesk transaction on SQLite starts with `BEGIN IMMEDIATE`, which takes the database's
one write lock. When another process holds it, SQLite's own busy handler sleeps 1, 2, 5, 10,
15, 20 ms and more between tries. A busy writer (the task worker working through a burst of
mail) frees the lock for only a few milliseconds between its transactions, and a waiter that
is asleep for 10 ms misses those gaps again and again: the mail listener, which answers the
sending server only after its commit, waited about 9 ms per message that way. Here the start
of a transaction tries again every half millisecond instead, until the configured `timeout`;
statements outside transactions keep SQLite's busy handler.
"""

import sqlite3
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

LOCK_POLL_SECONDS = 0.0005


def _is_busy(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        if self.transaction_mode in (None, "DEFERRED"):
            super()._start_transaction_under_autocommit()  # takes no lock at BEGIN
            return
        timeout = self.settings_dict["OPTIONS"].get("timeout", 5)
        deadline = time.monotonic() + timeout
        self.connection.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    super()._start_transaction_under_autocommit()
                    return
                except OperationalError as exc:
                    if not _is_busy(exc) or time.monotonic() >= deadline:
                        raise
                time.sleep(LOCK_POLL_SECONDS)
        finally:
            self.connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
