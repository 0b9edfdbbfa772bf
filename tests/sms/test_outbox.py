"""The SMS outbox: a row first, encrypted, delivered by the worker; guests get nothing."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from keydesk.accounts.services import user_update
from keydesk.core.errors import ApplicationError
from keydesk.eventlog.models import Event
from keydesk.eventlog.services import events_verify
from keydesk.sms.backends import get_backend
from keydesk.sms.models import OutboundSms
from keydesk.sms.numbers import mask_number, normalize_number
from keydesk.sms.services import sms_body, sms_deliver, sms_queue
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "+442079460958"


def _queue(world, to=NUMBER, user=None, **kwargs):
    return sms_queue(
        tenant=world.tenant,
        template="mfa_code",
        to=to,
        user=user or world.agent,
        context={"code": "481516", "minutes": 10},
        **kwargs,
    )


def test_log_backend_keeps_the_text_in_the_outbox(acme_tx):
    sms = _queue(acme_tx, sensitive=True)
    assert sms.status == "queued"
    run_worker()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.sent_at) == ("kept", 1, None)
    # Kept is how a text reaches anyone with the log backend: it stays readable.
    assert (
        sms_body(sms)
        == "481516 is your Acme sign-in code. It works once, for 10 minutes. Do not share it."
    )
    kept = Event.objects.get(tenant=acme_tx.tenant, action="sms.kept")
    assert kept.details["message_id"] == sms.message_id
    assert kept.details["backend"] == "log"
    assert kept.target_id == str(acme_tx.agent.pk)
    assert events_verify(tenant=acme_tx.tenant).ok


def test_body_is_encrypted_at_rest(acme_tx):
    sms = _queue(acme_tx)
    stored = OutboundSms.objects.values_list("body_encrypted", flat=True).get(pk=sms.pk)
    assert "481516" not in stored and "Acme" not in stored
    assert "481516" in sms_body(sms)


def test_guests_receive_nothing(acme_tx, gateway):
    user_update(user=acme_tx.agent, actor=None, is_guest=True)
    acme_tx.agent.refresh_from_db()
    sms = _queue(acme_tx, sensitive=True)
    run_worker()
    sms.refresh_from_db()
    assert (sms.status, sms.body_encrypted) == ("suppressed", "")
    assert gateway.requests == []
    event = Event.objects.get(tenant=acme_tx.tenant, action="sms.suppressed")
    assert event.details["reason"] == "guest"


def test_a_text_to_a_bare_number_is_recorded_against_the_masked_number(acme_tx):
    sms = sms_queue(
        tenant=acme_tx.tenant, template="mfa_code", to=NUMBER, context={"code": "1", "minutes": 1}
    )
    run_worker()
    event = Event.objects.get(tenant=acme_tx.tenant, action="sms.kept")
    assert (event.target_type, event.target_label) == ("phone", "+********0958")
    assert NUMBER not in str(event.details) and sms.recipient == NUMBER


def test_a_text_is_handled_once_even_if_delivered_twice(acme_tx):
    sms = _queue(acme_tx)
    run_worker()
    assert sms_deliver(sms_id=sms.pk) == "kept"
    assert OutboundSms.objects.get(pk=sms.pk).attempts == 1
    assert Event.objects.filter(tenant=acme_tx.tenant, action="sms.kept").count() == 1


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("+49.30.1234567", "+49301234567"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_numbers_are_stored_in_e164(typed, stored):
    assert normalize_number(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "020 7946 0958",
        "+0 20 7946 0958",
        "+1234567",
        "+1234567890123456",
        "+44 20 79x6",
        "tel:+442079460958",
    ],
)
def test_other_numbers_are_refused_naming_the_field(typed):
    with pytest.raises(ApplicationError) as refused:
        normalize_number(typed)
    assert refused.value.field == "phone" and refused.value.code == "invalid_phone"
    assert refused.value.message.startswith("Phone number: ")
    assert "international format" in refused.value.message


def test_a_bad_number_is_refused_before_anything_is_stored(acme_tx):
    with pytest.raises(ApplicationError):
        _queue(acme_tx, to="07946 0958")
    assert not OutboundSms.objects.exists()


def test_mask_keeps_the_last_four_digits():
    assert mask_number("+14155550123") == "+*******0123"


def test_a_misconfigured_backend_is_named(settings):
    settings.SMS_BACKEND = "pigeon"
    with pytest.raises(ImproperlyConfigured, match="log or webhook"):
        get_backend()
    settings.SMS_BACKEND = "webhook"
    settings.SMS_WEBHOOK_URL = "http://127.0.0.1:9/sms"
    settings.SMS_WEBHOOK_SECRET = None
    with pytest.raises(ImproperlyConfigured, match="KEYDESK_SMS_WEBHOOK_SECRET"):
        get_backend()
