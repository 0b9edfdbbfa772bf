from django.urls import path

from . import signin_views

urlpatterns = [
    path("login/verify", signin_views.challenge_view, name="mfa_challenge"),
    path("login/setup-2fa", signin_views.setup_at_sign_in_view, name="mfa_setup_at_sign_in"),
]
