"""Creating tenants: the account, its first admin and the start of its event chain."""

import re
import secrets

from django.db import IntegrityError, transaction

from keydesk.accounts.models import User
from keydesk.accounts.services import user_create
from keydesk.core.errors import ApplicationError
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from .models import Tenant

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
# Slugs that would read as infrastructure rather than a customer's helpdesk.
RESERVED_SLUGS = frozenset({"www", "api", "ops", "static", "mail", "smtp", "admin", "status"})


def generate_initial_password() -> str:
    return secrets.token_urlsafe(18)


def tenant_create(
    *, slug: str, name: str, admin_email: str, admin_password: str | None = None
) -> tuple[Tenant, User, str | None]:
    """Create a tenant and its admin; returns the generated password when none was given."""
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise ApplicationError(
            "invalid_slug",
            "Slug must be 1-40 lowercase letters, digits or hyphens, and not reserved.",
            field="slug",
        )
    name = (name or "").strip() or slug
    generated = None if admin_password else generate_initial_password()
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(slug=slug, name=name)
            record(tenant, None, EventAction.TENANT_CREATED, tenant, slug=slug, name=name)
            admin = user_create(
                tenant=tenant,
                actor=None,
                email=admin_email,
                kind=User.Kind.STAFF,
                role=User.Role.ADMIN,
                name="Administrator",
                password=admin_password or generated,
                # The account's first admin comes with it; the limits cover what it creates.
                counts_toward_limits=False,
            )
    except IntegrityError:
        raise ApplicationError(
            "slug_taken", f"A tenant with slug {slug!r} already exists.", field="slug", status=409
        ) from None
    return tenant, admin, generated


def tenant_set_status(*, tenant: Tenant, status: str, operator=None) -> Tenant:
    """Suspend or reactivate a tenant (platform operators only)."""
    if status not in Tenant.Status.values:
        raise ApplicationError(
            "invalid_status", "Status must be active or suspended.", field="status"
        )
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.status == status:
            return locked
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        record(
            locked,
            None,
            EventAction.TENANT_STATUS_CHANGED,
            locked,
            status=[before, status],
            operator=getattr(operator, "username", None),
        )
    return locked
