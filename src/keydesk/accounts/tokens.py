"""Signed links that embed the state they change, so each works once (as Django's reset tokens).

A token carries the person's id and a digest of the state the action changes (the password
hash for a reset, the verification time for an email link). Using it changes that state,
which voids every copy; the signature's timestamp bounds its lifetime.
"""

import hashlib

from django.core import signing
from django.utils.crypto import constant_time_compare

from .models import User


def _state_digest(user: User, purpose: str) -> str:
    if purpose == "password-reset":
        state = f"{user.password}|{user.last_login}|{user.is_active}"
    else:
        state = f"{user.email}|{user.email_verified_at}"
    return hashlib.sha256(f"{purpose}|{user.pk}|{state}".encode()).hexdigest()[:32]


def make_token(user: User, purpose: str) -> str:
    return signing.dumps(
        {"u": user.pk, "t": user.tenant_id, "s": _state_digest(user, purpose)},
        salt=f"keydesk.{purpose}",
        compress=True,
    )


def user_for_token(token: str, *, tenant, purpose: str, max_age_seconds: int) -> User | None:
    """The person a still valid, unused token of this tenant names; None otherwise."""
    try:
        data = signing.loads(token, salt=f"keydesk.{purpose}", max_age=max_age_seconds)
    except signing.BadSignature:  # tampered, expired, or not ours
        return None
    if not isinstance(data, dict) or data.get("t") != tenant.pk:
        return None
    user = User.objects.filter(tenant=tenant, pk=data.get("u")).first()
    if user is None or not constant_time_compare(str(data.get("s")), _state_digest(user, purpose)):
        return None
    return user
