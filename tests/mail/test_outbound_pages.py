"""Account › Channels (outgoing email, outbox) and Preferences › Notifications, as people use them."""

import pytest

from keydesk.accounts.models import Team
from keydesk.accounts.services import team_create
from keydesk.eventlog.models import Event
from keydesk.mail.models import MailSettings, OutboundEmail
from keydesk.mail.services import email_queue
from keydesk.tenants.models import TenantDomain
from keydesk.tickets.services import ticket_create
from tests.conftest import run_worker


def events(world, action: str):
    return Event.objects.filter(tenant=world.tenant, action=action).order_by("seq")


# Outgoing email


def test_admins_set_the_sender_and_the_new_ticket_team(acme):
    team = team_create(tenant=acme.tenant, actor=None, name="Triage", members=[acme.agent])
    client = acme.client(acme.admin)
    page = client.get("/account/channels/outgoing").content.decode()
    assert "support@acme.localhost" in page and '<label for="id_from_name">' in page
    response = client.post(
        "/account/channels/outgoing",
        {
            "from_name": "Acme Help",
            "from_address": "help@acme.localhost",
            "new_ticket_team": team.pk,
        },
    )
    assert response.status_code == 302 and response.url == "/account/channels/outgoing"
    saved = MailSettings.objects.get(tenant=acme.tenant)
    assert (saved.from_name, saved.from_address, saved.new_ticket_team) == (
        "Acme Help",
        "help@acme.localhost",
        team,
    )
    [event] = events(acme, "mail.settings_updated")
    assert event.actor == acme.admin
    assert event.details["changes"]["new_ticket_team"] == [None, "Triage"]
    # Saving the same values again changes nothing and records nothing.
    client.post(
        "/account/channels/outgoing",
        {
            "from_name": "Acme Help",
            "from_address": "help@acme.localhost",
            "new_ticket_team": team.pk,
        },
    )
    assert events(acme, "mail.settings_updated").count() == 1


def test_the_sender_address_must_be_at_the_tenants_own_domains(acme, globex):
    client = acme.client(acme.admin)
    for address in ("security@bank.example", "support@globex.localhost", "not an address"):
        response = client.post("/account/channels/outgoing", {"from_address": address})
        assert response.status_code == 200
        assert response.context["form"].errors["from_address"], address
    assert not MailSettings.objects.filter(tenant=acme.tenant).exists()
    # A custom domain the operators gave the tenant is its own.
    TenantDomain.objects.create(tenant=acme.tenant, domain="help.acme.example")
    response = client.post("/account/channels/outgoing", {"from_address": "desk@help.acme.example"})
    assert response.status_code == 302
    assert MailSettings.objects.get(tenant=acme.tenant).from_address == "desk@help.acme.example"


def test_another_tenants_team_is_not_offered(acme, globex):
    theirs = Team.objects.create(tenant=globex.tenant, name="Globex escalations")
    client = acme.client(acme.admin)
    assert "Globex escalations" not in client.get("/account/channels/outgoing").content.decode()
    response = client.post("/account/channels/outgoing", {"new_ticket_team": theirs.pk})
    assert response.context["form"].errors["new_ticket_team"]
    assert not MailSettings.objects.filter(tenant=acme.tenant).exists()


@pytest.mark.parametrize("role", ["manager", "supervisor", "agent", "contact"])
def test_channel_pages_are_404_for_everyone_but_admins(acme, role):
    client = acme.client(getattr(acme, role))
    assert client.get("/account/channels/outgoing").status_code == 404
    assert client.post("/account/channels/outgoing", {"from_name": "X"}).status_code == 404
    assert client.get("/account/channels/outbox/").status_code == 404
    assert not MailSettings.objects.filter(tenant=acme.tenant).exists()


def test_admins_find_the_channel_pages_in_the_navigation(acme):
    html = acme.client(acme.admin).get("/account/channels/outbox/").content.decode()
    assert 'href="/account/channels/outgoing"' in html
    assert 'href="/account/channels/outbox/" aria-current="page"' in html
    agent_html = acme.client(acme.agent).get("/tickets/").content.decode()
    assert "/account/channels/" not in agent_html


# Outbox


def _failed_mail(world, to="customer@example.com", **kwargs):
    email = email_queue(
        tenant=world.tenant, template="notice", to=to, context={"text": "Hello"}, **kwargs
    )
    OutboundEmail.objects.filter(pk=email.pk).update(
        status="failed", attempts=6, last_error="SMTPRecipientsRefused: 450 mailbox busy"
    )
    email.refresh_from_db()
    return email


def test_the_outbox_lists_the_tenants_mail_only(acme, globex):
    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="Broken chair")
    ticket_create(tenant=globex.tenant, actor=globex.contact, subject="Globex secret plans")
    html = acme.client(acme.admin).get("/account/channels/outbox/").content.decode()
    assert "contact@acme.test" in html and "ticket_created" in html
    assert f'href="/tickets/{ticket.number}/"' in html
    assert "globex" not in html.lower()


def test_the_outbox_filters_by_status_and_ticket(acme, test_templates):
    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="Broken chair")
    _failed_mail(acme, to="bounced@example.com")
    client = acme.client(acme.admin)
    failed = client.get("/account/channels/outbox/?status=failed")
    assert [e.recipient for e in failed.context["page"].object_list] == ["bounced@example.com"]
    assert "450 mailbox busy" in failed.content.decode()
    by_ticket = client.get(f"/account/channels/outbox/?q=%23{ticket.number}")
    assert [e.template for e in by_ticket.context["page"].object_list] == ["ticket_created"]
    fragment = client.get("/account/channels/outbox/?status=failed", HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith('<section id="outbox-results"')


@pytest.mark.django_db(transaction=True)
def test_an_admin_sends_a_failed_mail_again(acme_tx, smtp_server, test_templates):
    run_worker()
    email = _failed_mail(acme_tx)
    client = acme_tx.client(acme_tx.admin)
    assert "Send again" in client.get("/account/channels/outbox/").content.decode()
    assert client.get(f"/account/channels/outbox/{email.pk}/retry").status_code == 405
    response = client.post(f"/account/channels/outbox/{email.pk}/retry", follow=True)
    assert "queued again" in response.content.decode()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 0)
    [event] = events(acme_tx, "notification.retried")
    assert event.actor == acme_tx.admin
    assert event.details["attempts"] == 6 and "450" in event.details["error"]
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)
    assert len(smtp_server.to("customer@example.com")) == 1


def test_only_failed_mail_with_a_body_can_be_sent_again(acme, test_templates):
    client = acme.client(acme.admin)
    queued = email_queue(tenant=acme.tenant, template="notice", to="a@example.com", context={})
    response = client.post(f"/account/channels/outbox/{queued.pk}/retry", follow=True)
    assert "Only a failed message can be sent again." in response.content.decode()
    secret = _failed_mail(acme, sensitive=True)
    OutboundEmail.objects.filter(pk=secret.pk).update(body_encrypted="")  # erased on failure
    response = client.post(f"/account/channels/outbox/{secret.pk}/retry", follow=True)
    assert "one-time secret" in response.content.decode()
    assert OutboundEmail.objects.get(pk=secret.pk).status == "failed"
    assert not events(acme, "notification.retried").exists()


def test_another_tenants_mail_cannot_be_retried(acme, globex, test_templates):
    theirs = _failed_mail(globex)
    response = acme.client(acme.admin).post(f"/account/channels/outbox/{theirs.pk}/retry")
    assert response.status_code == 404
    assert OutboundEmail.objects.get(pk=theirs.pk).status == "failed"
    mine = _failed_mail(acme)
    response = acme.client(acme.manager).post(f"/account/channels/outbox/{mine.pk}/retry")
    assert response.status_code == 404
    assert OutboundEmail.objects.get(pk=mine.pk).status == "failed"


# Preferences › Notifications


def test_a_contact_turns_ticket_mail_off_and_on(acme):
    client = acme.client(acme.contact)
    page = client.get("/preferences/notifications").content.decode()
    assert 'name="email_notifications"' in page and "checked" in page
    assert 'href="/preferences/notifications"' in client.get("/portal/").content.decode()
    response = client.post("/preferences/notifications", {})
    assert response.status_code == 302
    acme.contact.refresh_from_db()
    assert acme.contact.email_notifications is False
    [event] = events(acme, "user.updated")
    assert event.actor == acme.contact
    assert event.details["changes"] == {"email_notifications": [True, False]}
    ticket_create(tenant=acme.tenant, actor=acme.contact, subject="Quiet please")
    assert OutboundEmail.objects.get(template="ticket_created").status == "suppressed"
    client.post("/preferences/notifications", {"email_notifications": "on"})
    acme.contact.refresh_from_db()
    assert acme.contact.email_notifications is True


def test_the_preference_page_needs_a_sign_in(acme):
    response = acme.client().get("/preferences/notifications")
    assert response.status_code == 302 and response.url.startswith("/login")


def test_a_manager_turns_a_contacts_ticket_mail_off(acme, globex):
    client = acme.client(acme.manager)
    page = client.get(f"/account/contacts/{acme.contact.pk}/").content.decode()
    assert 'name="email_notifications"' in page
    response = client.post(
        f"/account/contacts/{acme.contact.pk}/",
        {"email": acme.contact.email, "name": acme.contact.name, "language": "", "phone": ""},
    )
    assert response.status_code == 302
    acme.contact.refresh_from_db()
    assert acme.contact.email_notifications is False
    changes = events(acme, "user.updated").get().details["changes"]
    assert changes == {"email_notifications": [True, False]}
    # Not for another tenant's contact.
    response = client.post(
        f"/account/contacts/{globex.contact.pk}/",
        {"email": globex.contact.email, "name": "", "language": "", "phone": ""},
    )
    assert response.status_code == 404
    globex.contact.refresh_from_db()
    assert globex.contact.email_notifications is True
