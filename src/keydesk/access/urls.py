"""Access-list pages (namespace "access"), mounted at /account/security/access-lists/."""

from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path("", views.rule_list_view, name="rule_list"),
    path("new", views.rule_create_view, name="rule_create"),
    path("<int:rule_id>/", views.rule_edit_view, name="rule_edit"),
    path("<int:rule_id>/delete", views.rule_delete_view, name="rule_delete"),
    path("import", views.rules_import_view, name="rules_import"),
    path("export.csv", views.rules_export_view, name="rules_export"),
    path("test", views.rule_tester_view, name="rule_tester"),
]
