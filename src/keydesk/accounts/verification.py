"""Email verification of contacts: a single-use link, valid seven days (Mojo's confirmation mail)."""

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.tenants.selectors import tenant_url

from .models import User
from .permissions import Perm, require
from .tokens import make_token, user_for_token

VERIFICATION_MAX_AGE = timedelta(days=7)
PURPOSE = "email-verification"


def verification_send(*, user: User, actor: User | None, request=None) -> None:
    """Mail the contact a verification link; staff may resend it."""
    from keydesk.mail.services import email_queue

    if actor is not None and actor.pk != user.pk:
        require(actor, Perm.CONTACT_MANAGE)
    if user.email_verified_at is not None or not user.is_contact:
        return
    link = tenant_url(
        user.tenant, reverse("verify_email", args=[make_token(user, PURPOSE)]), request
    )
    with transaction.atomic():
        email_queue(
            tenant=user.tenant,
            template="verify_email",
            to=user,
            sensitive=True,
            context={"link": link, "valid_days": VERIFICATION_MAX_AGE.days},
            request=request,
        )
        record(user.tenant, actor, EventAction.CONTACT_VERIFICATION_SENT, user, request)


def verification_confirm(*, tenant, token: str, request=None) -> User | None:
    """Mark the email verified; None for a used, expired or tampered link."""
    user = user_for_token(
        token,
        tenant=tenant,
        purpose=PURPOSE,
        max_age_seconds=int(VERIFICATION_MAX_AGE.total_seconds()),
    )
    if user is None:
        return None
    with transaction.atomic():
        # The conditional UPDATE makes the link single-use even when opened twice at once.
        if not User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(
            email_verified_at=timezone.now()
        ):
            return None
        user.refresh_from_db()
        record(tenant, user, EventAction.CONTACT_VERIFIED, user, request)
    return user
