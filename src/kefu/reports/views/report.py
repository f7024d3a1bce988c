"""One named report as a page (period picker, tables, charts) and as an Excel or PDF
download. The page and the files are drawn from the same `build_report` call for the
same viewer and period, so they show the same figures."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from kefu.core import access
from kefu.core.errors import AccessDenied, NotFound, ValidationFailed
from kefu.core.views.base import require_perm
from kefu.reports.catalog import CROSS_LABELS, DEFAULT_CROSS, EXPORT, REPORTS, VIEW, build_report, parse_cross
from kefu.reports.exporters import report_export
from kefu.reports.periods import Period, make_range, parse_period, period_for
from kefu.reports.tables import display

PICKER_KINDS = ("month", "quarter", "year", "range")


def period_from_query(query) -> Period:
    """`?period=KEY` as is; otherwise the picker's fields (kind + month / year + quarter
    / year / from + to) turned into a key. Bad input → ValidationFailed (Chinese)."""
    key = (query.get("period") or "").strip()
    kind = (query.get("kind") or "").strip()
    if not key and kind:
        if kind == "month":
            key = (query.get("month") or "").strip()
        elif kind == "quarter":
            key = f"{(query.get('year') or '').strip()}-Q{(query.get('quarter') or '').strip()}"
        elif kind == "year":
            key = (query.get("year") or "").strip()
        elif kind == "range":
            key = f"{(query.get('from') or '').strip()}..{(query.get('to') or '').strip()}"
    return parse_period(key)


def cross_from_query(query) -> str:
    """`?cross=rows,columns` as is; otherwise the picker's two selects (no script needed)."""
    rows, columns = (query.get("cross_rows") or "").strip(), (query.get("cross_columns") or "").strip()
    return (query.get("cross") or "").strip() or (f"{rows},{columns}" if rows or columns else "")


def following(period: Period) -> Period:
    if period.kind == "range":
        return make_range(period.end, period.end + datetime.timedelta(days=period.days - 1))
    return period_for(period.kind, period.end)


def _spec_or_404(key: str):
    spec = REPORTS.get(key)
    if spec is None:
        raise Http404
    return spec


def _picker(period: Period) -> dict:
    return {
        "kind": period.kind if period.kind in PICKER_KINDS else "range",
        "month": f"{period.start:%Y-%m}",
        "year": period.start.year,
        "quarter": (period.start.month - 1) // 3 + 1,
        "from": period.start.isoformat(),
        "to": period.last_day.isoformat(),
    }


@require_GET
@require_perm(VIEW)
def report_page(request, key: str):
    spec = _spec_or_404(key)
    try:
        period = period_from_query(request.GET)
    except ValidationFailed as err:
        messages.error(request, err.message)
        period = parse_period(None)
    try:
        cross = parse_cross(key, cross_from_query(request.GET))
    except ValidationFailed as err:
        messages.error(request, err.message)
        cross = None
    report = build_report(key, user=request.user, period=period, cross=cross)
    tables = []
    for index, table in enumerate(report.tables):
        item = display(table)
        item["chart"] = table.chart
        item["chart_id"] = f"report-chart-{index}"
        item["chart_link"] = table.chart_link
        tables.append(item)
    return render(
        request,
        "reports/report.html",
        {
            "spec": spec,
            "report": report,
            "period": period,
            "tables": tables,
            "has_charts": any(t["chart"] for t in tables),
            "previous": period.previous(),
            "following": following(period),
            "picker": _picker(period),
            "can_export": access.has_perm(request.user, EXPORT),
            "reports": list(REPORTS.values()),
            "cross": _cross_picker(spec, cross),
            # What the period links and the downloads carry besides the period.
            "extra_query": f"&{urlencode({'cross': ','.join(cross)})}" if cross else "",
        },
    )


def _cross_picker(spec, cross: tuple[str, str] | None) -> dict | None:
    """The two selects of the 交叉分析 (None for a report without one)."""
    if not spec.crosses:
        return None
    rows, columns = cross or DEFAULT_CROSS
    return {"choices": [(d, CROSS_LABELS[d]) for d in spec.crosses], "rows": rows, "columns": columns}


def _download(request, key: str, fmt: str):
    _spec_or_404(key)
    try:
        period = period_from_query(request.GET)
        cross = parse_cross(key, cross_from_query(request.GET))
    except ValidationFailed as err:
        messages.error(request, err.message)
        return redirect(reverse("reports:report", args=[key]))
    try:
        exported = report_export(user=request.user, key=key, period=period, fmt=fmt, cross=cross)
    except AccessDenied:
        raise PermissionDenied from None
    except NotFound:
        raise Http404 from None
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=exported.file_name)
    return response


@require_GET
@require_perm(EXPORT)
def report_xlsx_view(request, key: str):
    return _download(request, key, "xlsx")


@require_GET
@require_perm(EXPORT)
def report_pdf_view(request, key: str):
    return _download(request, key, "pdf")
