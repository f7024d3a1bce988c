"""Ticket figures of a period: counts, resolution and response time in working hours
(average and p90), SLA compliance, reopen rate, satisfaction — by any of the report
dimensions, over the tickets the viewer may see (`ticket_base`).

Set-based: one GROUP BY scan of the period's tickets (PostgreSQL computes the p90 in
the same scan with percentile_disc; SQLite picks it with a window query, see
reports/sql.py) and one small query per named dimension for its labels. The working
minutes are stored on each ticket by the services, so nothing walks the calendar here.

The tickets counted are those REGISTERED in the period (`created_at` in its bounds),
whatever their status now — the same set the ticket list shows for
`created_from`/`created_to`, which is where a chart segment clicks through to."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import ValidationFailed
from kefu.core.params import has_control
from kefu.reports.periods import Period
from kefu.reports.selectors.common import (
    as_list,
    clean_dimensions,
    group_column,
    hours,
    int_list,
    month_case,
    month_key,
    names_of,
    one_decimal,
    percent,
    sort_rows,
    user_names,
)
from kefu.reports.sql import PercentileDisc, native_percentile, nearest_rank
from kefu.tickets.choices import OPEN_STATUSES, Channel, Severity, SlaState
from kefu.tickets.selectors import ticket_base

TICKET_DIMENSIONS = ("kind", "category", "department", "region", "channel", "severity", "assignee", "month")
FILTER_KEYS = ("region", "department", "category", "severity", "channel", "kind", "assignee")
P90 = 0.9

# The figures every row carries (for `compare` and the report tables).
TICKET_FIGURES = (
    "count",
    "resolved",
    "open",
    "avg_resolution_hours",
    "p90_resolution_hours",
    "avg_response_hours",
    "sla_met",
    "sla_breached",
    "sla_rate",
    "reopened",
    "reopen_rate",
    "satisfaction_avg",
    "satisfaction_n",
    "escalated",
)

# Each dimension as the expression grouped on (aliased `dim_<name>`: an annotation may
# not shadow a model field such as `kind`).


def _group_expression(dim: str, period: Period):
    if dim == "month":
        return month_case("created_at", period)
    if dim in ("channel", "severity"):
        return F(dim)
    return group_column(_FK_COLUMNS[dim])


_FK_COLUMNS = {
    "kind": "kind_id",
    "category": "category_id",
    "department": "responsible_department_id",
    "region": "region_id",
    "assignee": "assignee_id",
}


def _alias(dim: str) -> str:
    return f"dim_{dim}"


def _kind_ids(codes: Sequence[str]) -> list[int]:
    from kefu.tickets.models import TicketKind

    codes = [str(c) for c in codes]
    # A control character is in no code, and PostgreSQL refuses a NUL in a query (a
    # 500): such a value is simply an unknown kind.
    asked = [c for c in codes if not has_control(c)]
    found = dict(TicketKind.objects.filter(code__in=asked).values_list("code", "pk")) if asked else {}
    unknown = [c.replace("\x00", "") or "?" for c in codes if c not in found]
    if unknown:
        raise ValidationFailed(
            _("没有这个工单类型：%(c)s") % {"c": "、".join(unknown)[:60]}, details={"field": "kinds"}
        )
    return list(found.values())


def _kind_filter(values: list[Any]) -> list[int]:
    """Kinds named by id or by code (`3`, `"complaint"`)."""
    ids = [int(v) for v in values if isinstance(v, int) or (isinstance(v, str) and v.isdigit())]
    codes = [v for v in values if isinstance(v, str) and not v.isdigit()]
    return ids + (_kind_ids(codes) if codes else [])


def _choice_filter(values: list[Any], choices, field: str) -> list[str]:
    unknown = [v for v in values if v not in choices.values]
    if unknown:
        raise ValidationFailed(
            _("筛选条件无效：%(f)s=%(v)s") % {"f": field, "v": str(unknown[0])[:40]}, details={"field": field}
        )
    return [str(v) for v in values]


def clean_filters(filters: Mapping[str, object] | None) -> dict[str, list[Any]]:
    """The figure filters as the values they select — kind ids, department/region/
    category/assignee ids, severity and channel codes — empty ones dropped; an unknown
    key or value is a 422."""
    cleaned: dict[str, list[Any]] = {}
    for key, raw in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise ValidationFailed(_("不支持的筛选条件：%(f)s") % {"f": str(key)[:40]}, details={"field": str(key)})
        values = as_list(raw)
        if not values:
            continue
        if key == "kind":
            cleaned[key] = _kind_filter(values)
        elif key in ("department", "region", "category", "assignee"):
            cleaned[key] = int_list(values, field=key)
        elif key == "severity":
            cleaned[key] = _choice_filter(values, Severity, key)
        else:
            cleaned[key] = _choice_filter(values, Channel, key)
    return cleaned


_FILTER_LOOKUPS = {
    "kind": "kind_id__in",
    "department": "responsible_department_id__in",
    "region": "region_id__in",
    "category": "category_id__in",
    "assignee": "assignee_id__in",
    "severity": "severity__in",
    "channel": "channel__in",
}


def period_tickets(
    *, user, period: Period, kinds: Sequence[str] | None = None, filters: Mapping[str, object] | None = None
) -> QuerySet:
    """The tickets registered in `period` that `user` may see, narrowed by kind codes
    and `filters` — the set every ticket figure is computed over."""
    start, end = period.bounds()
    qs = ticket_base(user).filter(created_at__gte=start, created_at__lt=end)
    if kinds is not None:
        qs = qs.filter(kind_id__in=_kind_ids(as_list(kinds)))
    for key, values in clean_filters(filters).items():
        qs = qs.filter(**{_FILTER_LOOKUPS[key]: values})
    return qs


def _expressions(native: bool) -> dict[str, Any]:
    resolved = Q(resolved_at__isnull=False)
    expressions = {
        "n_count": Count("pk"),
        "n_resolved": Count("pk", filter=resolved),
        "n_open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "avg_resolution": Avg("resolution_minutes"),
        "avg_response": Avg("response_minutes"),
        "n_sla_breached": Count("pk", filter=resolved & Q(sla_state=SlaState.BREACHED)),
        "n_reopened": Count("pk", filter=Q(reopen_count__gt=0)),
        "avg_satisfaction": Avg("satisfaction"),
        "n_satisfaction": Count("satisfaction"),
        "n_escalated": Count("pk", filter=Q(escalation_level__gt=0)),
    }
    if native:
        expressions["p90_resolution"] = PercentileDisc("resolution_minutes", P90)
    return expressions


def _figures(raw: Mapping[str, Any], p90_minutes) -> dict[str, Any]:
    count, resolved = raw["n_count"] or 0, raw["n_resolved"] or 0
    breached = raw["n_sla_breached"] or 0
    met = resolved - breached
    reopened = raw["n_reopened"] or 0
    return {
        "count": count,
        "resolved": resolved,
        "open": raw["n_open"] or 0,
        "avg_resolution_hours": hours(raw["avg_resolution"]),
        "p90_resolution_hours": hours(p90_minutes),
        "avg_response_hours": hours(raw["avg_response"]),
        "sla_met": met,
        "sla_breached": breached,
        "sla_rate": percent(met, resolved),
        "reopened": reopened,
        "reopen_rate": percent(reopened, count),
        "satisfaction_avg": one_decimal(raw["avg_satisfaction"]),
        "satisfaction_n": raw["n_satisfaction"] or 0,
        "escalated": raw["n_escalated"] or 0,
    }


def _labels(dims: Sequence[str], rows: list[dict]) -> dict[str, dict[Any, str]]:
    """{dimension: {value: label}} — one small query per named dimension."""
    from kefu.core.models import Department, Region
    from kefu.tickets.models import TicketCategory, TicketKind

    labels: dict[str, dict[Any, str]] = {}
    for dim in dims:
        values = {row[dim] for row in rows}
        if dim == "kind":
            labels[dim] = names_of(TicketKind, values)
        elif dim == "category":
            labels[dim] = names_of(TicketCategory, values, "path")
        elif dim == "department":
            labels[dim] = names_of(Department, values)
        elif dim == "region":
            labels[dim] = names_of(Region, values)
        elif dim == "assignee":
            labels[dim] = user_names(values)
        elif dim == "channel":
            labels[dim] = {v: str(Channel(v).label) for v in values if v in Channel.values}
        elif dim == "severity":
            labels[dim] = {v: str(Severity(v).label) for v in values if v in Severity.values}
        else:
            labels[dim] = {v: v for v in values}
    return labels


_NONE_LABELS = {
    "kind": gettext_lazy("未知类型"),
    "category": gettext_lazy("未分类"),
    "department": gettext_lazy("未指定部门"),
    "region": gettext_lazy("未指定片区"),
    "assignee": gettext_lazy("未分配"),
    "channel": gettext_lazy("未知渠道"),
    "severity": gettext_lazy("未知"),
    "month": "",
}


def label_rows(dims: Sequence[str], rows: list[dict]) -> None:
    """Add `<dim>_label` to each row (display text; None values get "未指定…")."""
    labels = _labels(dims, rows)
    for row in rows:
        for dim in dims:
            value = row[dim]
            text = labels[dim].get(value) if value is not None else None
            if text is None:
                text = str(_NONE_LABELS[dim]) if value is None else str(value)
            row[f"{dim}_label"] = text


def ticket_figures(
    *,
    user,
    period: Period,
    kinds: Sequence[str] | None = None,
    group_by: Sequence[str] = (),
    filters: Mapping[str, object] | None = None,
    p90: bool = True,
) -> list[dict]:
    """One row per group (per combination of `group_by` values) of the tickets
    registered in `period`: the dimensions with their labels and every figure of
    TICKET_FIGURES. `group_by=()` → exactly one row, the totals.

    `p90=False` (the dashboards, which do not show it) leaves p90_resolution_hours
    None — and lets the ticket counters answer instead of a scan of the period's
    tickets when they can (`kefu.reports.rollup.tickets`): the same figures."""
    dims = clean_dimensions(group_by, TICKET_DIMENSIONS)
    if not p90:
        from kefu.reports.rollup.tickets import rollup_raw_rows

        counted = rollup_raw_rows(
            user=user,
            period=period,
            kind_ids=_kind_ids(as_list(kinds)) if kinds is not None else None,
            dims=dims,
            filters=clean_filters(filters),
        )
        if counted is not None:
            return _rows(dims, [(key, raw, None) for key, raw in counted])
    qs = period_tickets(user=user, period=period, kinds=kinds, filters=filters)
    native = p90 and native_percentile(qs)
    expressions = _expressions(native)
    aliases = [_alias(d) for d in dims]
    if not dims:
        raw_rows = [qs.aggregate(**expressions)]
    else:
        grouped = qs.annotate(**{_alias(d): _group_expression(d, period) for d in dims}).order_by()
        raw_rows = list(grouped.values(*aliases).annotate(**expressions))
    if not p90:
        percentiles = {}
    elif native:
        percentiles = {tuple(raw[a] for a in aliases): raw["p90_resolution"] for raw in raw_rows}
    else:
        base = qs.annotate(**{_alias(d): _group_expression(d, period) for d in dims}) if dims else qs
        percentiles = nearest_rank(base, value="resolution_minutes", group=aliases, fraction=P90)
    keyed = []
    for raw in raw_rows:
        key = tuple(raw[a] for a in aliases)
        values = [month_key(v) if d == "month" else v for d, v in zip(dims, key, strict=True)]
        keyed.append((values, raw, percentiles.get(key)))
    return _rows(dims, keyed)


def _rows(dims: Sequence[str], keyed: list[tuple[Sequence[Any], Mapping[str, Any], Any]]) -> list[dict]:
    """Figure rows of (dimension values, raw aggregates, p90 minutes), labelled and
    ordered."""
    rows = []
    for values, raw, p90_minutes in keyed:
        row: dict[str, Any] = dict(zip(dims, values, strict=True))
        row.update(_figures(raw, p90_minutes))
        rows.append(row)
    label_rows(dims, rows)
    return sort_rows(rows, dims, "count")


def ticket_totals(
    *,
    user,
    period: Period,
    kinds: Sequence[str] | None = None,
    filters: Mapping[str, object] | None = None,
    p90: bool = True,
) -> dict:
    """The totals row of `ticket_figures` (no grouping)."""
    return ticket_figures(user=user, period=period, kinds=kinds, filters=filters, p90=p90)[0]


def top_causes(*, user, period: Period, kinds: Sequence[str] | None = ("complaint",), limit: int = 10) -> list[dict]:
    """The categories with the most tickets (complaints by default) registered in the
    period, biggest first: category id, category_label (the full path), count and its
    share of all the period's tickets of those kinds (%). Uncategorised tickets count
    in the share but are not a cause. The by-category figures without percentiles (so
    the counters answer when they can)."""
    counts = ticket_figures(user=user, period=period, kinds=kinds, group_by=("category",), p90=False)
    total = sum(row["count"] for row in counts)
    rows = [
        {"category": row["category"], "category_label": row["category_label"], "count": row["count"]}
        for row in counts
        if row["category"] is not None and row["count"]
    ]
    for row in rows:
        row["share"] = percent(row["count"], total)
    return rows[: max(int(limit), 0)]


def ticket_list_query(
    *,
    period: Period,
    row: Mapping[str, Any] | None = None,
    kinds: Sequence[int] | None = None,
    filters: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The ticket-list query parameters (tickets/params.py) selecting the tickets behind
    a figure row: registration dates of the period (of the row's month), kind ids, and
    the row's dimension values — for the click-through from a chart segment. A group
    whose value is None (未指定部门 …) cannot be expressed in the list and is left open.
    Ids only: resolve kind codes with `kind_ids` first."""
    first, last = period.start, period.last_day
    params: dict[str, Any] = {}
    merged: dict[str, Any] = {k: v for k, v in (filters or {}).items() if as_list(v)}
    for dim, value in (row or {}).items():
        if dim in TICKET_DIMENSIONS and value is not None:
            merged[dim] = value
    if month := merged.pop("month", None):
        year, month_no = map(int, str(month).split("-"))
        month_first = datetime.date(year, month_no, 1)
        month_end = (month_first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        first, last = max(first, month_first), min(last, month_end)
    params["created_from"], params["created_to"] = first.isoformat(), last.isoformat()
    if kinds:
        params["kind"] = ",".join(str(k) for k in kinds)
    names = {"department": "responsible_department"}
    for dim, value in merged.items():
        params[names.get(dim, dim)] = ",".join(str(v) for v in as_list(value))
    return params


def kind_ids(codes: Sequence[str]) -> list[int]:
    """Ticket kind ids of codes (unknown code: 422)."""
    return _kind_ids(codes)


# ---------------------------------------------------------------------------- several groupings at once


def ticket_breakdowns(
    *,
    user,
    period: Period,
    groupings: Sequence[Sequence[str]],
    kinds: Sequence[str] | None = None,
    filters: Mapping[str, object] | None = None,
) -> list[list[dict]]:
    """`[ticket_figures(group_by=g) for g in groupings]` — the same rows — computed on
    PostgreSQL in ONE scan of the period's tickets (GROUP BY GROUPING SETS, the p90 by
    percentile_disc per set), which is what keeps a report with many breakdowns of a
    year of complaints (totals, by category, department, region, channel, severity,
    category × department, month) within a second. SQLite has no grouping sets: one
    `ticket_figures` call per grouping there."""
    groups = [clean_dimensions(g, TICKET_DIMENSIONS) for g in groupings]
    qs = period_tickets(user=user, period=period, kinds=kinds, filters=filters)
    if not native_percentile(qs):
        return _breakdowns_two_scans(qs, groups, period)
    from kefu.reports.sql import grouping_sets

    every = list(dict.fromkeys(d for g in groups for d in g))
    inner = qs.annotate(**{_alias(d): _group_expression(d, period) for d in every}).order_by()
    measures = {
        "n_count": "COUNT(*)",
        "n_resolved": "COUNT(*) FILTER (WHERE resolved_at IS NOT NULL)",
        "n_open": "COUNT(*) FILTER (WHERE status IN %(open)s)",
        "avg_resolution": "AVG(resolution_minutes)",
        "avg_response": "AVG(response_minutes)",
        "n_sla_breached": "COUNT(*) FILTER (WHERE resolved_at IS NOT NULL AND sla_state = %(breached)s)",
        "n_reopened": "COUNT(*) FILTER (WHERE reopen_count > 0)",
        "avg_satisfaction": "AVG(satisfaction)",
        "n_satisfaction": "COUNT(satisfaction)",
        "n_escalated": "COUNT(*) FILTER (WHERE escalation_level > 0)",
        "p90_resolution": f"percentile_disc({P90}) WITHIN GROUP (ORDER BY resolution_minutes)",
    }
    columns = ["resolved_at", "status", "resolution_minutes", "response_minutes", "sla_state"]
    columns += ["reopen_count", "satisfaction", "escalation_level"]
    raw_sets = grouping_sets(
        inner.values(*[_alias(d) for d in every], *columns),
        keys=[_alias(d) for d in every],
        sets=[[_alias(d) for d in g] for g in groups],
        measures=measures,
        params={"open": tuple(str(s) for s in OPEN_STATUSES), "breached": SlaState.BREACHED.value},
    )
    result = []
    for dims, raw_rows in zip(groups, raw_sets, strict=True):
        rows = []
        for raw in raw_rows:
            row: dict[str, Any] = {d: raw[_alias(d)] for d in dims}
            row.update(_figures(raw, raw["p90_resolution"]))
            rows.append(row)
        label_rows(dims, rows)
        result.append(sort_rows(rows, dims, "count"))
    return result


# The figures as sums and counts — what adds up across groups (the counters' measures,
# by the same names).
ADDITIVE = {
    "n_count": Count("pk"),
    "n_resolved": Count("pk", filter=Q(resolved_at__isnull=False)),
    "n_open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
    "sum_resolution": Sum("resolution_minutes"),
    "n_resolution": Count("resolution_minutes"),
    "sum_response": Sum("response_minutes"),
    "n_response": Count("response_minutes"),
    "n_sla_breached": Count("pk", filter=Q(resolved_at__isnull=False, sla_state=SlaState.BREACHED)),
    "n_reopened": Count("pk", filter=Q(reopen_count__gt=0)),
    "sum_satisfaction": Sum("satisfaction"),
    "n_satisfaction": Count("satisfaction"),
    "n_escalated": Count("pk", filter=Q(escalation_level__gt=0)),
}


def _breakdowns_two_scans(qs: QuerySet, groups: list[list[str]], period: Period) -> list[list[dict]]:
    """SQLite's `ticket_breakdowns`: it has no grouping sets and no percentile, and one
    scan of the period per grouping (plus a window query per grouping for the p90) read
    a year of complaints sixteen times. Two scans instead:

    1. the figures' sums and counts at the finest grain — grouped by every dimension
       asked at once — added up here into each grouping (a few thousand rows);
    2. the resolution minutes with those dimensions, sorted by the database: walking
       them in order, the nearest-rank p90 of a group is the value at which the group
       reaches rank ceil(0.9·n) — n being its resolved count from scan 1.
    The same rows as one `ticket_figures` call per grouping (tests run both)."""
    every = list(dict.fromkeys(d for g in groups for d in g))
    aliases = [_alias(d) for d in every]
    annotated = qs.annotate(**{_alias(d): _group_expression(d, period) for d in every}).order_by()
    additive = ADDITIVE
    fine = annotated.values(*aliases).annotate(**additive) if every else [annotated.aggregate(**additive)]
    positions = [[every.index(d) for d in g] for g in groups]
    totals: list[dict[tuple, dict[str, int]]] = [{} for _ in groups]
    for row in fine:
        values = tuple(row[a] for a in aliases)
        for index, places in enumerate(positions):
            key = tuple(values[i] for i in places)
            into = totals[index].setdefault(key, dict.fromkeys(additive, 0))
            for name in additive:
                into[name] += row[name] or 0
    percentiles = _p90_by_walking(annotated, aliases, positions, totals)
    result = []
    for g, sums, p90 in zip(groups, totals, percentiles, strict=True):
        if not g and not sums:
            sums[()] = dict.fromkeys(additive, 0)  # the totals row, even of nothing
        keyed = [
            ([month_key(v) if d == "month" else v for d, v in zip(g, key, strict=True)], _averaged(raw), p90.get(key))
            for key, raw in sums.items()
        ]
        result.append(_rows(g, keyed))
    return result


def _p90_by_walking(annotated: QuerySet, aliases: list[str], positions, totals) -> list[dict[tuple, int]]:
    """{group key: nearest-rank p90 of resolution_minutes} per grouping, from one pass
    over the period's resolution minutes in ascending order."""
    ranks = []
    for sums in totals:
        # The p90 is over the tickets with resolution minutes (n_resolution of scan 1).
        ranks.append({key: -(-raw["n_resolution"] * 9 // 10) for key, raw in sums.items() if raw["n_resolution"]})
    found: list[dict[tuple, int]] = [{} for _ in totals]
    seen: list[dict[tuple, int]] = [{} for _ in totals]
    minutes = (
        annotated.filter(resolution_minutes__isnull=False)
        .order_by("resolution_minutes")
        .values_list(*aliases, "resolution_minutes")
    )
    for row in minutes.iterator(chunk_size=10000):
        value = row[-1]
        for index, places in enumerate(positions):
            key = tuple(row[i] for i in places)
            count = seen[index].get(key, 0) + 1
            seen[index][key] = count
            if count == ranks[index].get(key):
                found[index][key] = value
    return found


def _averaged(sums: Mapping[str, int]) -> dict[str, Any]:
    """The raw aggregates `_figures` reads, from sums and counts."""

    def average(total: str, n: str):
        return sums[total] / sums[n] if sums[n] else None

    return {
        "n_count": sums["n_count"],
        "n_resolved": sums["n_resolved"],
        "n_open": sums["n_open"],
        "avg_resolution": average("sum_resolution", "n_resolution"),
        "avg_response": average("sum_response", "n_response"),
        "n_sla_breached": sums["n_sla_breached"],
        "n_reopened": sums["n_reopened"],
        "avg_satisfaction": average("sum_satisfaction", "n_satisfaction"),
        "n_satisfaction": sums["n_satisfaction"],
        "n_escalated": sums["n_escalated"],
    }
