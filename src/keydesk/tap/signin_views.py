"""Sign-in with a Temporary Access Pass at /login/tap (fields `email` and `tap`)."""

from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from keydesk.accounts import signin

from .forms import TapSignInForm

TAP_FAILED_MESSAGE = (
    "The email or Temporary Access Pass is not correct, or the pass is not valid now. "
    "Ask your administrator for a new pass."
)


@sensitive_post_parameters("tap")
@require_http_methods(["GET", "POST"])
def tap_sign_in_view(request):
    """The pipeline with the pass as the first factor; the same generic answer on failure."""
    next_url = request.POST.get("next") or request.GET.get("next")
    form = TapSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = signin.sign_in_with_first_factor(
            request,
            email=form.cleaned_data["email"],
            secret=form.cleaned_data["tap"],
            method="tap",
            next_url=next_url,
        )
        if outcome.redirect_to:
            return redirect(outcome.redirect_to)
        # The generic failure is worded for passes; a message told after proof stays as it is.
        generic = outcome.error == signin.SIGN_IN_FAILED_MESSAGE
        form.add_error(None, TAP_FAILED_MESSAGE if generic else outcome.error)
    return render(
        request,
        "tap/sign_in.html",
        {
            "form": form,
            "next": signin.safe_next(request, next_url, default=""),
        },
    )
