"""Preferences › API tokens: own tokens only, shown once, revocable."""

import re

import pytest

from keydesk.accounts.api_tokens import token_create
from keydesk.accounts.models import ApiToken

from .conftest import events_of

TOKEN_RE = re.compile(r"kd_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


@pytest.mark.parametrize("role", ["admin", "manager", "supervisor", "agent", "contact"])
def test_everyone_has_a_tokens_page(acme, role):
    response = acme.client(getattr(acme, role)).get("/preferences/tokens/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_name">Token name' in html and ">Create token</button>" in html


def test_tokens_page_needs_sign_in(acme):
    assert acme.client().get("/preferences/tokens/").url == "/login?next=/preferences/tokens/"


def test_token_is_shown_once(acme):
    client = acme.client(acme.agent)
    response = client.post("/preferences/tokens/new", {"name": "CI script"})
    assert response.status_code == 200
    html = response.content.decode()
    raw = TOKEN_RE.search(html).group(0)
    assert "cannot be viewed again" in html
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=acme.agent)
    assert token.name == "CI script" and raw.startswith(f"kd_{token.prefix}_")
    assert raw not in token.secret_hash
    listing = client.get("/preferences/tokens/").content.decode()
    assert "CI script" in listing and token.prefix in listing
    assert raw not in listing and not TOKEN_RE.search(listing)
    event = events_of(acme, "token.created").get()
    secret = raw.split("_", 2)[2]  # after "kd_" and the prefix; it may hold "_" itself
    assert raw not in str(event.details) and secret not in str(event.details)


def test_token_name_is_required(acme):
    response = acme.client(acme.agent).post("/preferences/tokens/new", {"name": ""})
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_list_shows_only_own_tokens(acme):
    token_create(user=acme.manager, actor=None, name="manager's token")
    token_create(user=acme.agent, actor=None, name="agent's token")
    html = acme.client(acme.agent).get("/preferences/tokens/").content.decode()
    assert "agent&#x27;s token" in html and "manager&#x27;s token" not in html


def test_revoke(acme):
    token, _ = token_create(user=acme.agent, actor=None, name="old")
    client = acme.client(acme.agent)
    response = client.post(f"/preferences/tokens/{token.pk}/revoke")
    assert response.url == "/preferences/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert events_of(acme, "token.revoked").get().actor == acme.agent
    html = client.get("/preferences/tokens/").content.decode()
    assert "Revoked" in html


def test_revoke_needs_post(acme):
    token, _ = token_create(user=acme.agent, actor=None, name="old")
    assert acme.client(acme.agent).get(f"/preferences/tokens/{token.pk}/revoke").status_code == 405


def test_someone_elses_token_is_404(acme, globex):
    theirs, _ = token_create(user=acme.manager, actor=None, name="theirs")
    foreign, _ = token_create(user=globex.agent, actor=None, name="foreign")
    assert (
        acme.client(acme.agent).post(f"/preferences/tokens/{theirs.pk}/revoke").status_code == 404
    )
    assert (
        acme.client(acme.agent).post(f"/preferences/tokens/{foreign.pk}/revoke").status_code == 404
    )
    assert (
        globex.client(globex.admin).post(f"/preferences/tokens/{theirs.pk}/revoke").status_code
        == 404
    )
    theirs.refresh_from_db()
    foreign.refresh_from_db()
    assert theirs.revoked_at is None and foreign.revoked_at is None
