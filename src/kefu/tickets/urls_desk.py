"""URL patterns included by tickets/urls.py (namespace `tickets`)."""

urlpatterns: list = []
