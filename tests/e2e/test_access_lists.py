"""Access lists in Chromium: an admin adds a rule, then the tester shows the decision and the rule."""

import pytest

from keydesk.access.models import AccessRule
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def test_admin_adds_a_rule_and_the_tester_names_it(site, open_page, acme):
    from playwright.sync_api import expect

    page, problems = open_page()
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill("admin@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site}/tickets/")

    page.get_by_role("link", name="Access lists").click()
    expect(page).to_have_url(f"{site}/account/security/access-lists/")
    expect(page.get_by_text("No rules yet: everyone is allowed.")).to_be_visible()
    page.get_by_text("How a decision is made").click()
    expect(page.get_by_text("If a deny rule matches the request, it is refused.")).to_be_visible()

    page.get_by_role("link", name="Add rule").click()
    page.get_by_label("List").select_option("deny")
    page.get_by_label("Kind").select_option("domain")
    page.get_by_label("Value").fill("Spam.Example")
    page.get_by_label("Include subdomains").check()
    page.get_by_label("Sign-in").check()
    page.get_by_label("Note").fill("Known abusers")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status")).to_contain_text("Rule added: deny domain spam.example.")
    row = page.get_by_role("row", name="spam.example")
    expect(row).to_contain_text("and subdomains")
    expect(row).to_contain_text("Known abusers")
    rule = AccessRule.objects.get(tenant=acme.tenant)

    page.get_by_role("link", name="Test the rules").click()
    expect(page.get_by_label("IP address")).to_have_value("127.0.0.1")
    page.get_by_label("Email").fill("ana@eu.spam.example")
    page.get_by_label("Action").select_option("login")
    page.evaluate("window.keptByTheSwap = true")
    page.get_by_role("button", name="Test").click()
    decision = page.locator(".decision")
    expect(decision.get_by_role("heading", name="Refused")).to_be_visible()
    expect(decision).to_contain_text("nobody has this email yet: judged as a contact")
    deciding = decision.get_by_role(
        "link", name=f"deny domain spam.example and subdomains (rule {rule.pk})"
    )
    expect(deciding).to_be_visible()
    # htmx swapped the answer in (the page was not reloaded) and put the request in the URL.
    assert page.evaluate("window.keptByTheSwap") is True
    expect(page).to_have_url(
        f"{site}/account/security/access-lists/test"
        "?ip=127.0.0.1&email=ana%40eu.spam.example&language=&action=login&audience=auto"
    )

    page.get_by_label("Email").fill("ana@example.org")
    page.get_by_role("button", name="Test").click()
    expect(decision.get_by_role("heading", name="Allowed")).to_be_visible()
    expect(decision).to_contain_text("No rule applies")

    page.get_by_label("Email").fill("ana@spam.example")
    page.get_by_role("button", name="Test").click()
    deciding.click()
    expect(page).to_have_url(f"{site}/account/security/access-lists/{rule.pk}/")
    expect(page.get_by_label("Value")).to_have_value("spam.example")
    assert problems.messages == []
