"""URL map: the operator's admin at /ops/, the API at /api/v1/, and the tenant web app."""

from django.contrib import admin
from django.urls import include, path

from keydesk.api.api import api
from keydesk.mail.urls import preference_urlpatterns as mail_preference_urlpatterns
from keydesk.tickets.urls import portal_urlpatterns

urlpatterns = [
    path("ops/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("keydesk.accounts.urls")),
    path("", include("keydesk.mfa.urls")),
    path("", include("keydesk.tap.urls")),
    path("tickets/", include("keydesk.tickets.urls")),
    path("portal/", include(portal_urlpatterns)),
    path("account/events/", include("keydesk.eventlog.urls")),
    path("account/security/access-lists/", include("keydesk.access.urls")),
    path("account/channels/", include("keydesk.mail.urls")),
    path("preferences/", include(mail_preference_urlpatterns)),
    path("", include("keydesk.tenants.urls")),
    path("", include("keydesk.web.urls")),
]

handler404 = "keydesk.web.views.not_found"
handler500 = "keydesk.web.views.server_error"
