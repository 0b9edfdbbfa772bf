"""Event log URLs (namespace "eventlog"), mounted at /account/events/."""

from django.urls import path

from . import views

app_name = "eventlog"

urlpatterns = [
    path("", views.event_list_view, name="list"),
    path("export.csv", views.event_export_view, name="export"),
]
