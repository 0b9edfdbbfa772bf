"""A stand-in SMS gateway: a real HTTP server on 127.0.0.1 that checks each signature."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "whsec-test-0123456789abcdef"
TOLERANCE = 300


def signature_ok(secret: str, headers, body: bytes, now: float | None = None) -> bool:
    """The receiver's side of docs/sms.md, written from the doc, not from Keydesk's code."""
    timestamp = headers.get("X-Keydesk-Timestamp", "")
    given = headers.get("X-Keydesk-Signature", "")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > TOLERANCE:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


class Gateway:
    """What arrived, and how to answer: `replies` are statuses used in turn (then 200)."""

    def __init__(self, secret: str):
        self.secret = secret
        self.requests: list[dict] = []
        self.replies: list[int] = []
        self.delay = 0.0
        self.url = ""

    @property
    def accepted(self) -> list[dict]:
        return [r["json"] for r in self.requests if r["status"] == 200]


def _handler(gateway: Gateway):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            verified = signature_ok(gateway.secret, self.headers, body)
            status = gateway.replies.pop(0) if gateway.replies else 200
            if not verified:
                status = 401
            gateway.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                    "json": json.loads(body),
                    "verified": verified,
                    "status": status,
                }
            )
            if gateway.delay:
                time.sleep(gateway.delay)
            try:
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender timed out first, as the slow-gateway test wants

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture
def gateway(settings):
    gw = Gateway(SECRET)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gw))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gw.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    settings.SMS_BACKEND = "webhook"
    settings.SMS_WEBHOOK_URL = gw.url
    settings.SMS_WEBHOOK_SECRET = SECRET
    yield gw
    server.shutdown()
    server.server_close()
