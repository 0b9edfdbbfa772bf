"""Browser sessions: idle and absolute lifetimes, revocation, and new-device alerts."""

import hashlib
import re
import secrets
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from keydesk.core.errors import NotFound, PermissionDenied
from keydesk.core.http import client_ip
from keydesk.core.models import tenant_settings
from keydesk.core.queries import Param, PreparedUpdate
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .models import KnownDevice, SessionPolicy, SignInSession, User
from .permissions import can_manage_person

DEVICE_COOKIE = "keydesk_device"
DEVICE_COOKIE_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep a cookie
# Activity is written at most once a minute per session, not on every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def session_policy_for(tenant) -> SessionPolicy:
    return tenant_settings(SessionPolicy, tenant)


def session_expiry_reason(request, user: User) -> str | None:
    """'idle' or 'expired' when the session outlived the tenant's limits, else None (and touch it)."""
    session = request.session
    now = timezone.now().timestamp()
    idle_minutes, max_days = session_policy_for(user.tenant).limits_for(user)
    auth_time = session.get("auth_time", now)
    last_seen = session.get("last_seen", auth_time)
    if now - auth_time > max_days * 86400:
        return "expired"
    if now - last_seen > idle_minutes * 60:
        return "idle"
    if now - last_seen > LAST_SEEN_RESOLUTION.total_seconds():
        session["last_seen"] = int(now)
        SignInSession.objects.filter(session_key=session.session_key).update(
            last_seen_at=timezone.now()
        )
    return None


def end_session(request, user: User, *, reason: str) -> None:
    """End this request's session because it timed out; the event says why."""
    with transaction.atomic():
        SignInSession.objects.filter(session_key=request.session.session_key).update(
            ended_at=timezone.now(), end_reason=reason
        )
        record(user.tenant, user, EventAction.SESSION_ENDED, user, request, reason=reason)
    request.session.flush()


def _end(sessions) -> int:
    keys = list(sessions.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    sessions.update(ended_at=timezone.now(), end_reason="revoked")
    return len(keys)


def session_revoke(*, user: User, session_id: int, request=None) -> None:
    """A person ends one of their own sessions."""
    sessions = SignInSession.objects.filter(
        tenant_id=user.tenant_id, user=user, pk=session_id, ended_at__isnull=True
    )
    if not sessions.exists():
        raise NotFound("session")
    with transaction.atomic():
        _end(sessions)
        record(user.tenant, user, EventAction.SESSION_REVOKED, user, request, sessions=1)


def sessions_revoke_others(*, user: User, current_key: str, request=None) -> int:
    """A person signs out everywhere but here."""
    with transaction.atomic():
        ended = _end(
            SignInSession.objects.filter(user=user, ended_at__isnull=True).exclude(
                session_key=current_key
            )
        )
        record(user.tenant, user, EventAction.SESSION_REVOKED, user, request, sessions=ended)
    return ended


def user_sign_out_everywhere(*, user: User, actor: User, request=None) -> int:
    """An admin (or a manager, for people they manage) ends all of a person's sessions."""
    if not can_manage_person(actor, kind=user.kind, role=user.role):
        raise PermissionDenied()
    with transaction.atomic():
        ended = _end(SignInSession.objects.filter(user=user, ended_at__isnull=True))
        record(user.tenant, actor, EventAction.SESSION_REVOKED, user, request, sessions=ended)
    return ended


def _device_hash(device_id: str) -> str:
    return hashlib.sha256(device_id.encode()).hexdigest()


_note_visit = PreparedUpdate(
    KnownDevice.objects.filter(user_id=Param("user_id"), device_hash=Param("device_hash")),
    last_seen_at=Param("last_seen_at"),
)


def remember_device(request, user: User) -> str | None:
    """Note the browser a person signed in from; alert them when it is new.

    Returns a fresh device id for the caller to set as a cookie, or None to keep the current one.
    """
    device_id = request.COOKIES.get(DEVICE_COOKIE, "")
    fresh = None
    if not re.fullmatch(r"[A-Za-z0-9_-]{32,64}", device_id):
        device_id = fresh = secrets.token_urlsafe(32)
    device_hash = _device_hash(device_id)
    # A browser seen before is the common case: one UPDATE tells it and notes the visit.
    if _note_visit.run(user_id=user.pk, device_hash=device_hash, last_seen_at=timezone.now()):
        return fresh
    device, created = KnownDevice.objects.get_or_create(
        tenant_id=user.tenant_id,
        user=user,
        device_hash=device_hash,
        defaults={"user_agent": request.META.get("HTTP_USER_AGENT", "")[:300]},
    )
    if not created:  # a concurrent sign-in from the same browser recorded it first
        return fresh
    first_sign_in = not KnownDevice.objects.filter(user=user).exclude(pk=device.pk).exists()
    if not first_sign_in and session_policy_for(user.tenant).new_device_alerts:
        from keydesk.mail.services import email_queue

        email_queue(
            tenant=user.tenant,
            template="new_device",
            to=user,
            request=request,
            context={
                "device": describe_user_agent(device.user_agent),
                "ip": client_ip(request),
                "when": timezone.now(),
            },
        )
        record(
            user.tenant,
            user,
            EventAction.NEW_DEVICE_ALERT,
            user,
            request,
            device=describe_user_agent(device.user_agent),
        )
    return fresh


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_user_agent(user_agent: str) -> str:
    """ "Firefox on Windows"-style words for a User-Agent header, for people to recognise."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), "Unknown browser")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "unknown system")
    return f"{browser} on {system}"
