from django.urls import path

from . import signin_views, views

urlpatterns = [
    path("login/tap", signin_views.tap_sign_in_view, name="tap_sign_in"),
    path("account/security/tap", views.policy_view, name="tap_policy"),
    path("account/people/<int:user_id>/authentication", views.person_view, name="tap_person"),
    path(
        "account/people/<int:user_id>/authentication/tap/new",
        views.person_create_view,
        name="tap_person_create",
    ),
    path(
        "account/people/<int:user_id>/authentication/tap/delete",
        views.person_delete_view,
        name="tap_person_delete",
    ),
]
