"""回访统计: visits due in the period (planned, done, reached, satisfaction, NPS),
compared with the previous period and last year; the visits → arrivals → deals funnel
(seed 004: 回访量、现场到院量、成交量) overall and by region and by visit project; the
figures by visit type, rule and caller; and cadence compliance by customer class (seed
002: A 类每月至少一次, B 类两次…)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.reports.builders.common import (
    LABEL,
    bar_chart,
    dimension_table,
    funnel_chart,
    is_multi_month,
    line_chart,
    new_report,
    overall_comparison,
)
from kefu.reports.periods import Period
from kefu.reports.selectors.visits import cadence_compliance, visit_breakdowns, visit_figures, visit_funnel
from kefu.reports.tables import Column, Report, Table


def visit_metrics() -> list[Column]:
    return [
        Column("planned", _("计划回访"), "int"),
        Column("done", _("已回访"), "int"),
        Column("completion_rate", _("完成率"), "percent"),
        Column("reached", _("接通"), "int"),
        Column("reach_rate", _("接通率"), "percent"),
        Column("overdue", _("逾期未访"), "int"),
        Column("satisfaction_avg", _("满意度"), "float"),
        Column("nps", _("NPS"), "float"),
        Column("arrivals", _("到院/到店"), "int"),
        Column("deals", _("成交"), "int"),
        Column("deal_amount", _("成交金额"), "money"),
    ]


def funnel_metrics() -> list[Column]:
    return [
        Column("visits", _("回访量"), "int"),
        Column("reached", _("接通"), "int"),
        Column("arrivals", _("到院/到店"), "int"),
        Column("deals", _("成交"), "int"),
        Column("reach_rate", _("接通率"), "percent"),
        Column("arrival_rate", _("到院率"), "percent"),
        Column("deal_rate", _("成交率"), "percent"),
    ]


def funnel_steps() -> list[tuple[str, str]]:
    return [("visits", _("回访量")), ("reached", _("接通")), ("arrivals", _("到院/到店")), ("deals", _("成交"))]


def _totals(user, period: Period) -> dict:
    (row,) = visit_figures(user=user, period=period)
    return row


def _cadence_table(*, user, period: Period) -> Table:
    rows = cadence_compliance(user=user, period=period)
    return Table(
        title=_("回访频次达标（按客户分类）"),
        columns=[
            Column("customer_class_label", _("客户分类")),
            Column("month", _("月份")),
            Column("cadence", _("每月应访次数"), "int"),
            Column("customer_months", _("客户·月"), "int"),
            Column("compliant", _("达标"), "int"),
            Column("rate", _("达标率"), "percent"),
        ],
        rows=[dict(r) for r in rows],
        note=_("某客户某月接通的回访次数达到其分类规定的频次即为达标。"),
    )


def build_visits(*, user, period: Period) -> Report:
    report = new_report("visits", _("回访统计"), period)
    metrics = visit_metrics()
    current = _totals(user, period)
    report.tables.append(
        overall_comparison(metrics=metrics, period=period, current=current, totals=lambda p: _totals(user, p))
    )
    funnel_cols = funnel_metrics()
    (funnel_total,) = visit_funnel(user=user, period=period)
    funnel = Table(
        title=_("回访 → 到院 → 成交"),
        columns=[Column(LABEL, _("范围")), *funnel_cols],
        rows=[{LABEL: _("全部"), **{c.key: funnel_total.get(c.key) for c in funnel_cols}}],
    )
    funnel_chart(funnel, steps=funnel_steps(), row=funnel_total)
    report.tables.append(funnel)
    for dimension, title, heading in (
        ("region", _("漏斗：按顾客来源区域"), _("片区")),
        ("rule", _("漏斗：按回访项目"), _("回访项目")),
    ):
        report.tables.append(
            dimension_table(
                title=title,
                dimension=dimension,
                heading=heading,
                rows=visit_funnel(user=user, period=period, group_by=(dimension,)),
                metrics=funnel_cols,
                totals=funnel_total,
            )
        )
    dimensions = (
        ("visit_type", _("按回访类型"), _("回访类型")),
        ("channel", _("按回访方式"), _("回访方式")),
        ("customer_class", _("按客户分类"), _("客户分类")),
        ("assignee", _("按回访人"), _("回访人")),
    )
    # By class and by agent the counters cannot give: one scan of the period for both.
    breakdowns = visit_breakdowns(user=user, period=period, groupings=[(d[0],) for d in dimensions])
    for (dimension, title, heading), rows in zip(dimensions, breakdowns, strict=True):
        table = dimension_table(
            title=title,
            dimension=dimension,
            heading=heading,
            rows=rows,
            metrics=metrics,
            totals=current,
        )
        if dimension == "visit_type":
            bar_chart(table, value="done", name=_("已回访"))
        report.tables.append(table)
    if is_multi_month(period):
        trend = dimension_table(
            title=_("按月趋势"),
            dimension="month",
            heading=_("月份"),
            rows=visit_figures(user=user, period=period, group_by=("month",)),
            metrics=metrics,
            totals=current,
        )
        line_chart(trend, series=[("planned", _("计划回访")), ("done", _("已回访")), ("reached", _("接通"))])
        report.tables.append(trend)
    report.tables.append(_cadence_table(user=user, period=period))
    return report
