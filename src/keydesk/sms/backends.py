"""Ways out for text messages behind one interface: `log` keeps them, `webhook` POSTs them.

A backend's `send` returns when the provider has taken the message and raises
`DeliveryError` when the worker should try again later.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .numbers import mask_number

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Keydesk-Signature"
TIMESTAMP_HEADER = "X-Keydesk-Timestamp"


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    message_id: str
    tenant: str


class DeliveryError(Exception):
    """The message did not leave; the worker tries again later."""


class SmsBackend:
    """One way out; `keeps` is true when messages stay in the outbox instead of leaving."""

    name = ""
    keeps = False

    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


class LogBackend(SmsBackend):
    """Development default: nothing leaves; admins read the message in the outbox."""

    name = "log"
    keeps = True

    def send(self, message: SmsMessage) -> None:
        # Never the body: it may hold a sign-in code, and logs are kept longer than the outbox.
        logger.info(
            "SMS %s to %s kept in the outbox (tenant %s)",
            message.message_id,
            mask_number(message.to),
            message.tenant,
        )


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, the value of X-Keydesk-Signature."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would resend (or drop) the signed body somewhere the operator did not name.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class WebhookBackend(SmsBackend):
    """A signed JSON POST per message; any answer but 2xx, or no answer, is retried."""

    name = "webhook"

    def __init__(self, *, url: str, secret: str, timeout: float):
        self.url, self.secret, self.timeout = url, secret, timeout

    def send(self, message: SmsMessage) -> None:
        body = json.dumps(
            {
                "to": message.to,
                "body": message.body,
                "message_id": message.message_id,
                "tenant": message.tenant,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in settings
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Keydesk-SMS/1",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            },
        )
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                response.read(4096)
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise DeliveryError(f"URLError: {exc.reason}") from exc
        except OSError as exc:  # TimeoutError and connection resets while reading
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def get_backend() -> SmsBackend:
    """The backend named by KEYDESK_SMS_BACKEND."""
    name = settings.SMS_BACKEND
    if name == LogBackend.name:
        return LogBackend()
    if name == WebhookBackend.name:
        if not (settings.SMS_WEBHOOK_URL and settings.SMS_WEBHOOK_SECRET):
            raise ImproperlyConfigured(
                "The webhook SMS backend needs KEYDESK_SMS_WEBHOOK_URL and "
                "KEYDESK_SMS_WEBHOOK_SECRET."
            )
        return WebhookBackend(
            url=settings.SMS_WEBHOOK_URL,
            secret=settings.SMS_WEBHOOK_SECRET,
            timeout=settings.SMS_WEBHOOK_TIMEOUT,
        )
    raise ImproperlyConfigured(f"KEYDESK_SMS_BACKEND must be log or webhook, not {name!r}.")
