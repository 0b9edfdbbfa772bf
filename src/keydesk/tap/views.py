"""Temporary Access Pass pages: the tenant's policy and the "Authentication" tab of a profile."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from keydesk.accounts.permissions import Perm
from keydesk.accounts.selectors import person_get
from keydesk.accounts.views import SECTIONS
from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import form_error, message_error, permission_required

from .forms import TapCreateForm, TapPolicyForm
from .selectors import tap_get
from .services import (
    may_create_pass_for,
    policy_for,
    tap_create,
    tap_delete,
    tap_policy_update,
    tap_status,
)

TAP_OFF = "Temporary Access Pass is turned off for this helpdesk."

# Account › Security › Authentication methods › Temporary Access Pass


@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def policy_view(request):
    """Turn passes on or off and set the lifetimes, one-time use and length new passes get."""
    form = TapPolicyForm(request.POST or None, instance=policy_for(request.tenant))
    if request.method == "POST" and form.is_valid():
        try:
            tap_policy_update(
                tenant=request.tenant, actor=request.user, request=request, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Temporary Access Pass saved.")
            return redirect("tap_policy")
    return render(request, "tap/policy.html", {"form": form})


# The "Authentication" tab of a person's profile (admins, and managers for whom they manage)


def _managed_person(request, user_id: int):
    """The person, if the viewer may create passes for them; 404 otherwise (also across tenants)."""
    person = person_get(actor=request.user, user_id=user_id)
    if not may_create_pass_for(request.user, person):
        raise Http404
    return person


def _person_context(request, person) -> dict:
    section = SECTIONS[person.kind]
    return {
        "person": person,
        "section": section,
        "list_url": reverse(section.url_name("list")),
        "edit_url": reverse(section.url_name("edit"), kwargs={"user_id": person.pk}),
        "self": False,  # nobody reaches their own tab
    }


def _create_form(policy, data=None) -> TapCreateForm:
    """The add form with the policy's default duration; one-time use locked on when required."""
    form = TapCreateForm(data, initial={"lifetime_minutes": policy.default_lifetime_minutes})
    lifetime = form.fields["lifetime_minutes"]
    lifetime.help_text = (
        f"From {policy.min_lifetime_minutes} to {policy.max_lifetime_minutes} minutes. "
        f"Empty: {policy.default_lifetime_minutes} minutes."
    )
    lifetime.widget.attrs.update(min=policy.min_lifetime_minutes, max=policy.max_lifetime_minutes)
    if policy.one_time:
        one_time = form.fields["one_time"]
        one_time.initial = True
        one_time.disabled = True
        one_time.help_text = "The policy makes every pass one-time."
    return form


@permission_required(Perm.USER_VIEW)
@require_GET
def person_view(request, user_id: int):
    """The person's pass without its secret: who made it, when it works, its status."""
    person = _managed_person(request, user_id)
    policy = policy_for(request.tenant)
    tap = tap_get(user=person)
    context = {
        **_person_context(request, person),
        "policy": policy,
        "tap": tap,
        "status": tap and tap_status(tap),
        "may_add": policy.enabled and person.is_active,
    }
    return render(request, "tap/person.html", context)


@permission_required(Perm.USER_VIEW)
@never_cache
@require_http_methods(["GET", "POST"])
def person_create_view(request, user_id: int):
    """Add a pass ("+ add pass"); it is shown once, in the answer to this form, never again."""
    person = _managed_person(request, user_id)
    policy = policy_for(request.tenant)
    if not policy.enabled:
        messages.error(request, TAP_OFF)
        return redirect("tap_person", user_id=person.pk)
    form = _create_form(policy, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            tap, secret = tap_create(
                user=person,
                actor=request.user,
                valid_from=form.cleaned_data["valid_from"],
                lifetime_minutes=form.cleaned_data["lifetime_minutes"],
                one_time=form.cleaned_data["one_time"],
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            context = {**_person_context(request, person), "tap": tap, "secret": secret}
            return render(request, "tap/created.html", context)
    context = {
        **_person_context(request, person),
        "form": form,
        "policy": policy,
        "replacing": tap_get(user=person) is not None,
    }
    return render(request, "tap/create.html", context)


@permission_required(Perm.USER_VIEW)
@require_http_methods(["GET", "POST"])
def person_delete_view(request, user_id: int):
    """Confirm, then delete the person's pass; it stops working at once."""
    person = _managed_person(request, user_id)
    tap = tap_get(user=person)
    if request.method == "POST":
        try:
            tap_delete(user=person, actor=request.user, request=request)
        except ApplicationError as exc:
            message_error(request, exc)
        else:
            if tap is not None:
                messages.success(
                    request, f"The Temporary Access Pass of {person.display_name} was deleted."
                )
        return redirect("tap_person", user_id=person.pk)
    if tap is None:
        messages.info(request, f"{person.display_name} has no Temporary Access Pass.")
        return redirect("tap_person", user_id=person.pk)
    context = {**_person_context(request, person), "tap": tap, "status": tap_status(tap)}
    return render(request, "tap/delete.html", context)
