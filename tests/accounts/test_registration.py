"""Self-registration: off by default, same answer for registered addresses, verification mail."""

from keydesk.accounts.models import User
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from keydesk.tenants.models import Tenant

GOOD = {
    "name": "Nora",
    "new_password": "a fine long passphrase",
    "confirm_password": "a fine long passphrase",
}


def _enable(world):
    Tenant.objects.filter(pk=world.tenant.pk).update(self_registration=True)


def test_registration_is_off_by_default(acme):
    assert acme.client().get("/register").status_code == 404
    assert b"Sign up" not in acme.client().get("/login").content


def test_new_contact_registers_and_gets_the_verification_mail(acme, globex):
    _enable(acme)
    client = acme.client()
    assert b"Sign up" in client.get("/login").content
    response = client.post("/register", GOOD | {"email": "Nora@Example.com"})
    assert response.status_code == 200 and b"Check your email" in response.content
    nora = User.objects.get(tenant=acme.tenant, email="nora@example.com")
    assert (nora.kind, nora.email_verified_at) == ("contact", None)
    assert nora.check_password(GOOD["new_password"])
    assert OutboundEmail.objects.get(template="verify_email", recipient="nora@example.com")
    assert globex.client().get("/register").status_code == 404


def test_registered_address_gets_the_same_answer(acme):
    _enable(acme)
    fresh = acme.client().post("/register", GOOD | {"email": "new@example.com"})
    taken = acme.client().post("/register", GOOD | {"email": "contact@acme.test"})
    assert fresh.status_code == taken.status_code == 200
    assert b"Check your email" in taken.content
    assert OutboundEmail.objects.filter(
        template="already_registered", recipient="contact@acme.test"
    ).exists()
    assert Event.objects.filter(action="user.registration_repeated").exists()
    assert User.objects.filter(email="contact@acme.test").count() == 1


def test_registration_obeys_the_password_policy(acme):
    _enable(acme)
    response = acme.client().post(
        "/register",
        {
            "email": "p@example.com",
            "name": "P",
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert b"Use at least 12 characters." in response.content
    assert not User.objects.filter(email="p@example.com").exists()
