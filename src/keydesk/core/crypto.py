"""Encryption at rest with Fernet; keys derived from the secret key (and its fallbacks, for rotation)."""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"keydesk at-rest v1").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


@lru_cache(maxsize=4)
def _fernet(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    # The first key encrypts; all of them decrypt, so old rows still read after a key change.
    return MultiFernet([_derive(secret_key), *(_derive(k) for k in fallbacks)])


def _current() -> MultiFernet:
    return _fernet(settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext; raises ValueError when the token was not made with a known key."""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: unknown key or tampered data") from None


def encrypt_bytes(plaintext: bytes) -> bytes:
    """A Fernet token of `plaintext`, for binary data such as a raw email."""
    return _current().encrypt(plaintext)


def decrypt_bytes(token: bytes) -> bytes:
    """The plaintext bytes; raises ValueError when the token was not made with a known key."""
    try:
        return _current().decrypt(bytes(token))
    except InvalidToken:
        raise ValueError("cannot decrypt: unknown key or tampered data") from None
