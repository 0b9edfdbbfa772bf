"""Tickets and comments over the API; the services and selectors decide who may do what."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Path, Query, Router, Schema

from keydesk.api.pagination import BIGINT_MAX, PageQuery, paginate
from keydesk.api.schemas import InputSchema, ObjectId, PersonRef, TeamRef
from keydesk.core.errors import ApplicationError

from . import selectors, services
from .models import BODY_MAX, SUBJECT_MAX, Ticket

router = Router(tags=["tickets"])

TicketNumber = Annotated[
    int, Path(ge=1, le=BIGINT_MAX, description="The ticket's number (#number).")
]

# The services name the web form's fields; the API's fields carry an _id suffix.
_API_FIELD_NAMES = {"assignee": "assignee_id", "team": "team_id"}


class TicketOut(Schema):
    number: int
    subject: str
    description: str
    status: Ticket.Status
    priority: Ticket.Priority
    source: Ticket.Source
    requester: PersonRef
    assignee: PersonRef | None
    team: TeamRef | None
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None


class TicketPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[TicketOut]


class TicketFilters(PageQuery):
    status: Ticket.Status | None = None
    assignee: str | None = Field(
        None, pattern=r"^(me|none|[1-9][0-9]{0,17})$", description="A user id, 'me' or 'none'."
    )
    team: int | None = Field(None, ge=1, le=BIGINT_MAX, description="A team id.")
    q: str | None = Field(
        None, max_length=200, description="Text in subject or description, or #number."
    )


class TicketIn(InputSchema):
    subject: str = Field(..., max_length=SUBJECT_MAX)
    description: str = Field("", max_length=BODY_MAX)
    priority: Ticket.Priority = Ticket.Priority.NORMAL
    requester_email: str | None = Field(
        None, max_length=254, description="Required for staff; ignored for contacts."
    )


class TicketPatch(InputSchema):
    status: Ticket.Status | None = None
    priority: Ticket.Priority | None = None
    assignee_id: ObjectId | None = Field(None, description="A staff member's id; null unassigns.")
    team_id: ObjectId | None = Field(None, description="A team's id; null clears the team.")


class CommentOut(Schema):
    id: int
    author: PersonRef
    body: str
    public: bool
    created_at: datetime

    @staticmethod
    def resolve_public(obj) -> bool:
        return obj.is_public


class CommentList(Schema):
    items: list[CommentOut]


class CommentIn(InputSchema):
    body: str = Field(..., max_length=BODY_MAX)
    public: bool = Field(
        True, strict=True, description="A public reply, or (staff) an internal note."
    )


def _in_api_terms(exc: ApplicationError) -> ApplicationError:
    for error in exc.errors:
        error["field"] = _API_FIELD_NAMES.get(error.get("field"), error.get("field"))
    return exc


@router.get("", response=TicketPage)
def list_tickets(request, filters: Query[TicketFilters]):
    """Tickets newest first; contacts see their own."""
    assignee_id = None
    if filters.assignee == "me":
        assignee_id = request.auth.pk
    elif filters.assignee and filters.assignee != "none":
        assignee_id = int(filters.assignee)
    tickets = selectors.ticket_list(
        actor=request.auth,
        status=filters.status,
        assignee_id=assignee_id,
        unassigned=filters.assignee == "none",
        team_id=filters.team,
        q=filters.q,
    )
    return paginate(tickets, page=filters.page, page_size=filters.page_size)


@router.post("", response={201: TicketOut})
def create_ticket(request, payload: TicketIn):
    """Open a ticket; staff name the requester, contacts are the requester."""
    return services.ticket_create(
        tenant=request.tenant,
        actor=request.auth,
        subject=payload.subject,
        description=payload.description,
        priority=payload.priority.value,
        requester_email=payload.requester_email,
        source=Ticket.Source.API,
        request=request,
    )


@router.get("/{number}", response=TicketOut)
def get_ticket(request, number: TicketNumber):
    """One ticket by number."""
    return selectors.ticket_get(actor=request.auth, number=number)


@router.patch("/{number}", response=TicketOut)
def update_ticket(request, payload: TicketPatch, number: TicketNumber):
    """Change status, priority, assignee or team; only the fields sent are changed."""
    ticket = selectors.ticket_get(actor=request.auth, number=number)
    changes = payload.model_dump(exclude_unset=True, mode="json")
    try:
        return services.ticket_update(
            ticket=ticket,
            actor=request.auth,
            status=changes.get("status"),
            priority=changes.get("priority"),
            assignee_id=changes.get("assignee_id", services.UNSET),
            team_id=changes.get("team_id", services.UNSET),
            request=request,
        )
    except ApplicationError as exc:
        raise _in_api_terms(exc) from None


@router.get("/{number}/comments", response=CommentList)
def list_comments(request, number: TicketNumber):
    """The ticket's comments, oldest first; contacts see public replies only."""
    ticket = selectors.ticket_get(actor=request.auth, number=number)
    return {"items": selectors.comment_list(ticket=ticket, actor=request.auth)}


@router.post("/{number}/comments", response={201: CommentOut})
def create_comment(request, payload: CommentIn, number: TicketNumber):
    """Add a public reply or an internal note."""
    ticket = selectors.ticket_get(actor=request.auth, number=number)
    return services.comment_add(
        ticket=ticket,
        actor=request.auth,
        body=payload.body,
        is_public=payload.public,
        request=request,
    )
