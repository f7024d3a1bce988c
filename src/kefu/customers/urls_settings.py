"""URLs of the settings pages (under kefu.customers.urls, namespace "customers")."""

urlpatterns: list = []
