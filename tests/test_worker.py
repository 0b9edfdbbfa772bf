"""The task worker keeps its database connection from one task to the next, and prunes the
queue's finished rows."""

import pytest
from django.db import close_old_connections, connection, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from keydesk.core.tasks import prune_finished_tasks
from keydesk.core.worker import (
    WORKER_CONNECTION_MAX_AGE,
    finished_tasks_prune,
    keep_database_connections,
)
from tests.conftest import run_worker


@pytest.fixture
def worker_connections(transactional_db):
    before = connections.settings["default"]["CONN_MAX_AGE"]
    keep_database_connections()
    connection.close()  # the next connection is opened with the worker's settings
    yield
    connections.settings["default"]["CONN_MAX_AGE"] = before
    connection.close()


def test_the_connection_outlives_the_end_of_a_task(worker_connections):
    connection.ensure_connection()
    opened = connection.connection
    close_old_connections()  # what db_worker does after every task
    assert connection.connection is opened
    assert connections.settings["default"]["CONN_MAX_AGE"] == WORKER_CONNECTION_MAX_AGE


@pytest.mark.django_db(transaction=True)
def test_finished_tasks_are_pruned_after_two_weeks():
    old, recent = prune_finished_tasks.enqueue(), prune_finished_tasks.enqueue()
    run_worker()
    waiting = prune_finished_tasks.enqueue()
    DBTaskResult.objects.filter(pk=old.id).update(
        finished_at=timezone.now() - timezone.timedelta(days=15)
    )
    assert finished_tasks_prune() == 1
    kept = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
    assert kept == {recent.id, waiting.id}  # the recent run, and the one still waiting


@pytest.mark.django_db(transaction=True)
def test_a_long_history_is_pruned_in_batches(monkeypatch):
    monkeypatch.setattr("keydesk.core.worker.PRUNE_BATCH", 2)
    for _ in range(5):
        prune_finished_tasks.enqueue()
    run_worker()
    DBTaskResult.objects.update(finished_at=timezone.now() - timezone.timedelta(days=15))
    assert finished_tasks_prune() == 5
    assert not DBTaskResult.objects.exists()
