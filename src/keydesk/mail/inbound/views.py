"""Pages of inbound mail: Account › Channels › Email addresses and Email log (admins)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from keydesk.accounts.permissions import Perm
from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import (
    form_error,
    message_error,
    paginate,
    permission_required,
    render_page_or_fragment,
)

from .addresses import (
    builtin_addresses,
    inbound_address_add,
    inbound_address_remove,
    inbound_settings_for,
    inbound_settings_update,
)
from .forms import AddressForm, EmailLogFilterForm, InboundSettingsForm
from .process import REPROCESSABLE, inbound_reprocess
from .selectors import (
    inbound_address_list,
    inbound_email_get,
    inbound_email_list,
    inbound_email_raw,
    raw_as_text,
)

EMAILS_PER_PAGE = 50


def _addresses_page(request, *, address_form=None, settings_form=None):
    tenant = request.tenant
    context = {
        "builtin": builtin_addresses(tenant),
        "addresses": inbound_address_list(actor=request.user),
        "address_form": address_form or AddressForm(),
        "settings_form": settings_form
        or InboundSettingsForm(
            initial={"sender_hourly_limit": inbound_settings_for(tenant).sender_hourly_limit}
        ),
    }
    return render(request, "mail/email_addresses.html", context)


@permission_required(Perm.CHANNELS_MANAGE)
@require_http_methods(["GET", "POST"])
def email_addresses_view(request):
    """Account › Channels › Email addresses: where mail reaches the helpdesk; add one."""
    if request.method != "POST":
        return _addresses_page(request)
    form = AddressForm(request.POST)
    if form.is_valid():
        try:
            added = inbound_address_add(
                tenant=request.tenant,
                actor=request.user,
                address=form.cleaned_data["address"],
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Mail to {added.address} now reaches your helpdesk.")
            return redirect("mail:email_addresses")
    return _addresses_page(request, address_form=form)


@permission_required(Perm.CHANNELS_MANAGE)
@require_POST
def email_address_remove_view(request, address_id: int):
    """Stop receiving mail at an added address."""
    try:
        inbound_address_remove(
            tenant=request.tenant, actor=request.user, address_id=address_id, request=request
        )
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, "Address removed; mail to it is refused from now on.")
    return redirect("mail:email_addresses")


@permission_required(Perm.CHANNELS_MANAGE)
@require_POST
def email_settings_view(request):
    """Save the per-sender hourly limit."""
    form = InboundSettingsForm(request.POST)
    if form.is_valid():
        try:
            inbound_settings_update(
                tenant=request.tenant, actor=request.user, request=request, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Inbound email settings saved.")
            return redirect("mail:email_addresses")
    return _addresses_page(request, settings_form=form)


@permission_required(Perm.CHANNELS_MANAGE)
@require_GET
def email_log_view(request):
    """Account › Channels › Email log: every message received, its status and why."""
    form = EmailLogFilterForm(request.GET)
    emails = inbound_email_list(actor=request.user, **form.selector_filters())
    context = {"form": form, "page": paginate(request, emails, EMAILS_PER_PAGE)}
    return render_page_or_fragment(
        request, "mail/email_log.html", "mail/_email_log_table.html", context
    )


@permission_required(Perm.CHANNELS_MANAGE)
@require_GET
def email_detail_view(request, email_id: int):
    """One received message: what became of it, and its raw source as plain text."""
    email = inbound_email_get(actor=request.user, email_id=email_id)
    raw, cut = raw_as_text(inbound_email_raw(email))
    context = {
        "email": email,
        "raw": raw,
        "raw_cut": cut,
        "reprocessable": email.status in REPROCESSABLE,
    }
    response = render(request, "mail/email_detail.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required(Perm.CHANNELS_MANAGE)
@require_GET
def email_raw_view(request, email_id: int):
    """The raw message as a file, exactly as received."""
    email = inbound_email_get(actor=request.user, email_id=email_id)
    response = HttpResponse(inbound_email_raw(email), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="message-{email.pk}.eml"'
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required(Perm.CHANNELS_MANAGE)
@require_POST
def email_reprocess_view(request, email_id: int):
    """Process a failed, rejected or held message again."""
    try:
        inbound_reprocess(actor=request.user, email_id=email_id, request=request)
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, "The message is queued for processing again.")
    return redirect("mail:email_detail", email_id=email_id)
