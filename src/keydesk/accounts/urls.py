"""Sign-in at /login and /logout; account administration (namespace "accounts") under /account/
and /preferences/."""

from django.urls import include, path

from . import password_views, security_views, session_views, views
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
    path(
        "account/contacts/<int:user_id>/verification",
        password_views.verification_resend_view,
        name="contact_verification_resend",
    ),
    path(
        "account/people/<int:user_id>/unlock",
        password_views.person_unlock_view,
        name="person_unlock",
    ),
    path(
        "account/people/<int:user_id>/password",
        password_views.person_set_password_view,
        name="person_set_password",
    ),
    path(
        "account/people/<int:user_id>/sign-out",
        session_views.person_sign_out_view,
        name="person_sign_out",
    ),
    path(
        "account/security/password-policy",
        security_views.password_policy_view,
        name="security_password_policy",
    ),
    path(
        "account/security/sign-in-protection",
        security_views.sign_in_protection_view,
        name="security_sign_in_protection",
    ),
    path("account/security/sessions", security_views.session_policy_view, name="security_sessions"),
    path("preferences/sessions/", session_views.session_list_view, name="session_list"),
    path(
        "preferences/sessions/<int:session_id>/revoke",
        session_views.session_revoke_view,
        name="session_revoke",
    ),
    path(
        "preferences/sessions/revoke-others",
        session_views.session_revoke_others_view,
        name="session_revoke_others",
    ),
    path("preferences/password", password_views.password_change_view, name="password_change"),
    path("preferences/tokens/", views.token_list_view, name="token_list"),
    path("preferences/tokens/new", views.token_create_view, name="token_create"),
    path("preferences/tokens/<int:token_id>/revoke", views.token_revoke_view, name="token_revoke"),
]

urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path(
        "login/password",
        password_views.signin_password_change_view,
        name="signin_password_change",
    ),
    path("password/reset", password_views.password_reset_request_view, name="password_reset"),
    path(
        "password/reset/<str:token>",
        password_views.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path("register", password_views.register_view, name="register"),
    path("verify/<str:token>", password_views.verify_email_view, name="verify_email"),
    path("", include((account_urlpatterns, "accounts"))),
]
