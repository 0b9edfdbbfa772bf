"""Who a tenant's mail comes from, where replies go, and the admins' settings for both."""

from email.utils import formataddr

from django.conf import settings
from django.db import transaction

from keydesk.accounts.models import Team, User
from keydesk.accounts.permissions import Perm, require
from keydesk.accounts.services import normalize_email
from keydesk.core.errors import ApplicationError
from keydesk.core.models import tenant_settings
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.tenants.models import TenantDomain

from ..models import MailSettings

FROM_NAME_MAX = 100


def mail_settings_for(tenant) -> MailSettings:
    return tenant_settings(MailSettings, tenant)


def support_address(tenant) -> str:
    """`support@SLUG.BASE`: mail to it reaches the tenant's helpdesk through the listener."""
    return f"support@{tenant.slug}.{settings.BASE_DOMAIN}"


def default_from_address(tenant) -> str:
    return settings.MAIL_FROM or support_address(tenant)


def sender_address(tenant, mail_settings: MailSettings | None = None) -> str:
    """`"Sender name" <address>`: the tenant's choice, else its name and the default address."""
    chosen = mail_settings or mail_settings_for(tenant)
    return formataddr(
        (chosen.from_name or tenant.name, chosen.from_address or default_from_address(tenant))
    )


def reply_to_address(tenant, mail_settings: MailSettings | None = None) -> str | None:
    """Replies go to the support address, so that they come back as comments on the ticket.

    None when mail already comes from that address.
    """
    chosen = mail_settings or mail_settings_for(tenant)
    address = support_address(tenant)
    if (chosen.from_address or default_from_address(tenant)).lower() == address:
        return None
    return address


def allowed_sender_domains(tenant) -> set[str]:
    """Domains a tenant may send from: its own host and the custom domains operators gave it.

    Any other domain would let one tenant's admin sign mail as someone else (a bank, another
    tenant) through the platform's relay.
    """
    domains = {f"{tenant.slug}.{settings.BASE_DOMAIN}"}
    domains.update(TenantDomain.objects.filter(tenant=tenant).values_list("domain", flat=True))
    return {d.lower() for d in domains}


def _clean_from_address(tenant, raw: str) -> str:
    raw = (raw or "").strip()
    if not raw:
        return ""
    address = normalize_email(raw, field="from_address")
    if address == (settings.MAIL_FROM or "").lower():
        return address
    if address.rsplit("@", 1)[1] not in allowed_sender_domains(tenant):
        domains = ", ".join(sorted(allowed_sender_domains(tenant)))
        raise ApplicationError(
            "sender_domain",
            f"Use an address at one of your helpdesk's domains: {domains}.",
            field="from_address",
        )
    return address


def _clean_from_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if len(name) > FROM_NAME_MAX:
        raise ApplicationError(
            "too_long", f"Use at most {FROM_NAME_MAX} characters.", field="from_name"
        )
    return name


def mail_settings_update(
    *,
    tenant,
    actor: User,
    from_name: str,
    from_address: str,
    new_ticket_team_id: int | None,
    request=None,
) -> MailSettings:
    """Change the sender name and address, and the team told about new tickets."""
    require(actor, Perm.CHANNELS_MANAGE)
    team = None
    if new_ticket_team_id is not None:
        team = Team.objects.filter(tenant=tenant, pk=new_ticket_team_id).first()
        if team is None:
            raise ApplicationError("invalid_team", "No such team.", field="new_ticket_team")
    wanted = {
        "from_name": _clean_from_name(from_name),
        "from_address": _clean_from_address(tenant, from_address),
        "new_ticket_team": team,
    }
    with transaction.atomic():
        current = MailSettings.objects.select_for_update().filter(
            tenant=tenant
        ).first() or MailSettings(tenant=tenant)
        changes = {
            key: [_label(getattr(current, key)), _label(value)]
            for key, value in wanted.items()
            if getattr(current, key) != value
        }
        for key, value in wanted.items():
            setattr(current, key, value)
        current.save()
        if changes:
            record(
                tenant,
                actor,
                EventAction.MAIL_SETTINGS_UPDATED,
                ("settings", "mail", "Outgoing email"),
                request,
                changes=changes,
            )
    return current


def _label(value):
    return value.name if isinstance(value, Team) else value
