"""Pages of outgoing mail: Account › Channels (sender, outbox) and the person's preference."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from keydesk.accounts.forms import NotificationPreferenceForm
from keydesk.accounts.permissions import Perm
from keydesk.accounts.services import email_notifications_set
from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import (
    form_error,
    message_error,
    paginate,
    permission_required,
    render_page_or_fragment,
)

from ..services import MAX_ATTEMPTS, email_retry
from .forms import MailSettingsForm, OutboxFilterForm
from .selectors import outbox_get, outbox_list
from .sender import default_from_address, mail_settings_for, mail_settings_update, support_address

EMAILS_PER_PAGE = 50


@permission_required(Perm.CHANNELS_MANAGE)
@require_http_methods(["GET", "POST"])
def outgoing_settings_view(request):
    """Account › Channels › Outgoing email: sender name and address, the new-ticket team."""
    tenant = request.tenant
    form = MailSettingsForm.for_settings(
        mail_settings_for(tenant),
        request.POST if request.method == "POST" else None,
        default_name=tenant.name,
        default_address=default_from_address(tenant),
    )
    if request.method == "POST" and form.is_valid():
        try:
            mail_settings_update(
                tenant=tenant, actor=request.user, request=request, **form.service_arguments()
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Outgoing email saved.")
            return redirect("mail:outgoing")
    context = {
        "form": form,
        "support_address": support_address(tenant),
        "default_address": default_from_address(tenant),
    }
    return render(request, "mail/outgoing_settings.html", context)


@permission_required(Perm.CHANNELS_MANAGE)
@require_GET
def outbox_list_view(request):
    """Account › Channels › Outbox: every outgoing mail, its status, attempts and last error."""
    form = OutboxFilterForm(request.GET)
    emails = outbox_list(actor=request.user, **form.selector_filters())
    context = {
        "form": form,
        "page": paginate(request, emails, EMAILS_PER_PAGE),
        "max_attempts": MAX_ATTEMPTS,
    }
    return render_page_or_fragment(request, "mail/outbox.html", "mail/_outbox_table.html", context)


@permission_required(Perm.CHANNELS_MANAGE)
@require_POST
def outbox_retry_view(request, email_id: int):
    """Send a failed mail again."""
    email = outbox_get(actor=request.user, email_id=email_id)
    try:
        email_retry(email=email, actor=request.user, request=request)
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, f"The mail to {email.recipient} is queued again.")
    return redirect("mail:outbox")


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences_view(request):
    """Preferences › Notifications: the person turns ticket mail on or off."""
    user = request.user
    # An unticked checkbox sends nothing: a POST with no fields is still a submitted form.
    form = NotificationPreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={"email_notifications": user.email_notifications},
    )
    if request.method == "POST" and form.is_valid():
        email_notifications_set(
            user=user, enabled=form.cleaned_data["email_notifications"], request=request
        )
        messages.success(request, "Notification preferences saved.")
        return redirect("notification_preferences")
    return render(request, "mail/notification_preferences.html", {"form": form})
