"""A signed-in request's session and person, read in the round trip that finds its tenant.

Every signed-in page reads its tenant (by host), its session (by the cookie's key) and its
person (by the id the session holds). Only the tenant middleware's lookup and the cookie are
needed to read all three, so the middleware reads them together (`read_together`): the
person through the sign-in record that carries the same session key. The session store and
the authentication backend then take these rows instead of reading their own: each row once,
and only for the key or the person it was read for. Anything else reads as before, so a row
read here never decides more than the lookup it stands in for would have.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session

from keydesk.core.queries import Param, PreparedLookup

from .models import SignInSession, User

SESSION_KEY_LENGTH = 32
_KEY_CHARS = frozenset(VALID_KEY_CHARS)

session_by_key = PreparedLookup(Session.objects.filter(session_key=Param("session_key")))
_person_by_session_key = PreparedLookup(
    User.objects.filter(
        sign_in_sessions__session_key=Param(
            "session_key", SignInSession._meta.get_field("session_key")
        ),
        tenant__isnull=False,
    )
)


class _RowsReadAhead:
    def __init__(self, session_key: str, sessions: list, people: list):
        self.session_key = session_key
        self.session: Session | None = sessions[0] if sessions else None
        self.person: User | None = people[0] if people else None
        self.session_taken = self.person_taken = False


_read_ahead: ContextVar[_RowsReadAhead | None] = ContextVar("keydesk_read_ahead", default=None)


def cookie_session_key(request) -> str | None:
    """The request's session key, if it is one this store could have drawn; anything else is
    left to the session store."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if key and len(key) == SESSION_KEY_LENGTH and set(key) <= _KEY_CHARS:
        return key
    return None


def signed_in_reads(session_key: str | None) -> list:
    """The lookups to make with the tenant's for a request with this session key."""
    if session_key is None:
        return []
    return [
        session_by_key.read(session_key=session_key),
        _person_by_session_key.read(session_key=session_key),
    ]


@contextmanager
def rows_read_ahead(session_key: str | None, results: list):
    """For the request inside the block, the rows `signed_in_reads` asked for."""
    if not results:
        yield
        return
    token = _read_ahead.set(_RowsReadAhead(session_key, *results))
    try:
        yield
    finally:
        _read_ahead.reset(token)


def take_session(session_key: str) -> tuple[bool, Session | None]:
    """(True, the row or None) the first time the session under this key is asked for."""
    rows = _read_ahead.get()
    if rows is None or rows.session_taken or rows.session_key != session_key:
        return False, None
    rows.session_taken = True
    return True, rows.session


def take_person(user_id) -> User | None:
    """The person read with the session, the first time, if the session names them."""
    rows = _read_ahead.get()
    if rows is None or rows.person_taken or rows.person is None:
        return None
    rows.person_taken = True
    return rows.person if str(rows.person.pk) == str(user_id) else None
