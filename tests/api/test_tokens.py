"""The caller's own API tokens: list without secrets, revoke."""

from django.test import Client

from keydesk.accounts.api_tokens import token_create
from keydesk.accounts.models import ApiToken

from .utils import problem_of


def test_list_own_tokens_without_secrets(acme):
    token, raw = token_create(user=acme.agent, actor=None, name="CI")
    token_create(user=acme.manager, actor=None, name="Not mine")
    client = Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/tokens")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(t["id"], t["name"]) for t in items] == [(token.pk, "CI")]
    assert set(items[0]) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}
    assert raw.rsplit("_", 1)[1] not in response.content.decode()
    assert token.secret_hash not in response.content.decode()


def test_revoke_own_token(acme):
    token, raw = token_create(user=acme.contact, actor=None, name="Script")
    other, _ = token_create(user=acme.contact, actor=None, name="Other")
    client = Client(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.delete(f"/api/v1/tokens/{other.pk}")
    assert response.status_code == 204 and response.content == b""
    assert ApiToken.objects.get(pk=other.pk).revoked_at is not None
    listed = {t["id"]: t for t in client.get("/api/v1/tokens").json()["items"]}
    assert listed[other.pk]["revoked_at"] is not None
    assert client.delete(f"/api/v1/tokens/{token.pk}").status_code == 204
    problem_of(client.get("/api/v1/tokens"), 401)


def test_cannot_revoke_someone_elses_token(acme, globex):
    theirs, _ = token_create(user=acme.manager, actor=None, name="Manager's")
    foreign, _ = token_create(user=globex.agent, actor=None, name="Globex")
    client = acme.api(acme.agent)
    for token_id in (theirs.pk, foreign.pk, 999_999):
        problem_of(client.delete(f"/api/v1/tokens/{token_id}"), 404)
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    assert ApiToken.objects.get(pk=foreign.pk).revoked_at is None
