"""/reports/dashboard/…: the viewer's role dashboard and the redirect its chart
segments click through (included by kefu.reports.urls, namespace `reports`)."""

from django.urls import path

from kefu.reports.views import dashboard

urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
    path("go/", dashboard.dashboard_go, name="dashboard_go"),
]
