"""Reading tenants, and finding the tenant a request's host names."""

import ipaddress

from django.conf import settings

from keydesk.core.queries import Param, PreparedLookup, read_together

from .models import Tenant, TenantDomain

# Every request finds its tenant by slug or by custom domain.
_tenant_by_slug = PreparedLookup(Tenant.objects.filter(slug=Param("slug")))
_tenant_by_domain = PreparedLookup(
    Tenant.objects.filter(domains__domain=Param("domain", TenantDomain._meta.get_field("domain")))
)


def _is_bare_host(host: str) -> bool:
    if host in (settings.BASE_DOMAIN, "localhost"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def tenant_for_host(host: str) -> Tenant | None:
    """The tenant a host names: SLUG.BASE, a custom domain, or the default tenant on a bare host."""
    return tenant_for_host_reading(host)[0]


def tenant_for_host_reading(host: str, *reads) -> tuple[Tenant | None, list[list]]:
    """`tenant_for_host`, with other lookups (`PreparedLookup.read()`) in the same round
    trip (`read_together`); their results come second, in order, where the host names one."""
    host = host.lower().rstrip(".")
    if host.startswith("["):
        host = host.split("]")[0] + "]"
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    suffix = "." + settings.BASE_DOMAIN
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        if not slug or "." in slug:
            return None, []
        tenants, *results = read_together(_tenant_by_slug.read(slug=slug), *reads)
        return next(iter(tenants), None), results
    tenants, *results = read_together(_tenant_by_domain.read(domain=host), *reads)
    if tenants:
        return tenants[0], results
    if settings.DEFAULT_TENANT and _is_bare_host(host):
        return tenant_get_by_slug(slug=settings.DEFAULT_TENANT), results
    return None, results


def tenant_get_by_slug(*, slug: str) -> Tenant | None:
    return _tenant_by_slug.first(slug=slug)


def tenant_list() -> list[Tenant]:
    return list(Tenant.objects.order_by("slug"))


def tenant_url(tenant, path: str, request=None) -> str:
    """An absolute link into the tenant's helpdesk, for mail.

    Inside a request of that tenant the host it came in on is used (the middleware has
    checked it names this tenant); elsewhere SLUG.BASE with the configured public scheme.
    """
    if request is not None and getattr(request, "tenant", None) == tenant:
        return request.build_absolute_uri(path)
    return f"{settings.PUBLIC_SCHEME}://{tenant.slug}.{settings.BASE_DOMAIN}{settings.PUBLIC_PORT_SUFFIX}{path}"
