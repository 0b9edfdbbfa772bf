"""Guests: a Temporary Access Pass is their only way in, and no mail ever leaves for them."""

import pytest

from keydesk.accounts.services import user_create, user_update
from keydesk.core.errors import ApplicationError
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from keydesk.mfa.models import Authenticator
from keydesk.mfa.policy import allowed_types_for
from keydesk.mfa.services import email_enable
from tests.conftest import PASSWORD, run_worker
from tests.tap.helpers import enable, events, make_pass, reasons, tap_sign_in


def test_a_guest_is_refused_with_a_password_they_somehow_have(acme):
    user_update(user=acme.agent, actor=acme.admin, is_guest=True)
    acme.agent.refresh_from_db()
    assert acme.agent.has_usable_password()
    client = acme.client()
    response = client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert reasons(acme) == ["guest_method_not_allowed"]
    login = acme.client().get("/login").content.decode()
    assert "guests sign in only this way; ask your administrator for a pass" in login


def test_a_guest_signs_in_with_a_pass_and_is_not_offered_a_password(acme):
    enable(acme)
    guest = user_create(
        tenant=acme.tenant, actor=acme.admin, email="gus@acme.test", kind="contact", is_guest=True
    )
    _, secret = make_pass(acme, guest)
    client = acme.client()
    assert tap_sign_in(client, "gus@acme.test", secret)["Location"] == "/portal/"
    assert client.session["amr"] == ["tap"]


def test_guest_flag_changes_are_recorded(acme):
    user_update(user=acme.contact, actor=acme.admin, is_guest=True)
    [event] = events(acme, "user.guest_changed")
    assert event.actor_id == acme.admin.pk and event.details["is_guest"] is True


@pytest.mark.django_db(transaction=True)
def test_no_mail_leaves_for_a_guest(acme_tx, smtp_server):
    world = acme_tx
    enable(world)
    # Made a guest from the start: the contact's verification mail is the first one held back.
    guest = user_create(
        tenant=world.tenant, actor=world.admin, email="gus@acme.test", kind="contact", is_guest=True
    )
    _, secret = make_pass(world, guest)
    assert tap_sign_in(world.client(), "gus@acme.test", secret)["Location"] == "/portal/"
    # A sign-in from a second browser would alert anyone else about a new device.
    assert tap_sign_in(world.client(), "gus@acme.test", secret)["Location"] == "/portal/"
    # So would a lockout.
    for _ in range(5):
        tap_sign_in(world.client(), "gus@acme.test", "WrongPass")
    run_worker()
    held = OutboundEmail.objects.filter(recipient="gus@acme.test")
    assert sorted(held.values_list("template", flat=True)) == [
        "account_locked",
        "new_device",
        "verify_email",
    ]
    assert set(held.values_list("status", flat=True)) == {"suppressed"}
    assert set(held.values_list("body_encrypted", flat=True)) == {""}
    assert len(events(world, "mail.suppressed_guest")) == 3
    assert smtp_server.to("gus@acme.test") == []
    # The same server did get the other contacts' mail: the silence is the guest's.
    assert smtp_server.to("contact@acme.test")


def test_guests_cannot_set_up_email_codes(acme):
    user_update(user=acme.agent, actor=acme.admin, is_guest=True)
    acme.agent.refresh_from_db()
    assert Authenticator.Type.EMAIL not in allowed_types_for(acme.agent)
    with pytest.raises(ApplicationError) as refused:
        email_enable(user=acme.agent, actor=acme.agent, code="123456")
    assert refused.value.code == "method_off"
    page = acme.client(acme.agent).get("/preferences/2fa").content.decode()
    assert 'href="/preferences/2fa/email"' not in page
    other = acme.client(acme.supervisor).get("/preferences/2fa").content.decode()
    assert 'href="/preferences/2fa/email"' in other


def test_forgot_password_sends_nothing_to_a_guest(acme):
    user_update(user=acme.agent, actor=acme.admin, is_guest=True)
    guest = acme.client().post("/password/reset", {"email": "agent@acme.test"})
    other = acme.client().post("/password/reset", {"email": "supervisor@acme.test"})
    assert guest.status_code == other.status_code == 200
    sent = "accounts/password_reset_sent.html"
    assert sent in [t.name for t in guest.templates] and sent in [t.name for t in other.templates]
    assert not OutboundEmail.objects.filter(recipient="agent@acme.test").exists()
    assert OutboundEmail.objects.filter(
        recipient="supervisor@acme.test", template="password_reset"
    ).exists()
    assert [e.target_id for e in events(acme, "password.reset_requested")] == [
        str(acme.supervisor.pk)
    ]


def test_only_admins_change_the_guest_flag(acme):
    from keydesk.accounts.services import user_update
    from keydesk.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        user_update(user=acme.contact, actor=acme.manager, is_guest=True)
    page = acme.client(acme.manager).get(f"/account/contacts/{acme.contact.pk}/")
    assert b"Only admins change this." in page.content
    user_update(user=acme.contact, actor=acme.admin, is_guest=True)
    assert Event.objects.filter(tenant=acme.tenant, action="user.guest_changed").exists()
