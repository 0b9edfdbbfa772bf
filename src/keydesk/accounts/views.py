"""Sign-in and sign-out pages; the pipeline in signin.py does the work."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import signin
from .forms import PasswordSignInForm


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next")
    if request.user.is_authenticated and request.method == "GET":
        return redirect(signin.safe_next(request, next_url))
    form = PasswordSignInForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            outcome = signin.sign_in_with_first_factor(
                request, email=form.cleaned_data["email"], secret=form.cleaned_data["password"],
                method="pwd", next_url=next_url,
            )
            if outcome.redirect_to:
                return redirect(outcome.redirect_to)
            form.add_error(None, outcome.error)
    return render(request, "accounts/login.html", {"form": form, "next": next_url or ""})


@require_POST
def logout_view(request):
    signin.sign_out(request)
    messages.info(request, "You are signed out.")
    return redirect("login")
