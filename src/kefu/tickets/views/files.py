"""Attachments (upload, download) and the 投诉告知单 PDF of one slip (the monthly archive
is made in the background: `views/archive.py`). Files go out only to those who may see
the ticket; everything else is a 404 that does not reveal the file exists."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.views.base import require_perm
from kefu.tickets.pdf import PDF_CONTENT_TYPE, slip_pdf
from kefu.tickets.selectors import routing_get, ticket_get
from kefu.tickets.services.attachments import attachment_add, attachment_open, served_type
from kefu.tickets.services.common import VIEW

MAX_FILES_PER_UPLOAD = 10


def content_disposition(kind: str, filename: str) -> str:
    """`attachment`/`inline` with an ASCII fallback name and the real one as RFC 5987
    `filename*` (UTF-8, percent-encoded), so Chinese names survive every browser and
    no quote or line break in a name can end the header."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;%' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _protect(response, *, sandbox: bool) -> None:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if sandbox:
        # Should a browser ever open the file itself, nothing in it may run.
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"


def _error(request, err: KefuError):
    return render(request, "error.html", {"message": err.message}, status=err.status)


@require_GET
@require_perm(VIEW)
def attachment_download(request, pk: int):
    """Always a download (never shown in the page), typed from the bytes as they were
    checked at upload: images and PDFs as themselves, anything else as plain bytes. Audited."""
    attachment, handle = attachment_open(user=request.user, pk=pk)
    response = FileResponse(handle, content_type=served_type(attachment.content_type))
    response["Content-Disposition"] = content_disposition("attachment", attachment.original_name)
    _protect(response, sandbox=True)
    return response


@require_POST
@require_perm(VIEW)
def attachment_upload(request, pk: int):
    """One or more files (field `file`) onto the ticket, each checked and stored on its
    own; the first refusal stops and says which file and how many were kept."""
    ticket = ticket_get(user=request.user, pk=pk)
    uploads = request.FILES.getlist("file")
    if not uploads:
        return _error(request, ValidationFailed(_("请选择要上传的文件。")))
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        return _error(request, ValidationFailed(_("一次最多上传 %(n)s 个文件。") % {"n": MAX_FILES_PER_UPLOAD}))
    saved = 0
    for upload in uploads:
        try:
            attachment_add(actor=request.user, ticket=ticket, upload=upload)
        except KefuError as err:
            if saved:
                err.message = _("%(error)s（此前的 %(n)s 个文件已上传。）") % {"error": err.message, "n": saved}
            return _error(request, err)
        saved += 1
    messages.success(request, ngettext("已上传 %(n)s 个附件。", "已上传 %(n)s 个附件。", saved) % {"n": saved})
    return redirect("tickets:detail", pk=ticket.pk)


def _pdf_response(pdf: bytes, *, filename: str, kind: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type=PDF_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(kind, filename)
    _protect(response, sandbox=False)
    return response


@require_GET
@require_perm(VIEW)
def routing_slip_pdf(request, pk: int):
    """The slip, shown in the browser's PDF viewer to print."""
    routing = routing_get(user=request.user, pk=pk)
    pdf = slip_pdf(user=request.user, routing=routing)
    return _pdf_response(pdf, filename=_("投诉告知单_%(no)s.pdf") % {"no": routing.slip_no}, kind="inline")
