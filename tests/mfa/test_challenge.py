"""Second factor at sign-in: TOTP with replay protection, email codes, recovery codes, limits."""

import re
import threading

import pyotp
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keydesk.accounts.models import AccountLockout
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from keydesk.mail.services import email_bodies
from keydesk.mfa import recovery_codes, totp
from keydesk.mfa.models import Authenticator, RecoveryCode
from keydesk.mfa.services import mfa_policy_update, totp_enable
from tests.conftest import PASSWORD


def _with_totp(world, user):
    secret = totp.new_secret()
    codes = totp_enable(user=user, actor=user, secret=secret, code=pyotp.TOTP(secret).now())
    # The enabling code's step is used up; sign-in tests start from a clean slate.
    Authenticator.objects.filter(user=user, type="totp").update(last_step=0)
    return secret, codes


def _password_step(client, email="agent@acme.test"):
    return client.post("/login", {"email": email, "password": PASSWORD})


def test_person_with_totp_is_challenged_and_nothing_is_authenticated_before(acme):
    secret, _ = _with_totp(acme, acme.agent)
    client = acme.client()
    response = _password_step(client)
    assert response["Location"] == "/login/verify"
    assert "_auth_user_id" not in client.session
    page = client.get("/login/verify")
    assert b"authenticator app" in page.content and b'name="code"' in page.content
    done = client.post(
        "/login/verify", {"method": "totp", "action": "verify", "code": pyotp.TOTP(secret).now()}
    )
    assert done["Location"] == "/tickets/"
    assert client.session["amr"] == ["pwd", "otp"]
    assert Event.objects.filter(tenant=acme.tenant, action="mfa.challenge.succeeded").exists()


def test_the_same_totp_code_twice_is_refused(acme):
    secret, _ = _with_totp(acme, acme.agent)
    code = pyotp.TOTP(secret).now()
    first = acme.client()
    _password_step(first)
    assert (
        first.post("/login/verify", {"method": "totp", "action": "verify", "code": code})[
            "Location"
        ]
        == "/tickets/"
    )
    second = acme.client()
    _password_step(second)
    replay = second.post("/login/verify", {"method": "totp", "action": "verify", "code": code})
    assert replay.status_code == 200 and b"That code is not right." in replay.content
    assert "_auth_user_id" not in second.session


def test_codes_of_neighbouring_steps_are_accepted_but_not_older(acme):
    secret = totp.new_secret()
    now = 1_800_000_000
    auth = Authenticator(last_step=0)
    t = pyotp.TOTP(secret)
    assert totp.matching_step(secret, t.at(now - 30), now=now) == now // 30 - 1
    assert totp.matching_step(secret, t.at(now + 30), now=now) == now // 30 + 1
    assert totp.matching_step(secret, t.at(now - 90), now=now) is None
    assert auth.last_step == 0


def test_wrong_codes_count_toward_the_lockout_and_the_per_method_limit(acme):
    _with_totp(acme, acme.agent)
    client = acme.client()
    _password_step(client)
    for _ in range(3):
        client.post("/login/verify", {"method": "totp", "action": "verify", "code": "000000"})
    # The password's try stays reserved until the whole sign-in succeeds: 1 + 3.
    assert AccountLockout.objects.get(user=acme.agent).failures == 4
    response = client.post(
        "/login/verify", {"method": "totp", "action": "verify", "code": "000000"}
    )
    # The fifth failure locks the account, which ends the challenge too.
    assert response["Location"] == "/login"
    assert client.get("/login/verify")["Location"] == "/login"
    assert Event.objects.filter(tenant=acme.tenant, action="account.locked").exists()


def test_five_wrong_codes_end_the_challenge(acme, settings):
    from keydesk.accounts.models import SignInProtection

    SignInProtection.objects.create(tenant=acme.tenant, max_failures=20)
    _with_totp(acme, acme.agent)
    client = acme.client()
    _password_step(client)
    for _ in range(5):
        response = client.post(
            "/login/verify", {"method": "totp", "action": "verify", "code": "000000"}
        )
    assert response["Location"] == "/login"
    assert client.get("/login/verify")["Location"] == "/login"
    assert Event.objects.filter(tenant=acme.tenant, action="mfa.challenge.failed").count() == 5


def test_email_code_sign_in(acme):
    from keydesk.mfa.services import email_code_send, email_enable

    email_code_send(user=acme.agent)
    code = re.search(
        r"\b\d{6}\b", email_bodies(OutboundEmail.objects.get(template="mfa_code"))["text"]
    ).group(0)
    email_enable(user=acme.agent, actor=acme.agent, code=code)
    client = acme.client()
    _password_step(client)
    page = client.get("/login/verify")
    assert b"Send me a code by email" in page.content
    from keydesk.mfa.models import OneTimeCode

    OneTimeCode.objects.update(created_at="2000-01-01T00:00:00Z")  # past the resend throttle
    client.post("/login/verify", {"method": "email", "action": "send"})
    mail = OutboundEmail.objects.filter(template="mfa_code").order_by("-pk").first()
    code = re.search(r"\b\d{6}\b", email_bodies(mail)["text"]).group(0)
    done = client.post("/login/verify", {"method": "email", "action": "verify", "code": code})
    assert done["Location"] == "/tickets/"


def test_recovery_code_signs_in_once_and_is_recorded(acme):
    _, codes = _with_totp(acme, acme.agent)
    client = acme.client()
    _password_step(client)
    ok = client.post("/login/verify", {"method": "recovery", "action": "verify", "code": codes[0]})
    assert ok["Location"] == "/tickets/"
    assert (
        Event.objects.filter(tenant=acme.tenant, action="mfa.recovery_code.used")
        .get()
        .details["left"]
        == 9
    )
    again = acme.client()
    _password_step(again)
    reuse = again.post(
        "/login/verify", {"method": "recovery", "action": "verify", "code": codes[0]}
    )
    assert b"That code is not right." in reuse.content


def test_recovery_codes_are_stored_hashed(acme):
    _, codes = _with_totp(acme, acme.agent)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(RecoveryCode.objects.values_list("digest", flat=True))
    assert not any(c in stored or c.replace("-", "") in stored for c in codes)


@pytest.mark.django_db(transaction=True)
def test_one_recovery_code_raced_by_ten_threads_works_once():
    from tests.conftest import TenantWorld

    world = TenantWorld("race")
    _, codes = _with_totp(world, world.agent)
    authenticator = Authenticator.objects.get(user=world.agent, type="recovery_codes")
    barrier = threading.Barrier(10)
    wins = []

    def use():
        try:
            barrier.wait()
            wins.append(recovery_codes.consume(authenticator, codes[3]))
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 9 + [True]


def test_required_2fa_sends_to_setup_and_grace_allows_skipping(acme):
    import datetime

    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, require_staff=True)
    client = acme.client()
    assert _password_step(client)["Location"] == "/login/setup-2fa"
    page = client.get("/login/setup-2fa")
    assert b"<svg" in page.content and b"Skip until" not in page.content
    assert client.post("/login/setup-2fa", {"action": "skip"}).status_code == 200
    assert "_auth_user_id" not in client.session
    # Contacts are not under the staff requirement.
    assert _password_step(acme.client(), "contact@acme.test")["Location"] == "/portal/"
    grace = datetime.date.today() + datetime.timedelta(days=7)
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, grace_until=grace)
    client = acme.client()
    _password_step(client)
    assert b"Skip until" in client.get("/login/setup-2fa").content
    assert client.post("/login/setup-2fa", {"action": "skip"})["Location"] == "/tickets/"
    assert Event.objects.filter(tenant=acme.tenant, action="mfa.grace.skipped").exists()


def test_setup_at_sign_in_with_the_app_shown_on_the_page(acme):
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, require_staff=True)
    client = acme.client()
    _password_step(client)
    page = client.get("/login/setup-2fa").content.decode()
    uri = re.search(r'data-otpauth="([^"]+)"', page).group(1).replace("&amp;", "&")
    parsed = pyotp.parse_uri(uri)
    assert parsed.issuer == "Acme" and parsed.name == "agent@acme.test"
    assert parsed.digits == 6 and parsed.interval == 30
    shown = client.post("/login/setup-2fa", {"action": "totp", "code": parsed.now()})
    assert shown.status_code == 200 and b"Save your recovery codes" in shown.content
    assert len(re.findall(r"<li><code>", shown.content.decode())) == 10
    done = client.post("/login/setup-2fa", {"action": "continue"})
    assert done["Location"] == "/tickets/"
    assert client.session["amr"] == ["pwd", "otp"]


def test_per_person_enforcement(acme):
    from keydesk.mfa.services import mfa_enforce_set

    mfa_enforce_set(user=acme.contact, actor=acme.admin, enforce=True)
    assert _password_step(acme.client(), "contact@acme.test")["Location"] == "/login/setup-2fa"
    assert _password_step(acme.client(), "other@acme.test")["Location"] == "/portal/"


def test_an_emailed_code_dies_after_five_wrong_guesses(acme):
    from keydesk.mfa import codes
    from keydesk.mfa.models import OneTimeCode

    code = codes.issue(acme.agent, OneTimeCode.Channel.EMAIL)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(codes.MAX_WRONG_ATTEMPTS):
        assert not codes.consume(acme.agent, OneTimeCode.Channel.EMAIL, wrong)
    assert not codes.consume(acme.agent, OneTimeCode.Channel.EMAIL, code)


def test_the_authenticators_are_read_once_with_the_try(acme):
    _with_totp(acme, acme.agent)
    client = acme.client()
    with CaptureQueriesContext(connection) as sent:
        assert _password_step(client)["Location"] == "/login/verify"
    reads = [query["sql"] for query in sent if 'FROM "mfa_authenticator"' in query["sql"]]
    assert len(reads) == 1
    if connection.vendor == "postgresql":
        assert reads[0].startswith('UPDATE "accounts_accountlockout"')
