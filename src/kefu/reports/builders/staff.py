"""员工统计 (seed 002: 每七天、每个月统计、评定服务人员工作质量): per staff member,
the tickets they resolved in the period, their response and resolution times in working
hours, the satisfaction given, and the visits they made."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.reports.builders.common import LABEL, bar_chart, new_report
from kefu.reports.periods import Period
from kefu.reports.selectors.staff import staff_figures
from kefu.reports.tables import Column, Report, Table


def staff_metrics() -> list[Column]:
    return [
        Column("tickets_handled", _("处理工单"), "int"),
        Column("avg_response_hours", _("平均首次响应(工时)"), "hours"),
        Column("avg_resolution_hours", _("平均处理用时(工时)"), "hours"),
        Column("satisfaction_avg", _("满意度"), "float"),
        Column("visits_done", _("完成回访"), "int"),
        Column("visits_reached", _("接通回访"), "int"),
    ]


def _sum(rows: list[dict], key: str) -> int:
    return sum(r.get(key) or 0 for r in rows)


def build_staff(*, user, period: Period) -> Report:
    report = new_report("staff", _("员工统计"), period)
    metrics = staff_metrics()
    figures = staff_figures(user=user, period=period)
    rows = [
        {LABEL: r.get("label") or "", "key": r.get("user"), **{m.key: r.get(m.key) for m in metrics}} for r in figures
    ]
    totals = {LABEL: _("合计"), **{m.key: _sum(rows, m.key) for m in metrics if m.kind == "int"}}
    table = Table(title=_("员工工作量与质量"), columns=[Column(LABEL, _("员工")), *metrics], rows=rows, totals=totals)
    bar_chart(table, value="tickets_handled", name=_("处理工单"))
    report.tables.append(table)
    return report
