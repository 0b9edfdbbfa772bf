"""Temporary Access Pass in Chromium: an admin adds and copies a pass, another browser signs in with it."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def test_admin_adds_a_pass_and_the_agent_signs_in_then_sets_up_2fa(site, open_page):
    from playwright.sync_api import expect

    page, problems = open_page()
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill("admin@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site}/tickets/")

    page.get_by_role("link", name="Temporary Access Pass").click()
    expect(page).to_have_url(f"{site}/account/security/tap")
    page.get_by_label("Enable Temporary Access Pass").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Temporary Access Pass saved.")

    page.goto(f"{site}/account/security/2fa")
    page.get_by_label("Require staff to set up 2FA").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Two-factor authentication saved.")

    page.get_by_role("link", name="Agent list").click()
    page.get_by_role("link", name="Edit Agent Acme").click()
    page.get_by_role("link", name="Authentication", exact=True).click()
    expect(page.get_by_role("heading", level=2, name="Temporary Access Pass")).to_be_visible()
    expect(page.get_by_text("No Temporary Access Pass.")).to_be_visible()
    page.get_by_role("link", name="+ add pass").click()
    expect(page.get_by_label("Duration (minutes)")).to_have_value("60")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The pass cannot be viewed again after you leave this page."
    )
    secret = page.get_by_label("Temporary Access Pass").input_value()
    assert len(secret) == 8

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_text("Active", exact=True)).to_be_visible()
    assert secret not in page.content()
    assert problems.messages == []

    agent, agent_problems = open_page()
    agent.goto(f"{site}/login/tap")
    agent.get_by_label("Email").fill("agent@acme.test")
    agent.get_by_label("Temporary Access Pass").fill(secret)
    agent.get_by_role("button", name="Sign in").click()
    expect(agent).to_have_url(f"{site}/login/setup-2fa")
    expect(agent.get_by_role("heading", level=1)).to_be_visible()
    assert agent_problems.messages == []
