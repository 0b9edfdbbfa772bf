"""Ticket notifications: who is told what, by email, when a ticket changes.

The ticket services call these inside their transaction, so the outbox rows commit together
with the change they announce (and vanish with it on a rollback); `email_queue` hands them to
the worker only once that transaction has committed. A crash right after the commit loses no
notification, and a change that rolled back sends none.

- the requester (a contact): an acknowledgement with the ticket's reference when the ticket
  is opened, every public reply by staff, and the ticket being solved;
- an agent: a ticket assigned to them by someone else;
- the members of the tenant's chosen team: every new ticket.

Nobody is told about their own action, internal notes are never mailed, and the requester
gets nothing when the ticket service is told `notify_requester=False` (automatic mail must
not be answered automatically).
"""

from django.urls import reverse

from keydesk.accounts.models import User
from keydesk.tenants.selectors import tenant_url

from ..models import OutboundEmail
from ..services import email_queue
from .sender import mail_settings_for

# Mail clients quote what they answer below the new text; the inbound side keeps only what
# is above this line when a contact replies.
REPLY_ABOVE = "##- Please type your reply above this line -##"
# Of a long thread, References keeps the first message and the latest ones (RFC 5322, 3.6.4
# allows leaving out the middle): enough to thread, short enough for any server.
REFERENCES_KEPT = 10
EXCERPT_MAX = 2000


def _bracketed(message_id: str) -> str:
    message_id = message_id.strip()
    if message_id and not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    return message_id


def thread_headers(ticket, recipient: str, *, new_ticket: bool = False) -> tuple[str, str]:
    """`In-Reply-To` and `References` that put a new mail about `ticket` in its thread.

    The thread starts at the email that opened the ticket, if one did, and goes on with the
    mails already sent to this recipient about the ticket (none yet for a `new_ticket`).
    """
    ids = [_bracketed(ticket.email_message_id)] if ticket.email_message_id else []
    if not new_ticket:
        ids += (
            OutboundEmail.objects.filter(
                tenant_id=ticket.tenant_id, ticket=ticket, recipient__iexact=recipient
            )
            .exclude(status=OutboundEmail.Status.SUPPRESSED)
            .order_by("created_at", "pk")
            .values_list("message_id", flat=True)
        )
    if not ids:
        return "", ""
    if len(ids) > REFERENCES_KEPT:
        ids = [ids[0], *ids[-(REFERENCES_KEPT - 1) :]]
    return ids[-1], " ".join(ids)


def _queue(
    *, ticket, template: str, to: User, context: dict, request=None, new_ticket: bool = False
) -> OutboundEmail:
    in_reply_to, references = thread_headers(ticket, to.email, new_ticket=new_ticket)
    return email_queue(
        tenant=ticket.tenant,
        template=template,
        to=to,
        context={"ticket": ticket, "reply_above": REPLY_ABOVE, **context},
        notification=True,
        ticket=ticket,
        in_reply_to=in_reply_to,
        references=references,
        request=request,
    )


def _portal_link(ticket, request) -> str:
    return tenant_url(ticket.tenant, reverse("portal:detail", args=[ticket.number]), request)


def _workspace_link(ticket, request) -> str:
    return tenant_url(ticket.tenant, reverse("tickets:detail", args=[ticket.number]), request)


def _excerpt(text: str) -> str:
    text = (text or "").strip()
    return text if len(text) <= EXCERPT_MAX else text[:EXCERPT_MAX].rstrip() + " […]"


def _author_name(author: User, tenant) -> str:
    # Customers see the agent's name, or the helpdesk's, never an agent's email address.
    return author.name or f"{tenant.name} support"


def ticket_created(*, ticket, actor: User, notify_requester: bool = True, request=None) -> None:
    """Acknowledge a new ticket to its requester; tell the chosen team."""
    if notify_requester:
        _queue(
            ticket=ticket,
            template="ticket_created",
            to=ticket.requester,
            context={"link": _portal_link(ticket, request)},
            request=request,
            new_ticket=True,
        )
    team = mail_settings_for(ticket.tenant).new_ticket_team
    if team is None:
        return
    members = team.members.filter(
        tenant_id=ticket.tenant_id, kind=User.Kind.STAFF, is_active=True
    ).exclude(pk=actor.pk)
    for member in members.order_by("pk"):
        _queue(
            ticket=ticket,
            template="ticket_new_for_team",
            to=member,
            context={
                "team": team,
                "link": _workspace_link(ticket, request),
                "description": _excerpt(ticket.description),
            },
            request=request,
            new_ticket=True,
        )


def comment_added(*, comment, actor: User, notify_requester: bool = True, request=None) -> None:
    """Mail a public reply by staff to the requester; notes and their own replies stay put."""
    ticket = comment.ticket
    if not comment.is_public or actor.is_contact or not notify_requester:
        return
    if ticket.requester_id == actor.pk:
        return
    _queue(
        ticket=ticket,
        template="ticket_reply",
        to=ticket.requester,
        context={
            "comment": comment,
            "author_name": _author_name(actor, ticket.tenant),
            "link": _portal_link(ticket, request),
        },
        request=request,
    )


def ticket_solved(*, ticket, actor: User, request=None) -> None:
    """Tell the requester their ticket is solved, and that a reply opens it again."""
    if ticket.requester_id == actor.pk:
        return
    _queue(
        ticket=ticket,
        template="ticket_solved",
        to=ticket.requester,
        context={"link": _portal_link(ticket, request)},
        request=request,
    )


def ticket_assigned(*, ticket, assignee: User, actor: User, request=None) -> None:
    """Tell an agent a ticket is now theirs, unless they took it themselves."""
    if assignee.pk == actor.pk:
        return
    _queue(
        ticket=ticket,
        template="ticket_assigned",
        to=assignee,
        context={
            "assigned_by": actor.display_name,
            "link": _workspace_link(ticket, request),
            "description": _excerpt(ticket.description),
        },
        request=request,
    )
