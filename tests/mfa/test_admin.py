"""Admins and 2FA: the tenant's policy page, and the 2FA tab of a person's profile."""

import datetime
import re
import time

import pyotp

from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from keydesk.mail.services import email_bodies
from keydesk.mfa.models import Authenticator, MfaPolicy
from keydesk.mfa.policy import policy_for
from keydesk.mfa.services import mfa_policy_update, totp_enable
from keydesk.mfa.totp import new_secret
from tests.conftest import PASSWORD, run_worker

POLICY = "/account/security/2fa"
ALL_ON = {"totp_enabled": "on", "email_enabled": "on"}


def confirmed(world, user):
    client = world.client(user)
    assert client.post("/preferences/reauth", {"password": PASSWORD})["Location"]
    return client


def events(world, action: str) -> int:
    return Event.objects.filter(tenant=world.tenant, action=action).count()


def with_app(user) -> pyotp.TOTP:
    secret = new_secret()
    totp_enable(user=user, actor=user, secret=secret, code=pyotp.TOTP(secret).now())
    return pyotp.TOTP(secret)


def otpauth(page) -> pyotp.TOTP:
    html = page.content.decode()
    return pyotp.parse_uri(
        re.search(r'data-otpauth="([^"]+)"', html).group(1).replace("&amp;", "&")
    )


def sign_in(world, email: str):
    client = world.client()
    return client, client.post("/login", {"email": email, "password": PASSWORD})


def changed_mails(to: str) -> list[str]:
    return [
        email_bodies(m)["text"]
        for m in OutboundEmail.objects.filter(template="mfa_changed", recipient=to)
    ]


# Account › Security › Two-factor authentication


def test_the_policy_page_is_for_admins_only(acme):
    page = acme.client(acme.admin).get(POLICY)
    assert page.status_code == 200
    assert b"It requires nothing of anyone" in page.content
    assert b'<label for="id_require_staff">Require staff to set up 2FA</label>' in page.content
    for role in ("manager", "supervisor", "agent", "contact"):
        client = acme.client(getattr(acme, role))
        assert client.get(POLICY).status_code == 404
        assert client.post(POLICY, {**ALL_ON, "require_staff": "on"}).status_code == 404
    assert acme.client().get(POLICY)["Location"].startswith("/login?next=")
    assert not policy_for(acme.tenant).require_staff


def test_the_policy_page_is_in_the_security_menu(acme):
    page = acme.client(acme.admin).get(POLICY).content.decode()
    assert re.search(r'<a href="/account/security/2fa" aria-current="page">Two-factor', page)
    assert b"/account/security/2fa" not in acme.client(acme.manager).get("/tickets/").content


def test_saving_the_policy_records_the_change(acme, globex):
    grace = datetime.date.today() + datetime.timedelta(days=14)
    response = acme.client(acme.admin).post(
        POLICY,
        {"totp_enabled": "on", "require_staff": "on", "grace_until": grace.isoformat()},
    )
    assert response["Location"] == POLICY
    policy = MfaPolicy.objects.get(tenant=acme.tenant)
    assert policy.totp_enabled and not policy.email_enabled and not policy.sms_enabled
    assert policy.require_staff and not policy.require_contacts
    assert policy.grace_until == grace
    event = Event.objects.get(tenant=acme.tenant, action="mfa.policy.updated")
    assert event.details["changes"]["require_staff"] == ["False", "True"]
    assert not MfaPolicy.objects.filter(tenant=globex.tenant).exists()
    page = acme.client(acme.admin).get(POLICY)
    assert b'name="require_staff" id="id_require_staff" checked' in page.content


def test_requiring_2fa_needs_a_method_on(acme):
    page = acme.client(acme.admin).post(POLICY, {"require_contacts": "on"})
    assert page.status_code == 200
    assert b"Turn on at least one method before requiring 2FA." in page.content
    assert not policy_for(acme.tenant).require_contacts
    assert events(acme, "mfa.policy.updated") == 0


# The 2FA tab of a profile


def test_the_profile_links_to_the_2fa_tab_for_admins(acme):
    url = f"/account/people/{acme.agent.pk}/2fa"
    assert url.encode() in acme.client(acme.admin).get(f"/account/agents/{acme.agent.pk}/").content
    contact = acme.client(acme.admin).get(f"/account/contacts/{acme.contact.pk}/")
    assert f"/account/people/{acme.contact.pk}/2fa".encode() in contact.content
    assert (
        url.encode()
        not in acme.client(acme.manager).get(f"/account/agents/{acme.agent.pk}/").content
    )


def test_the_2fa_tab_is_for_admins_and_shows_no_secrets(acme):
    app = with_app(acme.agent)
    url = f"/account/people/{acme.agent.pk}/2fa"
    page = acme.client(acme.admin).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Authenticator app, set up" in html and "Recovery codes: 10 left" in html
    assert app.secret not in html and "otpauth" not in html and "<svg" not in html
    assert "Set up authenticator app for this agent" in html and "Remove 2FA" in html
    for role in ("manager", "supervisor", "agent", "contact"):
        client = acme.client(getattr(acme, role))
        assert client.get(url).status_code == 404
        assert client.post(f"{url}/enforce", {"enforce_mfa": "on"}).status_code == 404
        assert client.get(f"{url}/remove").status_code == 404
        assert client.post(f"{url}/remove").status_code == 404
    assert Authenticator.objects.filter(user=acme.agent, type="totp").exists()


def test_other_tenants_people_are_not_found(acme, globex):
    with_app(globex.agent)
    admin = confirmed(acme, acme.admin)
    base = f"/account/people/{globex.agent.pk}/2fa"
    assert admin.get(base).status_code == 404
    assert admin.post(f"{base}/enforce", {"enforce_mfa": "on"}).status_code == 404
    assert admin.get(f"{base}/app").status_code == 404
    assert admin.post(f"{base}/app").status_code == 404
    assert admin.get(f"{base}/remove").status_code == 404
    assert admin.post(f"{base}/remove").status_code == 404
    assert admin.get("/account/people/999999/2fa").status_code == 404
    globex.agent.refresh_from_db()
    assert not globex.agent.enforce_mfa
    assert Authenticator.objects.filter(user=globex.agent).count() == 2
    assert (
        not Event.objects.filter(tenant=globex.tenant, action__startswith="mfa.")
        .exclude(action__in=["mfa.totp.enabled", "mfa.recovery_codes.enabled"])
        .exists()
    )


def test_enforce_2fa_for_one_person(acme):
    admin = acme.client(acme.admin)
    url = f"/account/people/{acme.contact.pk}/2fa"
    done = admin.post(f"{url}/enforce", {"enforce_mfa": "on"}, follow=True)
    assert b"2FA is enforced for Carla Acme." in done.content
    assert b"2FA is required for this contact (enforced here)." in done.content
    acme.contact.refresh_from_db()
    assert acme.contact.enforce_mfa
    assert Event.objects.get(tenant=acme.tenant, action="mfa.enforcement.changed").details == {
        "enforce": True
    }
    _, response = sign_in(acme, "contact@acme.test")
    assert response["Location"] == "/login/setup-2fa"
    _, response = sign_in(acme, "other@acme.test")
    assert response["Location"] == "/portal/"

    admin.post(f"{url}/enforce", {})
    acme.contact.refresh_from_db()
    assert not acme.contact.enforce_mfa
    assert events(acme, "mfa.enforcement.changed") == 2
    _, response = sign_in(acme, "contact@acme.test")
    assert response["Location"] == "/portal/"


def test_admin_setup_needs_a_recent_password(acme):
    url = f"/account/people/{acme.agent.pk}/2fa/app"
    admin = acme.client(acme.admin)
    assert admin.get(url)["Location"].startswith("/preferences/reauth?next=")
    assert admin.post(url)["Location"] == f"/preferences/reauth?next={url.replace('/', '%2F')}"
    assert not Authenticator.objects.filter(user=acme.agent).exists()


def test_admin_sets_up_the_app_for_an_agent_who_then_signs_in(acme_tx, smtp_server):
    acme = acme_tx
    admin = confirmed(acme, acme.admin)
    url = f"/account/people/{acme.agent.pk}/2fa/app"
    assert b"You will see a QR code and its key once" in admin.get(url).content
    page = admin.post(url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    app = otpauth(page)
    assert app.issuer == "Acme" and app.name == "agent@acme.test"
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.content.decode())
    assert len(codes) == 10 and b"data-print" in page.content
    assert events(acme, "mfa.totp.setup_by_admin") == 1
    setup = Event.objects.get(tenant=acme.tenant, action="mfa.totp.setup_by_admin")
    assert setup.actor_id == acme.admin.pk
    # Shown once: the 2FA tab never shows it again.
    assert app.secret.encode() not in admin.get(f"/account/people/{acme.agent.pk}/2fa").content
    download = admin.get("/preferences/2fa/recovery-codes/download").content.decode()
    assert "agent@acme.test" in download and codes[0] in download

    run_worker()
    [mail] = smtp_server.to("agent@acme.test")
    assert "An administrator set up an authenticator app" in mail.get_body(("plain",)).get_content()

    client, response = sign_in(acme, "agent@acme.test")
    assert response["Location"] == "/login/verify"
    done = client.post("/login/verify", {"method": "totp", "action": "verify", "code": app.now()})
    assert done["Location"] == "/tickets/"


def test_admin_setup_is_for_staff_and_not_for_oneself(acme):
    admin = confirmed(acme, acme.admin)
    assert admin.get(f"/account/people/{acme.contact.pk}/2fa/app").status_code == 404
    assert admin.post(f"/account/people/{acme.contact.pk}/2fa/app").status_code == 404
    assert admin.post(f"/account/people/{acme.admin.pk}/2fa/app").status_code == 404
    own = admin.get(f"/account/people/{acme.admin.pk}/2fa")
    assert b"Manage your own methods" in own.content and b"Remove 2FA" not in own.content
    assert not Authenticator.objects.exists()


def test_admin_removal_asks_first_then_mails_and_requires_setup_again(acme):
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, require_staff=True)
    with_app(acme.agent)
    admin = confirmed(acme, acme.admin)
    url = f"/account/people/{acme.agent.pk}/2fa/remove"
    confirm = admin.get(url)
    assert b"This removes authenticator app and the recovery codes." in confirm.content
    assert Authenticator.objects.filter(user=acme.agent).count() == 2

    done = admin.post(url, follow=True)
    assert b"They will set it up again at their next sign-in." in done.content
    assert not Authenticator.objects.filter(user=acme.agent).exists()
    assert events(acme, "mfa.totp.removed_by_admin") == 1
    assert events(acme, "mfa.recovery_codes.removed_by_admin") == 1
    assert any("An administrator removed two-factor" in m for m in changed_mails("agent@acme.test"))

    client, response = sign_in(acme, "agent@acme.test")
    assert response["Location"] == "/login/setup-2fa"
    assert "_auth_user_id" not in client.session


def test_admin_removal_needs_a_recent_password(acme):
    with_app(acme.agent)
    admin = acme.client(acme.admin)
    response = admin.post(f"/account/people/{acme.agent.pk}/2fa/remove")
    assert response["Location"].startswith("/preferences/reauth?next=")
    assert Authenticator.objects.filter(user=acme.agent).count() == 2
    admin.post("/preferences/reauth", {"password": PASSWORD})
    # The stale sign-in of an hour ago does not count; the confirmation just now does.
    session = admin.session
    session["auth_time"] = int(time.time()) - 3600
    session.save()
    admin.post(f"/account/people/{acme.agent.pk}/2fa/remove")
    assert not Authenticator.objects.filter(user=acme.agent).exists()


def test_removing_from_a_person_without_2fa_changes_nothing(acme):
    admin = confirmed(acme, acme.admin)
    page = admin.get(f"/account/people/{acme.contact.pk}/2fa/remove")
    assert b"has no two-factor method set up" in page.content
    done = admin.post(f"/account/people/{acme.contact.pk}/2fa/remove", follow=True)
    assert b"had no two-factor methods" in done.content
    assert not changed_mails("contact@acme.test")
