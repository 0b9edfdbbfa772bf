"""Helpers every page view shares: access by permission, errors as 404 or form errors, htmx."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers

from keydesk.accounts.permissions import Perm, can
from keydesk.core.errors import ApplicationError, NotFound, PermissionDenied
from keydesk.tenants.limits import CreationLimitReached, creation_refusal_record


def not_found_when_refused(view):
    """NotFound and PermissionDenied from selectors and services answer 404, as a missing page does.

    Answering "not allowed" like "not there" keeps other people's and tenants' ids unknowable.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (NotFound, PermissionDenied):
            raise Http404 from None

    return wrapper


def permission_required(perm: Perm):
    """Sign-in required; then 404 unless the person holds `perm`."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not can(request.user, perm):
                raise Http404
            return view(request, *args, **kwargs)

        return login_required(not_found_when_refused(checked))

    return decorator


def _record_refusal(exc: ApplicationError) -> None:
    # A creation refused by a new account's limits is logged here, after its transaction
    # rolled back (tenants/limits.py).
    if isinstance(exc, CreationLimitReached):
        creation_refusal_record(error=exc)


def form_error(form, exc: ApplicationError) -> None:
    """Put a service's error on the form field it names, else on the form itself."""
    if isinstance(exc, NotFound | PermissionDenied):
        raise Http404 from exc
    _record_refusal(exc)
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def message_error(request, exc: ApplicationError) -> None:
    """Show a service's refusal of a button press as a message; a button has no form to carry it."""
    if isinstance(exc, NotFound | PermissionDenied):
        raise Http404 from exc
    _record_refusal(exc)
    messages.error(request, exc.message)


def wants_fragment(request) -> bool:
    """An htmx request that swaps part of the page; a history restore needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page_or_fragment(request, page: str, fragment: str, context: dict):
    """Render the full page, or only the fragment when htmx asks for it."""
    response = render(request, fragment if wants_fragment(request) else page, context)
    # The same URL answers with two bodies: caches must key on the header that chooses.
    patch_vary_headers(response, ("HX-Request",))
    return response


def paginate(request, items, per_page: int) -> Page:
    """The page `?page=` names; out-of-range or malformed numbers give the nearest page."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    if page.paginator.count == 0:
        page.object_list = []  # nothing to fetch, so no query to build for it
    return page


def continue_sign_in_or_restart(request):
    """Go on with the pending sign-in: its next step, or back to /login when it timed out."""
    from keydesk.accounts import signin

    outcome = signin.continue_sign_in(request)
    if outcome.redirect_to:
        return redirect(outcome.redirect_to)
    messages.error(request, outcome.error)
    return redirect("login")
