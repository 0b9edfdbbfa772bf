"""Host routing: SLUG.BASE, custom domains, the default tenant, unknown and suspended tenants."""

import pytest
from django.test import Client

from keydesk.core.errors import ApplicationError
from keydesk.tenants.models import Tenant, TenantDomain
from keydesk.tenants.selectors import tenant_for_host
from keydesk.tenants.services import tenant_create, tenant_set_status


def test_slug_host_names_the_tenant(acme, globex):
    assert tenant_for_host("acme.localhost:8000") == acme.tenant
    assert tenant_for_host("GLOBEX.localhost") == globex.tenant
    assert tenant_for_host("nope.localhost") is None
    assert tenant_for_host("a.acme.localhost") is None


def test_custom_domain_serves_its_tenant(acme):
    TenantDomain.objects.create(tenant=acme.tenant, domain="help.acme.example")
    assert tenant_for_host("help.acme.example") == acme.tenant
    response = Client(HTTP_HOST="help.acme.example").get("/login")
    assert response.status_code == 200
    assert b"Acme" in response.content


def test_unknown_host_is_a_plain_404(acme):
    response = Client(HTTP_HOST="nobody.localhost").get("/login")
    assert response.status_code == 404
    assert b"No helpdesk is served at this address" in response.content


def test_bare_host_serves_the_default_tenant_only_when_configured(acme, settings):
    assert Client(HTTP_HOST="127.0.0.1:8000").get("/login").status_code == 404
    settings.DEFAULT_TENANT = "acme"
    assert tenant_for_host("127.0.0.1:8000") == acme.tenant
    assert tenant_for_host("[::1]:8000") == acme.tenant
    assert tenant_for_host("localhost") == acme.tenant
    assert tenant_for_host("evil.example") is None


def test_suspended_tenant_shows_a_clear_page(acme):
    tenant_set_status(tenant=acme.tenant, status=Tenant.Status.SUSPENDED)
    response = acme.client().get("/login")
    assert response.status_code == 503
    assert b"This helpdesk is suspended" in response.content
    tenant_set_status(tenant=acme.tenant, status=Tenant.Status.ACTIVE)
    assert acme.client().get("/login").status_code == 200


def test_a_session_only_counts_on_its_own_tenant(acme, globex):
    client = acme.client(acme.agent)
    assert client.get("/").status_code == 302
    assert client.get("/tickets/").status_code == 200
    # The same cookie sent to another tenant's host is anonymous there.
    client.defaults["HTTP_HOST"] = globex.host
    response = client.get("/tickets/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")


@pytest.mark.parametrize("slug", ["", "-x", "x-", "UPPER!", "www", "ops", "a" * 41, "a.b"])
def test_bad_slugs_are_refused(db, slug):
    with pytest.raises(ApplicationError) as exc:
        tenant_create(slug=slug, name="X", admin_email="a@example.com")
    assert exc.value.field == "slug"
    assert not Tenant.objects.exists()


def test_existing_slug_is_refused_without_partial_write(acme):
    with pytest.raises(ApplicationError) as exc:
        tenant_create(slug="acme", name="Again", admin_email="other@example.com")
    assert exc.value.code == "slug_taken"
    assert Tenant.objects.filter(slug="acme").count() == 1


def test_invalid_admin_email_leaves_no_tenant(db):
    with pytest.raises(ApplicationError):
        tenant_create(slug="initech", name="Initech", admin_email="not-an-email")
    assert not Tenant.objects.filter(slug="initech").exists()


def test_security_headers(acme):
    response = acme.client().get("/login")
    csp = response["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response
    cookie = response.cookies["csrftoken"]
    assert cookie["samesite"] == "Lax" and cookie["httponly"]
    assert not cookie["secure"]


def test_tls_gets_hsts_and_secure_cookies(acme):
    response = acme.client().get("/login", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies["csrftoken"]["secure"]
