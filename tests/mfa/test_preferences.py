"""Preferences › Security › Two-factor authentication: setup, removal, recovery codes, reauth."""

import re
import time

import pyotp

from keydesk.accounts.models import AccountLockout, SignInSession
from keydesk.core.crypto import decrypt
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from keydesk.mail.services import email_bodies
from keydesk.mfa import recovery_codes
from keydesk.mfa.models import Authenticator, OneTimeCode
from keydesk.mfa.policy import recovery_authenticator
from keydesk.mfa.services import mfa_policy_update
from keydesk.mfa.views import CODES_KEY, PENDING_TOTP_KEY
from tests.conftest import PASSWORD


def confirmed(world, user):
    """A client signed in as `user` who just confirmed their password."""
    client = world.client(user)
    response = client.post("/preferences/reauth", {"password": PASSWORD, "next": "/"})
    assert response.status_code == 302
    return client


def otpauth(page) -> pyotp.TOTP:
    """The authenticator app: it reads the otpauth URI shown on the page."""
    html = page.content.decode()
    return pyotp.parse_uri(
        re.search(r'data-otpauth="([^"]+)"', html).group(1).replace("&amp;", "&")
    )


def shown_codes(page) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.content.decode())


def set_up_app(client) -> tuple[pyotp.TOTP, list[str]]:
    app = otpauth(client.get("/preferences/2fa/app"))
    page = client.post("/preferences/2fa/app", {"code": app.now()})
    assert page.status_code == 200, page
    return app, shown_codes(page)


def events(world, action: str) -> int:
    return Event.objects.filter(tenant=world.tenant, action=action).count()


def mailed_code() -> str:
    mail = OutboundEmail.objects.filter(template="mfa_code").order_by("-pk").first()
    return re.search(r"\b\d{6}\b", email_bodies(mail)["text"]).group(0)


# The page


def test_every_signed_in_person_has_the_page(acme):
    for person in (acme.agent, acme.admin, acme.contact):
        page = acme.client(person).get("/preferences/2fa")
        assert page.status_code == 200
        assert b"You have not set up two-factor authentication." in page.content
        assert b"Set up authenticator app" in page.content
        assert b"Set up email codes" in page.content
    assert acme.client().get("/preferences/2fa")["Location"].startswith("/login?next=")


def test_only_methods_the_tenant_allows_are_offered(acme):
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, totp_enabled=False)
    client = confirmed(acme, acme.agent)
    page = client.get("/preferences/2fa")
    assert b"Set up authenticator app" not in page.content
    assert b"Set up email codes" in page.content
    refused = client.get("/preferences/2fa/app", follow=True)
    assert b"Your helpdesk does not offer this method." in refused.content
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, email_enabled=False)
    page = client.get("/preferences/2fa")
    assert b"does not offer any two-factor method" in page.content


# Recent authentication


def test_changes_need_a_recent_password(acme):
    client = acme.client(acme.agent)
    response = client.get("/preferences/2fa/app")
    assert response["Location"] == "/preferences/reauth?next=%2Fpreferences%2F2fa%2Fapp"
    # A form posted without a recent password changes nothing and comes back to its page.
    posted = client.post("/preferences/2fa/remove/totp", {})
    assert posted["Location"] == "/preferences/reauth?next=%2Fpreferences%2F2fa%2Fremove%2Ftotp"

    page = client.get(response["Location"])
    assert b'<label for="id_password">Password</label>' in page.content
    assert b">Confirm</button>" in page.content
    wrong = client.post("/preferences/reauth", {"password": "nope", "next": "/preferences/2fa/app"})
    assert wrong.status_code == 200 and b"The password is not correct." in wrong.content
    assert AccountLockout.objects.get(user=acme.agent).failures == 1
    failed = Event.objects.get(tenant=acme.tenant, action="login.failed")
    assert failed.details["step"] == "reauth" and failed.details["reason"] == "wrong_password"

    ok = client.post("/preferences/reauth", {"password": PASSWORD, "next": "/preferences/2fa/app"})
    assert ok["Location"] == "/preferences/2fa/app"
    assert AccountLockout.objects.get(user=acme.agent).failures == 0
    assert client.get("/preferences/2fa/app").status_code == 200

    # Ten minutes later it is asked again.
    session = client.session
    session["reauth_time"] = int(time.time()) - 601
    session.save()
    assert client.get("/preferences/2fa/app")["Location"].startswith("/preferences/reauth")


def test_a_fresh_sign_in_counts_as_recent(acme):
    client = acme.client()
    client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert client.get("/preferences/2fa/app").status_code == 200


def test_reauth_with_a_code_from_the_app(acme):
    app, _ = set_up_app(confirmed(acme, acme.agent))
    client = acme.client(acme.agent)
    page = client.get("/preferences/reauth")
    assert b"Confirm with a code" in page.content
    # The code that turned the app on is used up; the next step's code is fresh.
    code = app.at(time.time() + 30)
    done = client.post("/preferences/reauth", {"method": "code", "code": code, "next": "/"})
    assert done["Location"] == "/"
    again = acme.client(acme.agent)
    replay = again.post("/preferences/reauth", {"method": "code", "code": code})
    assert b"That code is not right." in replay.content


def test_wrong_passwords_at_reauth_lock_the_account(acme):
    client = acme.client(acme.agent)
    for _ in range(5):
        client.post("/preferences/reauth", {"password": "nope"})
    assert events(acme, "account.locked") == 1
    locked = client.post("/preferences/reauth", {"password": PASSWORD})
    assert b"your account is locked" in locked.content
    assert "reauth_time" not in client.session
    # The sign-in page is closed to the right password too.
    fresh = acme.client()
    assert (
        fresh.post("/login", {"email": "agent@acme.test", "password": PASSWORD}).status_code == 200
    )


def test_reauth_only_returns_to_this_host(acme):
    client = acme.client(acme.agent)
    response = client.post(
        "/preferences/reauth", {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/preferences/2fa"


# Authenticator app


def test_self_setup_then_sign_in_with_a_code(acme):
    client = confirmed(acme, acme.agent)
    page = client.get("/preferences/2fa/app")
    app = otpauth(page)
    assert app.issuer == "Acme" and app.name == "agent@acme.test"
    assert b"<svg" in page.content and b'name="code"' in page.content
    # The secret is not in the form and lies encrypted in the session.
    assert app.secret not in "".join(re.findall(r'value="([^"]*)"', page.content.decode()))
    assert app.secret not in client.session[PENDING_TOTP_KEY]
    assert app.secret in decrypt(client.session[PENDING_TOTP_KEY])
    # Reloading keeps the same secret until it is used.
    assert otpauth(client.get("/preferences/2fa/app")).secret == app.secret

    shown = client.post("/preferences/2fa/app", {"code": app.now()})
    assert b"Save your recovery codes" in shown.content
    assert len(shown_codes(shown)) == 10
    assert PENDING_TOTP_KEY not in client.session
    assert events(acme, "mfa.totp.enabled") == 1
    assert OutboundEmail.objects.filter(template="mfa_changed").exists()

    prefs = client.get("/preferences/2fa")
    assert b"Authenticator app" in prefs.content and b"10 of 10 left" in prefs.content

    signin = acme.client()
    assert (
        signin.post("/login", {"email": "agent@acme.test", "password": PASSWORD})["Location"]
        == "/login/verify"
    )
    done = signin.post(
        "/login/verify",
        {"method": "totp", "action": "verify", "code": app.at(time.time() + 30)},
    )
    assert done["Location"] == "/tickets/"


def test_a_wrong_code_keeps_the_app_off(acme):
    client = confirmed(acme, acme.agent)
    client.get("/preferences/2fa/app")
    page = client.post("/preferences/2fa/app", {"code": "000000"})
    assert b"That code is not right." in page.content
    assert not Authenticator.objects.filter(user=acme.agent).exists()


def test_a_new_app_replaces_the_old_one_without_new_recovery_codes(acme):
    client = confirmed(acme, acme.agent)
    old, codes = set_up_app(client)
    page = client.get("/preferences/2fa/app")
    assert b"codes from your current app stop working" in page.content
    new = otpauth(page)
    assert new.secret != old.secret
    done = client.post("/preferences/2fa/app", {"code": new.now()})
    assert done["Location"] == "/preferences/2fa"
    assert events(acme, "mfa.totp.enabled") == 2
    recovery = recovery_authenticator(acme.agent)
    assert recovery_codes.remaining(recovery) == 10
    assert recovery_codes.consume(recovery, codes[0])


# Email codes


def test_email_setup(acme):
    client = confirmed(acme, acme.contact)
    page = client.get("/preferences/2fa/email")
    assert b"Send me a code by email" in page.content
    sent = client.post("/preferences/2fa/email", {"action": "send"}, follow=True)
    assert b"We sent a code to contact@acme.test." in sent.content
    wrong = client.post("/preferences/2fa/email", {"action": "confirm", "code": "000000"})
    assert b"That code is not right or has expired." in wrong.content
    shown = client.post("/preferences/2fa/email", {"action": "confirm", "code": mailed_code()})
    assert b"Save your recovery codes" in shown.content and len(shown_codes(shown)) == 10
    assert Authenticator.objects.filter(user=acme.contact, type="email").exists()
    assert events(acme, "mfa.email.enabled") == 1
    assert client.get("/preferences/2fa/email")["Location"] == "/preferences/2fa"


def test_a_code_is_not_resent_within_a_minute(acme):
    client = confirmed(acme, acme.agent)
    client.post("/preferences/2fa/email", {"action": "send"})
    again = client.post("/preferences/2fa/email", {"action": "send"}, follow=True)
    assert b"A code was just sent." in again.content
    assert OneTimeCode.objects.filter(user=acme.agent).count() == 1


# Removal


def test_the_last_method_stays_while_2fa_is_required(acme):
    client = confirmed(acme, acme.agent)
    set_up_app(client)
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, require_staff=True)
    page = client.get("/preferences/2fa/remove/totp")
    assert b"Set up another method before you remove this one." in page.content
    refused = client.post("/preferences/2fa/remove/totp", {}, follow=True)
    assert b"set up another method before removing this one" in refused.content
    assert Authenticator.objects.filter(user=acme.agent, type="totp").exists()
    assert events(acme, "mfa.totp.disabled") == 0

    # With email codes as well, the app can go.
    client.post("/preferences/2fa/email", {"action": "send"})
    client.post("/preferences/2fa/email", {"action": "confirm", "code": mailed_code()})
    done = client.post("/preferences/2fa/remove/totp", {}, follow=True)
    assert b"Authenticator app removed." in done.content
    assert events(acme, "mfa.totp.disabled") == 1
    assert list(Authenticator.objects.filter(user=acme.agent).values_list("type", flat=True))
    assert not Authenticator.objects.filter(user=acme.agent, type="totp").exists()


def test_removing_the_only_method_turns_2fa_off(acme):
    client = confirmed(acme, acme.agent)
    set_up_app(client)
    assert b"recovery codes will stop working" in client.get("/preferences/2fa/remove/totp").content
    client.post("/preferences/2fa/remove/totp", {})
    assert not Authenticator.objects.filter(user=acme.agent).exists()
    assert events(acme, "mfa.recovery_codes.disabled") == 1
    signin = acme.client()
    assert (
        signin.post("/login", {"email": "agent@acme.test", "password": PASSWORD})["Location"]
        == "/tickets/"
    )


def test_unknown_or_absent_methods_answer_404(acme):
    client = confirmed(acme, acme.agent)
    assert client.get("/preferences/2fa/remove/totp").status_code == 404
    assert client.get("/preferences/2fa/remove/recovery_codes").status_code == 404
    assert client.get("/preferences/2fa/remove/nothing").status_code == 404


def test_a_change_can_sign_out_the_other_sessions(acme):
    phone = acme.client()
    phone.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert phone.get("/tickets/").status_code == 200
    client = acme.client()
    client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    app = otpauth(client.get("/preferences/2fa/app"))
    page = client.post("/preferences/2fa/app", {"code": app.now(), "sign_out_others": "on"})
    assert b"Signed out 1 other session." in page.content
    assert phone.get("/tickets/").status_code == 302
    assert client.get("/tickets/").status_code == 200
    assert SignInSession.objects.filter(user=acme.agent, ended_at__isnull=True).count() == 1


# Recovery codes


def test_recovery_codes_download_once_within_ten_minutes(acme):
    client = confirmed(acme, acme.agent)
    _, codes = set_up_app(client)
    assert codes[0] not in str(client.session[CODES_KEY])
    download = client.get("/preferences/2fa/recovery-codes/download")
    assert download.status_code == 200
    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="recovery-codes-acme.txt"'
    assert "no-store" in download["Cache-Control"]
    body = download.content.decode()
    assert "agent@acme.test" in body and all(code in body for code in codes)
    gone = client.get("/preferences/2fa/recovery-codes/download")
    assert gone.status_code == 410 and b"no longer available" in gone.content
    # Another session never gets them.
    assert (
        acme.client(acme.agent).get("/preferences/2fa/recovery-codes/download").status_code == 410
    )


def test_recovery_codes_are_not_downloadable_after_ten_minutes(acme):
    client = confirmed(acme, acme.agent)
    set_up_app(client)
    session = client.session
    session[CODES_KEY]["at"] -= 601
    session.save()
    assert client.get("/preferences/2fa/recovery-codes/download").status_code == 410


def test_new_recovery_codes_void_the_old_ones(acme):
    client = confirmed(acme, acme.agent)
    _, old = set_up_app(client)
    recovery = recovery_authenticator(acme.agent)
    assert recovery_codes.consume(recovery, old[0])
    assert b"9 of 10 left" in client.get("/preferences/2fa").content
    confirm = client.get("/preferences/2fa/recovery-codes")
    assert b"You have 9 unused codes." in confirm.content
    page = client.post("/preferences/2fa/recovery-codes", {})
    assert b"Your new recovery codes" in page.content and b"data-print" in page.content
    new = shown_codes(page)
    assert len(new) == 10 and not set(new) & set(old)
    assert not recovery_codes.consume(recovery, old[1])
    assert recovery_codes.consume(recovery, new[0])
    assert (
        Event.objects.filter(tenant=acme.tenant, action="mfa.recovery_codes.enabled")
        .latest("pk")
        .details["regenerated"]
    )
    download = client.get("/preferences/2fa/recovery-codes/download").content.decode()
    assert all(code in download for code in new)


def test_no_recovery_codes_without_a_method(acme):
    client = confirmed(acme, acme.agent)
    response = client.post("/preferences/2fa/recovery-codes", {}, follow=True)
    assert b"Set up a second factor first" in response.content
    assert not Authenticator.objects.filter(user=acme.agent).exists()


def test_preferences_of_one_tenant_touch_nothing_of_another(acme, globex):
    client = confirmed(acme, acme.agent)
    set_up_app(client)
    assert not Authenticator.objects.filter(tenant=globex.tenant).exists()
    # An acme session is no session on globex's host.
    other = globex.client()
    other.cookies = client.cookies
    assert other.get("/preferences/2fa").status_code == 302
