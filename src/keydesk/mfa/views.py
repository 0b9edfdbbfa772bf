"""Two-factor pages: one's own methods, confirming the password, the policy, a profile's 2FA tab."""

import json
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from keydesk.accounts.sessions import sessions_revoke_others
from keydesk.accounts.signin import safe_next
from keydesk.core.crypto import decrypt, encrypt
from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import form_error, message_error

from . import recovery_codes, totp
from .forms import (
    ChangeForm,
    ReauthCodeForm,
    ReauthForm,
    SetupCodeForm,
)
from .models import Authenticator
from .policy import (
    CHALLENGE_TYPES,
    allowed_types_for,
    is_required,
    methods_of,
    recovery_authenticator,
)
from .reauth import Outcome, reauth_required, reauthenticate
from .services import (
    email_code_send,
    email_enable,
    method_disable,
    recovery_codes_regenerate,
    totp_enable,
)

TOTP = Authenticator.Type.TOTP
EMAIL = Authenticator.Type.EMAIL
PENDING_TOTP_KEY = "keydesk.mfa.totp_setup"
CODES_KEY = "keydesk.mfa.recovery_codes"
CODES_DOWNLOADABLE_SECONDS = 600
LOCKED = "Too many wrong tries: your account is locked for a while. Try again later."


# Recovery codes stay downloadable for ten minutes after they were shown, once.


def keep_codes_for_download(request, codes: list[str], *, email: str) -> None:
    """Keep freshly shown codes (encrypted) in this session so "Download" can send them once."""
    request.session[CODES_KEY] = {
        "data": encrypt(json.dumps({"codes": codes, "email": email})),
        "at": int(time.time()),
    }


def _take_codes(request) -> dict | None:
    kept = request.session.pop(CODES_KEY, None)
    if not kept or time.time() - kept["at"] > CODES_DOWNLOADABLE_SECONDS:
        return None
    return json.loads(decrypt(kept["data"]))


def _drop_stale_codes(request) -> None:
    kept = request.session.get(CODES_KEY)
    if kept and time.time() - kept["at"] > CODES_DOWNLOADABLE_SECONDS:
        del request.session[CODES_KEY]


@never_cache
@require_GET
def recovery_codes_download_view(request):
    """The codes just shown, as a text file; only from the session that saw them, only once."""
    kept = _take_codes(request)
    if kept is None:
        return render(request, "mfa/recovery_codes_gone.html", status=410)
    tenant = request.tenant
    lines = [
        f"Recovery codes for {kept['email']} at {tenant.name}",
        "Each code signs you in once, when you cannot use your other methods.",
        "",
        *kept["codes"],
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="recovery-codes-{tenant.slug}.txt"'
    return response


def _show_codes(request, codes: list[str], *, email: str, title: str, back: str, **context):
    keep_codes_for_download(request, codes, email=email)
    return render(
        request,
        "mfa/recovery_codes.html",
        {"codes": codes, "title": title, "back": back, **context},
    )


# Preferences › Security › Two-factor authentication


def _setup_url(type_: str) -> str:
    return reverse(f"mfa_{type_}_setup")


@login_required
@require_GET
def preferences_view(request):
    """The person's methods, recovery codes left, and the methods they may add."""
    _drop_stale_codes(request)
    user = request.user
    allowed = allowed_types_for(user)
    methods = sorted(methods_of(user), key=lambda m: CHALLENGE_TYPES.index(m.type))
    have = {m.type for m in methods}
    labels = dict(Authenticator.Type.choices)
    offers = [(labels[t], _setup_url(t)) for t in allowed if t not in have]
    recovery = recovery_authenticator(user)
    context = {
        "methods": methods,
        "offers": offers,
        "allowed": allowed,
        "may_replace_app": TOTP in have and TOTP in allowed,
        "recovery_left": recovery and recovery_codes.remaining(recovery),
        "recovery_total": recovery_codes.COUNT,
        "has_recovery": recovery is not None,
        "required": is_required(user),
    }
    return render(request, "mfa/preferences.html", context)


def _after_change(request, form: ChangeForm) -> None:
    if form.cleaned_data.get("sign_out_others"):
        ended = sessions_revoke_others(
            user=request.user, current_key=request.session.session_key, request=request
        )
        messages.info(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")


def _pending_secret(request) -> str:
    """The secret offered on the setup page, kept encrypted in the session (never in the form)."""
    kept = request.session.get(PENDING_TOTP_KEY)
    if kept:
        pending = json.loads(decrypt(kept))
        if pending["user_id"] == request.user.pk:
            return pending["secret"]
    secret = totp.new_secret()
    request.session[PENDING_TOTP_KEY] = encrypt(
        json.dumps({"user_id": request.user.pk, "secret": secret})
    )
    return secret


def _not_offered(request, type_: str):
    if type_ in allowed_types_for(request.user):
        return None
    messages.error(request, "Your helpdesk does not offer this method.")
    return redirect("mfa_preferences")


def _qr_context(secret: str, *, email: str, issuer: str) -> dict:
    uri = totp.provisioning_uri(secret, email=email, issuer=issuer)
    return {"qr_svg": totp.qr_svg(uri), "passphrase": totp.grouped(secret), "uri": uri}


@login_required
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def totp_setup_view(request):
    """Scan the QR code (or type the key), then prove it with a code from the app."""
    refused = _not_offered(request, TOTP)
    if refused:
        return refused
    user = request.user
    secret = _pending_secret(request)
    form = SetupCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = totp_enable(
                user=user,
                actor=user,
                secret=secret,
                code=form.cleaned_data["code"],
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            request.session.pop(PENDING_TOTP_KEY, None)
            _after_change(request, form)
            messages.success(request, "Your authenticator app is set up.")
            if created:
                return _show_codes(
                    request,
                    created,
                    email=user.email,
                    title="Save your recovery codes",
                    back=reverse("mfa_preferences"),
                )
            return redirect("mfa_preferences")
    replacing = any(m.type == TOTP for m in methods_of(user))
    context = {
        "form": form,
        "replacing": replacing,
        **_qr_context(secret, email=user.email, issuer=user.tenant.name),
    }
    return render(request, "mfa/totp_setup.html", context)


@login_required
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def email_setup_view(request):
    """Send a code to the person's address, then turn email codes on with it."""
    refused = _not_offered(request, EMAIL)
    if refused:
        return refused
    user = request.user
    if any(m.type == EMAIL for m in methods_of(user)):
        messages.info(request, "Email codes are already on.")
        return redirect("mfa_preferences")
    action = request.POST.get("action")
    form = SetupCodeForm(request.POST if action == "confirm" else None)
    if action == "send":
        try:
            email_code_send(user=user, request=request)
        except ApplicationError as exc:
            message_error(request, exc)
        else:
            messages.info(request, f"We sent a code to {user.email}. It is valid for 10 minutes.")
        return redirect("mfa_email_setup")
    if action == "confirm" and form.is_valid():
        try:
            created = email_enable(
                user=user, actor=user, code=form.cleaned_data["code"], request=request
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            _after_change(request, form)
            messages.success(request, "Email codes are on.")
            if created:
                return _show_codes(
                    request,
                    created,
                    email=user.email,
                    title="Save your recovery codes",
                    back=reverse("mfa_preferences"),
                )
            return redirect("mfa_preferences")
    return render(request, "mfa/email_setup.html", {"form": form})


@login_required
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def method_remove_view(request, method: str):
    """Confirm, then remove one of the person's methods."""
    user = request.user
    methods = methods_of(user)
    target = next((m for m in methods if m.type == method), None)
    if method not in CHALLENGE_TYPES or target is None:
        raise Http404
    form = ChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            method_disable(user=user, actor=user, type_=method, request=request)
        except ApplicationError as exc:
            message_error(request, exc)
            return redirect("mfa_preferences")
        _after_change(request, form)
        messages.success(request, f"{target.get_type_display()} removed.")
        return redirect("mfa_preferences")
    context = {
        "form": form,
        "method": target,
        "last": len(methods) == 1,
        "required": is_required(user),
    }
    return render(request, "mfa/method_remove.html", context)


@login_required
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes_view(request):
    """Confirm, then make a new set of recovery codes; the old set stops working."""
    user = request.user
    recovery = recovery_authenticator(user)
    if recovery is None:
        messages.info(request, "Set up a second factor first: recovery codes come with it.")
        return redirect("mfa_preferences")
    form = ChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = recovery_codes_regenerate(user=user, actor=user, request=request)
        except ApplicationError as exc:
            message_error(request, exc)
            return redirect("mfa_preferences")
        _after_change(request, form)
        return _show_codes(
            request,
            codes,
            email=user.email,
            title="Your new recovery codes",
            back=reverse("mfa_preferences"),
        )
    context = {"form": form, "left": recovery_codes.remaining(recovery)}
    return render(request, "mfa/recovery_codes_new.html", context)


@login_required
@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def reauth_view(request):
    """Confirm it is still you: the password, or a code from the authenticator app."""
    next_url = safe_next(
        request,
        request.POST.get("next") or request.GET.get("next"),
        default=reverse("mfa_preferences"),
    )
    has_app = any(m.type == TOTP for m in methods_of(request.user))
    use_code = has_app and request.POST.get("method") == "code"
    posted = request.POST if request.method == "POST" else None
    form = ReauthForm(None if use_code else posted)
    code_form = ReauthCodeForm(posted if use_code else None) if has_app else None
    active = code_form if use_code else form
    if posted is not None and active.is_valid():
        outcome = reauthenticate(
            request,
            password=active.cleaned_data.get("password", ""),
            code=active.cleaned_data.get("code", ""),
        )
        if outcome == Outcome.CONFIRMED:
            return redirect(next_url)
        if outcome == Outcome.LOCKED:
            active.add_error(None, LOCKED)
        elif use_code:
            active.add_error("code", "That code is not right.")
        else:
            active.add_error("password", "The password is not correct.")
    return render(
        request,
        "mfa/reauth.html",
        {"form": form, "code_form": code_form, "next": next_url},
    )
