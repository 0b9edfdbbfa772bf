"""Pages to sign up, recover and change a password, and verify a contact's email address."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import (
    continue_sign_in_or_restart,
    form_error,
    message_error,
    not_found_when_refused,
)

from . import signin
from .forms import (
    AdminSetPasswordForm,
    NewPasswordForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    RegistrationForm,
)
from .lockout import account_unlock
from .models import User
from .password_reset import (
    INVALID_LINK,
    password_reset_complete,
    password_reset_request,
    password_reset_user,
)
from .registration import contact_register
from .selectors import person_get
from .services import user_set_password
from .verification import verification_confirm, verification_send
from .views import profile_redirect


@require_http_methods(["GET", "POST"])
def password_reset_request_view(request):
    """Ask for a reset link; the answer is the same whether or not the address is known."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(
            tenant=request.tenant, email=form.cleaned_data["email"], request=request
        )
        return render(request, "accounts/password_reset_sent.html")
    return render(request, "accounts/password_reset_request.html", {"form": form})


@never_cache
@sensitive_post_parameters("new_password", "confirm_password")
@require_http_methods(["GET", "POST"])
def password_reset_confirm_view(request, token: str):
    """Choose a new password from an emailed link; the person then signs in with it."""
    if password_reset_user(tenant=request.tenant, token=token) is None:
        return render(request, "accounts/link_invalid.html", {"message": INVALID_LINK}, status=400)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_complete(
                tenant=request.tenant,
                token=token,
                password=form.cleaned_data["new_password"],
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, _on_new_password(exc))
        else:
            messages.success(request, "Your password is changed. Sign in with the new one.")
            return redirect("login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


def _on_new_password(exc: ApplicationError) -> ApplicationError:
    # The services name the field "password"; these forms call it "new_password".
    if exc.field == "password":
        exc.field = "new_password"
    return exc


@login_required
@sensitive_post_parameters("current_password", "new_password", "confirm_password")
@require_http_methods(["GET", "POST"])
def password_change_view(request):
    """Preferences › Security › Change password: the current one first."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not request.user.check_password(form.cleaned_data["current_password"]):
            form.add_error("current_password", "The current password is not correct.")
        else:
            try:
                user_set_password(
                    user=request.user,
                    actor=request.user,
                    password=form.cleaned_data["new_password"],
                    request=request,
                    keep_current_session=True,
                )
            except ApplicationError as exc:
                form_error(form, _on_new_password(exc))
            else:
                messages.success(request, "Your password is changed; your other sessions ended.")
                return redirect("accounts:password_change")
    return render(request, "accounts/password_change.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def verify_email_view(request, token: str):
    """GET shows a button, POST verifies: mail scanners that open links verify nothing."""
    if request.method == "POST":
        user = verification_confirm(tenant=request.tenant, token=token, request=request)
        if user is None:
            return render(
                request,
                "accounts/link_invalid.html",
                {"message": "This verification link is used, expired or not valid."},
                status=400,
            )
        return render(request, "accounts/email_verified.html", {"verified": user})
    return render(request, "accounts/verify_email.html", {"token": token})


@login_required
@not_found_when_refused
@require_POST
def verification_resend_view(request, user_id: int):
    """Staff resend the verification email to an unverified contact."""
    contact = person_get(actor=request.user, user_id=user_id, kind=User.Kind.CONTACT)
    try:
        verification_send(user=contact, actor=request.user, request=request)
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, f"A verification email is on its way to {contact.email}.")
    return redirect("accounts:contact_edit", user_id=contact.pk)


@login_required
@not_found_when_refused
@require_POST
def person_unlock_view(request, user_id: int):
    """Admins and managers lift a sign-in lockout from a profile."""
    person = person_get(actor=request.user, user_id=user_id)
    try:
        account_unlock(user=person, actor=request.user, request=request)
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, f"{person.email} can sign in again.")
    return profile_redirect(person)


@never_cache
@sensitive_post_parameters("new_password", "confirm_password")
@require_http_methods(["GET", "POST"])
def signin_password_change_view(request):
    """Sign-in's required action: a new password before the session starts (or, after a
    Temporary Access Pass, the offer to set one, which may be skipped)."""
    state = signin.pending_state(request)
    if state is None:
        messages.error(request, "Your sign-in took too long. Please start again.")
        return redirect("login")
    user = signin.pending_user(request, state)
    optional = state["methods"][0] == "tap"
    if optional and request.method == "POST" and request.POST.get("action") == "skip":
        state["password_offered"] = True
        request.session[signin.PENDING_KEY] = state
        return continue_sign_in_or_restart(request)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_set_password(
                user=user, actor=user, password=form.cleaned_data["new_password"], request=request
            )
        except ApplicationError as exc:
            form_error(form, _on_new_password(exc))
        else:
            state["password_offered"] = True
            request.session[signin.PENDING_KEY] = state
            return continue_sign_in_or_restart(request)
    return render(
        request,
        "accounts/signin_password_change.html",
        {"form": form, "person": user, "optional": optional},
    )


@sensitive_post_parameters("new_password", "confirm_password")
@require_http_methods(["GET", "POST"])
def register_view(request):
    """Contacts sign up, when the tenant allows it; the answer never tells who is registered."""
    if not request.tenant.self_registration:
        raise Http404
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contact_register(
                tenant=request.tenant,
                email=data["email"],
                name=data["name"],
                password=data["new_password"],
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, _on_new_password(exc))
        else:
            return render(request, "accounts/registered.html")
    return render(request, "accounts/register.html", {"form": form})


@login_required
@not_found_when_refused
@sensitive_post_parameters("new_password", "confirm_password")
@require_POST
def person_set_password_view(request, user_id: int):
    """An admin or manager sets a person's password from the profile; their sessions end."""
    person = person_get(actor=request.user, user_id=user_id)
    form = AdminSetPasswordForm(request.POST)
    if form.is_valid():
        try:
            user_set_password(
                user=person,
                actor=request.user,
                password=form.cleaned_data["new_password"],
                must_change=form.cleaned_data["must_change"],
                request=request,
            )
        except ApplicationError as exc:
            message_error(request, exc)
        else:
            messages.success(request, f"The password of {person.email} is set.")
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return profile_redirect(person)
