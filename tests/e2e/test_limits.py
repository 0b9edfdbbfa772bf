"""A new helpdesk in Chromium: the creation-limit alert top right, and the page it links to."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def test_admin_of_a_new_helpdesk_sees_the_alert_and_what_is_left(site, open_page, acme, settings):
    from playwright.sync_api import expect

    from keydesk.tickets.services import ticket_create

    settings.NEW_ACCOUNT_DAYS = 30
    settings.NEW_ACCOUNT_USERS_PER_DAY = 10
    settings.NEW_ACCOUNT_TICKETS_PER_DAY = 50
    ticket_create(tenant=acme.tenant, actor=acme.contact, subject="The first one")

    page, problems = open_page()
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill("admin@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site}/tickets/")

    alert = page.get_by_role("link", name="User and ticket creation is limited")
    expect(alert).to_be_visible()
    box = alert.bounding_box()
    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    topbar = page.locator("header.topbar").bounding_box()
    assert box["x"] > 1280 / 2, "the alert sits on the right"
    assert box["y"] + box["height"] <= topbar["y"] + topbar["height"], "in the top bar"
    assert box["x"] + box["width"] <= sign_out["x"], "beside the sign-out button"

    page.get_by_role("link", name="Agent list").click()
    expect(alert).to_be_visible()
    alert.click()
    expect(page).to_have_url(f"{site}/account/limits")
    expect(page.get_by_role("heading", level=1)).to_have_text("Creation limits")
    users = page.get_by_role("row", name="Users")
    tickets = page.get_by_role("row", name="Tickets")
    expect(users.get_by_role("cell")).to_have_text(["0", "10", "10"])
    expect(tickets.get_by_role("cell")).to_have_text(["1", "50", "49"])
    expect(page.get_by_text("Today's counts start again at")).to_contain_text("UTC")
    assert problems.messages == []
