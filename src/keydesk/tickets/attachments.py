"""Files that come with a ticket or a comment: written once, served only to who may see them.

Files are written to storage before the transaction that creates their rows, so that the
transaction stays short; a caller whose transaction does not commit discards them again.
Downloads always come as attachments, never rendered by the browser on the helpdesk's origin.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, can
from keydesk.core.errors import NotFound

from .models import Attachment, Comment, Ticket
from .selectors import ticket_get

# Served with their own type; anything else is sent as opaque bytes.
PLAIN_TYPES = frozenset(
    {
        "application/pdf",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/plain",
    }
)


@dataclass(frozen=True)
class NewFile:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


def attachment_files_write(*, tenant, files: Iterable[NewFile]) -> list[Attachment]:
    """Write each file to storage; returns unsaved rows for `attachments_attach`."""
    written: list[Attachment] = []
    try:
        for new in files:
            attachment = Attachment(
                tenant=tenant,
                filename=new.filename[:255],
                content_type=new.content_type[:127],
                size=len(new.data),
                sha256=hashlib.sha256(new.data).hexdigest(),
                inline=new.inline,
            )
            attachment.file.save(new.filename, ContentFile(new.data), save=False)
            written.append(attachment)
    except BaseException:
        attachments_discard(written)
        raise
    return written


def attachments_discard(attachments: Iterable[Attachment]) -> None:
    """Delete the files of rows that were never saved."""
    for attachment in attachments:
        if attachment.file:
            attachment.file.delete(save=False)


def attachments_attach(
    *, ticket: Ticket, comment: Comment | None, attachments: list[Attachment]
) -> list[Attachment]:
    """Save written files as the ticket's (or one of its comments'), in the caller's transaction."""
    for attachment in attachments:
        attachment.tenant_id = ticket.tenant_id
        attachment.ticket = ticket
        attachment.comment = comment
    return Attachment.objects.bulk_create(attachments)


def attachment_get(*, actor: User, number: int, attachment_id: int) -> Attachment:
    """An attachment of a ticket `actor` may see; files of internal notes only for staff."""
    ticket = ticket_get(actor=actor, number=number)
    attachment = (
        Attachment.objects.select_related("comment")
        .filter(tenant_id=ticket.tenant_id, ticket=ticket, pk=attachment_id)
        .first()
    )
    if attachment is None:
        raise NotFound("attachment")
    if (
        attachment.comment is not None
        and not attachment.comment.is_public
        and not can(actor, Perm.TICKET_WORK)
    ):
        raise NotFound("attachment")
    return attachment


def served_content_type(attachment: Attachment) -> str:
    return (
        attachment.content_type
        if attachment.content_type in PLAIN_TYPES
        else ("application/octet-stream")
    )


def description_attachments(*, ticket: Ticket) -> list[Attachment]:
    """The files that came with the ticket itself (those of comments come with the comments)."""
    return list(Attachment.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket, comment=None))
