"""Which tenant a recipient address belongs to, and the admins' inbound addresses and settings.

Every tenant receives at `support@SLUG.BASE` and at `support@` each of its custom domains
(operators add those, so they are the tenant's already). Admins may add more addresses: at
the tenant's own domains, or at a domain of their own whose mail they forward here. An
address belongs to one tenant only, and nobody may claim an address at the platform's base
domain or at another tenant's custom domain.
"""

from django.conf import settings
from django.db import IntegrityError, transaction

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, require
from keydesk.accounts.services import normalize_email
from keydesk.core.errors import ApplicationError, NotFound
from keydesk.core.models import tenant_settings
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.tenants.models import Tenant, TenantDomain
from keydesk.tenants.selectors import tenant_get_by_slug

from .models import InboundAddress, InboundSettings

SUPPORT_LOCAL_PART = "support"
MAX_ADDRESSES = 50
SENDER_HOURLY_LIMIT_MAX = 10_000


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().lower().rpartition("@")
    return local, domain.rstrip(".")


def tenant_for_recipient(address: str) -> Tenant | None:
    """The active tenant that receives mail at `address`, or None (the listener answers 550)."""
    local, domain = _split(address)
    if not local or not domain:
        return None
    tenant = None
    if local == SUPPORT_LOCAL_PART:
        suffix = "." + settings.BASE_DOMAIN
        if domain.endswith(suffix):
            slug = domain[: -len(suffix)]
            if slug and "." not in slug:
                tenant = tenant_get_by_slug(slug=slug)
        else:
            found = TenantDomain.objects.select_related("tenant").filter(domain=domain).first()
            tenant = found.tenant if found else None
    if tenant is None:
        configured = (
            InboundAddress.objects.select_related("tenant").filter(address=f"{local}@{domain}")
        ).first()
        tenant = configured.tenant if configured else None
    if tenant is None or not tenant.is_active:
        return None
    return tenant


def builtin_addresses(tenant) -> list[str]:
    """The addresses a tenant receives at without adding them."""
    domains = [f"{tenant.slug}.{settings.BASE_DOMAIN}"]
    domains += (
        TenantDomain.objects.filter(tenant=tenant)
        .order_by("domain")
        .values_list("domain", flat=True)
    )
    return [f"{SUPPORT_LOCAL_PART}@{domain.lower()}" for domain in domains]


def _check_claimable(tenant, address: str) -> None:
    _, domain = _split(address)
    own_host = f"{tenant.slug}.{settings.BASE_DOMAIN}"
    base = settings.BASE_DOMAIN
    if (domain == base or domain.endswith("." + base)) and domain != own_host:
        raise ApplicationError(
            "address_domain",
            f"Addresses at {base} belong to other helpdesks; use one at {own_host}.",
            field="address",
        )
    owner = TenantDomain.objects.filter(domain=domain).values_list("tenant_id", flat=True).first()
    if owner is not None and owner != tenant.pk:
        raise ApplicationError(
            "address_domain", "This domain belongs to another helpdesk.", field="address"
        )
    if address in builtin_addresses(tenant):
        raise ApplicationError(
            "address_builtin",
            "Your helpdesk receives mail at this address already.",
            field="address",
        )


def inbound_address_add(*, tenant, actor: User, address: str, request=None) -> InboundAddress:
    """Receive mail at one more address."""
    require(actor, Perm.CHANNELS_MANAGE)
    address = normalize_email(address, field="address")
    _check_claimable(tenant, address)
    if InboundAddress.objects.filter(tenant=tenant).count() >= MAX_ADDRESSES:
        raise ApplicationError(
            "too_many",
            f"A helpdesk receives at most at {MAX_ADDRESSES} addresses.",
            field="address",
        )
    try:
        with transaction.atomic():
            added = InboundAddress.objects.create(tenant=tenant, address=address)
            record(tenant, actor, EventAction.MAIL_ADDRESS_ADDED, added, request, address=address)
    except IntegrityError:
        raise ApplicationError(
            "address_taken", "A helpdesk receives mail at this address already.", field="address"
        ) from None
    return added


def inbound_address_remove(*, tenant, actor: User, address_id: int, request=None) -> None:
    """Stop receiving mail at an added address; the listener refuses it from then on."""
    require(actor, Perm.CHANNELS_MANAGE)
    with transaction.atomic():
        address = (
            InboundAddress.objects.select_for_update().filter(tenant=tenant, pk=address_id).first()
        )
        if address is None:
            raise NotFound("address")
        record(
            tenant,
            actor,
            EventAction.MAIL_ADDRESS_REMOVED,
            address,
            request,
            address=address.address,
        )
        address.delete()


def inbound_settings_for(tenant) -> InboundSettings:
    return tenant_settings(InboundSettings, tenant)


def inbound_settings_update(
    *, tenant, actor: User, sender_hourly_limit: int, request=None
) -> InboundSettings:
    """Change how many messages one sender may send in an hour before the rest is held."""
    require(actor, Perm.CHANNELS_MANAGE)
    if not 1 <= sender_hourly_limit <= SENDER_HOURLY_LIMIT_MAX:
        raise ApplicationError(
            "out_of_range",
            f"Use a number from 1 to {SENDER_HOURLY_LIMIT_MAX:,}.",
            field="sender_hourly_limit",
        )
    with transaction.atomic():
        current = InboundSettings.objects.select_for_update().filter(
            tenant=tenant
        ).first() or InboundSettings(tenant=tenant)
        before = current.sender_hourly_limit
        current.sender_hourly_limit = sender_hourly_limit
        current.save()
        if before != sender_hourly_limit:
            record(
                tenant,
                actor,
                EventAction.MAIL_INBOUND_SETTINGS_UPDATED,
                ("settings", "inbound_mail", "Inbound email"),
                request,
                changes={"sender_hourly_limit": [before, sender_hourly_limit]},
            )
    return current
