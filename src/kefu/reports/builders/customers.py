"""客户统计 (seed 000: 对用户资源进行统计分析; 001: 客户群体、客户来源、客户数量…):
the archive at the period's end, new and lost customers, compared with the previous
period and last year, by class, region, source, product category and lifecycle, and
the key accounts at risk today."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.reports.builders.common import (
    bar_chart,
    customer_list_link,
    dimension_table,
    is_multi_month,
    line_chart,
    new_report,
    overall_comparison,
)
from kefu.reports.periods import Period
from kefu.reports.selectors.customers import customer_breakdowns, key_accounts_at_risk
from kefu.reports.tables import Column, Report, Table


def customer_metrics() -> list[Column]:
    return [
        Column("total", _("期末客户数"), "int"),
        Column("new", _("新增"), "int"),
        Column("lost", _("流失"), "int"),
        Column("key_accounts", _("大客户"), "int"),
        Column("active", _("活跃"), "int"),
        Column("potential", _("潜在"), "int"),
    ]


def _at_risk(user) -> Table:
    return Table(
        title=_("需关注的大客户（截至今日）"),
        columns=[
            Column("archive_no", _("档案编号")),
            Column("name", _("客户")),
            Column("region_label", _("片区")),
            Column("owner_label", _("客户经理")),
            Column("open_complaints", _("未结投诉"), "int"),
            Column("last_reached_visit", _("最近成功回访")),
            Column("reason", _("原因")),
        ],
        rows=[dict(r) for r in key_accounts_at_risk(user=user)],
        note=_("有未处理投诉，或 60 天内没有接通的回访。"),
    )


def build_customers(*, user, period: Period) -> Report:
    """The figures (all but the accounts at risk) are one `customer_breakdowns` call:
    the archive and the losses are read once for the period, its comparison periods (a
    year's previous period IS last year's), the dimensions and the months."""
    report = new_report("customers", _("客户统计"), period)
    metrics = customer_metrics()
    breakdowns = (
        ("customer_class", _("按客户分类"), _("客户分类")),
        ("region", _("按片区"), _("片区")),
        ("source", _("按信息来源"), _("信息来源")),
        ("category", _("按产品类别"), _("产品类别")),
        ("lifecycle", _("按生命周期"), _("生命周期")),
    )
    periods = list(dict.fromkeys((period, period.previous(), period.same_last_year())))
    groupings = [(dimension,) for dimension, _t, _h in breakdowns]
    if is_multi_month(period):
        groupings.append(("month",))
    figures = customer_breakdowns(user=user, asks=[(p, ()) for p in periods] + [(period, g) for g in groupings])
    totals = {p: rows[0] for p, rows in zip(periods, figures[: len(periods)], strict=True)}
    rows_by = dict(zip(groupings, figures[len(periods) :], strict=True))
    current = totals[period]
    report.tables.append(overall_comparison(metrics=metrics, period=period, current=current, totals=totals.__getitem__))
    for dimension, title, heading in breakdowns:
        table = dimension_table(
            title=title,
            dimension=dimension,
            heading=heading,
            rows=rows_by[(dimension,)],
            metrics=metrics,
            totals=None if dimension == "category" else current,  # a customer may have several categories
        )
        if dimension in ("customer_class", "source"):
            link = customer_list_link(period=period, param=dimension)
            bar_chart(table, value="total", name=_("期末客户数"), link=link)
        report.tables.append(table)
    if ("month",) in rows_by:
        trend = dimension_table(
            title=_("按月新增与流失"),
            dimension="month",
            heading=_("月份"),
            rows=rows_by[("month",)],
            metrics=metrics,
        )
        line_chart(trend, series=[("new", _("新增")), ("lost", _("流失"))])
        report.tables.append(trend)
    report.tables.append(_at_risk(user))
    return report
