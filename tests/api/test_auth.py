"""Bearer tokens: the only way in; every failure is the same 401."""

import pytest
from django.test import Client
from django.utils import timezone

from keydesk.accounts.api_tokens import token_create, token_revoke
from keydesk.accounts.models import ApiToken
from keydesk.accounts.services import user_deactivate

from .utils import JSON, problem_of

# Every endpoint, with a body where it takes one.
ENDPOINTS = [
    ("get", "/api/v1/tickets", None),
    ("post", "/api/v1/tickets", {"subject": "Hi", "requester_email": "x@acme.test"}),
    ("get", "/api/v1/tickets/1", None),
    ("patch", "/api/v1/tickets/1", {"status": "open"}),
    ("get", "/api/v1/tickets/1/comments", None),
    ("post", "/api/v1/tickets/1/comments", {"body": "Hello"}),
    ("get", "/api/v1/users", None),
    ("post", "/api/v1/users", {"email": "new@acme.test", "kind": "contact"}),
    ("get", "/api/v1/users/1", None),
    ("post", "/api/v1/users/1/deactivate", None),
    ("get", "/api/v1/events", None),
    ("get", "/api/v1/tokens", None),
    ("delete", "/api/v1/tokens/1", None),
]


def call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data=body, content_type=JSON)


def assert_unauthorized(response):
    body = problem_of(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"
    return body


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
def test_no_token_is_401(acme, method, url, body):
    assert_unauthorized(call(Client(HTTP_HOST=acme.host), method, url, body))


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
def test_token_of_another_tenant_is_401_on_every_endpoint(acme, globex, method, url, body):
    _, raw = token_create(user=globex.admin, actor=None, name="globex")
    client = Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_unauthorized(call(client, method, url, body))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer kd_nothing_here",
        "Bearer ",
        "Bearer",
        "Token abc",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 5000,
    ],
)
def test_bad_credentials_are_401(acme, header):
    client = Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=header)
    assert_unauthorized(client.get("/api/v1/tickets"))


def test_every_refusal_reads_the_same(acme):
    token, raw = token_create(user=acme.agent, actor=None, name="t")
    prefix_only = raw.rsplit("_", 1)[0] + "_wrongsecret"
    answers = [
        Client(HTTP_HOST=acme.host).get("/api/v1/tickets").json(),
        Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Bearer {prefix_only}")
        .get("/api/v1/tickets")
        .json(),
    ]
    token_revoke(token=token, actor=None)
    answers.append(
        Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Bearer {raw}")
        .get("/api/v1/tickets")
        .json()
    )
    assert all(answer == answers[0] for answer in answers)


def test_revoked_token_is_401(acme):
    token, raw = token_create(user=acme.agent, actor=None, name="t")
    client = Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/tickets").status_code == 200
    token_revoke(token=token, actor=None)
    assert_unauthorized(client.get("/api/v1/tickets"))


def test_token_of_inactive_user_is_401(acme):
    client = acme.api(acme.agent)
    assert client.get("/api/v1/tickets").status_code == 200
    user_deactivate(user=acme.agent, actor=None)
    assert_unauthorized(client.get("/api/v1/tickets"))


def test_session_cookie_is_not_api_auth(acme):
    """A signed-in browser without a token gets nothing: the API has no session auth."""
    client = acme.client(acme.admin)
    assert_unauthorized(client.get("/api/v1/tickets"))
    assert_unauthorized(client.post("/api/v1/tickets", data={"subject": "x"}, content_type=JSON))


def test_last_used_at_is_set(acme):
    token, raw = token_create(user=acme.agent, actor=None, name="t")
    assert token.last_used_at is None
    before = timezone.now()
    client = Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/tickets").status_code == 200
    last_used = ApiToken.objects.get(pk=token.pk).last_used_at
    assert last_used is not None and last_used >= before


def test_events_name_the_tokens_user_as_actor(acme):
    client = acme.api(acme.agent)
    response = client.post(
        "/api/v1/tickets",
        data={"subject": "Hi", "requester_email": "c@acme.test"},
        content_type=JSON,
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 201
    events = acme.api(acme.admin).get("/api/v1/events?action=ticket.created").json()
    assert events["items"][0]["actor"] == acme.agent.email
    assert events["items"][0]["ip"] == "203.0.113.7"
