"""Authenticator apps (TOTP, RFC 6238): SHA1, 6 digits, 30 s, 160-bit secrets, as Google and
Microsoft Authenticator expect; codes for the current step and one either side are accepted,
and never a code for a step at or before the last one accepted (no replay)."""

import json
import time

import pyotp
import segno
from django.utils import timezone

from keydesk.core.crypto import decrypt, encrypt

from .models import Authenticator

DIGITS = 6
PERIOD = 30
VALID_WINDOW = 1  # steps either side of now


def new_secret() -> str:
    return pyotp.random_base32(length=32)  # 32 base32 characters = 160 bits


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=email, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no image request, fits the CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#111827", light="#ffffff")


def grouped(secret: str) -> str:
    """The passphrase in groups of four, for typing into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def encrypt_secret(secret: str) -> str:
    return encrypt(json.dumps({"secret": secret}))


def secret_of(authenticator: Authenticator) -> str:
    return json.loads(decrypt(authenticator.secret_encrypted))["secret"]


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step `code` is valid for (now or one step either side), else None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = int((time.time() if now is None else now) // PERIOD)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        # pyotp's verify compares in constant time; at(step * PERIOD) is that step's code.
        if pyotp.utils.strings_equal(code, totp.at(step * PERIOD)):
            return step
    return None


def verify(authenticator: Authenticator, code: str) -> bool:
    """Accept the code once: the step is recorded with a conditional UPDATE, so a replay (or
    two requests racing with the same code) loses."""
    step = matching_step(secret_of(authenticator), code)
    if step is None:
        return False
    return bool(
        Authenticator.objects.filter(pk=authenticator.pk, last_step__lt=step).update(
            last_step=step, last_used_at=timezone.now()
        )
    )
