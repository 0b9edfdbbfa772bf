"""The layout: security headers, navigation by role, home redirects, error pages."""

import re

import pytest


def _script_src(csp: str) -> str:
    for directive in csp.split(";"):
        if directive.strip().startswith("script-src"):
            return directive
    return ""


def test_security_headers_on_a_page(acme):
    response = acme.client(acme.agent).get("/tickets/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "'self'" in _script_src(csp)
    assert "unsafe-inline" not in _script_src(csp)
    assert "unsafe-eval" not in _script_src(csp)
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(acme, ticket):
    client = acme.client(acme.admin)
    for url in (
        "/tickets/",
        f"/tickets/{ticket.number}/",
        "/account/agents/",
        "/account/events/",
        "/preferences/tokens/",
        "/account/teams/new",
    ):
        html = client.get(url).content.decode()
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts and all(" src=" in tag for tag in scripts)
        assert not re.search(r"\sstyle=", html)
        assert "<style" not in html


def test_security_headers_on_the_sign_in_page(acme):
    response = acme.client().get("/login")
    assert "unsafe-inline" not in _script_src(response["Content-Security-Policy"])
    assert response["X-Frame-Options"] == "DENY"


def test_strict_transport_security_only_over_tls(acme):
    client = acme.client()
    assert "Strict-Transport-Security" not in client.get("/login")
    assert "Strict-Transport-Security" in client.get("/login", secure=True)


NAV_LINKS = {
    "Tickets": "/tickets/",
    "My tickets": "/portal/",
    "Agent list": "/account/agents/",
    "Teams": "/account/teams/",
    "Contact list": "/account/contacts/",
    "Event log": "/account/events/",
    "API tokens": "/preferences/tokens/",
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", {"Tickets", "Agent list", "Teams", "Contact list", "Event log", "API tokens"}),
        ("manager", {"Tickets", "Agent list", "Teams", "Contact list", "API tokens"}),
        ("supervisor", {"Tickets", "Agent list", "Teams", "Contact list", "API tokens"}),
        ("agent", {"Tickets", "API tokens"}),
        ("contact", {"My tickets", "API tokens"}),
    ],
)
def test_navigation_by_role(acme, role, expected):
    page = "/portal/" if role == "contact" else "/tickets/"
    html = acme.client(getattr(acme, role)).get(page).content.decode()
    nav = html.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    shown = {label for label, href in NAV_LINKS.items() if f'href="{href}"' in nav}
    assert shown == expected
    assert 'aria-current="page"' in nav


def test_navigation_groups_are_labelled(acme):
    html = acme.client(acme.admin).get("/tickets/").content.decode()
    for heading in ("Agents &amp; teams", "Contacts", "Preferences"):
        assert heading in html


def test_home_sends_staff_to_the_workspace_and_contacts_to_the_portal(acme):
    assert acme.client(acme.agent).get("/").url == "/tickets/"
    assert acme.client(acme.contact).get("/").url == "/portal/"


def test_anonymous_visitors_are_sent_to_sign_in(acme):
    response = acme.client().get("/tickets/")
    assert response.status_code == 302
    assert response.url == "/login?next=/tickets/"


def test_unknown_page_is_a_styled_404(acme):
    response = acme.client(acme.agent).get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content
    assert b"keydesk.css" in response.content


def test_unknown_host_is_404(db, client):
    response = client.get("/login", HTTP_HOST="nobody.localhost")
    assert response.status_code == 404
    assert b"Unknown helpdesk" in response.content
