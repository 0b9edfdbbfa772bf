"""Pages every tenant has: home (by role) and the error pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from keydesk.accounts.signin import home_url


@login_required
def home(request):
    """Staff start in the workspace, contacts in the portal."""
    return redirect(home_url(request.user))


def not_found(request, exception=None):
    """The one answer for missing and not-allowed pages."""
    return render(request, "web/not_found.html", status=404)


def server_error(request):
    """A page that needs nothing from the database or the session."""
    return render(request, "web/server_error.html", status=500)


def csrf_failure(request, reason=""):
    """A form that expired or came from another site."""
    return render(request, "web/csrf_failure.html", status=403)
