"""报表目录: the named reports a viewer may open, each with what it is for and links to
this month's page, Excel and PDF."""

from __future__ import annotations

from django.shortcuts import render

from kefu.core import access
from kefu.core.views.base import require_perm
from kefu.reports.catalog import EXPORT, REPORTS, VIEW
from kefu.reports.periods import parse_period


@require_perm(VIEW)
def report_index(request):
    period = parse_period(None)
    return render(
        request,
        "reports/index.html",
        {
            "reports": list(REPORTS.values()),
            "period": period,
            "can_export": access.has_perm(request.user, EXPORT),
        },
    )
