"""The task worker keeps its database connection from one task to the next."""

import pytest
from django.db import close_old_connections, connection, connections

from keydesk.core.worker import WORKER_CONNECTION_MAX_AGE, keep_database_connections


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
