"""A signed-in page reads its tenant, session and person in one round trip (PostgreSQL), and
the rows read ahead stand in only for the lookups they were read for."""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from keydesk.accounts.models import SignInSession
from keydesk.accounts.request_reads import (
    cookie_session_key,
    rows_read_ahead,
    signed_in_reads,
    take_person,
    take_session,
)
from keydesk.core.queries import read_together
from tests.conftest import PASSWORD

SENDS_TOGETHER = connection.vendor == "postgresql"


def _signed_in(world, person):
    client = world.client()
    response = client.post("/login", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _reading(sql: str, table: str) -> bool:
    return f'FROM "{table}"' in sql or f'JOIN "{table}"' in sql


def test_a_signed_in_page_reads_its_tenant_session_and_person_once_and_together(acme):
    client = _signed_in(acme, acme.agent)
    with CaptureQueriesContext(connection) as sent:
        response = client.get("/tickets/")
    assert response.status_code == 200
    assert acme.agent.name in response.content.decode()
    statements = [query["sql"] for query in sent]
    for table in ("tenants_tenant", "django_session", "accounts_signinsession"):
        assert sum(_reading(sql, table) for sql in statements) == 1, table
    # The person is read once: through the sign-in record, not again by id.
    assert sum('FROM "accounts_user"' in sql and "signinsession" in sql for sql in statements) == 1
    assert not any('WHERE ("accounts_user"."id" = ' in sql for sql in statements)
    if SENDS_TOGETHER:
        first = statements[0]
        assert all(
            _reading(first, t)
            for t in ("tenants_tenant", "django_session", "accounts_signinsession")
        )


def test_the_person_read_with_the_session_counts_only_if_the_session_names_them(acme):
    client = _signed_in(acme, acme.agent)
    # The sign-in record of this session now names someone else: the page still belongs to
    # the person the session itself names, read by id.
    SignInSession.objects.filter(user=acme.agent).update(user=acme.admin)
    response = client.get("/tickets/")
    assert response.status_code == 200
    assert response.wsgi_request.user == acme.agent


def test_a_session_ended_elsewhere_ends_on_the_next_page(acme):
    client = _signed_in(acme, acme.agent)
    Session.objects.all().delete()
    response = client.get("/tickets/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_rows_read_ahead_stand_in_once_and_only_for_their_key_and_person(acme):
    client = _signed_in(acme, acme.agent)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    rows = read_together(*signed_in_reads(key))
    with rows_read_ahead(key, rows):
        assert take_session("x" * 32) == (False, None)
        found, session = take_session(key)
        assert found and session.session_key == key
        assert take_session(key) == (False, None)
        assert take_person(acme.admin.pk) is None
        # Asked once, for someone else: the row is not handed out afterwards either.
        assert take_person(acme.agent.pk) is None
    with rows_read_ahead(key, read_together(*signed_in_reads(key))):
        assert take_person(str(acme.agent.pk)) == acme.agent
    assert take_session(key) == (False, None)  # outside the request's block


def test_only_a_cookie_shaped_like_a_session_key_is_read_ahead(acme):
    request = RequestFactory().get("/", HTTP_HOST=acme.host)
    for cookie in ("short", "x" * 31 + "\x00", "X" * 32):
        request.COOKIES[settings.SESSION_COOKIE_NAME] = cookie
        assert cookie_session_key(request) is None
        assert signed_in_reads(cookie_session_key(request)) == []
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "x" * 32
    assert cookie_session_key(request) == "x" * 32
    assert len(signed_in_reads("x" * 32)) == 2
