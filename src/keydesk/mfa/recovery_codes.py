"""Recovery codes: ten single-use codes of 80 random bits, shown once, stored as digests."""

import hashlib
import secrets

from django.utils import timezone

from .models import Authenticator, RecoveryCode

COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def _normalize(code: str) -> str:
    return "".join(code.lower().split()).replace("-", "")


def digest(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def new_codes() -> list[str]:
    """Codes like `k7pq-2mwx-rt9c-hb4n`: 16 characters of a 31-letter alphabet, about 79 bits."""
    codes = []
    for _ in range(COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def store(authenticator: Authenticator, codes: list[str]) -> None:
    """Replace the set: the old codes stop working."""
    RecoveryCode.objects.filter(authenticator=authenticator).delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(
            tenant_id=authenticator.tenant_id, authenticator=authenticator, digest=digest(c)
        )
        for c in codes
    )


def remaining(authenticator: Authenticator) -> int:
    return RecoveryCode.objects.filter(authenticator=authenticator, used_at__isnull=True).count()


def consume(authenticator: Authenticator, code: str) -> bool:
    """Use a code once; of many requests racing with the same code, one wins (conditional UPDATE)."""
    if not _normalize(code):
        return False
    return bool(
        RecoveryCode.objects.filter(
            authenticator=authenticator, digest=digest(code), used_at__isnull=True
        ).update(used_at=timezone.now())
    )
