"""Django's SQLite backend, with writers that poll for the write lock.

SQLite has one write lock per database. Every Keydesk transaction takes it at its start
(`BEGIN IMMEDIATE`), and a write outside a transaction takes it for that statement. When
another process holds it, SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20 ms and more
between tries. A busy writer (the task worker working through a burst of mail) frees the
lock for only a few milliseconds between its transactions, and a waiter that is asleep for
10 ms misses those gaps again and again: the mail listener, which answers the sending server
only after its commit, waited about 9 ms per message that way. Here whatever takes the write
lock tries again every half millisecond instead, until the configured `timeout`; reads,
which never wait for writers in WAL mode, keep SQLite's handler for its rare waits.
"""

import sqlite3
import time

from django.db.backends.sqlite3 import base

LOCK_POLL_SECONDS = 0.0005
# Statements that take the write lock when they run outside a transaction.
_TAKE_WRITE_LOCK = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "INSERT", "UPDATE", "DELETE", "REPLACE")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    # The extended code: SQLITE_BUSY and its variants share the low byte.
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


class PollingCursorWrapper(base.SQLiteCursorWrapper):
    lock_timeout = 5.0

    def execute(self, query, params=None):
        if self.connection.in_transaction or not query.startswith(_TAKE_WRITE_LOCK):
            return super().execute(query, params)
        raw = self.connection
        deadline = time.monotonic() + self.lock_timeout
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    return super().execute(query, params)
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc) or time.monotonic() >= deadline:
                        raise
                time.sleep(LOCK_POLL_SECONDS)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=PollingCursorWrapper)
        cursor.lock_timeout = self.settings_dict["OPTIONS"].get("timeout", 5)
        return cursor
