"""Password reset by email: the same answer for every address, a link valid one hour that
stops working once the password changed. Completing a reset never signs anyone in: the
person then signs in with the new password, and so still meets their second factor."""

from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from keydesk.core.errors import ApplicationError
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.tenants.selectors import tenant_url

from . import lockout
from .models import User
from .services import normalize_email, user_set_password
from .tokens import make_token, user_for_token

RESET_MAX_AGE = timedelta(hours=1)
PURPOSE = "password-reset"
# At most this many reset mails per person per window, so the form cannot flood an inbox.
MAILS_PER_WINDOW = 3
WINDOW_SECONDS = 15 * 60
INVALID_LINK = "This password reset link is used, expired or not valid. Ask for a new one."


def password_reset_request(*, tenant, email: str, request=None) -> None:
    """Mail a reset link when the address belongs to someone who may reset; say nothing else."""
    from keydesk.mail.services import email_queue

    try:
        email = normalize_email(email)
    except ApplicationError:
        return
    user = User.objects.filter(tenant=tenant, email=email, is_active=True).first()
    if user is None or user.is_guest:
        return
    throttle_key = f"password-reset:{user.pk}"
    cache.add(throttle_key, 0, WINDOW_SECONDS)
    if cache.incr(throttle_key) > MAILS_PER_WINDOW:
        return
    path = reverse("password_reset_confirm", args=[make_token(user, PURPOSE)])
    with transaction.atomic():
        email_queue(
            tenant=tenant,
            template="password_reset",
            to=user,
            sensitive=True,
            request=request,
            context={"link": tenant_url(tenant, path, request), "valid_minutes": 60},
        )
        record(tenant, None, EventAction.PASSWORD_RESET_REQUESTED, user, request)


def password_reset_user(*, tenant, token: str) -> User | None:
    """The person a reset link is for, while it is valid and unused."""
    return user_for_token(
        token, tenant=tenant, purpose=PURPOSE, max_age_seconds=int(RESET_MAX_AGE.total_seconds())
    )


def password_reset_complete(*, tenant, token: str, password: str, request=None) -> User:
    """Set the new password (policy applies); every session of the person ends."""
    user = password_reset_user(tenant=tenant, token=token)
    if user is None:
        raise ApplicationError("invalid_link", INVALID_LINK, status=400)
    with transaction.atomic():
        # Lock the row so two submissions of one link cannot both pass the token check.
        user = User.objects.select_for_update().get(pk=user.pk)
        if password_reset_user(tenant=tenant, token=token) is None:
            raise ApplicationError("invalid_link", INVALID_LINK, status=400)
        user_set_password(user=user, actor=user, password=password, request=request)
        record(tenant, user, EventAction.PASSWORD_RESET_COMPLETED, user, request)
        if lockout.is_locked(user):
            lockout.account_unlock(user=user, actor=None, request=request)
    return user
