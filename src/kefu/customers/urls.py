"""The archive's pages under /customers/: one module per area."""

from django.urls import include, path

app_name = "customers"
urlpatterns = [
    path("", include("kefu.customers.urls_archive")),
    path("io/", include("kefu.customers.urls_io")),
    path("loans/", include("kefu.customers.urls_loans")),
    path("settings/", include("kefu.customers.urls_settings")),
]
