"""Account › Channels › Email log and Email addresses: admins only, their own tenant only."""

import pytest
from django_tasks_db.models import DBTaskResult

from keydesk.core.crypto import decrypt_bytes
from keydesk.eventlog.models import Event
from keydesk.mail.inbound.process import inbound_store
from keydesk.mail.models import InboundAddress, InboundEmail, InboundSettings
from keydesk.tenants.models import TenantDomain
from tests.conftest import run_worker

from .conftest import mail

pytestmark = pytest.mark.django_db(transaction=True)

LOG = "/account/channels/email/log/"
ADDRESSES = "/account/channels/email/addresses/"


def receive(world, message, sender="contact@acme.test") -> InboundEmail:
    """Store a message as the listener does, for `world`'s tenant."""
    raw = message.as_bytes() if hasattr(message, "as_bytes") else message
    [email] = inbound_store(
        raw=raw,
        envelope_from=sender,
        recipients={world.tenant.pk: [f"support@{world.tenant.slug}.localhost"]},
        peer="192.0.2.7",
    )
    return email


@pytest.mark.parametrize("role", ["manager", "supervisor", "agent", "contact"])
def test_only_admins_see_the_pages(acme_tx, role):
    email = receive(acme_tx, mail())
    client = acme_tx.client(getattr(acme_tx, role))
    for path in (LOG, f"{LOG}{email.pk}/", f"{LOG}{email.pk}/raw", ADDRESSES):
        assert client.get(path).status_code == 404, path
    assert client.post(f"{LOG}{email.pk}/reprocess").status_code == 404
    assert client.post(ADDRESSES, {"address": "help@acme.example"}).status_code == 404
    assert (
        "Email log" not in acme_tx.client(getattr(acme_tx, role)).get("/tickets/").content.decode()
    )


def test_the_log_lists_the_tenants_messages_with_status_and_reason(acme_tx, globex):
    receive(acme_tx, mail(subject="Printer on fire"))
    receive(acme_tx, b"Subject: Anonymous\r\n\r\nno sender\r\n", sender="")
    receive(globex, mail(subject="Globex only"), sender="contact@globex.test")
    run_worker()
    client = acme_tx.client(acme_tx.admin)
    page = client.get(LOG).content.decode()
    assert "Printer on fire" in page and "Anonymous" in page
    assert "Globex only" not in page
    assert "No valid sender address in From or in the envelope." in page
    assert "New ticket #1." in page
    failed = client.get(LOG, {"status": "failed"}).content.decode()
    assert "Anonymous" in failed and "Printer on fire" not in failed
    found = client.get(LOG, {"q": "printer"}, HTTP_HX_REQUEST="true").content.decode()
    assert found.startswith('<section id="email-log-results"') and "Printer on fire" in found
    assert "Email log" in client.get("/tickets/").content.decode()  # in the navigation


def test_the_detail_shows_the_raw_source_as_text(acme_tx):
    email = receive(acme_tx, mail(body="<script>alert('x')</script> & more"))
    run_worker()
    client = acme_tx.client(acme_tx.admin)
    response = client.get(f"{LOG}{email.pk}/")
    page = response.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    assert "<script>alert" not in page
    assert "192.0.2.7" in page and "Reprocess" not in page  # processed: nothing to redo
    assert response["Cache-Control"] == "private, no-store"
    raw = client.get(f"{LOG}{email.pk}/raw")
    assert raw.content == decrypt_bytes(email.raw_encrypted)
    assert raw["Content-Disposition"] == f'attachment; filename="message-{email.pk}.eml"'


def test_other_tenants_messages_are_not_found(acme_tx, globex):
    theirs = receive(globex, mail(), sender="contact@globex.test")
    client = acme_tx.client(acme_tx.admin)
    assert client.get(f"{LOG}{theirs.pk}/").status_code == 404
    assert client.get(f"{LOG}{theirs.pk}/raw").status_code == 404
    assert client.post(f"{LOG}{theirs.pk}/reprocess").status_code == 404
    assert InboundEmail.objects.get(pk=theirs.pk).status == "received"


def test_reprocess_queues_a_failed_message_again(acme_tx):
    email = receive(acme_tx, b"Subject: Anonymous\r\n\r\nno sender\r\n", sender="")
    run_worker()
    email.refresh_from_db()
    assert email.status == "failed"
    client = acme_tx.client(acme_tx.admin)
    assert "Reprocess" in client.get(f"{LOG}{email.pk}/").content.decode()
    response = client.post(f"{LOG}{email.pk}/reprocess")
    assert response.status_code == 302 and response.url == f"{LOG}{email.pk}/"
    email.refresh_from_db()
    assert email.status == "received"
    event = Event.objects.get(tenant=acme_tx.tenant, action="mail.reprocessed")
    assert event.actor == acme_tx.admin and event.details == {"previous_status": "failed"}
    run_worker()
    email.refresh_from_db()
    assert email.status == "failed"  # still no sender: it fails again, and says why
    assert email.attempts == 2


def test_a_processed_message_is_not_reprocessed(acme_tx):
    email = receive(acme_tx, mail())
    run_worker()
    tasks = DBTaskResult.objects.count()
    response = acme_tx.client(acme_tx.admin).post(f"{LOG}{email.pk}/reprocess", follow=True)
    assert "Only failed, rejected or held messages can be processed again." in (
        response.content.decode()
    )
    assert DBTaskResult.objects.count() == tasks
    assert InboundEmail.objects.get(pk=email.pk).status == "processed"


def test_admins_add_and_remove_addresses(acme_tx, globex):
    TenantDomain.objects.create(tenant=acme_tx.tenant, domain="help.acme.example")
    client = acme_tx.client(acme_tx.admin)
    page = client.get(ADDRESSES).content.decode()
    assert "support@acme.localhost" in page and "support@help.acme.example" in page
    response = client.post(ADDRESSES, {"address": "Help@Acme.Example"})
    assert response.status_code == 302
    added = InboundAddress.objects.get(tenant=acme_tx.tenant)
    assert added.address == "help@acme.example"
    event = Event.objects.get(tenant=acme_tx.tenant, action="mail.address_added")
    assert event.details == {"address": "help@acme.example"}
    # Nobody else may take it, and nobody may take the platform's or another tenant's domain.
    TenantDomain.objects.create(tenant=globex.tenant, domain="globex.example")
    refusals = {
        "help@acme.example": "A helpdesk receives mail at this address already.",
        "sales@globex.localhost": "Addresses at localhost belong to other helpdesks; "
        "use one at acme.localhost.",
        "sales@globex.example": "This domain belongs to another helpdesk.",
        "support@acme.localhost": "Your helpdesk receives mail at this address already.",
        "not an address": "Enter a valid email address.",
    }
    for address, error in refusals.items():
        response = client.post(ADDRESSES, {"address": address})
        assert response.context["address_form"].errors["address"] == [error], address
    response = globex.client(globex.admin).post(ADDRESSES, {"address": "help@acme.example"})
    assert response.context["address_form"].errors["address"]
    assert client.post(ADDRESSES, {"address": "sales@acme.localhost"}).status_code == 302
    # Removing: another tenant's admin cannot, the owner can.
    remove = f"{ADDRESSES}{added.pk}/remove"
    assert globex.client(globex.admin).post(remove).status_code == 404
    assert client.post(remove).status_code == 302
    assert not InboundAddress.objects.filter(pk=added.pk).exists()
    assert Event.objects.filter(tenant=acme_tx.tenant, action="mail.address_removed").count() == 1


def test_the_listener_follows_the_address_list(acme_tx, listener):
    client = acme_tx.client(acme_tx.admin)

    def rcpt_code() -> int:
        with listener.connect() as smtp:
            smtp.ehlo()
            smtp.mail("carla@customer.test")
            return smtp.rcpt("help@acme.example")[0]

    assert rcpt_code() == 550
    client.post(ADDRESSES, {"address": "help@acme.example"})
    assert rcpt_code() == 250
    address = InboundAddress.objects.get(tenant=acme_tx.tenant)
    client.post(f"{ADDRESSES}{address.pk}/remove")
    assert rcpt_code() == 550


def test_admins_set_the_hourly_limit(acme_tx, globex):
    client = acme_tx.client(acme_tx.admin)
    response = client.post("/account/channels/email/settings", {"sender_hourly_limit": "5"})
    assert response.status_code == 302
    assert InboundSettings.objects.get(tenant=acme_tx.tenant).sender_hourly_limit == 5
    event = Event.objects.get(tenant=acme_tx.tenant, action="mail.inbound_settings_updated")
    assert event.details == {"changes": {"sender_hourly_limit": [20, 5]}}
    response = client.post("/account/channels/email/settings", {"sender_hourly_limit": "0"})
    assert response.context["settings_form"].errors["sender_hourly_limit"]
    assert not InboundSettings.objects.filter(tenant=globex.tenant).exists()
