"""The tenant password policy applies wherever a password is set, and names every broken rule."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import timezone

from keydesk.accounts.models import PasswordPolicy, User
from keydesk.accounts.passwords import password_problems, policy_for
from keydesk.accounts.services import password_policy_update, user_create, user_set_password
from keydesk.core.errors import ApplicationError, PermissionDenied
from keydesk.eventlog.models import Event
from tests.conftest import PASSWORD


def _problems(password, user, **policy):
    return password_problems(password, user=user, policy=PasswordPolicy(**policy))


def test_defaults_follow_nist(acme):
    policy = policy_for(acme.tenant)
    assert (policy.min_length, policy.max_length, policy.history_count) == (12, 128, 5)
    assert not (policy.require_upper or policy.require_digit or policy.require_symbol)
    assert _problems("plain lowercase words", acme.agent) == []


def test_every_broken_rule_is_named(acme):
    problems = _problems(
        "agent", acme.agent, require_upper=True, require_digit=True, require_symbol=True
    )
    assert problems == [
        "Use at least 12 characters.",
        "Include an uppercase letter.",
        "Include a digit.",
        "Include a symbol.",
        "Do not use your name or email address in the password.",
    ]


def test_common_and_personal_passwords(acme):
    assert "This password is too common." in _problems("iloveyou123", acme.agent, min_length=8)
    assert "This password is too common." in _problems("Password1234", acme.agent, min_length=8)
    named = User(email="jane.doe@acme.test", name="Jane Doe")
    assert any("name or email" in p for p in _problems("my dog loves jane!", named))


def test_max_length(acme):
    assert _problems("x" * 65, acme.agent, max_length=64, reject_common=False) == [
        "Use at most 64 characters."
    ]


def test_strength_floor_uses_zxcvbn(acme):
    assert _problems("aaaaaaaaaaaa", acme.agent, min_strength=3, reject_common=False) == [
        "This password is too easy to guess; a longer passphrase helps."
    ]
    assert _problems("violet tractor umbrella 42", acme.agent, min_strength=3) == []


def test_reuse_of_recent_passwords_is_refused(acme):
    user = acme.agent
    passwords = [f"passphrase number {i} here" for i in range(7)]
    for pw in passwords:
        user_set_password(user=user, actor=user, password=pw)
    for recent in passwords[-5:]:
        with pytest.raises(ApplicationError) as exc:
            user_set_password(user=user, actor=user, password=recent)
        assert "last 5 passwords" in exc.value.message
    user_set_password(user=user, actor=user, password=passwords[0])  # older than the last five


def test_history_can_be_turned_off(acme):
    password_policy_update(tenant=acme.tenant, actor=acme.admin, history_count=0)
    user_set_password(user=acme.agent, actor=acme.agent, password="same passphrase again")
    user_set_password(user=acme.agent, actor=acme.agent, password="same passphrase again")


def test_policy_applies_to_user_create_and_admin_set(acme):
    password_policy_update(tenant=acme.tenant, actor=acme.admin, min_length=16, require_digit=True)
    with pytest.raises(ApplicationError) as exc:
        user_create(
            tenant=acme.tenant,
            actor=acme.admin,
            email="n@acme.test",
            kind="contact",
            password="fifteen chars!!",
        )
    assert exc.value.message == "Use at least 16 characters. Include a digit."
    with pytest.raises(ApplicationError):
        user_set_password(user=acme.contact, actor=acme.admin, password="short1")


def test_policy_bounds_and_permissions(acme):
    with pytest.raises(ApplicationError) as exc:
        password_policy_update(tenant=acme.tenant, actor=acme.admin, min_length=7)
    assert exc.value.field == "min_length"
    with pytest.raises(ApplicationError) as exc:
        password_policy_update(tenant=acme.tenant, actor=acme.admin, max_length=63)
    assert exc.value.field == "max_length"
    with pytest.raises(ApplicationError) as exc:
        password_policy_update(tenant=acme.tenant, actor=acme.admin, min_length=80, max_length=70)
    assert exc.value.field == "max_length"
    with pytest.raises(PermissionDenied):
        password_policy_update(tenant=acme.tenant, actor=acme.manager, min_length=14)
    assert policy_for(acme.tenant).min_length == 12


def test_policy_change_can_flag_everyone_and_is_an_event(acme, globex):
    password_policy_update(
        tenant=acme.tenant, actor=acme.admin, min_length=14, force_change_all=True
    )
    assert not User.objects.filter(tenant=acme.tenant, must_change_password=False).exists()
    assert not User.objects.filter(tenant=globex.tenant, must_change_password=True).exists()
    event = Event.objects.filter(tenant=acme.tenant).order_by("-seq").first()
    assert event.action == "password_policy.updated"
    assert event.details["changes"] == {"min_length": 14}
    assert policy_for(globex.tenant).min_length == 12


def test_password_change_ends_other_sessions(acme):
    first, second = acme.client(), acme.client()
    for client in (first, second):
        client.post(
            "/login", {"email": "agent@acme.test", "password": "correct horse battery staple"}
        )
    # The request that changes the password, as the preferences page will send it.
    request = RequestFactory().post("/", HTTP_HOST=acme.host)
    request.session = SessionStore(first.session.session_key)
    request.user = acme.agent
    user_set_password(
        user=acme.agent,
        actor=acme.agent,
        password="a brand new passphrase",
        request=request,
        keep_current_session=True,
    )
    request.session.save()
    first.cookies["sessionid"] = request.session.session_key
    assert first.get("/").url == "/tickets/"
    assert second.get("/").url.startswith("/login")


def _sign_in(client):
    return client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})


def test_flagged_person_changes_password_before_the_session(acme):
    password_policy_update(tenant=acme.tenant, actor=acme.admin, force_change_all=True)
    client = acme.client()
    response = _sign_in(client)
    assert response["Location"] == "/login/password"
    assert "_auth_user_id" not in client.session  # nothing authenticated yet
    page = client.get("/login/password")
    assert b"Choose a new password" in page.content
    weak = client.post("/login/password", {"new_password": "x", "confirm_password": "x"})
    assert b"Use at least 12 characters." in weak.content
    done = client.post(
        "/login/password",
        {"new_password": "fresh passphrase here", "confirm_password": "fresh passphrase here"},
    )
    assert done.status_code == 302 and done["Location"] == "/tickets/"
    assert client.session["_auth_user_id"] == str(acme.agent.pk)
    assert not User.objects.get(pk=acme.agent.pk).must_change_password


def test_expired_password_must_be_changed(acme):
    password_policy_update(tenant=acme.tenant, actor=acme.admin, max_age_days=90)
    assert _sign_in(acme.client())["Location"] == "/tickets/"
    User.objects.filter(pk=acme.agent.pk).update(
        password_changed_at=timezone.now() - timedelta(days=91)
    )
    assert _sign_in(acme.client())["Location"] == "/login/password"


def test_required_action_page_needs_a_pending_sign_in(acme):
    assert acme.client().get("/login/password")["Location"] == "/login"
