"""/visits/: the call list, working one visit, planning by hand, oversight and the
monthly archive (namespace `visits`); the configuration and campaign pages keep their
own patterns module."""

from django.urls import include, path

from kefu.visits.views import lists, oversight, plan, work

app_name = "visits"

urlpatterns = [
    path("", lists.visit_list, name="list"),
    path("reassign/", lists.visit_reassign_view, name="reassign"),
    path("new/", plan.visit_create_view, name="create"),
    path("oversight/", oversight.oversight_view, name="oversight"),
    path("archive/", oversight.archive_view, name="archive"),
    path("<int:pk>/", work.visit_work, name="work"),
    path("<int:pk>/reschedule/", work.visit_reschedule_view, name="reschedule"),
    path("", include("kefu.visits.urls_settings")),
]
