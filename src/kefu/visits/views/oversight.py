"""回访监督 for one month (completion by agent / team / rule, overdue visits, customers
whose class cadence was missed, the per-staff evaluation from visit answers) and the
monthly archive download of the month's call records."""

from __future__ import annotations

import io
from pathlib import Path

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kefu.core import access
from kefu.core.views.base import require_perm
from kefu.tickets.archive import archive_request
from kefu.tickets.models.archive import ArchiveKind
from kefu.visits import oversight
from kefu.visits.export import XLSX_CONTENT_TYPE, visits_archive_export
from kefu.visits.selectors import cadence_missed, visit_stats
from kefu.visits.views.common import EXPORT, VIEW_REGION, page_of_customers

MISSED_PAGE = 50


class _DeletedOnClose(io.FileIO):
    """The exported temporary file, removed once the response has been sent."""

    def close(self) -> None:
        try:
            super().close()
        finally:
            Path(self.name).unlink(missing_ok=True)


@require_GET
@require_perm(VIEW_REGION)
def oversight_view(request):
    user = request.user
    today = timezone.localdate()
    month = oversight.parse_month(request.GET.get("month"), default=today)
    visits = oversight.month_visits(user=user, month=month)
    groups = [
        {"code": code, "label": label, "rows": oversight.completion_by(visits=visits, grouping=code)}
        for code, (label, _fields) in oversight.GROUPINGS.items()
    ]
    missed = cadence_missed(user=user, month=month).select_related("customer_class", "owner", "region")
    missed_page = page_of_customers(missed, request.GET.get("cursor"), size=MISSED_PAGE)
    query = request.GET.copy()
    query.pop("cursor", None)
    query["month"] = f"{month:%Y-%m}"
    context = {
        "month": month,
        "month_text": f"{month:%Y-%m}",
        "previous": f"{oversight.previous_month(month):%Y-%m}",
        "following": f"{oversight.next_month(month):%Y-%m}",
        "is_current": month == today.replace(day=1),
        "totals": visit_stats(visits),
        "groups": groups,
        "overdue": oversight.overdue_count(user=user, today=today),
        "overdue_url": f"{reverse('visits:list')}?tab=team&status=planned&overdue=on",
        "missed_page": missed_page,
        "missed_count": missed.count(),
        "query_without_cursor": query.urlencode(),
        "staff_groups": oversight.staff_scores(user=user, month=month),
        "can_export": access.has_perm(user, EXPORT),
    }
    return render(request, "visits/oversight.html", context)


@require_http_methods(["GET", "POST"])
@require_perm(EXPORT)
def archive_view(request):
    """GET `?month=2026-11` → the month's done and failed visits with answers (.xlsx).
    POST `month=2026-11` → the month's call records and slips summary as a PDF, made by
    a background job (a month can hold tens of thousands of calls): the job page
    follows it and offers the download."""
    month = oversight.parse_month(request.POST.get("month") if request.method == "POST" else request.GET.get("month"))
    if request.method == "POST":
        job, created = archive_request(actor=request.user, kind=ArchiveKind.VISITS, month=month)
        if created:
            messages.success(request, _("已开始在后台生成 PDF 存档，完成后会通知您。"))
        else:
            messages.info(request, _("该月份的存档正在生成中，请稍候。"))
        return redirect("tickets:archive_job", pk=job.pk)
    archive = visits_archive_export(actor=request.user, month=month)
    name = _("回访记录_%(month)s.xlsx") % {"month": f"{month:%Y-%m}"}
    return FileResponse(
        _DeletedOnClose(str(archive.path), "rb"), as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE
    )
