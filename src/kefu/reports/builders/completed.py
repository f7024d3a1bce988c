"""完工客户月报 (seed 001: 每月向集团客服部上报完工客户报表): the customers whose
project was completed in the period with their contract, start and completion dates,
designer and foreman, how satisfied they were in the completion visit and the tickets
they still have open — and a count per region on top, the figure HQ adds up."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.reports.builders.common import LABEL, new_report
from kefu.reports.periods import Period
from kefu.reports.selectors.completed import completed_customers
from kefu.reports.tables import Column, Report, Table


def _summary(rows: list[dict]) -> Table:
    """Per region: completed customers, how many were visited and their satisfaction,
    how many still have open tickets (computed from the list, so the two always agree)."""
    by_region: dict[str, list[dict]] = {}
    for row in rows:
        by_region.setdefault(row.get("region_label") or _("未指定片区"), []).append(row)

    def figures(items: list[dict]) -> dict:
        scores = [r["completion_satisfaction"] for r in items if r.get("completion_satisfaction") is not None]
        return {
            "customers": len(items),
            "visited": len(scores),
            "satisfaction_avg": round(sum(scores) / len(scores), 1) if scores else None,
            "with_open_tickets": sum(1 for r in items if r.get("open_tickets")),
        }

    ordered = sorted(by_region.items(), key=lambda item: (-len(item[1]), item[0]))
    summary = [{LABEL: region, **figures(items)} for region, items in ordered]
    return Table(
        title=_("按片区汇总"),
        columns=[
            Column(LABEL, _("片区")),
            Column("customers", _("完工客户"), "int"),
            Column("visited", _("已完工回访"), "int"),
            Column("satisfaction_avg", _("回访满意度"), "float"),
            Column("with_open_tickets", _("有未结工单"), "int"),
        ],
        rows=summary,
        totals={LABEL: _("合计"), **figures(rows)},
    )


def _list(rows: list[dict]) -> Table:
    return Table(
        title=_("完工客户清单"),
        columns=[
            Column("archive_no", _("档案编号")),
            Column("name", _("客户")),
            Column("region_label", _("片区")),
            Column("site_address", _("工程地址")),
            Column("contract_date", _("签约日期")),
            Column("start_date", _("开工日期")),
            Column("completion_date", _("完工日期")),
            Column("designer", _("设计师")),
            Column("foreman", _("工长")),
            Column("owner_label", _("客户经理")),
            Column("completion_visit_date", _("完工回访日期")),
            Column("completion_satisfaction", _("完工回访满意度"), "int"),
            Column("open_tickets", _("未结工单"), "int"),
        ],
        rows=rows,
        note=_("装修行业按档案中的竣工日期统计；其他行业按本期完成的工程节点回访统计。"),
    )


def build_completed(*, user, period: Period) -> Report:
    report = new_report("completed", _("完工客户月报"), period)
    rows = completed_customers(user=user, period=period)
    report.tables += [_summary(rows), _list(rows)]
    return report
