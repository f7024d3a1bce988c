"""/reports/…: the catalogue, each report's page and its Excel/PDF files; the role
dashboard and the subscriptions keep their own pattern modules."""

from django.urls import include, path

from kefu.reports.views.index import report_index
from kefu.reports.views.report import report_page, report_pdf_view, report_xlsx_view

app_name = "reports"

urlpatterns = [
    path("", report_index, name="index"),
    path("dashboard/", include("kefu.reports.urls_dashboard")),
    path("subscriptions/", include("kefu.reports.urls_subscriptions")),
    path("<slug:key>/", report_page, name="report"),
    path("<slug:key>/export.xlsx", report_xlsx_view, name="export_xlsx"),
    path("<slug:key>/export.pdf", report_pdf_view, name="export_pdf"),
]
