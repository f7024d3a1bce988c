"""The widgets the manager's and the director's dashboards share: the period's key
figures, trends of complaints by category and by responsible department, SLA
compliance, satisfaction and NPS, the visit funnel, the top complaint causes, customers
by class / region / source and the key accounts at risk.

Every figure comes from the report selectors (`kefu.reports.selectors`), so a dashboard
shows exactly what the period reports, their Excel files and the API show; the
periods are bounded (a trend covers at most 12 months), so each call scans one index
range of the period's rows, never the whole history."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.reports.builders.common import previous_and_last_year
from kefu.reports.dashboards import links
from kefu.reports.dashboards.base import VIEW_CUSTOMERS, VIEW_TEAM_VISITS, VIEW_TICKETS, Context
from kefu.reports.dashboards.widgets import BAD, GOOD, NEUTRAL, WARN, Column, Figure, Point, Series, Widget
from kefu.reports.periods import Period, make_range
from kefu.reports.periods import _add_months as add_months  # the periods' own month arithmetic
from kefu.reports.selectors.common import compare
from kefu.reports.selectors.tickets import kind_ids, ticket_figures, ticket_list_query, ticket_totals, top_causes
from kefu.tickets.choices import SlaState
from kefu.visits.choices import Outcome
from kefu.visits.selectors import STATUS_FINISHED

# A trend shows at least this many months (a month's dashboard looks back half a year)
# and at most MAX_TREND_MONTHS (a longer period shows its last year).
MIN_TREND_MONTHS = 6
MAX_TREND_MONTHS = 12
# Series of a trend chart: the biggest categories / departments; the rest are summed
# into 其他, which links to the list of all of them at once while the ticket list takes
# that many values (its limit per filter, tickets/params.py).
TREND_SERIES = 8
MAX_LINKED_VALUES = 50
# The ticket dimensions whose empty group the ticket list selects with `none`.
NONE_DIMENSIONS = ("category", "department", "region", "assignee")
TOP_CAUSES = 10
AT_RISK_ROWS = 10


def trend_period(period: Period) -> Period:
    """The months a trend covers: the period's own months when it spans at least
    MIN_TREND_MONTHS (its last MAX_TREND_MONTHS at most), otherwise the
    MIN_TREND_MONTHS months ending with the period."""
    last = period.last_day
    months = len(period.months())
    span = min(max(months, MIN_TREND_MONTHS), MAX_TREND_MONTHS)
    first = add_months(last.replace(day=1), -(span - 1))
    if months >= MIN_TREND_MONTHS and months <= MAX_TREND_MONTHS:
        first = period.start
    return make_range(first, last)


def _month_keys(period: Period) -> list[str]:
    return [f"{m:%Y-%m}" for m in period.months()]


def _month_range(key: str, within: Period) -> tuple[datetime.date, datetime.date]:
    """[start, end) of month `key`, clipped to `within`."""
    year, month = map(int, key.split("-"))
    first = datetime.date(year, month, 1)
    return max(first, within.start), min(add_months(first, 1), within.end)


def _list_value(dim: str, value: Any) -> Any:
    """A figure row's dimension value as the ticket list's filter value: an empty group
    is `none` where the list has it; a list of values stays a list. None: the list
    cannot select it."""
    if isinstance(value, (list, tuple)):
        values = [_list_value(dim, v) for v in value]
        return None if any(v is None for v in values) else values
    if value is None:
        return links.NONE if dim in NONE_DIMENSIONS else None
    return value


def _ticket_url(period: Period, row: dict[str, Any], dims: Sequence[str], kinds: Sequence[int] | None) -> str | None:
    """The ticket list of one figure row (a dimension may hold several values: the
    list of their union) — None when the list cannot select a value of the row."""
    values = {d: _list_value(d, row.get(d)) for d in dims}
    if any(v is None for v in values.values()):
        return None
    return links.tickets(**ticket_list_query(period=period, row=values, kinds=kinds))


def complaint_kind(ctx: Context) -> list[int] | None:
    """The complaint kind's id (an installation without one shows no complaint charts)."""
    try:
        return kind_ids(["complaint"])
    except ValidationFailed:
        return None


# --------------------------------------------------------------------------- key figures


def _delta_hint(change: dict[str, Any], label: str) -> str:
    pct, delta = change.get("delta_pct"), change.get("delta")
    if delta is None:
        return ""
    if pct is not None:
        return f"{label} {'+' if pct >= 0 else ''}{pct}%"
    return f"{label} {'+' if delta >= 0 else ''}{delta}"


def key_figures(ctx: Context, *, complaint: list[int] | None, last_year: bool) -> Widget:
    """The period at a glance: complaints, repairs, SLA compliance, resolution time,
    satisfaction and NPS, each against the previous period (and, for the director, the
    same period last year)."""
    from kefu.reports.selectors.visits import visit_figures

    period = ctx.period
    # No percentile is shown here: p90=False lets the ticket counters answer.
    by_kind = ticket_figures(user=ctx.user, period=period, group_by=("kind",), p90=False)
    totals = ticket_totals(user=ctx.user, period=period, p90=False)

    def totals_of(other: Period) -> dict[str, Any]:
        return ticket_totals(user=ctx.user, period=other, p90=False)

    if last_year:
        # One computation when the previous period is last year's (a year's).
        previous, before = previous_and_last_year(totals_of, period)
    else:
        previous, before = totals_of(period.previous()), None
    keys = ("count", "sla_rate", "avg_resolution_hours", "satisfaction_avg")
    changes = compare(totals, previous, keys=keys)
    changes_year = compare(totals, before, keys=keys) if before is not None else {}

    def hint(key: str) -> str:
        parts = [_delta_hint(changes[key], _("环比"))]
        if changes_year:
            parts.append(_delta_hint(changes_year[key], _("同比")))
        return "  ".join(p for p in parts if p)

    dates = links.period_dates(period.start, period.end)
    cards = [Figure("tickets", _("登记工单"), totals["count"], links.tickets(**dates), hint=hint("count"))]
    for row in by_kind:
        if row["kind"] is not None and complaint and row["kind"] == complaint[0]:
            cards.append(Figure("complaints", _("投诉"), row["count"], links.tickets(kind=row["kind"], **dates)))
    cards += [
        Figure(
            "sla_rate",
            _("时限达标率"),
            totals["sla_rate"],
            # The handled tickets the rate is taken over.
            links.tickets(resolved=1, **dates),
            exact=False,
            unit="%",
            hint=hint("sla_rate"),
        ),
        Figure(
            "avg_resolution_hours",
            _("平均处理时长（工作小时）"),
            totals["avg_resolution_hours"],
            links.tickets(resolved=1, **dates),
            exact=False,
            hint=hint("avg_resolution_hours"),
        ),
        Figure(
            "satisfaction",
            _("工单满意度（1–5）"),
            totals["satisfaction_avg"],
            exact=False,
            hint=hint("satisfaction_avg"),
        ),
    ]
    if ctx.can(VIEW_TEAM_VISITS):
        visits = visit_figures(user=ctx.user, period=period)[0]
        cards += [
            Figure("visit_satisfaction", _("回访满意度（1–5）"), visits["satisfaction_avg"], exact=False),
            Figure("nps", _("NPS"), visits["nps"], exact=False),
        ]
    return Widget(
        key="key_figures",
        title=_("%(period)s 关键指标") % {"period": period.label},
        kind="figures",
        figures=cards,
        width=12,
    )


# --------------------------------------------------------------------------- trends


def _trend_by(ctx: Context, trend: Period, kinds: list[int], dim: str, key: str, title: str) -> Widget:
    """Complaints per month, one stacked series per value of `dim` (biggest first)."""
    rows = ticket_figures(user=ctx.user, period=trend, kinds=["complaint"], group_by=("month", dim), p90=False)
    months = _month_keys(trend)
    totals: dict[Any, int] = {}
    labels: dict[Any, str] = {}
    cells: dict[tuple[str, Any], dict[str, Any]] = {}
    for row in rows:
        totals[row[dim]] = totals.get(row[dim], 0) + row["count"]
        labels[row[dim]] = row[f"{dim}_label"]
        cells[(row["month"], row[dim])] = row
    ordered = sorted(totals, key=lambda v: (-totals[v], labels[v]))
    shown, rest = ordered[:TREND_SERIES], ordered[TREND_SERIES:]
    series = []
    for value in shown:
        points = []
        for month in months:
            row = cells.get((month, value))
            if row is None:
                points.append(Point(0, _ticket_url(trend, {"month": month, dim: value}, ("month", dim), kinds)))
            else:
                points.append(Point(row["count"], _ticket_url(trend, row, ("month", dim), kinds)))
        series.append(Series(labels[value], points, stack="trend"))
    if rest:
        linked = len(rest) <= MAX_LINKED_VALUES
        points = [
            Point(
                sum(cells[(m, v)]["count"] for v in rest if (m, v) in cells),
                _ticket_url(trend, {"month": m, dim: rest}, ("month", dim), kinds) if linked else None,
            )
            for m in months
        ]
        series.append(Series(_("其他"), points, stack="trend"))
    return Widget(
        key=key,
        title=title,
        kind="bar",
        categories=months,
        series=series,
        empty=_("这段时间没有投诉。"),
    )


def complaint_trends(ctx: Context, trend: Period, kinds: list[int]) -> list[Widget]:
    return [
        _trend_by(ctx, trend, kinds, "category", "complaints_by_category", _("投诉趋势（按分类）")),
        _trend_by(ctx, trend, kinds, "department", "complaints_by_department", _("投诉趋势（按责任部门）")),
    ]


def sla_and_satisfaction(ctx: Context, trend: Period) -> list[Widget]:
    """SLA compliance per month (met / breached resolved tickets and the rate), and the
    satisfaction of tickets and visits with the NPS, from one ticket query and one
    visit query."""
    months = _month_keys(trend)
    by_month = ticket_figures(user=ctx.user, period=trend, group_by=("month",), p90=False)
    rows = {r["month"]: r for r in by_month}
    empty = {"sla_met": 0, "sla_breached": 0, "sla_rate": None, "satisfaction_avg": None}

    def resolved_url(month: str, states: list[str]) -> str | None:
        # Resolved as the figures count it: resolved_at set (the list's `resolved=1`).
        start, end = _month_range(month, trend)
        return links.tickets(resolved=1, sla_state=states, **links.period_dates(start, end))

    met_states = [s.value for s in SlaState if s != SlaState.BREACHED]
    sla = Widget(
        key="sla_trend",
        title=_("时限达标率趋势"),
        kind="bar",
        categories=months,
        series=[
            Series(
                _("按时处理"),
                [Point(rows.get(m, empty)["sla_met"], resolved_url(m, met_states)) for m in months],
                stack="sla",
                color=GOOD,
            ),
            Series(
                _("超时处理"),
                [Point(rows.get(m, empty)["sla_breached"], resolved_url(m, [SlaState.BREACHED])) for m in months],
                stack="sla",
                color=BAD,
            ),
            Series(
                _("达标率"),
                [Point(rows.get(m, empty)["sla_rate"]) for m in months],
                kind="line",
                axis=1,
                counts=False,
                unit="%",
                color=NEUTRAL,
            ),
        ],
        note=_("按登记月份统计；达标率 = 已处理工单中未超时的比例。"),
        empty=_("这段时间没有已处理的工单。"),
    )
    series = [
        Series(
            _("工单满意度"),
            [
                Point(
                    rows.get(m, empty)["satisfaction_avg"],
                    links.tickets(**links.period_dates(*_month_range(m, trend))),
                )
                for m in months
            ],
            kind="line",
            counts=False,
            color=NEUTRAL,
        )
    ]
    if ctx.can(VIEW_TEAM_VISITS):
        from kefu.reports.selectors.visits import visit_figures

        visits = {r["month"]: r for r in visit_figures(user=ctx.user, period=trend, group_by=("month",))}

        def done_url(month: str) -> str | None:
            return links.visits(status="done", **links.due_dates(*_month_range(month, trend)))

        series += [
            Series(
                _("回访满意度"),
                [Point((visits.get(m) or {}).get("satisfaction_avg"), done_url(m)) for m in months],
                kind="line",
                counts=False,
                color=GOOD,
            ),
            Series(
                _("NPS"),
                [Point((visits.get(m) or {}).get("nps"), done_url(m)) for m in months],
                kind="line",
                axis=1,
                counts=False,
                color=WARN,
            ),
        ]
    satisfaction = Widget(
        key="satisfaction_trend",
        title=_("满意度与 NPS 趋势"),
        kind="line",
        categories=months,
        series=series,
        note=_("满意度 1–5 分（左轴），NPS −100～100（右轴）。"),
        empty=_("这段时间没有满意度评价。"),
    )
    return [sla, satisfaction]


# --------------------------------------------------------------------------- the period


def visit_funnel_widget(ctx: Context) -> Widget:
    """Visits done → reached → arrived → deals, over the visits due in the period."""
    from kefu.reports.selectors.visits import visit_funnel

    period = ctx.period
    row = visit_funnel(user=ctx.user, period=period)[0]
    dates = links.due_dates(period.start, period.end)
    # 已回访 is every visit worked to an end (the list's `finished`: done or failed). Only
    # a reached call completes a visit and records arrival and deal, so the later stages
    # are done visits by outcome and flag — the figures count them among the visits not
    # cancelled, and a cancelled visit was never worked.
    stages = [
        (_("已回访"), row["visits"], links.visits(status=STATUS_FINISHED, **dates)),
        (_("已接通"), row["reached"], links.visits(status="all", outcome=Outcome.REACHED, **dates)),
        (_("到院/到店"), row["arrivals"], links.visits(status="all", arrived=1, **dates)),
        (_("成交"), row["deals"], links.visits(status="all", deal=1, **dates)),
    ]
    return Widget(
        key="visit_funnel",
        title=_("回访转化漏斗"),
        kind="funnel",
        categories=[s[0] for s in stages],
        series=[Series(_("回访"), [Point(s[1], s[2]) for s in stages])],
        note=_("%(period)s 计划的回访。") % {"period": period.label},
        empty=_("这段时间没有完成的回访。"),
    )


def top_causes_widget(ctx: Context, kinds: list[int]) -> Widget:
    period = ctx.period
    rows = top_causes(user=ctx.user, period=period, limit=TOP_CAUSES)
    return Widget(
        key="top_causes",
        title=_("投诉主要原因（前 %(n)d 位）") % {"n": TOP_CAUSES},
        kind="hbar",
        categories=[r["category_label"] for r in rows],
        series=[
            Series(
                _("投诉数"),
                [Point(r["count"], _ticket_url(period, r, ("category",), kinds)) for r in rows],
                color=BAD,
            )
        ],
        note=_("%(period)s 登记的投诉，按分类。") % {"period": period.label},
        empty=_("这段时间没有投诉。"),
    )


CUSTOMER_DIMENSIONS = (
    ("customer_class", "customers_by_class"),
    ("region", "customers_by_region"),
    ("source", "customers_by_source"),
)


def customers_widgets(ctx: Context) -> list[Widget]:
    """The archives existing at the end of the period, by class, region and source."""
    from kefu.reports.selectors.customers import customer_figures

    period = ctx.period
    titles = {
        "customer_class": _("客户分类"),
        "region": _("客户片区分布"),
        "source": _("客户来源"),
    }
    widgets = []
    for dim, key in CUSTOMER_DIMENSIONS:
        # The pies show the archives only: no losses asked, so the counters can answer.
        figures = customer_figures(user=ctx.user, period=period, group_by=(dim,), lost=False)
        rows = [r for r in figures if r.get("total")]
        widgets.append(
            Widget(
                key=key,
                title=titles[dim],
                kind="pie",
                categories=[r[f"{dim}_label"] for r in rows],
                series=[
                    Series(
                        _("客户数"),
                        [
                            Point(r["total"], links.customers(**{dim: links.ident(r[dim])}, created_to=period.last_day))
                            for r in rows
                        ],
                    )
                ],
                width=4,
                note=_("截至 %(day)s 的客户档案。") % {"day": period.last_day.isoformat()},
                empty=_("没有客户档案。"),
            )
        )
    return widgets


def at_risk_widget(ctx: Context) -> Widget:
    from kefu.reports.selectors.customers import key_accounts_at_risk

    rows = [
        {
            "name": r["name"],
            "archive_no": r.get("archive_no", ""),
            "reason": r.get("reason", ""),
            "url": links.customer(r["customer"]),
        }
        for r in key_accounts_at_risk(user=ctx.user, today=ctx.today, limit=AT_RISK_ROWS)
    ]
    return Widget(
        key="key_accounts_at_risk",
        title=_("重点客户风险"),
        kind="table",
        columns=[
            Column("name", _("客户"), link="url"),
            Column("archive_no", _("档案编号")),
            Column("reason", _("原因")),
        ],
        rows=rows,
        more_url=links.customers(key_account=1),
        note=_("有未结投诉，或 60 天内没有接通的回访。"),
        empty=_("重点客户目前没有风险。"),
    )


def management_widgets(ctx: Context, *, last_year: bool) -> list[Widget]:
    """The shared part of the manager's and the director's dashboards."""
    widgets: list[Widget] = []
    trend = trend_period(ctx.period)
    if ctx.can(VIEW_TICKETS):
        complaint = complaint_kind(ctx)
        widgets.append(key_figures(ctx, complaint=complaint, last_year=last_year))
        if complaint:
            widgets += complaint_trends(ctx, trend, complaint)
        widgets += sla_and_satisfaction(ctx, trend)
        if complaint:
            widgets.append(top_causes_widget(ctx, complaint))
    if ctx.can(VIEW_TEAM_VISITS):
        widgets.append(visit_funnel_widget(ctx))
    if ctx.can(VIEW_CUSTOMERS):
        widgets += customers_widgets(ctx)
        widgets.append(at_risk_widget(ctx))
    return widgets
