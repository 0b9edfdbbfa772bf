"""Reading the outbox: admins of the tenant only."""

from django.db.models import QuerySet

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, require
from keydesk.core.errors import NotFound

from ..models import OutboundEmail


def outbox_list(*, actor: User, status: str | None = None, q: str | None = None) -> QuerySet:
    """Newest first; `q` matches the recipient's address or the ticket's number."""
    require(actor, Perm.CHANNELS_MANAGE)
    emails = OutboundEmail.objects.filter(tenant_id=actor.tenant_id).select_related("ticket")
    if status:
        emails = emails.filter(status=status)
    if q:
        q = q.strip()
        if q.lstrip("#").isdigit():
            emails = emails.filter(ticket__number=int(q.lstrip("#")))
        else:
            emails = emails.filter(recipient__icontains=q)
    return emails.order_by("-created_at", "-pk")


def outbox_get(*, actor: User, email_id: int) -> OutboundEmail:
    require(actor, Perm.CHANNELS_MANAGE)
    email = (
        OutboundEmail.objects.filter(tenant_id=actor.tenant_id, pk=email_id)
        .select_related("tenant", "ticket")
        .first()
    )
    if email is None:
        raise NotFound("email")
    return email
