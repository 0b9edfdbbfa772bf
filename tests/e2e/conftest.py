"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server."""

import os
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def _orm_beside_playwright():
    # Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses
    # ORM calls next to a running loop. Here one thread drives the browser and the database
    # in turn, never at once, so the check is lifted, for the browser tests only.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_orm_beside_playwright):
    """A headless Chromium; missing Chromium fails in CI (never a silent skip) and skips elsewhere."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def site(transactional_db, live_server, acme):
    """The base URL of acme's helpdesk on the live server; *.localhost resolves to loopback."""
    return f"http://{acme.host}:{urlsplit(live_server.url).port}"


class PageProblems:
    """Console errors and page errors (a CSP violation shows up here) seen by a page."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.messages.append(m.text))
        page.on("pageerror", lambda e: self.messages.append(str(e)))


@pytest.fixture
def open_page(browser):
    """Open a page in a fresh browser context (its own cookies); returns (page, problems)."""
    contexts = []

    def _open():
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page, PageProblems(page)

    yield _open
    for context in contexts:
        context.close()
