"""The event log over the API: admins only, newest first."""

from datetime import date, datetime
from typing import Any

from ninja import Field, Query, Router, Schema

from keydesk.api.pagination import PageQuery, paginate

from . import selectors

router = Router(tags=["events"])


class EventOut(Schema):
    seq: int
    created_at: datetime
    actor: str | None = Field(..., description="The actor's email at the time, or null.")
    action: str
    target_type: str
    target_id: str
    target_label: str
    ip: str | None
    details: dict[str, Any]
    hash: str

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor_label or None


class EventPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[EventOut]


class EventFilters(PageQuery):
    action: str | None = Field(None, max_length=64, description="An action, e.g. ticket.created.")
    actor: str | None = Field(None, max_length=254, description="Text in the actor's email.")
    target: str | None = Field(None, max_length=300, description="A target's id or label text.")
    since: date | None = Field(None, description="First day included (YYYY-MM-DD).")
    until: date | None = Field(None, description="Last day included (YYYY-MM-DD).")


@router.get("", response=EventPage)
def list_events(request, filters: Query[EventFilters]):
    """The tenant's events, newest first."""
    events = selectors.event_list(
        actor=request.auth,
        action=filters.action,
        actor_q=filters.actor,
        target_q=filters.target,
        since=filters.since,
        until=filters.until,
    )
    return paginate(events, page=filters.page, page_size=filters.page_size)
