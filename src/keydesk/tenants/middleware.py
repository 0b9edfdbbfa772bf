"""Host routing: every request outside /ops/ and /static/ belongs to exactly one tenant."""

from django.contrib.auth.models import AnonymousUser
from django.shortcuts import render

from keydesk.accounts.request_reads import (
    cookie_session_key,
    rows_read_ahead,
    signed_in_reads,
)

from .selectors import tenant_for_host_reading

# The operator's Django admin and static files are served whatever the host names.
TENANTLESS_PREFIXES = ("/ops/", "/static/")


class TenantMiddleware:
    """Sets `request.tenant`, or answers 404 for an unknown host and 503 for a suspended tenant.

    A request with a session cookie has its session and person read in the same round trip
    (see `keydesk.accounts.request_reads`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        if request.path.startswith(TENANTLESS_PREFIXES):
            return self.get_response(request)
        session_key = cookie_session_key(request)
        tenant, rows = tenant_for_host_reading(request.get_host(), *signed_in_reads(session_key))
        if tenant is None:
            return render(request, "web/unknown_host.html", status=404)
        if not tenant.is_active:
            return render(request, "web/suspended.html", {"tenant": tenant}, status=503)
        request.tenant = tenant
        with rows_read_ahead(session_key, rows):
            return self.get_response(request)


class TenantUserMiddleware:
    """A session only counts on its own tenant's hosts; operators only count under /ops/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            expected = request.tenant.pk if request.tenant is not None else None
            if user.tenant_id != expected:
                request.user = AnonymousUser()
            else:
                user.tenant = request.tenant
        return self.get_response(request)
