"""GET /reports (the catalogue), /reports/{key}?period= (a named report, the same tables
as its page and its Excel file) and /reports/figures/{tickets|visits|customers|staff}
(the figure selectors themselves, grouped as asked). Everything is scoped to what the
caller may see; a bad period or dimension is a 422 with a Chinese message."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router

from kefu.core import access
from kefu.core.errors import NotFound, ValidationFailed
from kefu.reports.catalog import REPORTS, VIEW, build_report, parse_cross, report_spec
from kefu.reports.periods import parse_period
from kefu.reports.selectors.common import as_list
from kefu.reports.tables import period_json

router = Router(tags=["reports"])

FIGURES = ("tickets", "visits", "customers", "staff")


@router.get("/reports", summary="报表目录")
def report_catalog(request):
    access.require(request.user, VIEW)
    return {
        "items": [
            {"key": s.key, "title": str(s.title), "description": str(s.description), "crosses": list(s.crosses)}
            for s in REPORTS.values()
        ]
    }


@router.get("/reports/figures/{what}", summary="统计数据（工单 / 回访 / 客户 / 员工）")
def report_figures(request, what: str, period: str = "", group_by: str = "", kinds: str = ""):
    access.require(request.user, VIEW)
    if what not in FIGURES:
        raise NotFound(_("没有这类统计数据：%(w)s") % {"w": what[:40]})
    p = parse_period(period)
    user = request.user
    # The dimensions as the selectors group by them (each once, in order), so the
    # answer names exactly the grouping of its rows.
    dims = list(dict.fromkeys(as_list(group_by)))
    if what == "tickets":
        from kefu.reports.selectors.tickets import ticket_figures

        rows = ticket_figures(user=user, period=p, kinds=as_list(kinds) or None, group_by=dims)
    elif kinds:
        raise ValidationFailed(_("只有工单统计可按工单类型筛选。"), details={"field": "kinds"})
    elif what == "visits":
        from kefu.reports.selectors.visits import visit_figures

        rows = visit_figures(user=user, period=p, group_by=dims)
    elif what == "customers":
        from kefu.reports.selectors.customers import customer_figures

        rows = customer_figures(user=user, period=p, group_by=dims)
    else:
        if group_by:
            raise ValidationFailed(_("员工统计不支持分组维度。"), details={"field": "group_by"})
        from kefu.reports.selectors.staff import staff_figures

        rows = staff_figures(user=user, period=p)
    return {"period": period_json(p), "group_by": dims, "rows": rows}


@router.get(
    "/reports/{key}",
    summary="报表（与页面、Excel 相同的数据）",
    description="`cross=region,channel`：投诉、报修统计的交叉分析表所交叉的两个维度"
    "（category、department、region、channel、severity；默认 category,department）。",
)
def report_detail(request, key: str, period: str = "", cross: str = ""):
    report_spec(key)  # unknown key → 404 before anything else
    access.require(request.user, VIEW)
    p = parse_period(period)
    return build_report(key, user=request.user, period=p, cross=parse_cross(key, cross)).as_json()
