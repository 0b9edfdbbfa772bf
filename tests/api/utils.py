"""Helpers for API tests: problem+json checks and quick ticket set-up."""

import json

from keydesk.tickets.services import ticket_create

JSON = "application/json"


def problem_of(response, status: int) -> dict:
    """Assert `response` is an RFC 9457 problem with `status`; return its body."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith(("https://keydesk.dev/problems/", "about:blank"))
    assert body["title"] and body["detail"]
    return body


def fields_of(body: dict) -> list[str | None]:
    return [error["field"] for error in body.get("errors", [])]


def post_json(client, url: str, data, **extra):
    return client.post(url, data=json.dumps(data), content_type=JSON, **extra)


def patch_json(client, url: str, data, **extra):
    return client.patch(url, data=json.dumps(data), content_type=JSON, **extra)


def make_ticket(world, requester=None, subject="Printer on fire", **kwargs):
    """A ticket in `world`, opened through the service by a contact."""
    return ticket_create(
        tenant=world.tenant, actor=requester or world.contact, subject=subject, **kwargs
    )
