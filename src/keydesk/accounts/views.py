"""Account pages: sign-in and sign-out, people and teams administration, API tokens."""

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from keydesk.core.errors import ApplicationError
from keydesk.web.shortcuts import form_error, message_error, paginate, permission_required

from . import signin
from .api_tokens import token_create, token_revoke
from .forms import (
    AdminSetPasswordForm,
    PasswordSignInForm,
    PersonForm,
    PersonSearchForm,
    TeamForm,
    TokenCreateForm,
)
from .models import User
from .permissions import Perm, can, can_manage_person
from .selectors import person_get, person_list, team_get, team_list, token_get, token_list
from .services import (
    team_create,
    team_delete,
    team_update,
    user_create,
    user_deactivate,
    user_reactivate,
    user_update,
)

PEOPLE_PER_PAGE = 25

# Sign-in


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    """Email and password, then whatever the sign-in pipeline asks for next."""
    next_url = request.POST.get("next") or request.GET.get("next")
    if request.user.is_authenticated and request.method == "GET":
        return redirect(signin.safe_next(request, next_url))
    form = PasswordSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = signin.sign_in_with_first_factor(
            request,
            email=form.cleaned_data["email"],
            secret=form.cleaned_data["password"],
            method="pwd",
            next_url=next_url,
        )
        if outcome.redirect_to:
            return redirect(outcome.redirect_to)
        form.add_error(None, outcome.error)
    next_value = signin.safe_next(request, next_url, default="")
    return render(request, "accounts/login.html", {"form": form, "next": next_value})


@require_POST
def logout_view(request):
    """End the session and its sign-in record."""
    signin.sign_out(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


# People: one set of views serves the agent list (all staff) and the contact list.


@dataclass(frozen=True)
class PeopleSection:
    kind: str
    title: str
    noun: str
    url: str  # URL name prefix: "<url>_list", "<url>_create", …

    def url_name(self, page: str) -> str:
        return f"accounts:{self.url}_{page}"


SECTIONS = {
    User.Kind.STAFF: PeopleSection(User.Kind.STAFF, "Agent list", "agent", "agent"),
    User.Kind.CONTACT: PeopleSection(User.Kind.CONTACT, "Contact list", "contact", "contact"),
}


def profile_redirect(person: User):
    """Back to the person's page in the agent or the contact list."""
    return redirect(SECTIONS[person.kind].url_name("edit"), user_id=person.pk)


def _assignable_roles(actor: User) -> list[str]:
    return [
        role
        for role in User.Role.values
        if can_manage_person(actor, kind=User.Kind.STAFF, role=role)
    ]


def _may_create(actor: User, kind: str) -> bool:
    if kind == User.Kind.STAFF:
        return bool(_assignable_roles(actor))
    return can_manage_person(actor, kind=kind)


def _section_context(section: PeopleSection) -> dict:
    names = ("list", "create", "edit", "deactivate", "reactivate")
    return {"section": section, "urls": {name: section.url_name(name) for name in names}}


@permission_required(Perm.USER_VIEW)
@require_GET
def person_list_view(request, kind: str):
    """Staff or contacts of the tenant, searchable, with what the viewer may do to each."""
    section = SECTIONS[kind]
    form = PersonSearchForm(request.GET)
    form.is_valid()
    people = person_list(actor=request.user, kind=kind, q=form.cleaned_data.get("q"))
    page = paginate(request, people, PEOPLE_PER_PAGE)
    rows = [
        (person, can_manage_person(request.user, kind=person.kind, role=person.role))
        for person in page.object_list
    ]
    context = {
        **_section_context(section),
        "form": form,
        "page": page,
        "rows": rows,
        "may_create": _may_create(request.user, kind),
    }
    return render(request, "accounts/person_list.html", context)


@permission_required(Perm.USER_VIEW)
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def person_create_view(request, kind: str):
    """Add a staff member or a contact."""
    if not _may_create(request.user, kind):
        raise Http404
    section = SECTIONS[kind]
    form = PersonForm(
        request.POST or None,
        kind=kind,
        roles=_assignable_roles(request.user),
        new=True,
        initial={"role": User.Role.AGENT},
    )
    if request.method == "POST" and form.is_valid():
        try:
            person = user_create(
                tenant=request.tenant,
                actor=request.user,
                kind=kind,
                request=request,
                **form.service_arguments(),
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"{person.display_name} was added.")
            return redirect(section.url_name("list"))
    context = {**_section_context(section), "form": form, "person": None}
    return render(request, "accounts/person_form.html", context)


def _managed_person(request, kind: str, user_id: int) -> User:
    person = person_get(actor=request.user, user_id=user_id, kind=kind)
    if not can_manage_person(request.user, kind=person.kind, role=person.role):
        raise Http404
    return person


@permission_required(Perm.USER_VIEW)
@require_http_methods(["GET", "POST"])
def person_edit_view(request, kind: str, user_id: int):
    """Change a person's email, name, role, guest flag, language or phone."""
    section = SECTIONS[kind]
    person = _managed_person(request, kind, user_id)
    form = PersonForm.for_person(
        person, request.POST or None, roles=_assignable_roles(request.user)
    )
    if not can(request.user, Perm.STAFF_MANAGE_PRIVILEGED):
        # Guest status is the admins' to change (it decides how someone may sign in).
        form.fields["is_guest"].disabled = True
        form.fields["is_guest"].help_text = "Only admins change this."
    if request.method == "POST" and form.is_valid():
        try:
            person = user_update(
                user=person, actor=request.user, request=request, **form.service_arguments()
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"{person.display_name} was saved.")
            return redirect(section.url_name("list"))
    context = {
        **_section_context(section),
        "form": form,
        "person": person,
        "password_form": AdminSetPasswordForm(),
    }
    return render(request, "accounts/person_form.html", context)


@permission_required(Perm.USER_VIEW)
@require_POST
def person_deactivate_view(request, kind: str, user_id: int):
    """Deactivate a person; their open sessions end."""
    person = person_get(actor=request.user, user_id=user_id, kind=kind)
    try:
        person = user_deactivate(user=person, actor=request.user, request=request)
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, f"{person.display_name} was deactivated.")
    return redirect(SECTIONS[kind].url_name("list"))


@permission_required(Perm.USER_VIEW)
@require_POST
def person_reactivate_view(request, kind: str, user_id: int):
    """Let a deactivated person sign in again."""
    person = person_get(actor=request.user, user_id=user_id, kind=kind)
    try:
        person = user_reactivate(user=person, actor=request.user, request=request)
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, f"{person.display_name} was reactivated.")
    return redirect(SECTIONS[kind].url_name("list"))


# Teams


@permission_required(Perm.USER_VIEW)
@require_GET
def team_list_view(request):
    """The tenant's teams and their members."""
    context = {
        "teams": team_list(tenant=request.tenant),
        "may_manage": can(request.user, Perm.TEAM_MANAGE),
    }
    return render(request, "accounts/team_list.html", context)


def _staff(request) -> list[User]:
    return list(person_list(actor=request.user, kind=User.Kind.STAFF))


@permission_required(Perm.TEAM_MANAGE)
@require_http_methods(["GET", "POST"])
def team_create_view(request):
    """Create a team with its members."""
    staff = _staff(request)
    form = TeamForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_create(
                tenant=request.tenant,
                actor=request.user,
                name=form.cleaned_data["name"],
                members=form.selected_members(staff),
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Team {team.name} was created.")
            return redirect("accounts:team_list")
    return render(request, "accounts/team_form.html", {"form": form, "team": None})


@permission_required(Perm.TEAM_MANAGE)
@require_http_methods(["GET", "POST"])
def team_edit_view(request, team_id: int):
    """Rename a team or change its members."""
    team = team_get(tenant=request.tenant, team_id=team_id)
    staff = _staff(request)
    initial = {"name": team.name, "members": [str(m.pk) for m in team.members.all()]}
    form = TeamForm(request.POST or None, staff=staff, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_update(
                team=team,
                actor=request.user,
                name=form.cleaned_data["name"],
                members=form.selected_members(staff),
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Team {team.name} was saved.")
            return redirect("accounts:team_list")
    return render(request, "accounts/team_form.html", {"form": form, "team": team})


@permission_required(Perm.TEAM_MANAGE)
@require_POST
def team_delete_view(request, team_id: int):
    """Delete a team; its tickets keep their assignee and lose the team."""
    team = team_get(tenant=request.tenant, team_id=team_id)
    name = team.name
    try:
        team_delete(team=team, actor=request.user, request=request)
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, f"Team {name} was deleted.")
    return redirect("accounts:team_list")


# API tokens


def _render_tokens(request, form, status: int = 200):
    context = {"tokens": token_list(user=request.user), "form": form}
    return render(request, "accounts/token_list.html", context, status=status)


@permission_required(Perm.API_TOKEN_OWN)
@require_GET
def token_list_view(request):
    """The person's own API tokens and a form to create one."""
    return _render_tokens(request, TokenCreateForm())


@permission_required(Perm.API_TOKEN_OWN)
@never_cache
@require_POST
def token_create_view(request):
    """Create a token and show it this once; it is never stored or shown again."""
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, raw = token_create(
                user=request.user,
                actor=request.user,
                name=form.cleaned_data["name"],
                request=request,
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            return render(request, "accounts/token_created.html", {"token": token, "raw": raw})
    return _render_tokens(request, form)


@permission_required(Perm.API_TOKEN_OWN)
@require_POST
def token_revoke_view(request, token_id: int):
    """Revoke one of the person's own tokens; requests with it fail from now on."""
    token = token_get(user=request.user, token_id=token_id)
    token = token_revoke(token=token, actor=request.user, request=request)
    messages.success(request, f"Token {token.name} was revoked.")
    return redirect("accounts:token_list")
