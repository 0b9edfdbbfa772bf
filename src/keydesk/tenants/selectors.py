"""Reading tenants, and finding the tenant a request's host names."""

import ipaddress

from django.conf import settings

from .models import Tenant, TenantDomain


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
    host = host.lower().rstrip(".")
    if host.startswith("["):
        host = host.split("]")[0] + "]"
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    suffix = "." + settings.BASE_DOMAIN
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        if slug and "." not in slug:
            return Tenant.objects.filter(slug=slug).first()
        return None
    domain = TenantDomain.objects.select_related("tenant").filter(domain=host).first()
    if domain is not None:
        return domain.tenant
    if settings.DEFAULT_TENANT and _is_bare_host(host):
        return Tenant.objects.filter(slug=settings.DEFAULT_TENANT).first()
    return None


def tenant_get_by_slug(*, slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).first()


def tenant_list() -> list[Tenant]:
    return list(Tenant.objects.order_by("slug"))
