"""The webhook backend against a real HTTP server: signed JSON, retries, give-up, erasure."""

import hashlib
import hmac
import json
import socket
import time

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from keydesk.eventlog.models import Event
from keydesk.eventlog.services import events_verify
from keydesk.sms.backends import signature
from keydesk.sms.models import OutboundSms
from keydesk.sms.services import ERASED_BODY, MAX_ATTEMPTS, sms_body, sms_deliver, sms_queue
from tests.conftest import TenantWorld, run_worker

from .conftest import SECRET, signature_ok

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "+442079460958"


def _queue(world, sensitive=True):
    return sms_queue(
        tenant=world.tenant,
        template="mfa_code",
        to=NUMBER,
        user=world.agent,
        sensitive=sensitive,
        context={"code": "481516", "minutes": 10},
    )


def test_the_signature_is_the_documented_one():
    # The worked example of docs/sms.md.
    body = (
        b'{"to":"+442079460958","body":"Hello",'
        b'"message_id":"5f0c6c1e-0000-4000-8000-000000000000","tenant":"acme"}'
    )
    assert (
        signature("whsec-example-0123456789", "1767225600", body)
        == "sha256=5022b1303759e35f67875dd5227a7b2993ca803f34ad29a3eba6b94b6289d1fd"
    )
    expected = hmac.new(b"k" * 16, b"1." + body, hashlib.sha256).hexdigest()
    assert signature("k" * 16, "1", body) == f"sha256={expected}"


def test_a_text_is_posted_as_signed_json(acme_tx, gateway):
    sms = _queue(acme_tx, sensitive=False)
    assert gateway.requests == []  # nothing leaves inside the request
    run_worker()
    [request] = gateway.requests
    assert request["verified"] and request["path"] == "/sms"
    assert request["json"] == {
        "to": NUMBER,
        "body": "481516 is your Acme sign-in code. It works once, for 10 minutes. Do not share it.",
        "message_id": sms.message_id,
        "tenant": "acme",
    }
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert abs(int(headers["X-Keydesk-Timestamp"]) - time.time()) < 60
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("sent", 1)
    assert sms.sent_at is not None and sms_body(sms).startswith("481516")
    sent = Event.objects.get(tenant=acme_tx.tenant, action="sms.sent")
    assert sent.details["message_id"] == sms.message_id and sent.details["backend"] == "webhook"
    assert events_verify(tenant=acme_tx.tenant).ok


def test_a_replayed_request_fails_the_receivers_check(acme_tx, gateway):
    _queue(acme_tx)
    run_worker()
    [request] = gateway.requests
    later = int(request["headers"]["X-Keydesk-Timestamp"]) + 301
    assert not signature_ok(SECRET, request["headers"], request["body"], now=later)
    tampered = request["body"].replace(NUMBER.encode(), b"+449999999999")
    assert not signature_ok(SECRET, request["headers"], tampered)


def test_each_tenant_is_named_in_its_own_texts(acme_tx, gateway):
    globex = TenantWorld("globex")
    _queue(acme_tx)
    _queue(globex)
    run_worker()
    assert sorted(r["json"]["tenant"] for r in gateway.requests) == ["acme", "globex"]
    for world in (acme_tx, globex):
        [event] = Event.objects.filter(tenant=world.tenant, action="sms.sent")
        assert event.target_id == str(world.agent.pk)


def test_sensitive_body_is_erased_after_delivery(acme_tx, gateway):
    sms = _queue(acme_tx, sensitive=True)
    run_worker()
    sms.refresh_from_db()
    assert sms.status == "sent" and sms.body_encrypted == ""
    assert sms_body(sms) == ERASED_BODY
    assert "481516" in gateway.requests[0]["json"]["body"]


def test_a_500_is_retried_later_then_delivered(acme_tx, gateway):
    gateway.replies = [500]
    sms = _queue(acme_tx)
    run_worker()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("queued", 1)
    assert sms.last_error == "HTTP 500 Internal Server Error"
    assert sms_body(sms).startswith("481516")  # kept for the next try
    retry = DBTaskResult.objects.get(task_path="keydesk.sms.tasks.deliver_sms", status="READY")
    assert retry.args_kwargs["args"] == [sms.pk]
    assert 20 < (retry.run_after - timezone.now()).total_seconds() <= 30
    # The retry is scheduled for later; run it now as the worker would when it is due.
    assert sms_deliver(sms_id=sms.pk) == "sent"
    first, second = gateway.requests
    assert (first["status"], second["status"]) == (500, 200)
    # The same message id both times lets the gateway drop a duplicate.
    assert first["json"]["message_id"] == second["json"]["message_id"] == sms.message_id
    sms.refresh_from_db()
    assert (sms.attempts, sms.last_error, sms.body_encrypted) == (2, "", "")


def test_gives_up_after_the_last_attempt(acme_tx, gateway):
    gateway.replies = [503] * MAX_ATTEMPTS
    sms = _queue(acme_tx)
    run_worker()
    for _ in range(MAX_ATTEMPTS - 1):
        sms_deliver(sms_id=sms.pk)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(gateway.requests) == MAX_ATTEMPTS
    assert sms.body_encrypted == ""  # nothing sends it again, and its code is stale
    failed = Event.objects.get(tenant=acme_tx.tenant, action="sms.failed")
    assert failed.details["attempts"] == MAX_ATTEMPTS
    assert failed.details["error"] == "HTTP 503 Service Unavailable"
    assert sms_deliver(sms_id=sms.pk) == "failed"
    assert len(gateway.requests) == MAX_ATTEMPTS


def test_a_wrong_secret_is_refused_by_the_gateway_and_retried(acme_tx, gateway, settings):
    settings.SMS_WEBHOOK_SECRET = "not-the-gateways-secret"
    sms = _queue(acme_tx)
    run_worker()
    sms.refresh_from_db()
    assert (sms.status, sms.last_error) == ("queued", "HTTP 401 Unauthorized")
    assert not gateway.requests[0]["verified"]


def test_an_unreachable_gateway_is_retried(acme_tx, gateway, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.SMS_WEBHOOK_URL = f"http://127.0.0.1:{closed_port}/sms"
    sms = _queue(acme_tx)
    run_worker()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("queued", 1)
    assert sms.last_error.startswith("URLError: ")


def test_a_slow_gateway_times_out_and_is_retried(acme_tx, gateway, settings):
    settings.SMS_WEBHOOK_TIMEOUT = 0.3
    gateway.delay = 1.5
    sms = _queue(acme_tx)
    started = time.monotonic()
    run_worker()
    assert time.monotonic() - started < 1.4
    sms.refresh_from_db()
    assert sms.status == "queued" and "timed out" in sms.last_error


def test_a_redirect_is_not_followed(acme_tx, gateway):
    gateway.replies = [302]
    sms = _queue(acme_tx)
    run_worker()
    sms.refresh_from_db()
    assert (sms.status, sms.last_error) == ("queued", "HTTP 302 Found")
    assert len(gateway.requests) == 1


def test_the_body_is_json_with_unicode_as_is(acme_tx, gateway):
    acme_tx.tenant.name = "Acmé & Co"
    acme_tx.tenant.save()
    _queue(acme_tx)
    run_worker()
    [request] = gateway.requests
    assert "Acmé & Co" in request["body"].decode("utf-8")
    assert json.loads(request["body"])["body"].startswith("481516 is your Acmé & Co")
    assert OutboundSms.objects.get().status == "sent"
