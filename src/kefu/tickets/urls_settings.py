"""Ticket configuration pages, included by tickets/urls.py at /tickets/settings/
(namespace `tickets`). `section` is one of views.settings.SECTIONS: kinds,
categories, policies, rules."""

from django.urls import path

from kefu.tickets.views import settings

urlpatterns = [
    path("", settings.settings_index, name="settings"),
    path("general/", settings.settings_general, name="settings_general"),
    path("preview/", settings.settings_preview, name="settings_preview"),
    path("<slug:section>/new/", settings.settings_create, name="settings_create"),
    path("<slug:section>/<int:pk>/edit/", settings.settings_edit, name="settings_edit"),
    path("<slug:section>/<int:pk>/deactivate/", settings.settings_deactivate, name="settings_deactivate"),
    path("<slug:section>/<int:pk>/reactivate/", settings.settings_reactivate, name="settings_reactivate"),
]
