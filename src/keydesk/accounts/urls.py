"""Sign-in at /login and /logout; account administration (namespace "accounts") under /account/
and /preferences/."""

from django.urls import include, path

from . import views
from .models import User


def _people(slug: str, name: str, kind: str) -> list:
    kwargs = {"kind": kind}
    return [
        path(f"account/{slug}/", views.person_list_view, kwargs, name=f"{name}_list"),
        path(f"account/{slug}/new", views.person_create_view, kwargs, name=f"{name}_create"),
        path(f"account/{slug}/<int:user_id>/", views.person_edit_view, kwargs, name=f"{name}_edit"),
        path(
            f"account/{slug}/<int:user_id>/deactivate",
            views.person_deactivate_view,
            kwargs,
            name=f"{name}_deactivate",
        ),
        path(
            f"account/{slug}/<int:user_id>/reactivate",
            views.person_reactivate_view,
            kwargs,
            name=f"{name}_reactivate",
        ),
    ]


account_urlpatterns = [
    *_people("agents", "agent", User.Kind.STAFF),
    *_people("contacts", "contact", User.Kind.CONTACT),
    path("account/teams/", views.team_list_view, name="team_list"),
    path("account/teams/new", views.team_create_view, name="team_create"),
    path("account/teams/<int:team_id>/", views.team_edit_view, name="team_edit"),
    path("account/teams/<int:team_id>/delete", views.team_delete_view, name="team_delete"),
    path("preferences/tokens/", views.token_list_view, name="token_list"),
    path("preferences/tokens/new", views.token_create_view, name="token_create"),
    path("preferences/tokens/<int:token_id>/revoke", views.token_revoke_view, name="token_revoke"),
]

urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("", include((account_urlpatterns, "accounts"))),
]
