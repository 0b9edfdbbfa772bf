"""The session store: a sign-in's session is written once, with its sign-in record or not at
all; expired sessions are never restored; a new key is never handed out twice."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from keydesk.accounts import signin
from keydesk.accounts.models import SignInSession, User
from keydesk.accounts.session_store import SessionStore
from keydesk.core.queries import writes_batched
from tests.conftest import PASSWORD

HOLDS_WRITES = connection.vendor == "postgresql"


def _sessions_of(user) -> list[Session]:
    return [s for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk)]


def test_a_sign_in_writes_one_session_holding_the_person(acme):
    client = acme.client()
    response = client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    [stored] = _sessions_of(acme.agent)
    assert stored.session_key == client.cookies["sessionid"].value
    assert stored.get_decoded()["amr"] == ["pwd"]
    assert SignInSession.objects.get(user=acme.agent).session_key == stored.session_key


def test_a_sign_in_that_fails_to_finish_leaves_no_session(acme, monkeypatch):
    def broken_record(*args, **kwargs):
        raise RuntimeError("the event log is unavailable")

    monkeypatch.setattr(signin, "record", broken_record)
    client = acme.client()
    with pytest.raises(RuntimeError):
        client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert _sessions_of(acme.agent) == []
    assert not SignInSession.objects.filter(user=acme.agent).exists()


def test_an_expired_session_is_not_restored(acme):
    client = acme.client()
    client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert client.get("/tickets/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/tickets/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_a_password_change_keeps_the_current_session_under_a_new_key(acme):
    client = acme.client()
    client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    old_key = client.cookies["sessionid"].value
    response = client.post(
        "/preferences/password",
        {
            "current_password": PASSWORD,
            "new_password": "a new and much longer passphrase",
            "confirm_password": "a new and much longer passphrase",
        },
    )
    assert response.status_code == 302
    new_key = client.cookies["sessionid"].value
    assert new_key != old_key
    assert [s.session_key for s in _sessions_of(acme.agent)] == [new_key]
    assert SignInSession.objects.get(user=acme.agent, ended_at=None).session_key == new_key
    assert client.get("/tickets/").status_code == 200


def _store_drawing(monkeypatch, *keys) -> SessionStore:
    store = SessionStore()
    drawn = iter(keys)
    monkeypatch.setattr(store, "_get_new_session_key", lambda: next(drawn))
    return store


def _taken_key() -> str:
    existing = SessionStore()
    existing["owner"] = "someone else"
    existing.create()
    return existing.session_key


def test_a_taken_key_is_skipped_and_another_drawn(acme, monkeypatch):
    taken = _taken_key()
    store = _store_drawing(monkeypatch, taken, "n" * 32)
    store["owner"] = "me"
    store.save()
    assert store.session_key == "n" * 32
    assert SessionStore(taken).load() == {"owner": "someone else"}


def test_a_new_session_written_with_the_next_statement_fails_on_a_taken_key(acme, monkeypatch):
    taken = _taken_key()
    store = _store_drawing(monkeypatch, taken, "n" * 32)
    store["owner"] = "me"
    if HOLDS_WRITES:
        # The INSERT waits for the next statement: it cannot skip the key and draw another,
        # so the transaction fails and the cookie never names the other person's session.
        with pytest.raises(IntegrityError), transaction.atomic(), writes_batched():
            store.save()
            Session.objects.count()  # the next statement carries the INSERT
        assert not Session.objects.filter(session_key="n" * 32).exists()
    else:
        with transaction.atomic(), writes_batched():
            store.save()
        assert store.session_key == "n" * 32
    assert SessionStore(taken).load() == {"owner": "someone else"}
    assert User.objects.filter(pk=acme.agent.pk).exists()  # the connection is usable
