"""URL patterns included by tickets/urls.py (namespace `tickets`): attachments, the
投诉告知单 PDF, and the monthly archives made in the background (their job pages serve
the visits' call-records archive too)."""

from django.urls import path

from kefu.tickets.views import archive, files

urlpatterns: list = [
    path("<int:pk>/attachments/", files.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", files.attachment_download, name="attachment"),
    path("slips/<int:pk>/pdf/", files.routing_slip_pdf, name="slip_pdf"),
    path("slips/archive/", archive.slip_archive, name="slip_archive"),
    path("archives/<int:pk>/", archive.archive_job, name="archive_job"),
    path("archives/<int:pk>/status/", archive.archive_job_status, name="archive_job_status"),
    path("archives/<int:pk>/file/", archive.archive_job_file, name="archive_job_file"),
]
