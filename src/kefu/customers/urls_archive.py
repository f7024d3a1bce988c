"""URLs of the archive pages (under kefu.customers.urls, namespace "customers")."""

urlpatterns: list = []
