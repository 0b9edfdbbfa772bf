"""Reading the event log: admins only, always within one tenant."""

from datetime import date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from keydesk.accounts.permissions import Perm, require

from .models import Event


def event_list(
    *,
    actor,
    action: str | None = None,
    actor_q: str | None = None,
    target_q: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Event]:
    """Newest first. `actor_q` matches the actor's email; `target_q` the target's id or label."""
    require(actor, Perm.EVENTLOG_VIEW)
    events = Event.objects.filter(tenant_id=actor.tenant_id)
    if action:
        events = events.filter(action=action)
    if actor_q:
        events = events.filter(actor_label__icontains=actor_q.strip())
    if target_q:
        target_q = target_q.strip()
        events = events.filter(Q(target_label__icontains=target_q) | Q(target_id=target_q))
    tz = timezone.get_current_timezone()
    if since:
        events = events.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=tz))
    if until:
        events = events.filter(created_at__lte=datetime.combine(until, time.max, tzinfo=tz))
    return events.order_by("-seq")
