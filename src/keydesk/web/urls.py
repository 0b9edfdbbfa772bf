"""The start page; each area mounts its own URLs in keydesk/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
]
