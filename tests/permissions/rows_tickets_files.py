"""Rows for ticket attachments and the 投诉告知单 PDFs. Whoever sees the ticket may
download, upload and print its slip: the service desk of its region, those who see
everything, and department staff only while a live slip for their department is on it
(404 otherwise); roles without tickets get 403. The matrix users all have the
matrix region, so the "other department" rows put the ticket in another region too. The monthly slip archive needs
`tickets.export_ticket` (经理, 主管, 总经理).

The upload and download rows store a few bytes under the data dir's attachments/."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.permissions.matrix import Row, roles

TICKET_VIEWERS = roles(
    "manager", "supervisor", "agent", "account_manager", "quality_officer", "department_staff", "director"
)
EXPORTERS = roles("manager", "supervisor", "director")
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def _routed(w, *, other_department: bool = False):
    """A ticket of the matrix region routed to the matrix users' department, or one of
    another region routed to another department: the matrix users have a region too,
    so only then does the department's own scope alone decide."""
    from kefu.core.models import Department, Region
    from kefu.tickets.services.flow import ticket_route
    from tests.factories_tickets import load_ticket_config, make_ticket

    load_ticket_config()
    owner = w.make_user("manager", username="matrix-ticket-owner", scope_all=True)
    region, department = w.region, w.department
    if other_department:
        region = Region.objects.create(code="matrix-west", name="西区")
        department = Department.objects.create(code="matrix-other", name="工程部")
    ticket = make_ticket(owner, region=region)
    (routing,) = ticket_route(actor=owner, ticket=ticket, departments=[department])
    return owner, ticket, routing


def _attachment_url(other_department: bool):
    def url(w):
        from kefu.tickets.services.attachments import attachment_add

        owner, ticket, _ = _routed(w, other_department=other_department)
        upload = SimpleUploadedFile("现场照片.png", PNG_HEAD)
        return reverse("tickets:attachment", args=[attachment_add(actor=owner, ticket=ticket, upload=upload).pk])

    return url


def _slip_url(other_department: bool):
    def url(w):
        return reverse("tickets:slip_pdf", args=[_routed(w, other_department=other_department)[2].pk])

    return url


def _upload_url(other_department: bool):
    def url(w):
        return reverse("tickets:attachment_upload", args=[_routed(w, other_department=other_department)[1].pk])

    return url


def _archive_url(w):
    _routed(w)
    return reverse("tickets:slip_archive") + f"?month={timezone.localdate():%Y-%m}"


def _png(w):
    return {"file": SimpleUploadedFile("照片.png", PNG_HEAD)}


# Another region and department: only those who see everything.
NOT_DEPARTMENT = roles("manager", "director")
HIDDEN = (403, 404)

ROWS = [
    Row("tickets-attachment", _attachment_url(False), TICKET_VIEWERS, denied_status=HIDDEN),
    Row("tickets-attachment-other-department", _attachment_url(True), NOT_DEPARTMENT, denied_status=HIDDEN),
    Row(
        "tickets-attachment-upload",
        _upload_url(False),
        TICKET_VIEWERS,
        method="post",
        data=_png,
        denied_status=HIDDEN,
    ),
    Row(
        "tickets-attachment-upload-other-department",
        _upload_url(True),
        NOT_DEPARTMENT,
        method="post",
        data=_png,
        denied_status=HIDDEN,
    ),
    Row("tickets-slip-pdf", _slip_url(False), TICKET_VIEWERS, denied_status=HIDDEN),
    Row("tickets-slip-pdf-other-department", _slip_url(True), NOT_DEPARTMENT, denied_status=HIDDEN),
    Row("tickets-slip-archive", _archive_url, EXPORTERS),
]
