"""URLs of the approvals pages (included under /approvals/ by kefu.core.urls)."""

urlpatterns: list = []
