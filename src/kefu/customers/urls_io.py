"""URLs of the io pages (under kefu.customers.urls, namespace "customers")."""

urlpatterns: list = []
