"""URLs of the calendar pages (included under /calendar/ by kefu.core.urls)."""

urlpatterns: list = []
