"""The account's own pages about itself."""

from django.urls import path

from . import views

urlpatterns = [
    path("account/limits", views.creation_limits_view, name="creation_limits"),
]
