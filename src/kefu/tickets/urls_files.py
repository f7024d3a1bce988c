"""URL patterns included by tickets/urls.py (namespace `tickets`): attachments and
the 投诉告知单 PDFs."""

from django.urls import path

from kefu.tickets.views import files

urlpatterns: list = [
    path("<int:pk>/attachments/", files.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", files.attachment_download, name="attachment"),
    path("slips/<int:pk>/pdf/", files.routing_slip_pdf, name="slip_pdf"),
    path("slips/archive/", files.routing_slip_archive, name="slip_archive"),
]
