"""How the task worker process uses the database."""

from datetime import timedelta

from django.db import connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

# Seconds a worker keeps a database connection before opening a fresh one.
WORKER_CONNECTION_MAX_AGE = 600
FINISHED_TASKS_KEPT = timedelta(days=14)
PRUNE_BATCH = 500


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
