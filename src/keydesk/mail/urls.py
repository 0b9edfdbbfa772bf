"""Mail pages: Account › Channels (namespace "mail") and the person's notification preference."""

from django.urls import path

from .inbound import views as inbound_views
from .outbound import views as outbound_views

app_name = "mail"

urlpatterns = [
    path("outgoing", outbound_views.outgoing_settings_view, name="outgoing"),
    path("outbox/", outbound_views.outbox_list_view, name="outbox"),
    path("outbox/<int:email_id>/retry", outbound_views.outbox_retry_view, name="outbox_retry"),
    path("email/addresses/", inbound_views.email_addresses_view, name="email_addresses"),
    path(
        "email/addresses/<int:address_id>/remove",
        inbound_views.email_address_remove_view,
        name="email_address_remove",
    ),
    path("email/settings", inbound_views.email_settings_view, name="email_settings"),
    path("email/log/", inbound_views.email_log_view, name="email_log"),
    path("email/log/<int:email_id>/", inbound_views.email_detail_view, name="email_detail"),
    path("email/log/<int:email_id>/raw", inbound_views.email_raw_view, name="email_raw"),
    path(
        "email/log/<int:email_id>/reprocess",
        inbound_views.email_reprocess_view,
        name="email_reprocess",
    ),
]

preference_urlpatterns = [
    path(
        "notifications",
        outbound_views.notification_preferences_view,
        name="notification_preferences",
    ),
]
