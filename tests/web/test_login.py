"""Signing in and out through the web pages."""

import pytest

from keydesk.accounts.signin import SIGN_IN_FAILED_MESSAGE
from tests.conftest import PASSWORD

from .conftest import events_of


def test_sign_in_page_has_labelled_fields(acme):
    html = acme.client().get("/login").content.decode()
    assert '<label for="id_email">Email</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert ">Sign in</button>" in html


def test_sign_in_succeeds_and_records_the_event(acme):
    client = acme.client()
    response = client.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/tickets/"
    assert client.get("/tickets/").status_code == 200
    assert events_of(acme, "login.succeeded").filter(actor=acme.agent).exists()


def test_sign_in_follows_a_same_host_next(acme):
    client = acme.client()
    response = client.post(
        "/login?next=/account/events/", {"email": "admin@acme.test", "password": PASSWORD}
    )
    assert response.url == "/account/events/"


def test_next_is_kept_in_the_form(acme):
    html = acme.client().get("/login?next=/tickets/5/").content.decode()
    assert 'name="next" value="/tickets/5/"' in html


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://globex.localhost/tickets/",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_follows_a_next_elsewhere(acme, next_url):
    client = acme.client()
    html = client.get("/login", {"next": next_url}).content.decode()
    assert "evil" not in html and "globex" not in html and "javascript" not in html
    response = client.post(
        "/login", {"email": "agent@acme.test", "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302
    assert response.url == "/tickets/"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("agent@acme.test", "wrong password!!"),
        ("nobody@acme.test", PASSWORD),
        ("agent@globex.test", PASSWORD),
    ],
)
def test_sign_in_failure_shows_one_generic_message(acme, globex, email, password):
    client = acme.client()
    response = client.post("/login", {"email": email, "password": password})
    assert response.status_code == 200
    assert SIGN_IN_FAILED_MESSAGE in response.content.decode()
    assert client.get("/tickets/").status_code == 302
    assert events_of(acme, "login.failed").count() == 1


def test_deactivated_person_cannot_sign_in(acme):
    acme.agent.is_active = False
    acme.agent.save()
    response = acme.client().post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert SIGN_IN_FAILED_MESSAGE in response.content.decode()


def test_sign_out(acme):
    client = acme.client(acme.agent)
    response = client.post("/logout")
    assert response.url == "/login"
    assert client.get("/tickets/").status_code == 302
    assert events_of(acme, "logout").count() == 1


def test_sign_out_needs_post(acme):
    assert acme.client(acme.agent).get("/logout").status_code == 405


def test_a_session_of_another_tenant_is_anonymous_here(acme, globex):
    client = globex.client(globex.admin)
    assert client.get("/tickets/").status_code == 200
    for path in ("/tickets/", "/account/events/", "/preferences/tokens/"):
        response = client.get(path, HTTP_HOST=acme.host)
        assert response.status_code == 302
        assert response.url.startswith("/login")
