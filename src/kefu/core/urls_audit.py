"""URLs of the audit pages (included under /audit/ by kefu.core.urls)."""

urlpatterns: list = []
