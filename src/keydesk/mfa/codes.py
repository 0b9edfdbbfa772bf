"""One-time codes by email (and SMS): 6 digits, valid 10 minutes, single use, resend throttled.

A 6-digit code has only a million values, so a plain hash would be reversed from a database
copy in a moment: codes are kept as an HMAC under the server's secret key.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from keydesk.core.errors import ApplicationError

from .models import OneTimeCode

VALID_FOR = timedelta(minutes=10)
# Wrong guesses a code survives: a million values and five guesses leave 1 in 200,000.
MAX_WRONG_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)


def _digest(user_id: int, code: str) -> str:
    key = hashlib.sha256(f"keydesk.mfa-code|{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{user_id}|{code}".encode(), hashlib.sha256).hexdigest()


def issue(user, channel: str) -> str:
    """Create a new code (voiding earlier ones); refused when the last one is under a minute old."""
    now = timezone.now()
    latest = OneTimeCode.objects.filter(user=user, channel=channel).order_by("-created_at").first()
    if latest is not None and now - latest.created_at < RESEND_AFTER:
        wait = int((RESEND_AFTER - (now - latest.created_at)).total_seconds()) + 1
        raise ApplicationError(
            "too_soon",
            f"A code was just sent. You can ask for another in {wait} seconds.",
            status=429,
        )
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        OneTimeCode.objects.filter(user=user, channel=channel, used_at__isnull=True).update(
            used_at=now
        )
        OneTimeCode.objects.create(
            tenant_id=user.tenant_id,
            user=user,
            channel=channel,
            digest=_digest(user.pk, code),
            expires_at=now + VALID_FOR,
        )
    return code


def consume(user, channel: str, code: str) -> bool:
    """Accept the current code once (conditional UPDATE: of racing requests, one wins)."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return False
    now = timezone.now()
    candidate = (
        OneTimeCode.objects.filter(
            user=user, channel=channel, used_at__isnull=True, expires_at__gt=now
        )
        .order_by("-created_at")
        .first()
    )
    if candidate is None:
        return False
    if not hmac.compare_digest(candidate.digest, _digest(user.pk, code)):
        # Every wrong guess counts, wherever the code is typed (sign-in or setup); the fifth
        # voids the code, so guessing means asking for new codes, which is throttled.
        OneTimeCode.objects.filter(pk=candidate.pk).update(wrong_attempts=F("wrong_attempts") + 1)
        OneTimeCode.objects.filter(
            pk=candidate.pk, wrong_attempts__gte=MAX_WRONG_ATTEMPTS, used_at__isnull=True
        ).update(used_at=now)
        return False
    return bool(
        OneTimeCode.objects.filter(pk=candidate.pk, used_at__isnull=True).update(used_at=now)
    )
