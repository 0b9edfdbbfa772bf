"""SMS codes as a second factor: the phone is verified first, then codes sign people in."""

import re

import pytest

from keydesk.accounts.models import AccountLockout, SignInProtection
from keydesk.core.errors import ApplicationError
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from keydesk.mfa.models import Authenticator, OneTimeCode, PhoneNumber
from keydesk.mfa.services import (
    SMS_PER_DAY,
    mfa_policy_update,
    phone_verification_send,
    sms_code_send,
    sms_enable,
)
from keydesk.sms.models import OutboundSms
from keydesk.sms.services import sms_body
from tests.conftest import PASSWORD, run_worker

PHONE = "+44 20 7946 0958"
NUMBER = "+442079460958"
OTHER = "+14155550123"


def _sms_on(world):
    mfa_policy_update(tenant=world.tenant, actor=world.admin, sms_enabled=True)


def _last_code(user) -> str:
    sms = OutboundSms.objects.filter(recipient_user=user).order_by("-pk").first()
    return re.search(r"\b\d{6}\b", sms_body(sms)).group(0)


def _past_resend_throttle():
    OneTimeCode.objects.update(created_at="2000-01-01T00:00:00Z")


def _with_sms(world, user, phone=PHONE):
    _sms_on(world)
    phone_verification_send(user=user, phone=phone)
    codes = sms_enable(user=user, actor=user, phone=phone, code=_last_code(user))
    _past_resend_throttle()
    return codes


def _password_step(client, email="agent@acme.test"):
    return client.post("/login", {"email": email, "password": PASSWORD})


def test_the_phone_is_verified_by_a_code_before_sms_is_on(acme):
    _sms_on(acme)
    assert phone_verification_send(user=acme.agent, phone=PHONE) == NUMBER
    assert not Authenticator.objects.filter(user=acme.agent, type="sms").exists()
    sms = OutboundSms.objects.get(recipient_user=acme.agent)
    assert (sms.recipient, sms.template, sms.sensitive) == (NUMBER, "phone_verify", True)
    assert sms.tenant == acme.tenant
    codes = sms_enable(user=acme.agent, actor=acme.agent, phone=PHONE, code=_last_code(acme.agent))
    assert len(codes) == 10  # the first method brings recovery codes
    assert Authenticator.objects.filter(user=acme.agent, type="sms").exists()
    phone = PhoneNumber.objects.get(user=acme.agent)
    assert (phone.number, phone.pending_number, phone.tenant) == (NUMBER, "", acme.tenant)
    assert phone.verified_at is not None
    verified = Event.objects.get(tenant=acme.tenant, action="mfa.phone.verified")
    assert verified.details["phone"] == "+********0958"
    assert Event.objects.filter(tenant=acme.tenant, action="mfa.sms.enabled").exists()
    sent = Event.objects.get(tenant=acme.tenant, action="mfa.code.sent")
    assert sent.details == {"channel": "sms", "purpose": "verify_phone", "phone": "+********0958"}
    mail = OutboundEmail.objects.get(recipient_user=acme.agent, template="mfa_changed")
    assert mail.sensitive is False
    assert not Event.objects.filter(details__icontains=NUMBER).exists()


def test_the_code_proves_only_the_number_it_was_sent_to(acme):
    _sms_on(acme)
    phone_verification_send(user=acme.agent, phone=PHONE)
    code = _last_code(acme.agent)
    with pytest.raises(ApplicationError) as refused:
        sms_enable(user=acme.agent, actor=acme.agent, phone=OTHER, code=code)
    assert refused.value.field == "phone"
    sms_enable(user=acme.agent, actor=acme.agent, phone=NUMBER, code=code)
    assert PhoneNumber.objects.get(user=acme.agent).number == NUMBER


def test_wrong_expired_and_used_verification_codes_are_refused(acme):
    _sms_on(acme)
    phone_verification_send(user=acme.agent, phone=PHONE)
    code = _last_code(acme.agent)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ApplicationError) as refused:
        sms_enable(user=acme.agent, actor=acme.agent, phone=PHONE, code=wrong)
    assert (refused.value.code, refused.value.field) == ("wrong_code", "code")
    OneTimeCode.objects.update(expires_at="2000-01-01T00:00:00Z")
    with pytest.raises(ApplicationError, match="not right or has expired"):
        sms_enable(user=acme.agent, actor=acme.agent, phone=PHONE, code=code)
    assert not Authenticator.objects.filter(user=acme.agent, type="sms").exists()


def test_a_bad_number_is_refused_naming_the_field(acme):
    _sms_on(acme)
    with pytest.raises(ApplicationError) as refused:
        phone_verification_send(user=acme.agent, phone="07946 0958")
    assert refused.value.field == "phone" and refused.value.message.startswith("Phone number:")
    assert not OutboundSms.objects.exists() and not OneTimeCode.objects.exists()


def test_resending_is_throttled_and_capped_per_day(acme):
    _sms_on(acme)
    phone_verification_send(user=acme.agent, phone=PHONE)
    with pytest.raises(ApplicationError) as too_soon:
        phone_verification_send(user=acme.agent, phone=PHONE)
    assert (too_soon.value.code, too_soon.value.status) == ("too_soon", 429)
    for _ in range(SMS_PER_DAY - 1):
        _past_resend_throttle()
        phone_verification_send(user=acme.agent, phone=PHONE)
    _past_resend_throttle()
    with pytest.raises(ApplicationError) as capped:
        phone_verification_send(user=acme.agent, phone=PHONE)
    assert (capped.value.code, capped.value.status) == ("too_many_sms", 429)
    assert OutboundSms.objects.filter(recipient_user=acme.agent).count() == SMS_PER_DAY
    # Another person of the tenant is not held back by it.
    phone_verification_send(user=acme.manager, phone=PHONE)


def test_sms_is_off_until_the_policy_allows_it(acme):
    with pytest.raises(ApplicationError) as off:
        phone_verification_send(user=acme.agent, phone=PHONE)
    assert off.value.code == "method_off"
    with pytest.raises(ApplicationError):
        sms_enable(user=acme.agent, actor=acme.agent, phone=PHONE, code="123456")
    assert not OutboundSms.objects.exists()
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, require_staff=True)
    client = acme.client()
    assert _password_step(client)["Location"] == "/login/setup-2fa"
    page = client.get("/login/setup-2fa")
    assert b"Codes by SMS" not in page.content
    assert (
        client.post("/login/setup-2fa", {"action": "sms_send", "phone": PHONE}).status_code == 200
    )
    assert not OutboundSms.objects.exists()
    _sms_on(acme)
    assert b"Codes by SMS" in client.get("/login/setup-2fa").content


def test_a_sign_in_code_needs_a_verified_phone(acme):
    _sms_on(acme)
    phone_verification_send(user=acme.agent, phone=PHONE)
    with pytest.raises(ApplicationError) as refused:
        sms_code_send(user=acme.agent)
    assert refused.value.code == "no_phone"


def test_a_sign_in_code_voids_a_pending_number(acme):
    _with_sms(acme, acme.agent)
    phone_verification_send(user=acme.agent, phone=OTHER)
    _past_resend_throttle()
    assert sms_code_send(user=acme.agent) == "0958"
    sms = OutboundSms.objects.filter(recipient_user=acme.agent).order_by("-pk").first()
    assert (sms.recipient, sms.template) == (NUMBER, "mfa_code")
    # The code went to the verified phone: it must not verify the other number.
    with pytest.raises(ApplicationError) as refused:
        sms_enable(user=acme.agent, actor=acme.agent, phone=OTHER, code=_last_code(acme.agent))
    assert refused.value.field == "phone"


def test_changing_the_number_sends_codes_to_the_new_one(acme):
    _with_sms(acme, acme.agent)
    phone_verification_send(user=acme.agent, phone=OTHER)
    assert (
        sms_enable(user=acme.agent, actor=acme.agent, phone=OTHER, code=_last_code(acme.agent))
        is None
    )  # recovery codes exist already
    enabled = Event.objects.filter(tenant=acme.tenant, action="mfa.sms.enabled").order_by("seq")
    assert [e.details["replaced"] for e in enabled] == [False, True]
    _past_resend_throttle()
    sms_code_send(user=acme.agent)
    assert OutboundSms.objects.order_by("-pk").first().recipient == OTHER


@pytest.mark.django_db(transaction=True)
def test_sms_sign_in_end_to_end(acme_tx):
    _with_sms(acme_tx, acme_tx.agent)
    run_worker()
    client = acme_tx.client()
    assert _password_step(client)["Location"] == "/login/verify"
    page = client.get("/login/verify")
    assert b"Send me a code by SMS" in page.content and b"ending in 0958" in page.content
    sent = client.post("/login/verify", {"method": "sms", "action": "send"})
    assert sent["Location"] == "/login/verify?method=sms"
    assert (
        b"We sent a code by SMS to your phone ending in 0958."
        in client.get(sent["Location"]).content
    )
    sms = OutboundSms.objects.filter(template="mfa_code").get()
    assert sms.status == "queued"  # it leaves through the worker
    run_worker()
    sms.refresh_from_db()
    assert sms.status == "kept"
    code = re.search(r"\b\d{6}\b", sms_body(sms)).group(0)
    done = client.post("/login/verify", {"method": "sms", "action": "verify", "code": code})
    assert done["Location"] == "/tickets/"
    assert client.session["amr"] == ["pwd", "sms"]
    succeeded = Event.objects.get(tenant=acme_tx.tenant, action="mfa.challenge.succeeded")
    assert succeeded.details["method"] == "sms"
    # The code worked once.
    again = acme_tx.client()
    _password_step(again)
    reuse = again.post("/login/verify", {"method": "sms", "action": "verify", "code": code})
    assert reuse.status_code == 200 and b"That code is not right." in reuse.content
    assert "_auth_user_id" not in again.session


def test_wrong_sms_codes_count_toward_the_lockout(acme):
    _with_sms(acme, acme.agent)
    client = acme.client()
    _password_step(client)
    client.post("/login/verify", {"method": "sms", "action": "send"})
    wrong = "000000" if _last_code(acme.agent) != "000000" else "111111"
    for _ in range(3):
        client.post("/login/verify", {"method": "sms", "action": "verify", "code": wrong})
    assert AccountLockout.objects.get(user=acme.agent).failures == 4
    locked = client.post("/login/verify", {"method": "sms", "action": "verify", "code": wrong})
    assert locked["Location"] == "/login"
    assert Event.objects.filter(tenant=acme.tenant, action="account.locked").exists()


def test_five_wrong_sms_codes_end_the_challenge(acme):
    SignInProtection.objects.create(tenant=acme.tenant, max_failures=20)
    _with_sms(acme, acme.agent)
    client = acme.client()
    _password_step(client)
    client.post("/login/verify", {"method": "sms", "action": "send"})
    code = _last_code(acme.agent)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = client.post(
            "/login/verify", {"method": "sms", "action": "verify", "code": wrong}
        )
    assert response["Location"] == "/login"
    assert client.get("/login/verify")["Location"] == "/login"
    failed = Event.objects.filter(tenant=acme.tenant, action="mfa.challenge.failed")
    assert [e.details["method"] for e in failed] == ["sms"] * 5
    # The right code no longer helps once the challenge is over.
    late = client.post("/login/verify", {"method": "sms", "action": "verify", "code": code})
    assert late["Location"] == "/login"
    assert "_auth_user_id" not in client.session


def test_setup_at_sign_in_with_sms(acme):
    _sms_on(acme)
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, require_staff=True)
    client = acme.client()
    assert _password_step(client)["Location"] == "/login/setup-2fa"
    page = client.get("/login/setup-2fa")
    assert b"Codes by SMS" in page.content and b'name="phone"' in page.content
    bad = client.post("/login/setup-2fa", {"action": "sms_send", "phone": "0207946"})
    assert bad.status_code == 200
    assert b"Phone number: enter it in international format" in bad.content
    assert b'aria-invalid="true"' in bad.content
    sent = client.post("/login/setup-2fa", {"action": "sms_send", "phone": PHONE})
    assert sent["Location"] == "/login/setup-2fa"
    page = client.get("/login/setup-2fa")
    assert f"Code sent to {NUMBER}".encode() in page.content
    assert b"We sent a code by SMS to +442079460958." in page.content
    wrong = client.post("/login/setup-2fa", {"action": "sms", "phone": NUMBER, "code": "12"})
    assert wrong.status_code == 200 and b"not right or has expired" in wrong.content
    shown = client.post(
        "/login/setup-2fa", {"action": "sms", "phone": NUMBER, "code": _last_code(acme.agent)}
    )
    assert shown.status_code == 200 and b"Save your recovery codes" in shown.content
    done = client.post("/login/setup-2fa", {"action": "continue"})
    assert done["Location"] == "/tickets/"
    assert client.session["amr"] == ["pwd", "sms"]
    assert Authenticator.objects.filter(user=acme.agent, type="sms").exists()


def test_nothing_of_one_tenant_verifies_another(acme, globex):
    _sms_on(acme)
    _sms_on(globex)
    phone_verification_send(user=acme.agent, phone=PHONE)
    with pytest.raises(ApplicationError):
        sms_enable(user=globex.agent, actor=globex.agent, phone=PHONE, code=_last_code(acme.agent))
    assert (
        not Event.objects.filter(tenant=globex.tenant, action__startswith="mfa.")
        .exclude(action="mfa.policy.updated")
        .exists()
    )


def test_sms_setup_in_preferences(acme):
    _sms_on(acme)
    client = acme.client()
    _password_step(client)  # a fresh sign-in counts as recent authentication
    page = client.get("/preferences/2fa")
    assert b"/preferences/2fa/sms" in page.content
    bad = client.post("/preferences/2fa/sms", {"action": "send", "phone": "12"})
    assert bad.status_code == 200 and b'id="id_phone_error"' in bad.content
    sent = client.post("/preferences/2fa/sms", {"action": "send", "phone": PHONE})
    assert sent["Location"] == "/preferences/2fa/sms"
    assert NUMBER.encode() in client.get("/preferences/2fa/sms").content
    done = client.post(
        "/preferences/2fa/sms", {"action": "confirm", "code": _last_code(acme.agent)}
    )
    assert done.status_code == 200 and b"Save your recovery codes" in done.content
    assert Authenticator.objects.filter(user=acme.agent, type="sms").exists()
    assert PhoneNumber.objects.get(user=acme.agent).number == NUMBER


def test_sms_setup_is_not_offered_when_the_policy_is_off(acme):
    client = acme.client()
    _password_step(client)
    assert b"/preferences/2fa/sms" not in client.get("/preferences/2fa").content
    assert client.get("/preferences/2fa/sms")["Location"] == "/preferences/2fa"
