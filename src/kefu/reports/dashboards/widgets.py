"""The building blocks every role dashboard is made of, and how they become ECharts
options and JSON.

A widget holds plain figures (no querysets): the HTML page turns it into an ECharts
option (`chart_option`, rendered through json_script, no inline script), the API returns
`as_json()`, and the tests read the same objects — so the page, the API and the tests
can never disagree about a figure.

Every point that counts rows carries the address of the list it stands for (`url`):
the ticket desk, the visit list or the customer archive, with the filters that select
exactly those rows through the same scoped selector. `counts=True` on a series (and
`exact=True` on a figure) promises that the value equals the number of rows that list
shows to the same user; the dashboard tests check that promise for every point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.urls import reverse

# ECharts' default palette is fine, but charts of the same dashboard read better when a
# figure keeps its colour: met/breached, done/failed/planned.
GOOD, BAD, WARN, NEUTRAL = "#2fb344", "#d63939", "#f59f00", "#206bc4"


@dataclass
class Point:
    value: int | float | None
    url: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "url": self.url}


@dataclass
class Series:
    name: str
    points: list[Point]
    kind: str = "bar"  # "bar" | "line"
    stack: str | None = None
    axis: int = 0  # 1: the right-hand axis (rates next to counts)
    counts: bool = True  # the values are row counts of the linked lists
    unit: str = ""  # "%" for rates
    color: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "counts": self.counts,
            "unit": self.unit,
            "points": [p.as_json() for p in self.points],
        }


@dataclass
class Figure:
    """A number card: `exact` says the number equals the rows of the list at `url`."""

    key: str
    label: str
    value: int | float | None
    url: str | None = None
    exact: bool = True
    unit: str = ""
    hint: str = ""
    tone: str = ""  # "", "danger", "warning", "success"

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "url": self.url,
            "exact": self.exact,
            "unit": self.unit,
            "hint": self.hint,
        }


@dataclass
class Column:
    key: str
    label: str
    link: str | None = None  # the row key holding the address this cell links to


@dataclass
class Widget:
    """One card of a dashboard. `kind`: "figures" (number cards), "bar" (vertical,
    stacked when the series share a stack), "hbar" (horizontal), "line", "pie",
    "funnel" or "table". For charts, `categories` are the axis labels (pie and funnel:
    the slice names) and each series has one point per category."""

    key: str
    title: str
    kind: str
    categories: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    empty: str = ""
    width: int = 6  # of the 12 grid columns on a large screen
    more_url: str | None = None

    @property
    def is_chart(self) -> bool:
        return self.kind in ("bar", "hbar", "line", "pie", "funnel")

    @property
    def has_data(self) -> bool:
        if self.kind == "figures":
            return bool(self.figures)
        if self.kind == "table":
            return bool(self.rows)
        return any(p.value for s in self.series for p in s.points)

    def cells(self) -> list[list[dict[str, Any]]]:
        """A table widget's rows as cells in column order, each with its link."""
        return [
            [{"value": row.get(c.key, ""), "url": row.get(c.link) if c.link else None} for c in self.columns]
            for row in self.rows
        ]

    def segments(self) -> list[dict[str, Any]]:
        """Every linked point as {series, category, value, url, counts} (the table under
        each chart, for keyboards and screen readers, and for the tests)."""
        out = []
        for series in self.series:
            for category, point in zip(self.categories, series.points, strict=True):
                out.append(
                    {
                        "series": series.name,
                        "category": category,
                        "value": point.value,
                        "unit": series.unit,
                        "url": point.url,
                        "counts": series.counts,
                    }
                )
        return out

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "title": self.title, "kind": self.kind, "note": self.note}
        if self.kind == "figures":
            data["figures"] = [f.as_json() for f in self.figures]
        elif self.kind == "table":
            data["columns"] = [{"key": c.key, "label": c.label} for c in self.columns]
            data["rows"] = self.rows
            data["more_url"] = self.more_url
        else:
            data["categories"] = self.categories
            data["series"] = [s.as_json() for s in self.series]
        return data


# --------------------------------------------------------------------------- ECharts


def click_base() -> str:
    """app.js navigates to `data-click-base + encodeURIComponent(point.key)`; a point's
    key is its list address, so the base is the dashboard's redirect (which only
    forwards to the three list pages)."""
    return reverse("reports:dashboard_go") + "?to="


def _item(point: Point, name: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"value": point.value}
    if name is not None:
        item["name"] = name
    if point.url:
        # `key` is what app.js appends to the click base; `url` for readers of the JSON.
        item["key"] = point.url
        item["url"] = point.url
    else:
        # Not clickable: no pointer, and the redirect refuses anything but a list address.
        item["cursor"] = "default"
    return item


def _axis_series(widget: Widget) -> list[dict[str, Any]]:
    out = []
    for series in widget.series:
        entry: dict[str, Any] = {
            "name": series.name,
            "type": series.kind,
            "data": [_item(p) for p in series.points],
            "emphasis": {"focus": "series"},
        }
        if series.stack:
            entry["stack"] = series.stack
        if series.axis:
            entry["yAxisIndex" if widget.kind != "hbar" else "xAxisIndex"] = series.axis
        if series.kind == "line":
            entry["connectNulls"] = True
            entry["symbolSize"] = 8
        if series.color:
            entry["itemStyle"] = {"color": series.color}
        out.append(entry)
    return out


def chart_option(widget: Widget) -> dict[str, Any]:
    """The ECharts option of a chart widget (Chinese labels come from the widget)."""
    base: dict[str, Any] = {
        "animation": False,
        "tooltip": {"trigger": "item" if widget.kind in ("pie", "funnel") else "axis"},
        "legend": {"type": "scroll", "bottom": 0},
    }
    if widget.kind in ("pie", "funnel"):
        series = widget.series[0]
        data = [_item(p, name) for name, p in zip(widget.categories, series.points, strict=True)]
        entry: dict[str, Any] = {"name": series.name, "type": widget.kind, "data": data}
        if widget.kind == "pie":
            entry.update({"radius": ["35%", "65%"], "center": ["50%", "45%"], "label": {"formatter": "{b}: {c}"}})
        else:
            entry.update({"sort": "none", "top": 10, "bottom": 40, "label": {"formatter": "{b}: {c}"}})
        return {**base, "series": [entry]}
    categories_axis = {"type": "category", "data": widget.categories, "axisLabel": {"interval": 0, "hideOverlap": True}}
    value_axes: list[dict[str, Any]] = [{"type": "value", "minInterval": 1}]
    if any(s.axis for s in widget.series):
        unit = next((s.unit for s in widget.series if s.axis), "")
        value_axes.append({"type": "value", "splitLine": {"show": False}, "axisLabel": {"formatter": "{value}" + unit}})
    option: dict[str, Any] = {**base, "grid": {"left": 8, "right": 16, "top": 24, "bottom": 40, "containLabel": True}}
    if widget.kind == "hbar":
        categories_axis["inverse"] = True
        option.update({"xAxis": value_axes, "yAxis": categories_axis})
    else:
        option.update({"xAxis": categories_axis, "yAxis": value_axes})
    option["series"] = _axis_series(widget)
    return option


def go_url(target: str) -> str:
    """The redirect address of a list URL (what a click on the segment opens)."""
    return click_base() + quote(target, safe="")
