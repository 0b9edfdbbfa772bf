"""The sign-in pages of the second factor: the challenge, and setup when 2FA is required."""

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from keydesk.accounts import signin
from keydesk.core.crypto import decrypt, encrypt
from keydesk.core.errors import ApplicationError
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.sms.numbers import last_digits
from keydesk.web.shortcuts import continue_sign_in_or_restart

from . import totp
from .challenge import RECOVERY, ChallengeOutcome, mark_passed, save_state, verify
from .forms import CodeForm
from .models import Authenticator
from .policy import allowed_types_for, grace_until, methods_of, policy_for
from .services import (
    email_code_send,
    email_enable,
    phone_of,
    phone_verification_send,
    sms_code_send,
    sms_enable,
    totp_enable,
)
from .views import keep_codes_for_download

EXHAUSTED = "Too many wrong codes. Please sign in again."
FAILED = "That code is not right."


def _pending(request):
    state = signin.pending_state(request)
    if state is None:
        messages.error(request, "Your sign-in took too long. Please start again.")
    return state


def _restart(request, message: str):
    request.session.pop(signin.PENDING_KEY, None)
    messages.error(request, message)
    return redirect("login")


@never_cache
@require_http_methods(["GET", "POST"])
def challenge_view(request):
    """Enter a code from the app, an email or SMS, or a recovery code (field `code`)."""
    state = _pending(request)
    if state is None:
        return redirect("login")
    user = signin.pending_user(request, state)
    methods = methods_of(user)
    types = [m.type for m in methods] + [RECOVERY]
    method = request.POST.get("method") or request.GET.get("method") or types[0]
    if method not in types:
        method = types[0]
    form = CodeForm(request.POST if request.POST.get("action") == "verify" else None)
    if request.method == "POST" and request.POST.get("action") == "send":
        try:
            if method == Authenticator.Type.EMAIL:
                email_code_send(user=user, request=request)
                messages.info(request, f"We sent a code to {user.email}.")
            elif method == Authenticator.Type.SMS:
                ending = sms_code_send(user=user, request=request)
                messages.info(request, f"We sent a code by SMS to your phone ending in {ending}.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(f"{request.path}?method={method}")
    if request.method == "POST" and form.is_valid():
        result = verify(request, state, method=method, code=form.cleaned_data["code"])
        if result == ChallengeOutcome.PASSED:
            return continue_sign_in_or_restart(request)
        if result in (ChallengeOutcome.EXHAUSTED, ChallengeOutcome.LOCKED):
            return _restart(
                request,
                EXHAUSTED
                if result == ChallengeOutcome.EXHAUSTED
                else signin.SIGN_IN_FAILED_MESSAGE,
            )
        form.add_error("code", FAILED)
    labels = {m.type: m.get_type_display() for m in methods} | {RECOVERY: "Recovery code"}
    return render(
        request,
        "mfa/challenge.html",
        {
            "form": form,
            "method": method,
            "choices": [(t, labels[t]) for t in types],
            "method_label": labels[method],
            "person": user,
            "phone_ending": _phone_ending(user) if method == Authenticator.Type.SMS else "",
        },
    )


def _phone_ending(user) -> str:
    phone = phone_of(user)
    return last_digits(phone.number) if phone and phone.number else ""


def _pending_totp_secret(request, state: dict) -> str:
    """The secret offered during this sign-in's setup, kept encrypted in the partial state."""
    if "totp_secret" not in state:
        state["totp_secret"] = encrypt(json.dumps(totp.new_secret()))
        save_state(request, state)
    return json.loads(decrypt(state["totp_secret"]))


@never_cache
@require_http_methods(["GET", "POST"])
def setup_at_sign_in_view(request):
    """2FA is required and the person has none: set one up now, or skip inside the grace period."""
    state = _pending(request)
    if state is None:
        return redirect("login")
    user = signin.pending_user(request, state)
    policy = policy_for(user.tenant)
    allowed = allowed_types_for(user, policy)
    grace = grace_until(user, policy)
    action = request.POST.get("action", "")
    form = CodeForm(request.POST if action in ("totp", "email", "sms") else None)
    phone_error = ""
    if request.method == "POST":
        if action == "continue" and state.get("mfa_done"):
            return continue_sign_in_or_restart(request)
        if action == "skip" and grace:
            state["mfa_skipped"] = True
            save_state(request, state)
            record(
                user.tenant,
                user,
                EventAction.MFA_GRACE_SKIPPED,
                user,
                request,
                until=grace.isoformat(),
            )
            return continue_sign_in_or_restart(request)
        if action == "email_send" and Authenticator.Type.EMAIL in allowed:
            try:
                email_code_send(user=user, request=request)
                messages.info(request, f"We sent a code to {user.email}.")
            except ApplicationError as exc:
                messages.error(request, exc.message)
            return redirect(request.path)
        if action == "sms_send" and Authenticator.Type.SMS in allowed:
            try:
                number = phone_verification_send(
                    user=user, phone=request.POST.get("phone", ""), request=request
                )
                messages.info(request, f"We sent a code by SMS to {number}.")
            except ApplicationError as exc:
                if exc.field != "phone":
                    messages.error(request, exc.message)
                    return redirect(request.path)
                phone_error = exc.message
            else:
                return redirect(request.path)
        if action in ("totp", "email", "sms") and action in allowed and form.is_valid():
            code = form.cleaned_data["code"]
            try:
                if action == "sms":
                    created = sms_enable(
                        user=user,
                        actor=user,
                        phone=request.POST.get("phone", ""),
                        code=code,
                        request=request,
                    )
                elif action == "totp":
                    created = totp_enable(
                        user=user,
                        actor=user,
                        code=code,
                        request=request,
                        secret=_pending_totp_secret(request, state),
                    )
                else:
                    created = email_enable(user=user, actor=user, code=code, request=request)
            except ApplicationError as exc:
                if exc.field == "phone":
                    phone_error = exc.message
                else:
                    form.add_error("code", exc.message)
            else:
                state.pop("totp_secret", None)
                mark_passed(request, state, action)
                if created:
                    keep_codes_for_download(request, created, email=user.email)
                    return render(request, "mfa/recovery_codes_at_sign_in.html", {"codes": created})
                return continue_sign_in_or_restart(request)
    secret = _pending_totp_secret(request, state) if Authenticator.Type.TOTP in allowed else None
    uri = secret and totp.provisioning_uri(secret, email=user.email, issuer=user.tenant.name)
    phone = phone_of(user) if Authenticator.Type.SMS in allowed else None
    pending_number = phone.pending_number if phone else ""
    return render(
        request,
        "mfa/setup_at_sign_in.html",
        {
            "form": form,
            "allowed": allowed,
            "grace": grace,
            "person": user,
            "action": action,
            "qr_svg": uri and totp.qr_svg(uri),
            "passphrase": secret and totp.grouped(secret),
            "uri": uri,
            "phone_value": request.POST.get("phone") or pending_number or user.phone,
            "phone_pending": pending_number,
            "phone_error": phone_error,
        },
    )
