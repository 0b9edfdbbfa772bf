"""Reading tickets as a given person sees them: staff see their tenant's, contacts their own."""

from django.db.models import Q, QuerySet

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, can
from keydesk.core.errors import NotFound

from .models import Comment, Ticket


def _visible_tickets(actor: User) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(tenant_id=actor.tenant_id)
    if can(actor, Perm.TICKET_WORK):
        return tickets
    if actor.is_contact and actor.is_active:
        return tickets.filter(requester=actor)
    return tickets.none()


def ticket_list(
    *,
    actor: User,
    status: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    team_id: int | None = None,
    q: str | None = None,
) -> QuerySet[Ticket]:
    tickets = _visible_tickets(actor).select_related("requester", "assignee", "team")
    if status:
        tickets = tickets.filter(status=status)
    if unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee_id is not None:
        tickets = tickets.filter(assignee_id=assignee_id)
    if team_id is not None:
        tickets = tickets.filter(team_id=team_id)
    if q:
        q = q.strip()
        match = Q(subject__icontains=q) | Q(description__icontains=q)
        if q.lstrip("#").isdigit():
            match |= Q(number=int(q.lstrip("#")))
        tickets = tickets.filter(match)
    return tickets.order_by("-number")


def ticket_get(*, actor: User, number: int) -> Ticket:
    ticket = (
        _visible_tickets(actor)
        .select_related("requester", "assignee", "team", "tenant")
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise NotFound("ticket")
    return ticket


def comment_list(*, ticket: Ticket, actor: User) -> QuerySet[Comment]:
    comments = (
        Comment.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
    )
    if not can(actor, Perm.TICKET_WORK):
        comments = comments.filter(is_public=True)
    return comments
