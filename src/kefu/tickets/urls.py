"""/tickets/…: every ticket page lives in the `tickets` namespace; each part of the
desk keeps its own patterns module."""

from django.urls import include, path

from kefu.tickets.views.detail import ticket_detail

app_name = "tickets"

urlpatterns = [
    path("<int:pk>/", ticket_detail, name="detail"),
    path("", include("kefu.tickets.urls_desk")),
    path("", include("kefu.tickets.urls_detail")),
    path("", include("kefu.tickets.urls_files")),
    path("", include("kefu.tickets.urls_discipline")),
    path("settings/", include("kefu.tickets.urls_settings")),
]
