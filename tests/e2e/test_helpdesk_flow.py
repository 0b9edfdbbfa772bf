"""A contact opens a ticket, an agent takes it, an admin reads the event log, in Chromium."""

import re

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

SUBJECT = "Laptop will not boot"


def sign_in(page, site: str, email: str) -> None:
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_contact_ticket_is_assigned_by_an_agent_and_logged(site, open_page):
    from playwright.sync_api import expect

    # The contact opens a ticket in the portal.
    page, problems = open_page()
    sign_in(page, site, "contact@acme.test")
    expect(page).to_have_url(f"{site}/portal/")
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_label("Description").fill("Black screen since this morning.")
    page.get_by_role("button", name="Submit ticket").click()
    expect(page).to_have_url(re.compile(r"/portal/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(SUBJECT)
    expect(page.get_by_text("Black screen since this morning.")).to_be_visible()
    assert problems.messages == []

    # The agent finds it, filters with htmx, opens it and assigns it to themself.
    page, problems = open_page()
    sign_in(page, site, "agent@acme.test")
    expect(page).to_have_url(f"{site}/tickets/")
    results = page.locator("#ticket-results")
    expect(results.get_by_role("link", name=SUBJECT)).to_be_visible()
    page.get_by_label("Status").select_option("pending")
    expect(page).to_have_url(re.compile(r"status=pending"))
    expect(results).to_contain_text("No tickets match these filters.")
    page.get_by_label("Status").select_option("")
    expect(results.get_by_role("link", name=SUBJECT)).to_be_visible()
    page.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(SUBJECT)
    page.get_by_label("Assignee").select_option(label="Agent Acme")
    page.get_by_role("button", name="Save assignment").click()
    expect(page.get_by_role("status")).to_contain_text("Assignment saved.")
    expect(page.locator("dl.props")).to_contain_text("Agent Acme")
    page.get_by_role("link", name="Tickets", exact=True).first.click()
    expect(results.get_by_role("row", name=re.compile(SUBJECT))).to_contain_text("Agent Acme")
    assert problems.messages == []

    # The admin reads both events in the event log.
    page, problems = open_page()
    sign_in(page, site, "admin@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Event log").click()
    expect(page).to_have_url(f"{site}/account/events/")
    table = page.locator("#event-results table")
    expect(table).to_contain_text("ticket.created")
    expect(table).to_contain_text("ticket.assigned")
    assigned = table.get_by_role("row", name=re.compile("ticket.assigned"))
    expect(assigned).to_contain_text("agent@acme.test")
    expect(assigned).to_contain_text(SUBJECT)
    page.get_by_label("Action").select_option("ticket.assigned")
    expect(page).to_have_url(re.compile(r"action=ticket\.assigned"))
    expect(table).not_to_contain_text("ticket.created")
    assert problems.messages == []
