"""URLs of the import/export pages (under kefu.customers.urls, namespace "customers")."""

from django.urls import path

from kefu.customers.views import io

urlpatterns = [
    path("export/", io.customer_export, name="export"),
    path("import/", io.import_upload, name="import"),
    path("import/template/", io.import_template, name="import_template"),
    path("import/<int:pk>/", io.import_job_detail, name="import_job"),
    path("import/<int:pk>/status/", io.import_job_status, name="import_job_status"),
    path("import/<int:pk>/commit/", io.import_job_commit, name="import_commit"),
]
