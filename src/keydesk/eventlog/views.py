"""The admins' event log page and its CSV export."""

import csv
import json

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from keydesk.accounts.permissions import Perm
from keydesk.core.spreadsheet import cell_for_spreadsheet
from keydesk.web.shortcuts import paginate, permission_required, render_page_or_fragment

from .actions import EventAction
from .forms import EventFilterForm
from .selectors import event_list
from .services import record

EVENTS_PER_PAGE = 50
CSV_HEADER = (
    "seq",
    "time",
    "actor",
    "action",
    "action_label",
    "target_type",
    "target_id",
    "target",
    "ip",
    "details",
)


@permission_required(Perm.EVENTLOG_VIEW)
@require_GET
def event_list_view(request):
    """Newest events first, filtered; htmx swaps only the table."""
    form = EventFilterForm(request.GET)
    events = event_list(actor=request.user, **form.selector_filters())
    context = {"form": form, "page": paginate(request, events, EVENTS_PER_PAGE)}
    return render_page_or_fragment(
        request, "eventlog/event_list.html", "eventlog/_event_table.html", context
    )


class _Echo:
    """A file-like object whose write() hands back the line, for streaming csv rows."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(events):
    writer = csv.writer(_Echo())
    labels = dict(EventAction.choices)
    yield writer.writerow(CSV_HEADER)
    for event in events.iterator(chunk_size=2000):
        row = (
            event.seq,
            event.created_at.isoformat(),
            event.actor_label,
            event.action,
            labels.get(event.action, event.action),
            event.target_type,
            event.target_id,
            event.target_label,
            event.ip,
            json.dumps(event.details, sort_keys=True, ensure_ascii=False),
        )
        yield writer.writerow([cell_for_spreadsheet(value) for value in row])


@permission_required(Perm.EVENTLOG_VIEW)
@require_GET
def event_export_view(request):
    """The filtered events as CSV, streamed; the export itself is recorded first."""
    form = EventFilterForm(request.GET)
    filters = form.selector_filters()
    events = event_list(actor=request.user, **filters)
    used = {key: value for key, value in filters.items() if value}
    record(request.tenant, request.user, EventAction.EVENTS_EXPORTED, request=request, filters=used)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="events-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
