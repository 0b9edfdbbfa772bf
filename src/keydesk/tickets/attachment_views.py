"""Downloading a ticket's attachments: staff from the workspace, the requester from the portal."""

from django.http import FileResponse
from django.views.decorators.http import require_GET

from keydesk.accounts.permissions import Perm
from keydesk.web.shortcuts import permission_required

from .attachments import attachment_get, served_content_type
from .views import contact_required


def _download(request, number: int, attachment_id: int) -> FileResponse:
    attachment = attachment_get(actor=request.user, number=number, attachment_id=attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=served_content_type(attachment),
    )
    # A file from a stranger: never rendered or run on the helpdesk's origin, never cached.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required(Perm.TICKET_WORK)
@require_GET
def attachment_download_view(request, number: int, attachment_id: int):
    """A file of a ticket of the tenant, for staff."""
    return _download(request, number, attachment_id)


@contact_required
@require_GET
def portal_attachment_download_view(request, number: int, attachment_id: int):
    """A file of the contact's own ticket (internal notes' files are staff's only)."""
    return _download(request, number, attachment_id)
