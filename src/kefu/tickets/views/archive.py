"""The monthly archive pages: ask for the month's 投诉告知单 PDF (rendered by a background
job, see `kefu.tickets.archive`), follow the job's progress, download the finished
file. The job pages serve both archives (slips and call records): who may see a job
is decided by `archive_job_list`, never by the URL."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from kefu.core.errors import InvalidState, KefuError, NotFound
from kefu.core.forms import StyledForm, add_service_error
from kefu.core.models import Department
from kefu.core.views.base import require_perm
from kefu.tickets.archive import (
    archive_file,
    archive_filename,
    archive_job_get,
    archive_job_list,
    archive_request,
    archive_title,
)
from kefu.tickets.models.archive import ArchiveKind
from kefu.tickets.pdf import PDF_CONTENT_TYPE, parse_month
from kefu.tickets.services.common import EXPORT
from kefu.tickets.views.files import content_disposition

RECENT_JOBS = 20


def last_month() -> datetime.date:
    # The archive is put together once a month has ended.
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


class SlipArchiveForm(StyledForm):
    month = forms.CharField(
        label=gettext_lazy("月份"),
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("责任部门"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("全部部门"),
        error_messages={"invalid_choice": gettext_lazy("所选部门不存在。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(is_active=True).order_by("code")

    def clean_month(self) -> datetime.date:
        try:
            return parse_month(self.cleaned_data["month"])
        except KefuError as err:
            raise forms.ValidationError(err.message) from None


def _recent(user):
    return archive_job_list(user=user).filter(kind=ArchiveKind.SLIPS)[:RECENT_JOBS]


@require_http_methods(["GET", "POST"])
@require_perm(EXPORT)
def slip_archive(request):
    """GET: the form (`?month=2026-11&department=<id>` fill it in; last month by
    default) and the user's recent archives. POST: ask for the archive and go to its
    job page (the running job when one is already under way)."""
    status = 200
    if request.method == "POST":
        form = SlipArchiveForm(request.POST)
        if form.is_valid():
            try:
                job, created = archive_request(
                    actor=request.user,
                    kind=ArchiveKind.SLIPS,
                    month=form.cleaned_data["month"],
                    department=form.cleaned_data["department"],
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                if created:
                    messages.success(request, _("已开始在后台生成存档，完成后会通知您。"))
                else:
                    messages.info(request, _("该月份的存档正在生成中，请稍候。"))
                return redirect("tickets:archive_job", pk=job.pk)
        status = 422
    else:
        data = {"month": request.GET.get("month") or f"{last_month():%Y-%m}"}
        if request.GET.get("department"):
            data["department"] = request.GET["department"]
        form = SlipArchiveForm(data)
        # The query string only fills the form in; a bad one is shown, never acted on.
        if not form.is_valid():
            status = 422
    return render(request, "tickets/desk/archive.html", {"form": form, "jobs": _recent(request.user)}, status=status)


def _job(request, pk: int):
    try:
        return archive_job_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _context(job) -> dict:
    return {"job": job, "title": archive_title(job), "running": job.is_active}


@require_GET
@login_required
def archive_job(request, pk: int):
    job = _job(request, pk)
    return render(request, "tickets/desk/archive_job.html", _context(job))


@require_GET
@login_required
def archive_job_status(request, pk: int):
    """The progress card htmx polls; once the job has finished it asks the browser to
    reload the page, which then offers the download (or shows the error)."""
    job = _job(request, pk)
    response = render(request, "tickets/desk/_archive_status.html", _context(job))
    if not job.is_active:
        response["HX-Refresh"] = "true"
    return response


@require_GET
@login_required
def archive_job_file(request, pk: int):
    """The finished PDF as a download; anything else is a Chinese 4xx page."""
    job = _job(request, pk)
    try:
        path = archive_file(user=request.user, job=job)
    except (InvalidState, NotFound) as err:
        return render(request, "error.html", {"message": err.message}, status=err.status)
    response = FileResponse(path.open("rb"), content_type=PDF_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition("attachment", archive_filename(job))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
