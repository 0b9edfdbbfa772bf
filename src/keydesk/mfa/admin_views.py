"""Admins' two-factor pages: the tenant policy and the 2FA tab of a person's profile."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from keydesk.accounts.permissions import Perm
from keydesk.accounts.selectors import person_get
from keydesk.accounts.views import SECTIONS
from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import form_error, message_error, permission_required

from . import recovery_codes, totp
from .forms import (
    EnforceForm,
    MfaPolicyForm,
)
from .models import Authenticator
from .policy import (
    CHALLENGE_TYPES,
    allowed_types,
    is_required,
    methods_of,
    policy_for,
    recovery_authenticator,
)
from .reauth import reauth_required
from .services import (
    POLICY_FIELDS,
    mfa_enforce_set,
    mfa_policy_update,
    mfa_remove_by_admin,
    totp_setup_by_admin,
)
from .views import _qr_context, keep_codes_for_download

TOTP = Authenticator.Type.TOTP


# Account › Security › Two-factor authentication


@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def policy_view(request):
    """Which methods people may set up, who must, and until when they may skip."""
    policy = policy_for(request.tenant)
    initial = {name: getattr(policy, name) for name in POLICY_FIELDS}
    form = MfaPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            mfa_policy_update(
                tenant=request.tenant, actor=request.user, request=request, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Two-factor authentication saved.")
            return redirect("mfa_policy")
    return render(request, "mfa/policy.html", {"form": form})


# The 2FA tab of a person's profile (admins)


def _person_context(request, person) -> dict:
    section = SECTIONS[person.kind]
    return {
        "person": person,
        "section": section,
        "list_url": reverse(section.url_name("list")),
        "edit_url": reverse(section.url_name("edit"), kwargs={"user_id": person.pk}),
        "self": person.pk == request.user.pk,
    }


@permission_required(Perm.SECURITY_MANAGE)
@require_GET
def person_mfa_view(request, user_id: int):
    """A person's methods (never their secrets), enforcement, admin setup and removal."""
    person = person_get(actor=request.user, user_id=user_id)
    policy = policy_for(request.tenant)
    methods = sorted(methods_of(person), key=lambda m: CHALLENGE_TYPES.index(m.type))
    recovery = recovery_authenticator(person)
    context = {
        **_person_context(request, person),
        "methods": methods,
        "recovery_left": recovery and recovery_codes.remaining(recovery),
        "has_recovery": recovery is not None,
        "required": is_required(person, policy),
        "required_by_policy": policy.require_staff
        if person.is_staff_member
        else policy.require_contacts,
        "enforce_form": EnforceForm(initial={"enforce_mfa": person.enforce_mfa}),
        "may_set_up_app": person.is_staff_member and TOTP in allowed_types(policy),
        "has_app": any(m.type == TOTP for m in methods),
    }
    return render(request, "mfa/person.html", context)


@permission_required(Perm.SECURITY_MANAGE)
@require_POST
def person_enforce_view(request, user_id: int):
    """The per-person "Enforce 2FA" switch."""
    person = person_get(actor=request.user, user_id=user_id)
    form = EnforceForm(request.POST)
    if form.is_valid():
        enforce = form.cleaned_data["enforce_mfa"]
        try:
            mfa_enforce_set(user=person, actor=request.user, enforce=enforce, request=request)
        except ApplicationError as exc:
            message_error(request, exc)
        else:
            state = "enforced" if enforce else "no longer enforced"
            messages.success(request, f"2FA is {state} for {person.display_name}.")
    return redirect("mfa_person", user_id=person.pk)


@permission_required(Perm.SECURITY_MANAGE)
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def person_totp_view(request, user_id: int):
    """Set up an authenticator app for a staff member; the admin sees the QR code once."""
    person = person_get(actor=request.user, user_id=user_id, kind="staff")
    if request.method == "POST":
        secret = totp.new_secret()
        try:
            created = totp_setup_by_admin(
                user=person, actor=request.user, secret=secret, request=request
            )
        except ApplicationError as exc:
            message_error(request, exc)
            return redirect("mfa_person", user_id=person.pk)
        if created:
            keep_codes_for_download(request, created, email=person.email)
        context = {
            **_person_context(request, person),
            **_qr_context(secret, email=person.email, issuer=request.tenant.name),
            "codes": created,
        }
        return render(request, "mfa/person_totp_created.html", context)
    context = {
        **_person_context(request, person),
        "has_app": any(m.type == TOTP for m in methods_of(person)),
    }
    return render(request, "mfa/person_totp.html", context)


@permission_required(Perm.SECURITY_MANAGE)
@reauth_required
@require_http_methods(["GET", "POST"])
def person_remove_view(request, user_id: int):
    """Confirm, then remove every second factor of a person who lost theirs."""
    person = person_get(actor=request.user, user_id=user_id)
    if request.method == "POST":
        try:
            removed = mfa_remove_by_admin(user=person, actor=request.user, request=request)
        except ApplicationError as exc:
            message_error(request, exc)
        else:
            if not removed:
                messages.info(request, f"{person.display_name} had no two-factor methods.")
            elif is_required(person):
                messages.success(
                    request,
                    f"Two-factor authentication was removed from {person.display_name}. "
                    "They will set it up again at their next sign-in.",
                )
            else:
                messages.success(
                    request, f"Two-factor authentication was removed from {person.display_name}."
                )
        return redirect("mfa_person", user_id=person.pk)
    context = {**_person_context(request, person), "methods": methods_of(person)}
    return render(request, "mfa/person_remove.html", context)
