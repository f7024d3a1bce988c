"""Pieces every report builder uses: the report's frame (company, period, time of
making), the comparison of a period with the previous one and the same one last year,
one table per dimension, and the ECharts options the page draws above a table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.models import SiteConfig
from kefu.reports.periods import Period
from kefu.reports.selectors.common import compare
from kefu.reports.tables import Column, Report, Table

T = TypeVar("T")

LABEL = "label"


def new_report(key: str, title: str, period: Period) -> Report:
    return Report(
        key=key,
        title=title,
        period=period,
        company=str(SiteConfig.current()),
        generated_at=timezone.localtime(),
    )


def comparison_table(
    *,
    title: str,
    metrics: Sequence[Column],
    period: Period,
    current: Mapping,
    previous: Mapping,
    last_year: Mapping,
) -> Table:
    """The period's totals beside the previous period's and last year's, with the change
    in the metric's own unit (points for a rate): rows are periods, columns metrics, so
    every column keeps one kind in the page, the Excel file and the PDF."""
    keys = [m.key for m in metrics]
    mom = compare(dict(current), dict(previous), keys=keys)
    yoy = compare(dict(current), dict(last_year), keys=keys)

    def row(name: str, values: Mapping) -> dict:
        return {LABEL: name, **{k: values.get(k) for k in keys}}

    prev_p, year_p = period.previous(), period.same_last_year()
    rows = [
        row(_("本期（%(p)s）") % {"p": period.label}, current),
        row(_("上期（%(p)s）") % {"p": prev_p.label}, previous),
        row(_("环比增减"), {k: mom[k]["delta"] for k in keys}),
        row(_("去年同期（%(p)s）") % {"p": year_p.label}, last_year),
        row(_("同比增减"), {k: yoy[k]["delta"] for k in keys}),
    ]
    return Table(
        title=title,
        columns=[Column(LABEL, _("期间")), *metrics],
        rows=rows,
        note=_("增减以指标本身的单位计（比率为百分点）；无可比数据时为空。"),
    )


def overall_comparison(
    *,
    metrics: Sequence[Column],
    period: Period,
    current: Mapping,
    totals: Callable[[Period], Mapping],
) -> Table:
    """总体指标与同比、环比 — the first table of every period report: `current` beside
    `totals` of the previous period and of the same period last year (computed once
    when they are the same period)."""
    previous, last_year = previous_and_last_year(totals, period)
    return comparison_table(
        title=_("总体指标与同比、环比"),
        metrics=metrics,
        period=period,
        current=current,
        previous=previous,
        last_year=last_year,
    )


def dimension_table(
    *,
    title: str,
    dimension: str,
    heading: str,
    rows: Sequence[Mapping],
    metrics: Sequence[Column],
    totals: Mapping | None = None,
) -> Table:
    """Selector rows grouped by one dimension: its display text first, then the figures
    (the dimension's id stays in the row as `key`, for click-through, but is no column)."""
    out = []
    for r in rows:
        item = {LABEL: r.get(f"{dimension}_label") or _("（未指定）"), "key": r.get(dimension)}
        item.update({m.key: r.get(m.key) for m in metrics})
        out.append(item)
    total_row = None
    if totals is not None:
        total_row = {LABEL: _("合计"), **{m.key: totals.get(m.key) for m in metrics}}
    return Table(title=title, columns=[Column(LABEL, heading), *metrics], rows=out, totals=total_row)


def cross_table(
    *,
    title: str,
    dimensions: Sequence[tuple[str, str]],
    rows: Sequence[Mapping],
    metrics: Sequence[Column],
) -> Table:
    """Rows grouped by several dimensions at once (category × department…)."""
    out = []
    for r in rows:
        item = {d: r.get(f"{d}_label") or _("（未指定）") for d, _h in dimensions}
        item.update({m.key: r.get(m.key) for m in metrics})
        out.append(item)
    return Table(title=title, columns=[*(Column(d, h) for d, h in dimensions), *metrics], rows=out)


# ---------------------------------------------------------------------------- charts


# The lists' filter value for "not set" (tickets/params.py, customers/params.py).
NONE_KEY = "none"


def _segment_key(key, link: str) -> str:
    """A row's key as the value appended to the chart's list address: the empty group
    (未分类, 未指定部门 …) is the lists' `none`, so it lands on exactly its rows rather
    than on the unfiltered list (an empty value) or a refused one (its label)."""
    if key is None:
        return NONE_KEY if link else ""
    return str(key)


def bar_chart(table: Table, *, value: str, name: str, link: str = "", limit: int = 20) -> Table:
    """A bar per row of `table` (its label against `value`), each segment carrying the
    row's key so a click lands on the list behind it (`link` + key: the list's filter
    for the row's dimension must accept `none` for the empty group)."""
    rows = table.rows[:limit]
    table.chart = {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 16, "bottom": 80, "top": 24},
        "xAxis": {"type": "category", "data": [r[LABEL] for r in rows], "axisLabel": {"interval": 0, "rotate": 30}},
        "yAxis": {"type": "value"},
        "series": [
            {
                "type": "bar",
                "name": name,
                "data": [{"value": r.get(value) or 0, "key": _segment_key(r.get("key"), link)} for r in rows],
            }
        ],
    }
    table.chart_link = link
    return table


def line_chart(table: Table, *, series: Sequence[tuple[str, str]]) -> Table:
    """One line per (key, name) over the table's rows in order (a trend by month)."""
    table.chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [n for _k, n in series]},
        "grid": {"left": 48, "right": 16, "bottom": 32, "top": 40},
        "xAxis": {"type": "category", "data": [r[LABEL] for r in table.rows]},
        "yAxis": {"type": "value"},
        "series": [
            {"type": "line", "name": n, "data": [r.get(k) if r.get(k) is not None else None for r in table.rows]}
            for k, n in series
        ],
    }
    return table


def funnel_chart(table: Table, *, steps: Sequence[tuple[str, str]], row: Mapping) -> Table:
    table.chart = {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "funnel",
                "sort": "none",
                "label": {"show": True, "position": "inside"},
                "data": [{"name": n, "value": row.get(k) or 0} for k, n in steps],
            }
        ],
    }
    return table


def ticket_list_link(*, period: Period, param: str, kind_ids: Sequence[int] = ()) -> str:
    """The desk's ticket list for the period (and kinds), waiting for one more filter
    value: the chart appends the clicked segment's key."""
    query = [("created_from", period.start.isoformat()), ("created_to", period.last_day.isoformat())]
    query += [("kind", str(k)) for k in kind_ids]
    return f"{reverse('tickets:list')}?{urlencode(query)}&{param}="


def customer_list_link(*, period: Period, param: str) -> str:
    """The customer archive as it stood at the period's end (opened by its last day —
    the customers a report's "total" counts), waiting for one more filter value."""
    query = [("created_to", period.last_day.isoformat())]
    return f"{reverse('customers:list')}?{urlencode(query)}&{param}="


def is_multi_month(period: Period) -> bool:
    return len(period.months()) > 1


def previous_and_last_year(totals: Callable[[Period], T], period: Period) -> tuple[T, T]:
    """The totals of the previous period and of the same period last year — one
    computation when they are the same period (a year's previous IS last year)."""
    previous = totals(period.previous())
    last_year = period.same_last_year()
    return previous, previous if last_year == period.previous() else totals(last_year)
