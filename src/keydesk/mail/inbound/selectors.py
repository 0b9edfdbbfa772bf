"""Reading inbound mail: the admins of the tenant only."""

from django.db.models import Q, QuerySet

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, require
from keydesk.core.crypto import decrypt_bytes
from keydesk.core.errors import NotFound

from .models import InboundAddress, InboundEmail

RAW_SHOWN_MAX = 512 * 1024


def inbound_email_list(
    *, actor: User, status: str | None = None, q: str | None = None
) -> QuerySet[InboundEmail]:
    """Newest first, without the raw messages; `q` matches the sender, subject or ticket."""
    require(actor, Perm.CHANNELS_MANAGE)
    emails = (
        InboundEmail.objects.filter(tenant_id=actor.tenant_id)
        .defer("raw_encrypted")
        .select_related("ticket")
    )
    if status:
        emails = emails.filter(status=status)
    if q:
        q = q.strip()
        if q.lstrip("#").isdigit():
            emails = emails.filter(ticket__number=int(q.lstrip("#")))
        else:
            emails = emails.filter(
                Q(sender__icontains=q) | Q(envelope_from__icontains=q) | Q(subject__icontains=q)
            )
    return emails.order_by("-received_at", "-pk")


def inbound_email_get(*, actor: User, email_id: int) -> InboundEmail:
    require(actor, Perm.CHANNELS_MANAGE)
    email = (
        InboundEmail.objects.filter(tenant_id=actor.tenant_id, pk=email_id)
        .select_related("tenant", "ticket")
        .first()
    )
    if email is None:
        raise NotFound("message")
    return email


def inbound_email_raw(email: InboundEmail) -> bytes:
    """The message exactly as it was received."""
    return decrypt_bytes(email.raw_encrypted)


def raw_as_text(raw: bytes) -> tuple[str, bool]:
    """The start of a raw message as text to show (never rendered as HTML), and whether it was cut."""
    shown = raw[:RAW_SHOWN_MAX].decode("utf-8", "replace").replace("\x00", "\ufffd")
    return shown, len(raw) > RAW_SHOWN_MAX


def inbound_address_list(*, actor: User) -> list[InboundAddress]:
    require(actor, Perm.CHANNELS_MANAGE)
    return list(InboundAddress.objects.filter(tenant_id=actor.tenant_id).order_by("address"))
