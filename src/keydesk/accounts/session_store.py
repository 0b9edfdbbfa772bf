"""Database sessions (Django's), without two round trips a sign-in does not need.

- A new session key is not looked up before it is used. It is 32 random characters, and the
  INSERT skips a key that is taken (`PreparedInsert(skip_existing=True)`):
  `save(must_create=True)` then raises CreateError and `create()` draws another key. As the
  INSERT never fails, it needs no savepoint of its own inside the sign-in's transaction.
  Where writes are held back (`writes_batched`, the sign-in's last step on PostgreSQL), the
  INSERT goes out with the next statement instead, and a taken key fails the transaction
  rather than being skipped: drawing another key would first need the INSERT's answer, and a
  skipped row must never leave the cookie naming someone else's session. The chance is one
  in 36**32 for each session alive.
- A new key (a sign-in cycles the key) is written with the session's data when the session
  is next saved, not at once and then again with the data.
- A session is read by its key with SQL built once per process (`PreparedLookup`), its
  expiry then checked here. A signed-in page has usually read it already, with its tenant
  (see `request_reads`).
- Data already written in this request is not written again. A sign-in writes its new
  session inside its own transaction, together with the sign-in record; the middleware's
  save when the response goes out then has nothing left to write, and only sets the cookie.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string

from keydesk.core.queries import PreparedInsert, writes_are_held

from .request_reads import SESSION_KEY_LENGTH, session_by_key, take_session

_insert_session = PreparedInsert(Session, skip_existing=True)
_insert_session_or_fail = PreparedInsert(Session)


class SessionStore(DatabaseSessionStore):
    _written: tuple[str, bytes] | None = None

    def _get_session_from_db(self):
        read_ahead, session = take_session(self.session_key)
        if not read_ahead:
            session = session_by_key.first(session_key=self.session_key)
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session

    def _get_new_session_key(self) -> str:
        return get_random_string(SESSION_KEY_LENGTH, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        data = self._session
        old_key = self.session_key
        self._session_key = None  # `save()` draws the new key and inserts the row
        self._session_cache = data
        self.modified = True
        if old_key:
            self.delete(old_key)

    def _snapshot(self, data: dict) -> tuple[str | None, bytes]:
        # Serialised rather than copied, so a change made inside a nested value shows too.
        return self.session_key, self.serializer().dumps(data)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()  # draws a key, then comes back here with must_create
            return
        if must_create:
            instance = self.create_model_instance(self._get_session(no_load=True))
            if writes_are_held():
                _insert_session_or_fail.save_batched(instance)
            elif not _insert_session.save(instance):
                raise CreateError  # the key is taken: `create()` draws another
            return
        if self._written is not None and self._written == self._snapshot(self._get_session()):
            return
        super().save()

    def create_model_instance(self, data: dict):
        instance = super().create_model_instance(data)
        self._written = self._snapshot(data)
        return instance
