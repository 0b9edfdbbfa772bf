"""Outgoing mail in Chromium: an admin finds a failed mail in the outbox and sends it again; a
contact turns ticket mail off."""

import re

import pytest

from keydesk.mail.models import OutboundEmail
from keydesk.tickets.services import ticket_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page, site: str, email: str) -> None:
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_sends_a_failed_mail_again(site, open_page, acme):
    from playwright.sync_api import expect

    ticket = ticket_create(tenant=acme.tenant, actor=acme.contact, subject="Chair is broken")
    OutboundEmail.objects.filter(template="ticket_created").update(
        status="failed", attempts=6, last_error="SMTPRecipientsRefused: 452 mailbox full"
    )
    page, problems = open_page()
    sign_in(page, site, "admin@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outbox").click()
    expect(page).to_have_url(f"{site}/account/channels/outbox/")
    results = page.locator("#outbox-results")
    page.get_by_label("Status").select_option("failed")
    expect(page).to_have_url(re.compile(r"status=failed"))
    row = results.get_by_role("row", name=re.compile("ticket_created"))
    expect(row).to_contain_text("contact@acme.test")
    expect(row).to_contain_text("452 mailbox full")
    expect(row.get_by_role("link", name=f"#{ticket.number}")).to_be_visible()
    row.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("status")).to_contain_text("queued again")
    expect(results.get_by_role("row", name=re.compile("ticket_created"))).to_contain_text("Queued")
    assert OutboundEmail.objects.get(template="ticket_created").status == "queued"
    assert problems.messages == []


def test_a_contact_turns_ticket_mail_off(site, open_page, acme):
    from playwright.sync_api import expect

    page, problems = open_page()
    sign_in(page, site, "contact@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    box = page.get_by_label("Email me about my tickets")
    expect(box).to_be_checked()
    box.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Notification preferences saved.")
    expect(page.get_by_label("Email me about my tickets")).not_to_be_checked()
    acme.contact.refresh_from_db()
    assert acme.contact.email_notifications is False
    assert problems.messages == []
