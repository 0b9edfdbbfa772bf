"""PostgreSQL: the health check of a kept connection sees a dead one without a round trip."""

import time

import psycopg
import pytest
from django.db import connection

from keydesk.tenants.models import Tenant

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connections"),
]


def _other_connection():
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        autocommit=True,
    )


def _last_query_of(pid: int) -> str:
    with _other_connection() as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[
            0
        ]


def test_an_idle_connection_passes_without_a_query_to_the_server():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'before the check'")
    pid = connection.connection.info.backend_pid

    assert connection.is_usable()
    assert _last_query_of(pid) == "SELECT 'before the check'"


def test_a_connection_the_server_ended_fails_and_the_next_request_gets_a_new_one():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with _other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye takes a moment to arrive

    assert not connection.is_usable()
    # What Django does before a request's first query when health checks are on.
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert Tenant.objects.count() >= 0
    assert connection.connection.info.backend_pid != pid
