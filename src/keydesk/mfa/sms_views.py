"""Preferences › Two-factor authentication › SMS codes: verify a phone number, then turn on."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import form_error, message_error

from .forms import SetupCodeForm
from .models import Authenticator
from .policy import methods_of
from .reauth import reauth_required
from .services import phone_of, phone_verification_send, sms_enable
from .views import _after_change, _not_offered, _show_codes

SMS = Authenticator.Type.SMS


@login_required
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def sms_setup_view(request):
    """Text a code to the number the person gives, then turn SMS codes on with it."""
    refused = _not_offered(request, SMS)
    if refused:
        return refused
    user = request.user
    if any(m.type == SMS for m in methods_of(user)):
        messages.info(request, "SMS codes are already on.")
        return redirect("mfa_preferences")
    action = request.POST.get("action")
    form = SetupCodeForm(request.POST if action == "confirm" else None)
    phone = phone_of(user)
    pending = phone.pending_number if phone is not None else ""
    phone_error = ""
    if action == "send":
        try:
            number = phone_verification_send(
                user=user, phone=request.POST.get("phone", ""), request=request
            )
        except ApplicationError as exc:
            if exc.field == "phone":
                phone_error = exc.message
            else:
                message_error(request, exc)
                return redirect("mfa_sms_setup")
        else:
            messages.info(request, f"We texted a code to {number}. It is valid for 10 minutes.")
            return redirect("mfa_sms_setup")
    if action == "confirm" and form.is_valid():
        try:
            created = sms_enable(
                user=user,
                actor=user,
                phone=pending,
                code=form.cleaned_data["code"],
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            _after_change(request, form)
            messages.success(request, "SMS codes are on.")
            if created:
                return _show_codes(
                    request,
                    created,
                    email=user.email,
                    title="Save your recovery codes",
                    back=reverse("mfa_preferences"),
                )
            return redirect("mfa_preferences")
    return render(
        request,
        "mfa/sms_setup.html",
        {
            "form": form,
            "pending": pending,
            "phone_value": request.POST.get("phone", pending),
            "phone_error": phone_error,
        },
    )
