"""What a rendered report is made of, whatever it is rendered to: titled tables of typed
columns over plain rows. The page, the Excel file, the PDF and the API all draw the same
`Report`, so they cannot disagree about a figure."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kefu.reports.periods import Period

COLUMN_KINDS = ("text", "int", "float", "percent", "hours", "money")
NUMERIC_KINDS = frozenset(COLUMN_KINDS) - {"text"}


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # one of COLUMN_KINDS: how the value is aligned, formatted and typed in Excel

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[dict]
    totals: dict | None = None
    note: str = ""
    # An optional ECharts option drawn above the table on the page (never in Excel/PDF).
    chart: dict | None = None
    # Where a click on a chart segment goes: this prefix + the segment's key.
    chart_link: str = ""

    def __post_init__(self) -> None:
        # Totals of nothing would print as a row of zeros under "本期没有数据".
        if not self.rows:
            self.totals = None


@dataclass
class Report:
    key: str
    title: str
    period: Period
    company: str
    generated_at: datetime.datetime
    tables: list[Table] = field(default_factory=list)

    def as_json(self) -> dict:
        """The report as the API returns it (charts left out: they are page furniture)."""
        return {
            "key": self.key,
            "title": self.title,
            "company": self.company,
            "generated_at": self.generated_at.isoformat(),
            "period": period_json(self.period),
            "tables": [
                {
                    "title": t.title,
                    "note": t.note,
                    "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in t.columns],
                    "rows": [{c.key: row.get(c.key) for c in t.columns} for row in t.rows],
                    "totals": {c.key: t.totals.get(c.key) for c in t.columns} if t.totals is not None else None,
                }
                for t in self.tables
            ],
        }


def period_json(period: Period) -> dict:
    return {
        "key": period.key(),
        "kind": period.kind,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),  # exclusive
    }


def format_value(value: Any, kind: str) -> str:
    """A value as the page and the PDF print it (the Excel file keeps the number)."""
    if value is None or value == "":
        return "—" if kind != "text" else ""
    if kind == "int":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{float(value):.1f}%"
    if kind in ("float", "hours"):
        return f"{float(value):.1f}"
    if kind == "money":
        return f"{float(value):,.2f}"
    return str(value)


def signed(value: Any, kind: str) -> str:
    """A change (delta) with its sign, `—` when there is nothing to compare."""
    if value is None:
        return "—"
    text = format_value(abs(value), kind)
    if value > 0:
        return "+" + text
    if value < 0:
        return "−" + text
    return text


def display(table: Table) -> dict:
    """The table as the page and the PDF print it: each cell (text, is-number)."""

    def cells(row: Mapping[str, Any]) -> list[tuple[str, bool]]:
        return [(format_value(row.get(c.key), c.kind), c.numeric) for c in table.columns]

    return {
        "title": table.title,
        "note": table.note,
        "columns": table.columns,
        "rows": [cells(r) for r in table.rows],
        "totals": cells(table.totals) if table.totals is not None else None,
    }
