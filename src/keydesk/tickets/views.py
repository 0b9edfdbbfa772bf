"""Ticket pages: the agent workspace at /tickets/ and the contacts' portal at /portal/."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from keydesk.accounts.permissions import Perm, can
from keydesk.accounts.selectors import staff_and_team_choices
from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import (
    form_error,
    not_found_when_refused,
    paginate,
    permission_required,
    render_page_or_fragment,
)

from .attachments import description_attachments
from .forms import (
    AssignForm,
    CommentForm,
    PortalTicketForm,
    StatusForm,
    TicketCreateForm,
    TicketFilterForm,
)
from .selectors import comment_list, ticket_get, ticket_list
from .services import comment_add, ticket_create, ticket_update

TICKETS_PER_PAGE = 25

# Agent workspace


def _choices(request) -> dict:
    staff, teams = staff_and_team_choices(tenant=request.tenant)
    return {"staff": staff, "teams": teams}


@permission_required(Perm.TICKET_WORK)
@require_GET
def ticket_list_view(request):
    """The tenant's tickets, filtered; htmx swaps only the results."""
    form = TicketFilterForm(request.GET, **_choices(request))
    tickets = ticket_list(actor=request.user, **form.selector_filters(user=request.user))
    context = {"form": form, "page": paginate(request, tickets, TICKETS_PER_PAGE)}
    return render_page_or_fragment(
        request, "tickets/ticket_list.html", "tickets/_ticket_list.html", context
    )


@permission_required(Perm.TICKET_WORK)
@require_http_methods(["GET", "POST"])
def ticket_create_view(request):
    """Staff open a ticket for a requester."""
    form = TicketCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = ticket_create(
                tenant=request.tenant, actor=request.user, request=request, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Ticket #{ticket.number} created.")
            return redirect("tickets:detail", number=ticket.number)
    return render(request, "tickets/ticket_create.html", {"form": form})


def _render_detail(request, ticket, **forms):
    """The detail page with fresh forms, except those passed in (bound, with errors)."""
    choices = _choices(request)
    context = {
        "ticket": ticket,
        "comments": comment_list(ticket=ticket, actor=request.user),
        "description_attachments": description_attachments(ticket=ticket),
        "reply_form": forms.get("reply_form") or CommentForm(prefix="reply", label="Reply"),
        "note_form": forms.get("note_form") or CommentForm(prefix="note", label="Note"),
        "assign_form": forms.get("assign_form") or AssignForm.for_ticket(ticket, **choices),
        "status_form": forms.get("status_form") or StatusForm.for_ticket(ticket),
        "can_assign": can(request.user, Perm.TICKET_ASSIGN),
    }
    return render(request, "tickets/ticket_detail.html", context)


@permission_required(Perm.TICKET_WORK)
@require_GET
def ticket_detail_view(request, number: int):
    """One ticket with its replies and internal notes, and the forms to work on it."""
    return _render_detail(request, ticket_get(actor=request.user, number=number))


def _comment(request, number: int, *, is_public: bool):
    ticket = ticket_get(actor=request.user, number=number)
    prefix, label = ("reply", "Reply") if is_public else ("note", "Note")
    form = CommentForm(request.POST, prefix=prefix, label=label)
    if form.is_valid():
        try:
            comment_add(
                ticket=ticket,
                actor=request.user,
                body=form.cleaned_data["body"],
                is_public=is_public,
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Reply sent." if is_public else "Internal note added.")
            return redirect("tickets:detail", number=ticket.number)
    return _render_detail(request, ticket, **{f"{prefix}_form": form})


@permission_required(Perm.TICKET_WORK)
@require_POST
def ticket_reply_view(request, number: int):
    """Add a public reply the requester sees."""
    return _comment(request, number, is_public=True)


@permission_required(Perm.TICKET_WORK)
@require_POST
def ticket_note_view(request, number: int):
    """Add an internal note only staff see."""
    return _comment(request, number, is_public=False)


@permission_required(Perm.TICKET_WORK)
@require_POST
def ticket_assign_view(request, number: int):
    """Set the ticket's assignee and team."""
    ticket = ticket_get(actor=request.user, number=number)
    form = AssignForm(request.POST, **_choices(request))
    if form.is_valid():
        try:
            ticket = ticket_update(
                ticket=ticket, actor=request.user, request=request, **form.service_arguments()
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Assignment saved.")
            return redirect("tickets:detail", number=ticket.number)
    return _render_detail(request, ticket, assign_form=form)


@permission_required(Perm.TICKET_WORK)
@require_POST
def ticket_status_view(request, number: int):
    """Change the ticket's status and priority."""
    ticket = ticket_get(actor=request.user, number=number)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            ticket = ticket_update(
                ticket=ticket, actor=request.user, request=request, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Status and priority saved.")
            return redirect("tickets:detail", number=ticket.number)
    return _render_detail(request, ticket, status_form=form)


# Portal


def contact_required(view):
    """Sign-in required; staff have the workspace instead, so they are sent there."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.is_contact:
            if "number" in kwargs:
                return redirect("tickets:detail", number=kwargs["number"])
            return redirect("tickets:list")
        return view(request, *args, **kwargs)

    return login_required(not_found_when_refused(checked))


@contact_required
@require_GET
def portal_list_view(request):
    """The contact's own tickets."""
    page = paginate(request, ticket_list(actor=request.user), TICKETS_PER_PAGE)
    return render(request, "tickets/portal_list.html", {"page": page})


@contact_required
@require_http_methods(["GET", "POST"])
def portal_create_view(request):
    """A contact opens a ticket."""
    form = PortalTicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = ticket_create(
                tenant=request.tenant, actor=request.user, request=request, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Ticket #{ticket.number} submitted. We will reply here.")
            return redirect("portal:detail", number=ticket.number)
    return render(request, "tickets/portal_create.html", {"form": form})


def _render_portal_detail(request, ticket, reply_form=None):
    context = {
        "ticket": ticket,
        "comments": comment_list(ticket=ticket, actor=request.user),
        "description_attachments": description_attachments(ticket=ticket),
        "reply_form": reply_form or CommentForm(label="Message"),
    }
    return render(request, "tickets/portal_detail.html", context)


@contact_required
@require_GET
def portal_detail_view(request, number: int):
    """One of the contact's tickets with its public replies."""
    return _render_portal_detail(request, ticket_get(actor=request.user, number=number))


@contact_required
@require_POST
def portal_reply_view(request, number: int):
    """The contact answers on their ticket."""
    ticket = ticket_get(actor=request.user, number=number)
    form = CommentForm(request.POST, label="Message")
    if form.is_valid():
        try:
            comment_add(
                ticket=ticket,
                actor=request.user,
                body=form.cleaned_data["body"],
                is_public=True,
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Reply sent.")
            return redirect("portal:detail", number=ticket.number)
    return _render_portal_detail(request, ticket, reply_form=form)
