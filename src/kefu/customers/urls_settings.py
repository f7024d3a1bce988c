"""URLs of the archive settings (under kefu.customers.urls at /customers/settings/,
namespace "customers")."""

from django.urls import path

from kefu.customers.views import settings

urlpatterns = [
    path("", settings.settings_index, name="settings"),
    path("numbering/", settings.numbering_edit, name="settings_numbering"),
    path("<slug:kind>/new/", settings.settings_create, name="settings_create"),
    path("<slug:kind>/<int:pk>/edit/", settings.settings_edit, name="settings_edit"),
    path("<slug:kind>/<int:pk>/deactivate/", settings.settings_deactivate, name="settings_deactivate"),
    path("<slug:kind>/<int:pk>/reactivate/", settings.settings_reactivate, name="settings_reactivate"),
]
