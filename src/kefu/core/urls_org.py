"""URLs of the org pages (included under /org/ by kefu.core.urls)."""

urlpatterns: list = []
