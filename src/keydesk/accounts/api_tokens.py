"""API tokens: created by their owner and shown once, stored as a SHA-256 hash, revocable."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from keydesk.core.errors import ApplicationError, PermissionDenied
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .models import ApiToken, User
from .permissions import Perm, require

TOKEN_PREFIX = "kd_"
# last_used_at is a hint for people, not an audit trail: one write a minute per token is enough.
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *, user: User, actor: User | None, name: str, request=None
) -> tuple[ApiToken, str]:
    """Create a token for `user`; the returned plaintext is shown once and never stored."""
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("People create their own API tokens.")
    if actor is not None:
        require(actor, Perm.API_TOKEN_OWN)
    if not user.is_active or user.tenant_id is None:
        raise ApplicationError(
            "inactive_user", "This person cannot have API tokens.", field="email"
        )
    name = (name or "").strip() or "API token"
    if len(name) > 100:
        raise ApplicationError("too_long", "Use at most 100 characters.", field="name")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            tenant=user.tenant, user=user, name=name, prefix=prefix, secret_hash=_token_hash(secret)
        )
        record(
            user.tenant,
            actor,
            EventAction.TOKEN_CREATED,
            token,
            request,
            owner=user.email,
            name=name,
            prefix=prefix,
        )
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def token_revoke(*, token: ApiToken, actor: User | None, request=None) -> ApiToken:
    if actor is not None and actor.pk != token.user_id:
        raise PermissionDenied("People revoke their own API tokens.")
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            record(
                token.tenant, actor, EventAction.TOKEN_REVOKED, token, request, prefix=token.prefix
            )
    token.refresh_from_db()
    return token


def token_authenticate(*, tenant, raw: str) -> ApiToken | None:
    """The active token `raw` names in this tenant, or None; marks it used."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    token = (
        ApiToken.objects.select_related("user", "tenant")
        .filter(tenant=tenant, prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not constant_time_compare(token.secret_hash, _token_hash(secret)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
