"""Account › Security (admins): password policy, sign-in protection, sessions and sign-up."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import form_error, permission_required

from .forms import PasswordPolicyForm, SessionPolicyForm, SignInProtectionForm
from .lockout import protection_for
from .passwords import policy_for
from .permissions import Perm
from .security_settings import (
    self_registration_update,
    session_policy_update,
    sign_in_protection_update,
)
from .services import password_policy_update
from .sessions import session_policy_for


def _settings_page(request, *, form, title: str, intro: str, save, url_name: str):
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"{title} saved.")
            return redirect(url_name)
    return render(
        request,
        "accounts/security_settings.html",
        {"form": form, "title": title, "intro": intro, "action": url_name},
    )


@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def password_policy_view(request):
    """Account › Security › Password policy."""
    policy = policy_for(request.tenant)
    form = PasswordPolicyForm(request.POST or None, instance=policy)

    def save(data):
        force = data.pop("force_change_all")
        password_policy_update(
            tenant=request.tenant,
            actor=request.user,
            force_change_all=force,
            request=request,
            **{k: v for k, v in data.items() if getattr(policy_for(request.tenant), k) != v},
        )

    return _settings_page(
        request,
        form=form,
        title="Password policy",
        save=save,
        url_name="accounts:security_password_policy",
        intro="Applies wherever a password is set: sign-up, change, reset, and by an admin. "
        "Length matters more than character classes, which NIST advises against requiring.",
    )


@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def sign_in_protection_view(request):
    """Account › Security › Sign-in protection."""
    form = SignInProtectionForm(request.POST or None, instance=protection_for(request.tenant))
    return _settings_page(
        request,
        form=form,
        title="Sign-in protection",
        url_name="accounts:security_sign_in_protection",
        save=lambda data: sign_in_protection_update(
            tenant=request.tenant, actor=request.user, request=request, **data
        ),
        intro="Accounts lock after repeated failures, for a time that doubles with each lockout. "
        "An address that fails too often across accounts is blocked, so one attacker cannot "
        "lock everyone out cheaply. Locked people can still reset their password.",
    )


@permission_required(Perm.SECURITY_MANAGE)
@require_http_methods(["GET", "POST"])
def session_policy_view(request):
    """Account › Security › Sessions and sign-up."""
    form = SessionPolicyForm(
        request.POST or None,
        instance=session_policy_for(request.tenant),
        initial={"self_registration": request.tenant.self_registration},
    )

    def save(data):
        enabled = data.pop("self_registration")
        session_policy_update(tenant=request.tenant, actor=request.user, request=request, **data)
        self_registration_update(
            tenant=request.tenant, actor=request.user, enabled=enabled, request=request
        )

    return _settings_page(
        request,
        form=form,
        title="Sessions and sign-up",
        save=save,
        url_name="accounts:security_sessions",
        intro="Idle and absolute session lifetimes for staff and contacts, alerts on sign-in "
        "from a new device, and whether contacts may register themselves.",
    )
