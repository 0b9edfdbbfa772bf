"""Sign-in in Chromium: failures and lockout, reset through the emailed link, session revoke."""

import re

import pytest

from tests.conftest import PASSWORD, run_worker

pytestmark = pytest.mark.e2e

FAILED = "The email or password is not correct, or this account cannot sign in."
NEW_PASSWORD = "a brand new passphrase"


def submit_sign_in(page, site: str, email: str, password: str) -> None:
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_wrong_password_then_lockout_show_one_message(site, open_page):
    from playwright.sync_api import expect

    page, problems = open_page()
    for _ in range(5):
        submit_sign_in(page, site, "agent@acme.test", "not the password")
        expect(page.get_by_role("alert")).to_have_text(FAILED)
    # Locked now: the right password gets the very same answer, and "forgot" stays open.
    submit_sign_in(page, site, "agent@acme.test", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(FAILED)
    expect(page).to_have_url(f"{site}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert problems.messages == []


def test_reset_through_the_emailed_link(site, open_page, smtp_server):
    from playwright.sync_api import expect

    page, problems = open_page()
    page.goto(f"{site}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("agent@acme.test")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    run_worker()
    [mail] = smtp_server.to("agent@acme.test")
    link = re.search(r"https?://\S+", mail.get_body(("plain",)).get_content()).group(0)
    page.goto(site + "/" + link.split("/", 3)[3])
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    submit_sign_in(page, site, "agent@acme.test", NEW_PASSWORD)
    expect(page).to_have_url(f"{site}/tickets/")
    assert problems.messages == []


def test_a_session_revoked_from_another_browser_ends(site, open_page):
    from playwright.sync_api import expect

    laptop, problems = open_page()
    phone, _ = open_page()
    for page in (laptop, phone):
        submit_sign_in(page, site, "agent@acme.test", PASSWORD)
        expect(page).to_have_url(f"{site}/tickets/")

    laptop.get_by_role("link", name="Active sessions").click()
    rows = laptop.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(laptop.get_by_text("This session", exact=True)).to_be_visible()
    laptop.get_by_role("button", name="End this session").click()
    expect(laptop.get_by_role("status")).to_contain_text("That session is signed out.")
    expect(rows).to_have_count(1)

    phone.reload()
    expect(phone).to_have_url(re.compile(r"/login\?next="))
    assert problems.messages == []
