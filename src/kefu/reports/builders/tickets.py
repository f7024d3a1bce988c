"""投诉统计报表 and 报修统计: tickets registered in the period, compared with the
previous period and the same period last year, then broken down by every dimension the
seeds name (category, responsible department, region, channel, severity), with a
trend by month for periods longer than a month and — for complaints — the causes the
投诉调查 found most often."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.reports.builders.common import (
    bar_chart,
    cross_table,
    dimension_table,
    is_multi_month,
    line_chart,
    new_report,
    overall_comparison,
    ticket_list_link,
)
from kefu.reports.catalog import DEFAULT_CROSS
from kefu.reports.periods import Period
from kefu.reports.selectors.tickets import ticket_breakdowns, ticket_totals, top_causes
from kefu.reports.tables import Column, Report, Table
from kefu.tickets.models import TicketKind


def ticket_metrics() -> list[Column]:
    return [
        Column("count", _("登记量"), "int"),
        Column("resolved", _("已处理"), "int"),
        Column("open", _("未处理"), "int"),
        Column("avg_response_hours", _("平均首次响应(工时)"), "hours"),
        Column("avg_resolution_hours", _("平均处理用时(工时)"), "hours"),
        Column("p90_resolution_hours", _("P90处理用时(工时)"), "hours"),
        Column("sla_rate", _("时限达标率"), "percent"),
        Column("reopen_rate", _("重开率"), "percent"),
        Column("satisfaction_avg", _("满意度"), "float"),
        Column("escalated", _("升级数"), "int"),
    ]


def _short_metrics() -> list[Column]:
    """The figures a cross table has room for."""
    keep = {"count", "resolved", "avg_resolution_hours", "p90_resolution_hours", "sla_rate", "reopen_rate"}
    return [c for c in ticket_metrics() if c.key in keep] + [Column("satisfaction_avg", _("满意度"), "float")]


# (dimension, table title, column heading, ticket-list filter the chart clicks through to)
def _dimensions(kind: str) -> list[tuple[str, str, str, str]]:
    noun = _("投诉") if kind == "complaint" else _("报修")
    return [
        ("category", _("按%(n)s分类") % {"n": noun}, _("分类"), "category"),
        ("department", _("按责任部门"), _("责任部门"), "responsible_department"),
        ("region", _("按片区"), _("片区"), "region"),
        ("channel", _("按受理渠道"), _("受理渠道"), "channel"),
        ("severity", _("按严重程度"), _("严重程度"), "severity"),
    ]


def build_ticket_report(
    *, key: str, title: str, kind: str, user, period: Period, cross: tuple[str, str] = DEFAULT_CROSS
) -> Report:
    """`cross`: the two dimensions of the cross table (交叉分析), chosen on the page."""
    kinds = (kind,)
    report = new_report(key, title, period)
    metrics = ticket_metrics()
    dimensions = _dimensions(kind)
    multi_month = is_multi_month(period)
    # Every breakdown of the period in one call: one scan on PostgreSQL (grouping sets).
    groupings: list[tuple[str, ...]] = [(), *((d[0],) for d in dimensions), tuple(cross)]
    if multi_month:
        groupings.append(("month",))
    totals_rows, *rest = ticket_breakdowns(user=user, period=period, kinds=kinds, groupings=groupings)
    current = totals_rows[0]
    by_dimension = dict(zip((d[0] for d in dimensions), rest, strict=False))
    report.tables.append(
        overall_comparison(
            metrics=metrics,
            period=period,
            current=current,
            totals=lambda p: ticket_totals(user=user, period=p, kinds=kinds),
        )
    )
    kind_ids = list(TicketKind.objects.filter(code=kind).values_list("pk", flat=True))
    for dimension, table_title, heading, param in dimensions:
        table = dimension_table(
            title=table_title,
            dimension=dimension,
            heading=heading,
            rows=by_dimension[dimension],
            metrics=metrics,
            totals=current,
        )
        if dimension in ("category", "department"):
            link = ticket_list_link(period=period, param=param, kind_ids=kind_ids)
            bar_chart(table, value="count", name=_("登记量"), link=link)
        report.tables.append(table)
    headings = {d[0]: d[2] for d in dimensions}
    report.tables.append(
        cross_table(
            title=" × ".join(headings[d] for d in cross),
            dimensions=[(d, headings[d]) for d in cross],
            rows=rest[len(dimensions)],
            metrics=_short_metrics(),
        )
    )
    if multi_month:
        trend = dimension_table(
            title=_("按月趋势"),
            dimension="month",
            heading=_("月份"),
            rows=rest[len(dimensions) + 1],  # calendar order
            metrics=metrics,
            totals=current,
        )
        line_chart(trend, series=[("count", _("登记量")), ("resolved", _("已处理"))])
        report.tables.append(trend)
    if kind == "complaint":
        report.tables.append(_causes_table(user=user, period=period))
    return report


def _causes_table(*, user, period: Period) -> Table:
    """投诉调查汇报: where complaints came from most often, for the departments concerned."""
    rows = top_causes(user=user, period=period, kinds=("complaint",), limit=10)
    return Table(
        title=_("投诉调查：主要投诉原因"),
        columns=[
            Column("rank", _("排名"), "int"),
            Column("cause", _("投诉原因（分类）")),
            Column("count", _("投诉量"), "int"),
            Column("share", _("占本期投诉"), "percent"),
        ],
        rows=[
            {"rank": i, "cause": r["category_label"], "count": r["count"], "share": r["share"], "key": r["category"]}
            for i, r in enumerate(rows, start=1)
        ],
        note=_("按投诉分类统计本期登记的投诉，取数量最多的十类（未分类的投诉计入占比的分母）。"),
    )


def build_complaints(*, user, period: Period, cross: tuple[str, str] = DEFAULT_CROSS) -> Report:
    return build_ticket_report(
        key="complaints", title=_("投诉统计报表"), kind="complaint", user=user, period=period, cross=cross
    )


def build_repairs(*, user, period: Period, cross: tuple[str, str] = DEFAULT_CROSS) -> Report:
    return build_ticket_report(key="repairs", title=_("报修统计"), kind="repair", user=user, period=period, cross=cross)
