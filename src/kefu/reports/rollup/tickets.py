"""Ticket figures from the counters (`reports_ticketrollup`), for the questions they can
answer exactly — otherwise None, and the caller scans the tickets:

- whole months (the counters are by registration month), so a month, quarter, year or
  a dashboard's trend — not a week or a range that cuts a month;
- a viewer who sees every ticket: a scope ("my regions, tickets assigned to me, routed
  to my department") is a question about single tickets;
- grouped and filtered by kind, category, responsible department, region and month;
- no percentile (a p90 needs every value).

A few thousand rows summed per key, where the scan reads every ticket of the period."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Sum

from kefu.core import access
from kefu.reports.periods import Period
from kefu.reports.rollup import maintain, schema

DIMENSIONS = ("kind", "category", "department", "region", "month")
FILTERS = ("kind", "category", "department", "region")
VIEW = "tickets.view_ticket"


def answers(*, user, period: Period, dims: Sequence[str], filters: Mapping[str, Sequence[Any]]) -> bool:
    return (
        period.start.day == 1
        and period.end.day == 1
        and all(d in DIMENSIONS for d in dims)
        and all(key in FILTERS for key in filters)
        and access.has_perm(user, VIEW)
        and access.sees_everything(user)
        and maintain.ready(schema.TICKETS)
    )


def rollup_raw_rows(
    *,
    user,
    period: Period,
    kind_ids: Sequence[int] | None,
    dims: Sequence[str],
    filters: Mapping[str, Sequence[Any]],
) -> list[tuple[list[Any], dict[str, Any]]] | None:
    """[(dimension values, raw aggregates as `selectors.tickets._figures` reads them)]
    — one per group with tickets, or the single totals row when `dims` is empty; None
    when the counters cannot answer (see the module)."""
    from kefu.reports.models import TicketRollup

    if not answers(user=user, period=period, dims=dims, filters=filters):
        return None
    qs = TicketRollup.objects.filter(month__gte=period.start, month__lt=period.end)
    if kind_ids is not None:
        qs = qs.filter(kind__in=list(kind_ids))
    for key, values in filters.items():
        qs = qs.filter(**{f"{key}__in": list(values)})
    sums = {f"s_{m}": Sum(m) for m in schema.TICKETS.measure_names}
    if not dims:
        return [([], _raw(qs.aggregate(**sums)))]
    # Delta rows of a ticket that moved (another category, a deletion) net to 0 until
    # the fold: a group with no ticket left is no group.
    grouped = qs.order_by().values(*dims).annotate(**sums).filter(s_n_count__gt=0)
    return [([_value(d, row[d]) for d in dims], _raw(row)) for row in grouped]


def _value(dim: str, value: Any) -> Any:
    if dim == "month":
        return f"{value:%Y-%m}"
    return value or None  # 0 stands for "none" in the counters


def _average(total, n) -> float | None:
    return float(total) / float(n) if n else None


def _raw(sums: Mapping[str, Any]) -> dict[str, Any]:
    def get(name: str) -> int:
        return int(sums.get(f"s_{name}") or 0)

    return {
        "n_count": get("n_count"),
        "n_resolved": get("n_resolved"),
        "n_open": get("n_open"),
        "avg_resolution": _average(get("sum_resolution"), get("n_resolution")),
        "avg_response": _average(get("sum_response"), get("n_response")),
        "n_sla_breached": get("n_sla_breached"),
        "n_reopened": get("n_reopened"),
        "avg_satisfaction": _average(get("sum_satisfaction"), get("n_satisfaction")),
        "n_satisfaction": get("n_satisfaction"),
        "n_escalated": get("n_escalated"),
    }
