"""Password sign-in through the pipeline: one answer for every failure, a fresh session on success."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keydesk.accounts.models import SignInSession
from keydesk.accounts.services import user_deactivate, user_update
from keydesk.accounts.signin import PENDING_KEY, SIGN_IN_FAILED_MESSAGE
from keydesk.eventlog.models import Event
from tests.conftest import PASSWORD


def _post_login(client, email, password, **extra):
    return client.post("/login", {"email": email, "password": password, **extra})


def test_password_sign_in_redirects_home_and_records_it(acme):
    client = acme.client()
    client.get("/login")
    old_key = client.session.session_key
    response = _post_login(client, "Agent@Acme.test", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/tickets/"
    assert client.session.session_key != old_key
    assert client.session["amr"] == ["pwd"]
    assert PENDING_KEY not in client.session
    session = SignInSession.objects.get(user=acme.agent)
    assert session.session_key == client.session.session_key
    assert session.methods == ["pwd"]
    event = Event.objects.filter(tenant=acme.tenant, action="login.succeeded").first()
    assert event.actor_id == acme.agent.pk
    assert event.ip == "127.0.0.1"


def test_a_sign_in_takes_the_accounts_row_before_the_event_chain_as_a_lockout_does(acme):
    # A lockout writes the account's lockout row, then locks the tenant's event chain; a
    # sign-in finishing at the same moment must take them in that order too, or the two
    # could wait for each other in a circle.
    client = acme.client()
    client.get("/login")
    with CaptureQueriesContext(connection) as sent:
        assert _post_login(client, "agent@acme.test", PASSWORD).status_code == 302
    statements = "\n".join(query["sql"] for query in sent)
    reset = statements.index('UPDATE "accounts_accountlockout" SET "failures" = 0, "lockouts" = 0')
    chain = statements.index('FROM "eventlog_eventchainhead"')
    assert reset < chain


def _failure_body(client, email, password):
    response = _post_login(client, email, password)
    assert response.status_code == 200
    assert SIGN_IN_FAILED_MESSAGE.encode() in response.content.replace(b"&#x27;", b"'")
    return response


@pytest.mark.parametrize("case", ["unknown", "wrong", "inactive", "guest", "other_tenant"])
def test_every_failure_answers_the_same(acme, globex, case):
    email, password = {
        "unknown": ("nobody@acme.test", PASSWORD),
        "wrong": ("agent@acme.test", "wrong password!!"),
        "inactive": ("agent@acme.test", PASSWORD),
        "guest": ("agent@acme.test", PASSWORD),
        "other_tenant": ("agent@globex.test", PASSWORD),
    }[case]
    if case == "inactive":
        user_deactivate(user=acme.agent, actor=acme.admin)
    if case == "guest":
        user_update(user=acme.agent, actor=acme.admin, is_guest=True)
    client = acme.client()
    _failure_body(client, email, password)
    assert "_auth_user_id" not in client.session
    failed = Event.objects.filter(tenant=acme.tenant, action="login.failed").first()
    expected = {
        "unknown": "unknown_user",
        "wrong": "wrong_password",
        "inactive": "inactive",
        "guest": "guest_method_not_allowed",
        "other_tenant": "unknown_user",
    }[case]
    assert failed.details["reason"] == expected
    assert "password" not in str(failed.details).replace("wrong_password", "")


@pytest.mark.parametrize(
    "next_url, expected",
    [
        ("/tickets/?status=open", "/tickets/?status=open"),
        ("https://evil.example/", "/tickets/"),
        ("//evil.example/", "/tickets/"),
        ("/\\evil.example", "/tickets/"),
        ("javascript:alert(1)", "/tickets/"),
    ],
)
def test_next_only_leads_to_a_path_on_this_host(acme, next_url, expected):
    response = _post_login(acme.client(), "agent@acme.test", PASSWORD, next=next_url)
    assert response["Location"] == expected


def test_logout_ends_the_session(acme):
    client = acme.client()
    _post_login(client, "agent@acme.test", PASSWORD)
    key = client.session.session_key
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/tickets/").status_code == 302
    assert SignInSession.objects.get(session_key=key).ended_at is not None
    assert Event.objects.filter(tenant=acme.tenant, action="logout").exists()


def test_logout_needs_post(acme):
    assert acme.client(acme.agent).get("/logout").status_code == 405


def test_deactivation_ends_open_sessions(acme):
    client = acme.client()
    _post_login(client, "agent@acme.test", PASSWORD)
    assert client.get("/tickets/").status_code == 200
    user_deactivate(user=acme.agent, actor=acme.admin)
    assert client.get("/tickets/").status_code == 302


def test_unknown_and_known_emails_get_identical_responses(acme):
    def body(email):
        client = acme.client()
        response = _post_login(client, email, "not the password")
        # Only the per-request CSRF token and the echoed address may differ.
        content = re.sub(rb"[A-Za-z0-9]{64}", b"CSRF", response.content)
        return response.status_code, content.replace(email.encode(), b"EMAIL")

    assert body("agent@acme.test") == body("nobody@acme.test")
