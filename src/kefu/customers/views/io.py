"""Excel export of the archive list, and the import pages: upload, the job's report
(progress, rejected rows, commit choice), the template download and recent jobs."""

from __future__ import annotations

import io
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.errors import AccessDenied, KefuError, ValidationFailed
from kefu.core.forms import StyledForm, add_service_error
from kefu.core.pagination import keyset_page
from kefu.core.views.base import require_perm
from kefu.customers.io.exporting import XLSX_CONTENT_TYPE, customers_export, import_template_bytes
from kefu.customers.io.housekeeping import import_job_fail_if_stale
from kefu.customers.io.importing import (
    IMPORT,
    MAX_UPLOAD_BYTES,
    import_check_start,
    import_commit_start,
    import_job_create,
    import_job_list,
    job_is_running,
)
from kefu.customers.models import ImportJob
from kefu.customers.models.imports import ImportMode, ImportStatus
from kefu.customers.params import filters_from_params, sort_from_params

EXPORT = "customers.export_customer"
JOBS_PAGE_SIZE = 20


class _DeletedOnClose(io.FileIO):
    """The exported temporary file, removed once the response has been sent."""

    def close(self) -> None:
        try:
            super().close()
        finally:
            Path(self.name).unlink(missing_ok=True)


@require_GET
@require_perm(EXPORT)
def customer_export(request):
    """The list's query string → the same customers as an .xlsx download."""
    query = request.GET.copy()
    query.pop("cursor", None)
    try:
        filters = filters_from_params(query)
    except ValidationFailed as err:
        messages.error(request, err.message)
        return redirect(reverse("customers:list") + (f"?{query.urlencode()}" if query else ""))
    _sort, order = sort_from_params(query)
    params = {key: values if len(values) > 1 else values[0] for key, values in query.lists()}
    path = customers_export(actor=request.user, filters=filters, order=order, params=params)
    filename = _("客户档案_%(at)s.xlsx") % {"at": timezone.localtime().strftime("%Y%m%d_%H%M")}
    return FileResponse(
        _DeletedOnClose(str(path), "rb"), as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


class CustomerImportForm(StyledForm):
    file = forms.FileField(
        label=gettext_lazy("Excel 或 CSV 文件"),
        help_text=gettext_lazy("支持 .xlsx 与 .csv（UTF-8 或 GB18030 编码），不超过 20 MB；第一行为列标题。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件不能超过 %(mb)d MB。") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)})
        return upload


class ImportCommitForm(StyledForm):
    mode = forms.ChoiceField(
        label=gettext_lazy("导入方式"),
        choices=ImportMode.choices,
        widget=forms.RadioSelect,
        initial=ImportMode.ALL_OR_NOTHING,
    )


def _jobs_page(request):
    jobs = import_job_list(user=request.user)
    order = ("-created_at", "-id")
    try:
        return keyset_page(jobs, order=order, cursor=request.GET.get("cursor"), size=JOBS_PAGE_SIZE)
    except ValidationFailed:
        return keyset_page(jobs, order=order, cursor=None, size=JOBS_PAGE_SIZE)


@require_http_methods(["GET", "POST"])
@require_perm(IMPORT)
def import_upload(request):
    """Upload a file; it is checked at once (small) or in the background (large)."""
    form = CustomerImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(actor=request.user, upload=form.cleaned_data["file"])
        except KefuError as err:
            add_service_error(form, err)
        else:
            if not import_check_start(job=job):
                messages.info(request, _("文件较大，正在后台检查，完成后本页会自动刷新。"))
            return redirect("customers:import_job", pk=job.pk)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "customers/io/import.html",
        {"form": form, "page": _jobs_page(request), "query_without_cursor": query.urlencode()},
    )


def _job(request, pk: int) -> ImportJob:
    job = import_job_list(user=request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    # A job whose worker died is reported as failed as soon as someone looks at it.
    return import_job_fail_if_stale(job=job)


def _job_context(request, job: ImportJob) -> dict:
    can_commit = job.status == ImportStatus.CHECKED and job.created_by_id == request.user.pk and job.valid_rows > 0
    initial_mode = ImportMode.VALID_ONLY if job.rejected_rows else ImportMode.ALL_OR_NOTHING
    percent = None
    if job.status == ImportStatus.IMPORTING and job.total_rows:
        percent = min(100, int(job.processed_rows * 100 / job.total_rows))
    return {
        "job": job,
        "running": job_is_running(job),
        "percent": percent,
        "predicted": job.status == ImportStatus.CHECKED,
        "can_commit": can_commit,
        "commit_form": ImportCommitForm(initial={"mode": initial_mode}) if can_commit else None,
        "rejected_truncated": job.rejected_rows > len(job.rejected or []),
    }


@require_GET
@require_perm(IMPORT)
def import_job_detail(request, pk: int):
    job = _job(request, pk)
    return render(request, "customers/io/job.html", _job_context(request, job))


@require_GET
@require_perm(IMPORT)
def import_job_status(request, pk: int):
    """The progress card htmx polls every 2 s; once the job has finished it asks the
    browser to reload the page, which then shows the report."""
    job = _job(request, pk)
    response = render(request, "customers/io/_job_status.html", _job_context(request, job))
    if not job_is_running(job):
        response["HX-Refresh"] = "true"
    return response


@require_POST
@require_perm(IMPORT)
def import_job_commit(request, pk: int):
    job = _job(request, pk)
    form = ImportCommitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择导入方式。"))
        return redirect("customers:import_job", pk=job.pk)
    try:
        done = import_commit_start(actor=request.user, job=job, mode=form.cleaned_data["mode"])
    except AccessDenied:
        raise PermissionDenied
    except KefuError as err:
        messages.error(request, err.message)
        return redirect("customers:import_job", pk=job.pk)
    job.refresh_from_db()
    if not done:
        messages.info(request, _("正在后台导入，完成后本页会自动刷新。"))
    elif job.status == ImportStatus.DONE:
        messages.success(
            request,
            _("导入完成：新建 %(created)d，更新 %(updated)d，无变化 %(skipped)d，未导入 %(rejected)d。")
            % {
                "created": job.created_count,
                "updated": job.updated_count,
                "skipped": job.skipped_count,
                "rejected": job.rejected_rows,
            },
        )
    elif job.error:
        messages.error(request, job.error)
    return redirect("customers:import_job", pk=job.pk)


@require_GET
@require_perm(IMPORT)
def import_template(request):
    return FileResponse(
        io.BytesIO(import_template_bytes()),
        as_attachment=True,
        filename=_("客户档案导入模板.xlsx"),
        content_type=XLSX_CONTENT_TYPE,
    )
