"""New session keys: never looked up first, never handed out twice."""

import pytest
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connection, transaction

from keydesk.accounts.models import User
from keydesk.accounts.session_store import SessionStore
from keydesk.core.queries import writes_batched

HOLDS_WRITES = connection.vendor == "postgresql"


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
