"""URLs of the approvals pages (included under /approvals/ by kefu.core.urls)."""

from django.urls import path

from kefu.core.views import approvals

app_name = "approvals"
urlpatterns = [
    path("", approvals.awaiting, name="awaiting"),
    path("all/", approvals.request_list, name="list"),
    path("<int:pk>/", approvals.request_detail, name="detail"),
    path("<int:pk>/decide/", approvals.request_decide, name="decide"),
    path("<int:pk>/cancel/", approvals.request_cancel, name="cancel"),
    path("policies/", approvals.policy_list, name="policy_list"),
    path("policies/new/", approvals.policy_create, name="policy_create"),
    path("policies/<int:pk>/", approvals.policy_edit, name="policy_edit"),
]
