from django.urls import path

from . import signin_views

urlpatterns = [
    path("login/tap", signin_views.tap_sign_in_view, name="tap_sign_in"),
]
