from django.urls import path

from . import admin_views, signin_views, sms_views, views

urlpatterns = [
    path("login/verify", signin_views.challenge_view, name="mfa_challenge"),
    path("login/setup-2fa", signin_views.setup_at_sign_in_view, name="mfa_setup_at_sign_in"),
    path("preferences/2fa", views.preferences_view, name="mfa_preferences"),
    path("preferences/2fa/app", views.totp_setup_view, name="mfa_totp_setup"),
    path("preferences/2fa/email", views.email_setup_view, name="mfa_email_setup"),
    path("preferences/2fa/sms", sms_views.sms_setup_view, name="mfa_sms_setup"),
    path("preferences/2fa/remove/<str:method>", views.method_remove_view, name="mfa_method_remove"),
    path("preferences/2fa/recovery-codes", views.recovery_codes_view, name="mfa_recovery_codes"),
    path(
        "preferences/2fa/recovery-codes/download",
        views.recovery_codes_download_view,
        name="mfa_recovery_codes_download",
    ),
    path("preferences/reauth", views.reauth_view, name="mfa_reauth"),
    path("account/security/2fa", admin_views.policy_view, name="mfa_policy"),
    path("account/people/<int:user_id>/2fa", admin_views.person_mfa_view, name="mfa_person"),
    path(
        "account/people/<int:user_id>/2fa/enforce",
        admin_views.person_enforce_view,
        name="mfa_person_enforce",
    ),
    path(
        "account/people/<int:user_id>/2fa/app", admin_views.person_totp_view, name="mfa_person_totp"
    ),
    path(
        "account/people/<int:user_id>/2fa/remove",
        admin_views.person_remove_view,
        name="mfa_person_remove",
    ),
]
