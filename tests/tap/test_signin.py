"""Signing in at /login/tap: only while valid and enabled, once when one-time, never for the API."""

import threading
from datetime import timedelta

import pyotp
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from keydesk.accounts.lockout import is_locked
from keydesk.accounts.models import SignInProtection, SignInSession
from keydesk.accounts.services import user_create
from keydesk.accounts.signin import PENDING_KEY
from keydesk.mfa.services import mfa_policy_update, totp_enable
from keydesk.mfa.totp import new_secret
from keydesk.tap.models import TemporaryAccessPass
from keydesk.tap.services import tap_policy_update
from keydesk.tap.signin_views import TAP_FAILED_MESSAGE
from tests.conftest import PASSWORD, TenantWorld, host_of
from tests.tap.helpers import (
    enable,
    events,
    make_pass,
    reasons,
    secret_in_log,
    shift,
    tap_sign_in,
)


def refused(world, email: str, secret: str, reason: str) -> None:
    """The sign-in fails with the one generic message; the reason is in the event log only."""
    client = world.client()
    response = tap_sign_in(client, email, secret)
    assert response.status_code == 200
    assert TAP_FAILED_MESSAGE in response.content.decode().replace("&#x27;", "'")
    assert reason not in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert reasons(world)[-1] == reason
    assert reasons(world, "tap.failed")[-1] == reason


def test_the_sign_in_page(acme):
    page = acme.client().get("/login/tap").content.decode()
    assert '<label for="id_email">Email</label>' in page
    assert '<label for="id_tap">Temporary Access Pass</label>' in page
    assert ">Sign in</button>" in page


def test_a_pass_signs_in_and_satisfies_the_second_factor(acme):
    enable(acme)
    secret = new_secret()  # the agent has 2FA: the pass stands in for it
    totp_enable(user=acme.agent, actor=acme.agent, secret=secret, code=pyotp.TOTP(secret).now())
    tap, secret = make_pass(acme, acme.agent)
    client = acme.client()
    response = tap_sign_in(client, "Agent@Acme.test", secret)
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    assert client.session["amr"] == ["tap"] and PENDING_KEY not in client.session
    assert SignInSession.objects.get(user=acme.agent).methods == ["tap"]
    [used] = events(acme, "tap.used")
    assert used.actor_id == acme.agent.pk and used.target_id == str(acme.agent.pk)
    assert used.details == {"one_time": False, "expires_at": tap.expires_at.isoformat()}
    assert not secret_in_log(acme, secret)


def test_a_start_time_in_the_future_is_refused_until_it_comes(acme):
    enable(acme)
    tap, secret = make_pass(acme, acme.agent, valid_from=timezone.now() + timedelta(hours=3))
    refused(acme, "agent@acme.test", secret, "tap_not_yet_valid")
    shift(tap, hours=-3)
    assert tap_sign_in(acme.client(), "agent@acme.test", secret)["Location"] == "/tickets/"


def test_an_expired_pass_is_refused(acme):
    enable(acme)
    tap, secret = make_pass(acme, acme.agent)
    shift(tap, minutes=-60)  # expires exactly now
    refused(acme, "agent@acme.test", secret, "tap_expired")


def test_a_one_time_pass_works_once(acme):
    enable(acme)
    tap, secret = make_pass(acme, acme.agent, one_time=True)
    assert tap_sign_in(acme.client(), "agent@acme.test", secret)["Location"] == "/tickets/"
    refused(acme, "agent@acme.test", secret, "tap_used")
    tap.refresh_from_db()
    assert tap.used_at is not None


def test_a_pass_that_is_not_one_time_works_until_it_expires(acme):
    enable(acme)
    _, secret = make_pass(acme, acme.agent)
    for _ in range(3):
        assert tap_sign_in(acme.client(), "agent@acme.test", secret)["Location"] == "/tickets/"


def test_a_new_pass_replaces_the_old(acme):
    enable(acme)
    _, old = make_pass(acme, acme.agent)
    _, current = make_pass(acme, acme.agent)
    refused(acme, "agent@acme.test", old, "tap_wrong")
    assert tap_sign_in(acme.client(), "agent@acme.test", current)["Location"] == "/tickets/"


def test_a_pass_of_another_person_or_tenant_is_refused(acme, globex):
    enable(acme)
    enable(globex)
    _, secret = make_pass(acme, acme.agent)
    _, foreign = make_pass(globex, globex.agent)
    refused(acme, "supervisor@acme.test", secret, "tap_no_pass")
    refused(acme, "agent@acme.test", foreign, "tap_wrong")
    refused(acme, "nobody@acme.test", secret, "unknown_user")
    response = tap_sign_in(globex.client(), "agent@globex.test", secret)
    assert response.status_code == 200


def test_turning_tap_off_stops_every_pass_at_once(acme):
    enable(acme)
    _, secret = make_pass(acme, acme.agent)
    _, contact_secret = make_pass(acme, acme.contact)
    tap_policy_update(tenant=acme.tenant, actor=acme.admin, enabled=False)
    refused(acme, "agent@acme.test", secret, "tap_disabled")
    refused(acme, "contact@acme.test", contact_secret, "tap_disabled")
    [*_, failed] = events(acme, "login.failed")
    assert failed.details == {"method": "tap", "reason": "tap_disabled"}
    assert TemporaryAccessPass.objects.filter(tenant=acme.tenant).count() == 2
    enable(acme)
    assert tap_sign_in(acme.client(), "agent@acme.test", secret)["Location"] == "/tickets/"


def test_wrong_passes_count_toward_the_lockout(acme):
    enable(acme)
    _, secret = make_pass(acme, acme.agent)
    client = acme.client()
    for _ in range(5):
        assert tap_sign_in(client, "agent@acme.test", "WrongPass").status_code == 200
    assert is_locked(acme.agent)
    refused(acme, "agent@acme.test", secret, "locked")
    assert reasons(acme) == ["tap_wrong"] * 5 + ["locked"]
    assert len(events(acme, "account.locked")) == 1


def test_a_pass_never_authenticates_the_api(acme):
    enable(acme)
    _, secret = make_pass(acme, acme.agent)
    for header in (f"Bearer {secret}", f"Token {secret}", f"Basic {secret}"):
        response = Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=header).get("/api/v1/tickets")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 401 and "interactive sign-in" in body["detail"]
    assert events(acme, "tap.used") == []


def test_the_session_ends_no_later_than_the_pass(acme):
    enable(acme, min_lifetime_minutes=10, default_lifetime_minutes=30)
    tap, secret = make_pass(acme, acme.agent)
    client = acme.client()
    tap_sign_in(client, "agent@acme.test", secret)
    expiry = client.session.get_expiry_date()
    assert expiry <= tap.expires_at
    assert expiry >= tap.expires_at - timedelta(seconds=1)
    # A password sign-in keeps the usual twelve hours.
    password = acme.client()
    password.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert password.session.get_expiry_date() > timezone.now() + timedelta(hours=11)


def test_required_2fa_without_a_method_is_set_up_after_the_pass(acme):
    enable(acme)
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, require_staff=True)
    _, secret = make_pass(acme, acme.agent)
    client = acme.client()
    assert tap_sign_in(client, "agent@acme.test", secret)["Location"] == "/login/setup-2fa"
    assert "_auth_user_id" not in client.session
    assert client.get("/login/setup-2fa").status_code == 200


def test_someone_without_a_password_is_offered_one(acme):
    enable(acme)
    person = user_create(
        tenant=acme.tenant, actor=None, email="new@acme.test", kind="staff", role="agent"
    )
    _, secret = make_pass(acme, person)
    client = acme.client()
    assert tap_sign_in(client, "new@acme.test", secret)["Location"] == "/login/password"
    page = client.get("/login/password").content.decode()
    assert "Set a password" in page and ">Not now</button>" in page
    response = client.post("/login/password", {"action": "skip"})
    assert response["Location"] == "/tickets/"
    assert client.session["amr"] == ["tap"]
    # Setting one instead works too, and signs in.
    client = acme.client()
    tap_sign_in(client, "new@acme.test", secret)
    new_password = "a long and fresh passphrase 42"
    response = client.post(
        "/login/password", {"new_password": new_password, "confirm_password": new_password}
    )
    assert response["Location"] == "/tickets/"
    person.refresh_from_db()
    assert person.check_password(new_password)


def test_someone_with_a_password_is_not_asked(acme):
    enable(acme)
    _, secret = make_pass(acme, acme.contact)
    assert tap_sign_in(acme.client(), "contact@acme.test", secret)["Location"] == "/portal/"


@pytest.mark.django_db(transaction=True)
def test_twenty_sign_ins_racing_with_one_one_time_pass_give_one_session():
    world = TenantWorld("race")
    enable(world)
    # Enough tries that every request reaches the pass: the race is on the pass, not the lockout.
    SignInProtection.objects.create(tenant=world.tenant, max_failures=100, ip_max_failures=1000)
    _, secret = make_pass(world, world.agent, one_time=True)
    barrier = threading.Barrier(20)
    answers, errors = [], []

    def attempt():
        try:
            client = Client(HTTP_HOST=host_of(world.tenant))
            barrier.wait()
            response = tap_sign_in(client, "agent@race.test", secret)
            answers.append(response.get("Location"))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert answers.count("/tickets/") == 1 and answers.count(None) == 19
    assert SignInSession.objects.filter(user=world.agent).count() == 1
    assert len(events(world, "tap.used")) == 1
    assert sorted(reasons(world)) == ["tap_used"] * 19


def test_deleting_the_pass_or_turning_tap_off_ends_its_sessions(acme):
    from keydesk.tap.services import tap_delete, tap_policy_update

    from .helpers import enable, make_pass, tap_sign_in

    enable(acme)
    _, secret = make_pass(acme, acme.agent)
    with_pass = acme.client()
    assert tap_sign_in(with_pass, "agent@acme.test", secret).status_code == 302
    with_password = acme.client()
    with_password.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    tap_delete(user=acme.agent, actor=acme.admin)
    assert with_pass.get("/tickets/")["Location"].startswith("/login")
    assert with_password.get("/tickets/").status_code == 200

    _, secret = make_pass(acme, acme.contact)
    contact = acme.client()
    tap_sign_in(contact, "contact@acme.test", secret)
    assert contact.get("/portal/").status_code == 200
    tap_policy_update(tenant=acme.tenant, actor=acme.admin, enabled=False)
    assert contact.get("/portal/")["Location"].startswith("/login")
