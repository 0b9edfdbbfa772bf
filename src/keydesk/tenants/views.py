"""The page that explains a new account's creation limits and what is left of today's."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .limits import limits_status


@login_required
@require_GET
def creation_limits_view(request):
    """Account › Creation limits: for every staff member; contacts get a 404."""
    if not request.user.is_staff_member:
        raise Http404
    context = {
        "status": limits_status(tenant=request.tenant),
        "days": settings.NEW_ACCOUNT_DAYS,
        "users_per_day": settings.NEW_ACCOUNT_USERS_PER_DAY,
        "tickets_per_day": settings.NEW_ACCOUNT_TICKETS_PER_DAY,
    }
    return render(request, "tenants/creation_limits.html", context)
