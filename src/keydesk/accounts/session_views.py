"""Preferences › Security › Active sessions, and an admin's "sign out everywhere"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from keydesk.web.shortcuts import not_found_when_refused

from .selectors import person_get, session_list
from .sessions import (
    describe_user_agent,
    session_revoke,
    sessions_revoke_others,
    user_sign_out_everywhere,
)
from .views import profile_redirect


@login_required
@require_GET
def session_list_view(request):
    """The person's open sessions: device, address, times, and which one is this."""
    current = request.session.session_key
    rows = [
        {
            "session": s,
            "device": describe_user_agent(s.user_agent),
            "current": s.session_key == current,
        }
        for s in session_list(user=request.user)
    ]
    return render(request, "accounts/session_list.html", {"rows": rows})


@login_required
@not_found_when_refused
@require_POST
def session_revoke_view(request, session_id: int):
    session_revoke(user=request.user, session_id=session_id, request=request)
    messages.success(request, "That session is signed out.")
    return redirect("accounts:session_list")


@login_required
@require_POST
def session_revoke_others_view(request):
    ended = sessions_revoke_others(
        user=request.user, current_key=request.session.session_key, request=request
    )
    messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("accounts:session_list")


@login_required
@not_found_when_refused
@require_POST
def person_sign_out_view(request, user_id: int):
    """End all of a person's sessions from their profile."""
    person = person_get(actor=request.user, user_id=user_id)
    ended = user_sign_out_everywhere(user=person, actor=request.user, request=request)
    messages.success(request, f"{person.email} is signed out of {ended} session(s).")
    return profile_redirect(person)
