"""How the task worker process uses the database, and works through a burst of rows."""

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import connection, connections
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

# Seconds a worker keeps a database connection before opening a fresh one.
WORKER_CONNECTION_MAX_AGE = 600
FINISHED_TASKS_KEPT = timedelta(days=14)
PRUNE_BATCH = 500

logger = logging.getLogger(__name__)


def keep_database_connections() -> None:
    """Keep the worker's database connections from one task to the next.

    The worker runs its tasks one after another; opening a connection for each cost more
    than a short task itself, and on SQLite closing the last connection also checkpoints the
    write-ahead log every time: the outbound benchmark sends about twice as many mails per
    second with the connection kept. On PostgreSQL, health checks still replace a connection
    that broke.
    """
    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = WORKER_CONNECTION_MAX_AGE


def finished_tasks_prune(*, now=None) -> int:
    """Delete the queue's rows of tasks that finished over two weeks ago; returns how many.

    The queue keeps a row per task run, with its outcome, after the run: useful for a while
    to see what ran and what failed, but without pruning the table would grow forever.
    """
    cutoff = (now or timezone.now()) - FINISHED_TASKS_KEPT
    old = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff)
    deleted = 0
    # In batches, each its own short transaction: on SQLite a delete holds the one write lock,
    # and the listener and the web must not wait behind a long one.
    while batch := list(old.values_list("pk", flat=True)[:PRUNE_BATCH]):
        deleted += DBTaskResult.objects.filter(pk__in=batch).delete()[0]
    return deleted


def work_through(
    *,
    pending: Callable[[], QuerySet],
    handle: Callable[[int], object],
    hand_over: Callable[[], None],
    seconds: float,
    left_for: str,
) -> int:
    """Handle pending rows one at a time until none is left; returns how many were tried.

    One task run for a burst of rows (mail to process, mail to send) rather than a task per
    row: the worker's bookkeeping for a task costs about as much as a row. `pending()` gives
    the pending rows in the order to take them (asked anew for each row). Handling a row
    takes it out of the pending ones, so only a row still pending after its try (its handler
    raised, and it is `left_for` the job that picks such rows up) is skipped: the query stays
    short however long the burst. After `seconds`, `hand_over()` queues a successor and this
    run ends, so that other tasks (sign-in codes) wait at most that long behind a flood.
    """
    deadline = time.monotonic() + seconds
    tried: set[int] = set()
    skipped: set[int] = set()
    while True:
        rows = pending() if not skipped else pending().exclude(pk__in=skipped)
        row_id = rows.values_list("pk", flat=True).first()
        if row_id is None:
            return len(tried)
        if row_id in tried:
            skipped.add(row_id)
            continue
        if tried and time.monotonic() > deadline:
            hand_over()
            return len(tried)
        tried.add(row_id)
        try:
            handle(row_id)
        except Exception:
            logger.exception("row %s is left for %s", row_id, left_for)
            connection.close()  # a broken connection is replaced for the next row
