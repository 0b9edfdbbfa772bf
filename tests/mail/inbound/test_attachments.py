"""Attachments that came by mail: stored with the ticket, downloaded only by who may see it."""

import pytest

from keydesk.tickets.models import Attachment, Ticket
from keydesk.tickets.services import comment_add
from tests.conftest import run_worker

from .conftest import mail

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4 a tiny document"
PNG = b"\x89PNG\r\n\x1a\n a tiny picture"
HTML = b"<script>alert(document.cookie)</script>"


@pytest.fixture
def ticket(acme_tx, listener) -> Ticket:
    message = mail(sender="contact@acme.test", subject="With files", body="See files.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    message.add_attachment(HTML, maintype="text", subtype="html", filename="page.html")
    related = message.get_payload()[0]
    related.add_related(PNG, maintype="image", subtype="png", cid="<logo@customer.test>")
    assert listener.send(message) == {}
    run_worker()
    return Ticket.objects.get(tenant=acme_tx.tenant, subject="With files")


def test_attachments_are_stored_with_the_ticket(acme_tx, ticket):
    files = {a.filename: a for a in Attachment.objects.filter(ticket=ticket)}
    assert set(files) == {"invoice.pdf", "page.html", "attachment-1.png"}
    assert files["attachment-1.png"].inline
    assert not files["invoice.pdf"].inline
    assert all(a.comment is None and a.tenant == acme_tx.tenant for a in files.values())
    page = acme_tx.client(acme_tx.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert "invoice.pdf" in page and "image in the message" in page


def test_staff_and_the_requester_download_them(acme_tx, ticket):
    pdf = Attachment.objects.get(ticket=ticket, filename="invoice.pdf")
    response = acme_tx.client(acme_tx.agent).get(f"/tickets/{ticket.number}/attachments/{pdf.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    response = acme_tx.client(acme_tx.contact).get(f"/portal/{ticket.number}/attachments/{pdf.pk}")
    assert b"".join(response.streaming_content) == PDF
    portal = acme_tx.client(acme_tx.contact).get(f"/portal/{ticket.number}/").content.decode()
    assert f"/portal/{ticket.number}/attachments/{pdf.pk}" in portal


def test_html_from_mail_is_never_served_as_a_page(acme_tx, ticket):
    page = Attachment.objects.get(ticket=ticket, filename="page.html")
    response = acme_tx.client(acme_tx.agent).get(f"/tickets/{ticket.number}/attachments/{page.pk}")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]


def test_nobody_else_gets_them(acme_tx, globex, ticket):
    pdf = Attachment.objects.get(ticket=ticket, filename="invoice.pdf")
    path = f"/tickets/{ticket.number}/attachments/{pdf.pk}"
    assert (
        acme_tx.client(acme_tx.other_contact)
        .get(f"/portal/{ticket.number}/attachments/{pdf.pk}")
        .status_code
        == 404
    )
    assert acme_tx.client().get(path).status_code == 302  # sign in first
    # Another tenant's staff, with the same number and id on their own host.
    Ticket.objects.create(
        tenant=globex.tenant, number=ticket.number, subject="x", requester=globex.contact
    )
    assert globex.client(globex.admin).get(path).status_code == 404
    # The right ticket number is needed too.
    other = Ticket.objects.create(
        tenant=acme_tx.tenant, number=ticket.number + 1, subject="y", requester=acme_tx.contact
    )
    assert (
        acme_tx.client(acme_tx.agent)
        .get(f"/tickets/{other.number}/attachments/{pdf.pk}")
        .status_code
        == 404
    )


def test_files_of_internal_notes_are_for_staff_only(acme_tx, ticket, listener):
    note = mail(sender="agent@acme.test", subject=f"Re: [#{ticket.number}]", body="Internal log")
    note.add_attachment(b"secret log", maintype="text", subtype="plain", filename="internal.log")
    listener.send(note)
    run_worker()
    log = Attachment.objects.get(ticket=ticket, filename="internal.log")
    assert not log.comment.is_public
    assert (
        acme_tx.client(acme_tx.agent)
        .get(f"/tickets/{ticket.number}/attachments/{log.pk}")
        .status_code
        == 200
    )
    contact = acme_tx.client(acme_tx.contact)
    assert contact.get(f"/portal/{ticket.number}/attachments/{log.pk}").status_code == 404
    assert "internal.log" not in contact.get(f"/portal/{ticket.number}/").content.decode()
    comment_add(ticket=ticket, actor=acme_tx.agent, body="Public words")  # pages still render
    assert contact.get(f"/portal/{ticket.number}/").status_code == 200
