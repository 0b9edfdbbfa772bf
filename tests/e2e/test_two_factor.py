"""Two-factor authentication in Chromium, with pyotp as the authenticator app."""

import datetime
import re
import time
from pathlib import Path

import pyotp
import pytest

from keydesk.mfa.services import mfa_policy_update, totp_enable
from keydesk.mfa.totp import new_secret
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page, site: str, email: str) -> None:
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()


def scan(page) -> pyotp.TOTP:
    """What a phone does with the QR code: read its otpauth URI."""
    return pyotp.parse_uri(page.locator("[data-otpauth]").get_attribute("data-otpauth"))


def next_code(app: pyotp.TOTP) -> str:
    # The code that turned the app on is used up (no replay); the next step's code is fresh.
    return app.at(time.time() + 30)


def test_self_setup_via_the_qr_code_then_sign_in_with_a_code(site, open_page):
    from playwright.sync_api import expect

    page, problems = open_page()
    sign_in(page, site, "agent@acme.test")
    expect(page).to_have_url(f"{site}/tickets/")
    page.get_by_role("link", name="Two-factor authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    page.get_by_role("link", name="Set up authenticator app").click()
    expect(page.get_by_role("img", name="QR code for the authenticator app")).to_be_visible()
    app = scan(page)
    assert app.issuer == "Acme" and app.name == "agent@acme.test"
    page.get_by_label("Code", exact=True).fill(app.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    codes = page.locator("ol.recovery-codes li")
    expect(codes).to_have_count(10)

    # Print calls the browser's print dialog from keydesk.js (no inline script).
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") is True
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    text = Path(download.value.path()).read_text()
    assert codes.first.inner_text() in text and "agent@acme.test" in text
    page.get_by_role("link", name="I saved them").click()
    expect(page.get_by_text("10 of 10 left.")).to_be_visible()
    sign_out(page)

    sign_in(page, site, "agent@acme.test")
    expect(page).to_have_url(f"{site}/login/verify")
    page.get_by_label("Code").fill(next_code(app))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{site}/tickets/")
    assert problems.messages == []


def test_required_setup_at_sign_in_without_and_with_a_grace_period(site, open_page, acme):
    from playwright.sync_api import expect

    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, require_staff=True)
    page, problems = open_page()
    sign_in(page, site, "agent@acme.test")
    expect(page).to_have_url(f"{site}/login/setup-2fa")
    expect(page.get_by_role("button", name=re.compile("Skip until"))).to_have_count(0)
    app = scan(page)
    section = page.get_by_role("region", name="Authenticator app")
    section.get_by_label("Code", exact=True).fill(app.now())
    section.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    page.get_by_role("button", name="I saved them, continue").click()
    expect(page).to_have_url(f"{site}/tickets/")
    assert problems.messages == []

    grace = datetime.date.today() + datetime.timedelta(days=7)
    mfa_policy_update(tenant=acme.tenant, actor=acme.admin, grace_until=grace)
    page, problems = open_page()
    sign_in(page, site, "supervisor@acme.test")
    expect(page).to_have_url(f"{site}/login/setup-2fa")
    skip = page.get_by_role("button", name=re.compile("Skip until"))
    expect(skip).to_contain_text(f"{grace.day} {grace:%B %Y}")
    skip.click()
    expect(page).to_have_url(f"{site}/tickets/")
    assert problems.messages == []


def test_sign_in_with_a_recovery_code(site, open_page, acme):
    from playwright.sync_api import expect

    secret = new_secret()
    codes = totp_enable(
        user=acme.agent, actor=acme.agent, secret=secret, code=pyotp.TOTP(secret).now()
    )
    page, problems = open_page()
    sign_in(page, site, "agent@acme.test")
    expect(page).to_have_url(f"{site}/login/verify")
    page.get_by_role("link", name="Recovery code").click()
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{site}/tickets/")
    page.get_by_role("link", name="Two-factor authentication").click()
    expect(page.get_by_text("9 of 10 left.")).to_be_visible()
    assert problems.messages == []


def test_an_admin_removes_2fa_from_an_agent_who_lost_the_phone(site, open_page, acme):
    from playwright.sync_api import expect

    secret = new_secret()
    totp_enable(user=acme.agent, actor=acme.agent, secret=secret, code=pyotp.TOTP(secret).now())
    page, problems = open_page()
    sign_in(page, site, "admin@acme.test")
    page.get_by_role("link", name="Agent list").click()
    page.get_by_role("link", name="Edit Agent Acme").click()
    page.get_by_role("link", name="2FA", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Two-factor authentication of Agent Acme"
    )
    expect(page.get_by_text("Authenticator app, set up")).to_be_visible()
    page.get_by_role("link", name="Remove 2FA").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove 2FA from Agent Acme")
    page.get_by_role("button", name="Remove 2FA").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Two-factor authentication was removed from Agent Acme."
    )
    expect(page.get_by_text("No two-factor method is set up.")).to_be_visible()
    assert problems.messages == []

    page, problems = open_page()
    sign_in(page, site, "agent@acme.test")
    expect(page).to_have_url(f"{site}/tickets/")
    assert problems.messages == []
