"""Every path the rules guard, refused and allowed: sign-in, registration, contacts, tickets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from keydesk.access.models import AccessRule
from keydesk.access.services import (
    RESTRICTED_MESSAGE,
    access_check_ticket_email,
    rule_create,
    rule_delete,
)
from keydesk.accounts.lockout import is_locked
from keydesk.accounts.models import AccountLockout, User
from keydesk.eventlog.models import Event
from keydesk.tenants.models import Tenant
from keydesk.tickets.models import Ticket
from tests.api.utils import post_json, problem_of
from tests.conftest import PASSWORD
from tests.tap.helpers import enable, make_pass, tap_sign_in

RESTRICTED = RESTRICTED_MESSAGE.replace("'", "&#x27;").encode()


def deny(world, kind, value, **extra):
    return rule_create(
        tenant=world.tenant, actor=None, list_type="deny", kind=kind, value=value, **extra
    )


def allow(world, kind, value, **extra):
    return rule_create(
        tenant=world.tenant, actor=None, list_type="allow", kind=kind, value=value, **extra
    )


def denials(world) -> list[Event]:
    return list(Event.objects.filter(tenant=world.tenant, action="access.denied").order_by("seq"))


def sign_in(world, email, password=PASSWORD, **headers):
    client = world.client()
    return client, client.post("/login", {"email": email, "password": password}, **headers)


# Sign-in


def test_a_denied_ip_cannot_sign_in_and_the_admin_sees_the_rule(acme):
    rule = deny(acme, "ip", "127.0.0.0/8", actions=["login"])
    client, response = sign_in(acme, acme.agent.email)
    assert response.status_code == 200 and RESTRICTED in response.content
    assert b"127.0.0.0" not in response.content  # the rule is never shown to the person
    assert "_auth_user_id" not in client.session
    [event] = denials(acme)
    assert event.details["rule_id"] == rule.pk
    assert event.details["refused_action"] == "login" and event.actor_id == acme.agent.pk
    failed = Event.objects.get(tenant=acme.tenant, action="login.failed")
    assert failed.details["reason"] == "access_denied"


def test_without_the_password_the_answer_is_the_usual_one(acme):
    """The rules are checked after the factor: they reveal nothing to someone guessing."""
    deny(acme, "ip", "127.0.0.1")
    for email, password in [(acme.agent.email, "wrong password!!"), ("nobody@acme.test", PASSWORD)]:
        _, response = sign_in(acme, email, password)
        assert RESTRICTED not in response.content
        assert b"The email or password is not correct" in response.content
    assert denials(acme) == []


def test_refused_sign_ins_with_the_right_password_never_lock_the_account(acme):
    deny(acme, "email", acme.agent.email)
    for _ in range(8):
        sign_in(acme, acme.agent.email)
    assert not is_locked(acme.agent)
    assert AccountLockout.objects.get(user=acme.agent).failures == 0
    assert len(denials(acme)) == 8


def test_allow_list_by_domain_lets_in_only_those_domains(acme):
    allow(acme, "domain", "acme.test", audience="staff")
    User.objects.filter(pk=acme.agent.pk).update(email="agent@elsewhere.test")
    _, refused = sign_in(acme, "agent@elsewhere.test")
    assert RESTRICTED in refused.content
    _, admitted = sign_in(acme, acme.manager.email)
    assert admitted.status_code == 302
    # The rule is for staff: contacts from anywhere still sign in.
    User.objects.filter(pk=acme.contact.pk).update(email="carla@elsewhere.test")
    _, contact = sign_in(acme, "carla@elsewhere.test")
    assert contact.status_code == 302


def test_language_from_profile_else_accept_language(acme):
    allow(acme, "language", "fr", actions=["login"])
    _, none = sign_in(acme, acme.agent.email)
    assert RESTRICTED in none.content  # no profile language, no header: unknown
    _, header = sign_in(acme, acme.agent.email, HTTP_ACCEPT_LANGUAGE="de;q=0.5, fr-CA, en;q=0.8")
    assert header.status_code == 302
    User.objects.filter(pk=acme.agent.pk).update(language="de")
    _, profile = sign_in(acme, acme.agent.email, HTTP_ACCEPT_LANGUAGE="fr")
    assert RESTRICTED in profile.content


def test_a_temporary_access_pass_goes_through_the_same_stage(acme):
    enable(acme)
    _, secret = make_pass(acme, acme.agent)
    deny(acme, "ip", "127.0.0.1", actions=["login"])
    response = tap_sign_in(acme.client(), acme.agent.email, secret)
    assert RESTRICTED in response.content
    assert [e.details["refused_action"] for e in denials(acme)] == ["login"]


def test_rules_for_other_actions_or_expired_rules_do_not_refuse(acme):
    deny(acme, "ip", "127.0.0.1", actions=["ticket.web", "register"])
    rule = deny(acme, "email", acme.agent.email)
    AccessRule.objects.filter(pk=rule.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _, response = sign_in(acme, acme.agent.email)
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("trusted", "forwarded", "refused"),
    [
        ([], "198.51.100.7", False),  # a forged header from an untrusted peer is ignored
        (["127.0.0.1/32"], "198.51.100.7", True),  # a trusted proxy's header is believed
        (["127.0.0.1/32"], "198.51.100.7, 10.0.0.1", False),  # the client appended a hop
        (["127.0.0.1/32", "10.0.0.0/8"], "198.51.100.7, 10.0.0.1", True),
    ],
)
def test_trusted_proxies_and_spoofed_forwarded_for(acme, settings, trusted, forwarded, refused):
    from keydesk.core import http

    settings.TRUSTED_PROXIES = trusted
    http._trusted_networks.cache_clear()
    try:
        deny(acme, "ip", "198.51.100.0/24")
        _, response = sign_in(acme, acme.agent.email, HTTP_X_FORWARDED_FOR=forwarded)
    finally:
        http._trusted_networks.cache_clear()
    assert (RESTRICTED in response.content) is refused


# Registration and contacts


def test_self_registration_refused_by_domain(acme):
    Tenant.objects.filter(pk=acme.tenant.pk).update(self_registration=True)
    deny(acme, "domain", "spam.example", include_subdomains=True)
    form = {
        "name": "Nora",
        "new_password": "a fine long passphrase",
        "confirm_password": "a fine long passphrase",
    }
    response = acme.client().post("/register", form | {"email": "nora@eu.spam.example"})
    assert RESTRICTED in response.content
    assert not User.objects.filter(email="nora@eu.spam.example").exists()
    assert denials(acme)[0].details["refused_action"] == "register"
    allowed = acme.client().post("/register", form | {"email": "nora@example.com"})
    assert b"Check your email" in allowed.content


def test_staff_cannot_add_a_refused_contact_on_the_web(acme):
    deny(acme, "email", "mallory@example.com", actions=["register"])
    client = acme.client(acme.manager)
    response = client.post("/account/contacts/new", {"email": "Mallory@example.com", "name": "M"})
    assert RESTRICTED in response.content
    assert not User.objects.filter(tenant=acme.tenant, email="mallory@example.com").exists()


def test_staff_contact_creation_ignores_the_agents_ip(acme):
    """A contact is judged on its address: an IP allow list for `register` does not apply."""
    allow(acme, "ip", "192.0.2.0/24", actions=["register"])
    response = acme.client(acme.manager).post(
        "/account/contacts/new", {"email": "new@example.com", "name": "New"}
    )
    assert response.status_code == 302
    assert User.objects.filter(tenant=acme.tenant, email="new@example.com").exists()


def test_api_contact_creation_refused_with_403_problem(acme):
    deny(acme, "domain", "example.com")
    response = post_json(
        acme.api(acme.admin),
        "/api/v1/users",
        {"email": "someone@example.com", "kind": "contact", "name": "Someone"},
    )
    body = problem_of(response, 403)
    assert body["detail"] == RESTRICTED_MESSAGE
    assert "example.com" not in response.content.decode()


# Tickets


def test_portal_ticket_refused_then_allowed(acme):
    rule = deny(acme, "ip", "127.0.0.1", actions=["ticket.web"], audience="contacts")
    client = acme.client(acme.contact)
    response = client.post("/portal/new", {"subject": "Help", "description": "Please"})
    assert RESTRICTED in response.content
    assert not Ticket.objects.filter(tenant=acme.tenant).exists()
    assert denials(acme)[0].details["refused_action"] == "ticket.web"
    rule_delete(rule=rule, actor=None)
    assert client.post("/portal/new", {"subject": "Help"}).status_code == 302


def test_api_ticket_refused_with_403_and_event(acme, globex):
    deny(acme, "email", acme.contact.email, actions=["ticket.api"])
    client = acme.api(acme.agent)
    refused = post_json(
        client, "/api/v1/tickets", {"subject": "Hi", "requester_email": acme.contact.email}
    )
    problem_of(refused, 403)
    assert denials(acme)[0].details["refused_action"] == "ticket.api"
    accepted = post_json(
        client, "/api/v1/tickets", {"subject": "Hi", "requester_email": acme.other_contact.email}
    )
    assert accepted.status_code == 201
    # The other tenant's rules are its own.
    assert (
        post_json(
            globex.api(globex.agent),
            "/api/v1/tickets",
            {"subject": "Hi", "requester_email": globex.contact.email},
        ).status_code
        == 201
    )
    assert denials(globex) == []


def test_api_ticket_for_a_new_refused_requester_creates_nothing(acme):
    deny(acme, "domain", "example.com", actions=["register"])
    refused = post_json(
        acme.api(acme.agent),
        "/api/v1/tickets",
        {"subject": "Hi", "requester_email": "x@example.com"},
    )
    problem_of(refused, 403)
    assert not User.objects.filter(email="x@example.com").exists()
    assert not Ticket.objects.filter(tenant=acme.tenant).exists()


def test_ticket_email_check_for_the_inbound_path(acme, globex):
    deny(acme, "domain", "spam.example", actions=["ticket.email"])
    allow(acme, "language", "en", actions=["ticket.email"])
    refused = access_check_ticket_email(
        tenant=acme.tenant, sender="a@spam.example", language="en", user=None
    )
    assert not refused.allowed and refused.rule.kind == "domain"
    no_language = access_check_ticket_email(
        tenant=acme.tenant, sender="a@ok.example", language=None, user=None
    )
    assert not no_language.allowed and no_language.rule is None
    assert access_check_ticket_email(
        tenant=acme.tenant, sender="a@ok.example", language="en-GB", user=None
    ).allowed
    assert [e.details["refused_action"] for e in denials(acme)] == ["ticket.email", "ticket.email"]
    assert access_check_ticket_email(
        tenant=globex.tenant, sender="a@spam.example", language=None, user=None
    ).allowed
