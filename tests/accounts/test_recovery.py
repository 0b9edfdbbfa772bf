"""Password reset, password change and email verification, with links read from real SMTP mail."""

import re

import pytest
from django.core import signing

from keydesk.accounts.lockout import is_locked
from keydesk.accounts.models import User
from keydesk.accounts.services import user_create
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from tests.conftest import PASSWORD, run_worker

NEW_PASSWORD = "a completely new passphrase"


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+", text).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _reset_link(world, smtp_server, email):
    client = world.client()
    response = client.post("/password/reset", {"email": email})
    assert response.status_code == 200
    run_worker()
    [message] = smtp_server.to(email)
    assert message["Subject"] == f"Reset your {world.tenant.name} password"
    return _path(_link(message))


@pytest.mark.django_db(transaction=True)
def test_reset_through_the_emailed_link(acme_tx, smtp_server):
    path = _reset_link(acme_tx, smtp_server, "agent@acme.test")
    client = acme_tx.client()
    assert client.get(path).status_code == 200
    response = client.post(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login"
    # The reset signs nobody in; the new password does.
    assert "_auth_user_id" not in client.session
    assert (
        client.post("/login", {"email": "agent@acme.test", "password": NEW_PASSWORD}).status_code
        == 302
    )
    # The link worked once.
    assert acme_tx.client().get(path).status_code == 400
    actions = set(Event.objects.filter(tenant=acme_tx.tenant).values_list("action", flat=True))
    assert {"password.reset_requested", "password.reset_completed", "password.changed"} <= actions
    # The outbox keeps no usable copy of the link.
    email = OutboundEmail.objects.get(template="password_reset")
    assert email.body_encrypted == ""


@pytest.mark.django_db(transaction=True)
def test_reset_answer_is_the_same_for_unknown_addresses(acme_tx, smtp_server):
    known = acme_tx.client().post("/password/reset", {"email": "agent@acme.test"})
    unknown = acme_tx.client().post("/password/reset", {"email": "nobody@acme.test"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(rb"[A-Za-z0-9]{64}", b"CSRF", r.content)  # noqa: E731
    assert strip(known) == strip(unknown)
    run_worker()
    assert smtp_server.to("nobody@acme.test") == []


def test_reset_obeys_the_policy_and_rejects_tampered_links(acme):
    from keydesk.accounts.tokens import make_token

    path = f"/password/reset/{make_token(acme.agent, 'password-reset')}"
    client = acme.client()
    response = client.post(path, {"new_password": "short", "confirm_password": "short"})
    assert response.status_code == 200
    assert b"Use at least 12 characters." in response.content
    assert client.get(path[:-2] + "xx").status_code == 400
    # A link made for another tenant's person does not work here.
    other = signing.dumps({"u": acme.agent.pk, "t": 999, "s": "x"}, salt="keydesk.password-reset")
    assert client.get(f"/password/reset/{other}").status_code == 400


def test_reset_link_expires_after_an_hour(acme, monkeypatch):
    from keydesk.accounts import tokens

    token = tokens.make_token(acme.agent, "password-reset")
    real_loads = signing.loads
    monkeypatch.setattr(
        tokens.signing,
        "loads",
        lambda value, **kw: real_loads(value, **{**kw, "max_age": -1}),
    )
    assert acme.client().get(f"/password/reset/{token}").status_code == 400


def test_reset_unlocks_a_locked_account(acme):
    from keydesk.accounts.password_reset import password_reset_complete
    from keydesk.accounts.tokens import make_token

    client = acme.client()
    for _ in range(5):
        client.post("/login", {"email": "agent@acme.test", "password": "wrong password!"})
    assert is_locked(acme.agent)
    # "Forgot password" stays reachable while locked.
    assert client.get("/password/reset").status_code == 200
    password_reset_complete(
        tenant=acme.tenant, token=make_token(acme.agent, "password-reset"), password=NEW_PASSWORD
    )
    assert not is_locked(acme.agent)


def test_change_password_needs_the_current_one(acme):
    client = acme.client()
    client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    data = {
        "current_password": "wrong",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    response = client.post("/preferences/password", data)
    assert b"The current password is not correct." in response.content
    data["current_password"] = PASSWORD
    data["confirm_password"] = "different"
    assert b"The two passwords differ." in client.post("/preferences/password", data).content
    data["confirm_password"] = NEW_PASSWORD
    assert client.post("/preferences/password", data).status_code == 302
    assert client.get("/tickets/").status_code == 200  # this session goes on
    assert User.objects.get(pk=acme.agent.pk).check_password(NEW_PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_new_contact_verifies_through_the_emailed_link(acme_tx, smtp_server):
    contact = user_create(
        tenant=acme_tx.tenant, actor=acme_tx.manager, email="new@customer.test", kind="contact"
    )
    run_worker()
    [message] = smtp_server.to("new@customer.test")
    path = _path(_link(message))
    client = acme_tx.client()
    page = client.get(path)
    assert page.status_code == 200 and b"Confirm my email address" in page.content
    contact.refresh_from_db()
    assert contact.email_verified_at is None  # opening the link alone verifies nothing
    assert client.post(path).status_code == 200
    contact.refresh_from_db()
    assert contact.email_verified_at is not None
    assert client.post(path).status_code == 400  # single use
    assert Event.objects.filter(tenant=acme_tx.tenant, action="contact.verified").count() == 1


def test_staff_see_unverified_contacts_and_resend(acme):
    admin = acme.client(acme.admin)
    listing = admin.get("/account/contacts/")
    assert b"Unverified" in listing.content
    before = OutboundEmail.objects.filter(recipient="contact@acme.test").count()
    response = admin.post(f"/account/contacts/{acme.contact.pk}/verification")
    assert response.status_code == 302
    assert OutboundEmail.objects.filter(recipient="contact@acme.test").count() == before + 1
    # Agents cannot resend; another tenant's contact is not found.
    assert (
        acme.client(acme.agent)
        .post(f"/account/contacts/{acme.contact.pk}/verification")
        .status_code
        == 404
    )


def test_resend_is_not_reachable_across_tenants(acme, globex):
    response = acme.client(acme.admin).post(f"/account/contacts/{globex.contact.pk}/verification")
    assert response.status_code == 404


def test_admin_unlocks_from_the_profile(acme, globex):
    client = acme.client()
    for _ in range(5):
        client.post("/login", {"email": "agent@acme.test", "password": "wrong password!"})
    admin = acme.client(acme.admin)
    assert b"Locked" in admin.get("/account/agents/").content
    page = admin.get(f"/account/agents/{acme.agent.pk}/")
    assert b"Unlock account" in page.content
    assert admin.post(f"/account/people/{acme.agent.pk}/unlock").status_code == 302
    assert not is_locked(acme.agent)
    assert (
        acme.client(acme.agent).post(f"/account/people/{acme.admin.pk}/unlock").status_code == 404
    )
    assert admin.post(f"/account/people/{globex.agent.pk}/unlock").status_code == 404


def test_admin_sets_a_password_and_can_require_a_change(acme):
    agent_session = acme.client()
    agent_session.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    admin = acme.client(acme.admin)
    page = admin.get(f"/account/agents/{acme.agent.pk}/")
    assert b"Set a new password" in page.content
    short = {"new_password": "short", "confirm_password": "short", "must_change": "on"}
    response = admin.post(f"/account/people/{acme.agent.pk}/password", short, follow=True)
    assert b"Use at least 12 characters." in response.content
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "must_change": "on"}
    assert admin.post(f"/account/people/{acme.agent.pk}/password", data).status_code == 302
    agent = User.objects.get(pk=acme.agent.pk)
    assert agent.check_password(NEW_PASSWORD) and agent.must_change_password
    assert agent_session.get("/tickets/")["Location"].startswith("/login")
    login = acme.client().post("/login", {"email": "agent@acme.test", "password": NEW_PASSWORD})
    assert login["Location"] == "/login/password"


def test_set_password_respects_roles_and_tenants(acme, globex):
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    manager = acme.client(acme.manager)
    assert manager.post(f"/account/people/{acme.admin.pk}/password", data).status_code == 404
    assert manager.post(f"/account/people/{globex.agent.pk}/password", data).status_code == 404
    assert (
        acme.client(acme.agent)
        .post(f"/account/people/{acme.contact.pk}/password", data)
        .status_code
        == 404
    )
    assert User.objects.get(pk=acme.admin.pk).check_password(PASSWORD)


def test_unverified_requester_is_marked_on_tickets(acme):
    from keydesk.tickets.services import ticket_create

    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="Help")
    agent = acme.client(acme.agent)
    assert b"Unverified" in agent.get(f"/tickets/{ticket.number}/").content
    assert b"Unverified" in agent.get("/tickets/").content


def test_supervisors_cannot_resend_verification(acme):
    response = acme.client(acme.supervisor).post(
        f"/account/contacts/{acme.contact.pk}/verification"
    )
    assert response.status_code == 404
