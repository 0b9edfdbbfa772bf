"""Ticket URLs: the agent workspace (namespace "tickets") and the portal (namespace "portal")."""

from django.urls import path

from . import attachment_views, views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list_view, name="list"),
    path("new", views.ticket_create_view, name="create"),
    path("<int:number>/", views.ticket_detail_view, name="detail"),
    path("<int:number>/reply", views.ticket_reply_view, name="reply"),
    path("<int:number>/note", views.ticket_note_view, name="note"),
    path("<int:number>/assign", views.ticket_assign_view, name="assign"),
    path("<int:number>/status", views.ticket_status_view, name="status"),
    path(
        "<int:number>/attachments/<int:attachment_id>",
        attachment_views.attachment_download_view,
        name="attachment",
    ),
]

portal_urlpatterns = (
    [
        path("", views.portal_list_view, name="list"),
        path("new", views.portal_create_view, name="create"),
        path("<int:number>/", views.portal_detail_view, name="detail"),
        path("<int:number>/reply", views.portal_reply_view, name="reply"),
        path(
            "<int:number>/attachments/<int:attachment_id>",
            attachment_views.portal_attachment_download_view,
            name="attachment",
        ),
    ],
    "portal",
)
