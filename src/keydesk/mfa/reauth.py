"""Recent authentication: changes to second factors need the password from the last ten minutes."""

import time
from enum import StrEnum
from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from keydesk.accounts import lockout
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from . import totp
from .models import Authenticator
from .services import mark_used

RECENT_SECONDS = 600
REAUTH_KEY = "reauth_time"


def recently_authenticated(request) -> bool:
    """True when this session's sign-in or its last confirmation is under ten minutes old."""
    now = time.time()
    for key in ("auth_time", REAUTH_KEY):
        moment = request.session.get(key)
        if isinstance(moment, int | float) and 0 <= now - moment <= RECENT_SECONDS:
            return True
    return False


def reauth_url(request, next_url: str) -> str:
    return f"{reverse('mfa_reauth')}?{urlencode({'next': next_url})}"


def reauth_required(view):
    """Send the person to confirm their password first, then back to this page."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if recently_authenticated(request):
            return view(request, *args, **kwargs)
        # A form posted too late is not replayed after the detour: every such page shows its
        # form on GET at the same path, so a POST comes back there.
        back = request.get_full_path() if request.method == "GET" else request.path
        return redirect(reauth_url(request, back))

    return checked


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"
    LOCKED = "locked"


def reauthenticate(request, *, password: str = "", code: str = "") -> Outcome:
    """Check the signed-in person's password (or an app code) under the sign-in lockout."""
    # A try is reserved before the check, so wrong answers here count toward the same
    # lockout as wrong passwords at /login, and racing requests cannot exceed it.
    user = request.user
    method = "otp" if code else "pwd"
    protection = lockout.protection_for(user.tenant)
    if not lockout.reserve_attempt(user, protection):
        _failed(request, method, "locked")
        return Outcome.LOCKED
    if not _check(user, password=password, code=code):
        _failed(request, method, "wrong_code" if code else "wrong_password")
        if lockout.lock_if_exhausted(user, protection, request=request):
            return Outcome.LOCKED
        return Outcome.WRONG
    lockout.register_success(user)
    request.session[REAUTH_KEY] = int(time.time())
    return Outcome.CONFIRMED


def _check(user, *, password: str, code: str) -> bool:
    if not code:
        return bool(password) and user.check_password(password)
    app = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if app is None or not totp.verify(app, code):
        return False
    mark_used(app)
    return True


def _failed(request, method: str, reason: str) -> None:
    user = request.user
    record(
        user.tenant,
        user,
        EventAction.LOGIN_FAILED,
        user,
        request,
        method=method,
        reason=reason,
        step="reauth",
    )
