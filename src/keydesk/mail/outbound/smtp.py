"""Talking to the SMTP relay of `KEYDESK_SMTP_URL`, and telling refusals for good from hiccups."""

import smtplib

from django.conf import settings
from django.core.mail import get_connection

# What a send may raise: the server's answers, a dropped or refused connection, a timeout,
# a TLS handshake that failed (ssl.SSLError is an OSError).
SEND_ERRORS = (TimeoutError, smtplib.SMTPException, OSError)


def smtp_connection():
    """A fresh connection for one send; TLS, SMTPS and login come from `KEYDESK_SMTP_URL`."""
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        fail_silently=False,
        timeout=settings.EMAIL_TIMEOUT,
    )


def is_permanent(exc: Exception) -> bool:
    """Whether the relay refused the message for good: a 5xx reply (RFC 5321, 4.2.1).

    A 4xx reply, a dropped connection or a timeout is temporary and worth another try.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def describe(exc: Exception) -> str:
    """The error for the outbox's "last error": the server's reply, never a credential."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = "; ".join(
            f"{address}: {code} {_text(message)}"
            for address, (code, message) in exc.recipients.items()
        )
        return f"recipient refused: {replies}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(message) -> str:
    if isinstance(message, bytes):
        return message.decode("utf-8", errors="replace")
    return str(message)
