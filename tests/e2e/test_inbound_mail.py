"""Inbound mail in Chromium: an admin adds an address, follows mail in the email log, reprocesses."""

import pytest

from tests.conftest import PASSWORD, run_worker
from tests.mail.inbound.conftest import mail

pytestmark = pytest.mark.e2e


def test_admin_follows_inbound_mail_from_address_to_ticket(site, open_page, listener):
    from playwright.sync_api import expect

    page, problems = open_page()
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill("admin@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Email addresses").click()
    expect(page.get_by_text("support@acme.localhost")).to_be_visible()
    page.get_by_label("Email address").fill("help@acme.example")
    page.get_by_role("button", name="Add address").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Mail to help@acme.example now reaches your helpdesk."
    )

    message = mail(sender="Dana <dana@customer.test>", to="help@acme.example", subject="Hello")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    listener.send(message, to=["help@acme.example"])
    listener.send(b"Subject: Nobody\r\n\r\nwho?\r\n", sender="", to=["help@acme.example"])
    run_worker()

    page.get_by_role("link", name="Email log").click()
    results = page.locator("#email-log-results")
    expect(results).to_contain_text("No valid sender address in From or in the envelope.")
    expect(results).to_contain_text("New ticket #1.")
    page.get_by_label("Status").select_option("failed")
    expect(results).not_to_contain_text("New ticket #1.")
    results.get_by_role("link").first.click()
    expect(page.locator("pre.raw-source")).to_contain_text("Subject: Nobody")
    page.get_by_role("button", name="Reprocess").click()
    expect(page.get_by_role("status")).to_contain_text("queued for processing again")

    page.goto(f"{site}/tickets/1/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(page.get_by_role("link", name="a.pdf")).to_be_visible()
    assert problems.messages == []
