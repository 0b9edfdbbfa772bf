"""Answers outside any one endpoint: unknown paths, wrong methods, crashes, schema, docs."""

import re

import pytest
from django.test import Client

from keydesk.web.middleware import CONTENT_SECURITY_POLICY

from .utils import JSON, problem_of

EXPECTED_PATHS = {
    "/api/v1/tickets": {"get", "post"},
    "/api/v1/tickets/{number}": {"get", "patch"},
    "/api/v1/tickets/{number}/comments": {"get", "post"},
    "/api/v1/users": {"get", "post"},
    "/api/v1/users/{user_id}": {"get"},
    "/api/v1/users/{user_id}/deactivate": {"post"},
    "/api/v1/events": {"get"},
    "/api/v1/tokens": {"get"},
    "/api/v1/tokens/{token_id}": {"delete"},
}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/",
        "/api/v1/nothing",
        "/api/v1/tickets/",
        "/api/v1/tickets/1/nope",
        "/api/v1/docs/assets/swagger-ui-bundle.js.map",
        "/api/v1/docs/assets/../api.py",
    ],
)
def test_unknown_paths_are_problem_404(acme, url):
    client = acme.api(acme.agent)
    problem_of(client.get(url), 404)
    problem_of(client.post(url, data={}, content_type=JSON), 404)


def test_unknown_path_without_token_is_404_too(acme):
    problem_of(Client(HTTP_HOST=acme.host).post("/api/v1/nothing"), 404)


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("put", "/api/v1/tickets", {"GET", "POST"}),
        ("delete", "/api/v1/tickets/1", {"GET", "PATCH"}),
        ("get", "/api/v1/users/1/deactivate", {"POST"}),
        ("post", "/api/v1/events", {"GET"}),
        ("post", "/api/v1/openapi.json", {"GET", "HEAD"}),
        ("delete", "/api/v1/docs", {"GET", "HEAD"}),
    ],
)
def test_wrong_method_is_problem_405(acme, method, url, allowed):
    response = getattr(acme.api(acme.admin), method)(url)
    problem_of(response, 405)
    assert {m.strip() for m in response["Allow"].split(",")} == allowed


def test_crash_is_problem_500_without_details(acme, monkeypatch, caplog):
    import keydesk.tickets.selectors as selectors

    def broken(**kwargs):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(selectors, "ticket_list", broken)
    response = acme.api(acme.agent).get("/api/v1/tickets")
    body = problem_of(response, 500)
    assert "secret internals" not in response.content.decode()
    assert "ZeroDivisionError" not in response.content.decode()
    assert body["code"] == "server_error"
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


def test_openapi_schema_lists_every_path(acme):
    response = Client(HTTP_HOST=acme.host).get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = {p: set(ops) for p, ops in schema["paths"].items()}
    assert paths == EXPECTED_PATHS
    assert schema["components"]["securitySchemes"]["ApiTokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert "Problem" in schema["components"]["schemas"]
    create = schema["paths"]["/api/v1/tickets"]["post"]
    assert "201" in create["responses"]
    assert "application/problem+json" in create["responses"]["default"]["content"]
    ticket_in = schema["components"]["schemas"]["TicketIn"]
    assert ticket_in["properties"]["subject"]["maxLength"] == 255
    assert ticket_in["properties"]["description"]["maxLength"] == 1_000_000


def test_docs_page_works_under_the_sites_csp(acme):
    client = Client(HTTP_HOST=acme.host)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.content.decode()
    # Only same-origin files and one JSON data block; nothing the CSP would refuse.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attrs, content in scripts:
        assert ('src="/' in attrs and not content.strip()) or 'type="application/json"' in attrs
    assert "http://" not in html and "https://" not in html
    assert "/api/v1/openapi.json" in html
    for asset in re.findall(r'(?:src|href)="(/api/v1/docs/assets/[^"]+)"', html):
        asset_response = client.get(asset)
        assert asset_response.status_code == 200, asset
        assert b"".join(asset_response.streaming_content)
