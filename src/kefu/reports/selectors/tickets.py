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
from collections import defaultdict
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
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
from kefu.tickets.models import Ticket
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
    kind_ids = _kind_ids(as_list(kinds)) if kinds is not None else None
    return _period_tickets(user=user, period=period, kind_ids=kind_ids, filters=clean_filters(filters))


def _period_tickets(*, user, period: Period, kind_ids: list[int] | None, filters: Mapping[str, list[Any]]) -> QuerySet:
    start, end = period.bounds()
    qs = ticket_base(user).filter(created_at__gte=start, created_at__lt=end)
    if kind_ids is not None:
        qs = qs.filter(kind_id__in=kind_ids)
    for key, values in filters.items():
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
    kind_ids = _kind_ids(as_list(kinds)) if kinds is not None else None
    cleaned = clean_filters(filters)
    native = native_percentile(Ticket.objects.all())
    from kefu.reports.rollup.tickets import rollup_raw_rows

    counted = rollup_raw_rows(user=user, period=period, kind_ids=kind_ids, dims=dims, filters=cleaned)
    if counted is not None and not p90:
        return _rows(dims, [(key, raw, None) for key, raw in counted])
    qs = _period_tickets(user=user, period=period, kind_ids=kind_ids, filters=cleaned)
    if p90 and (counted is not None or not native):
        # The sums from the counters (or, SQLite, one scan), the p90 from the minutes.
        both = _counted_and_native_p90 if native else _breakdowns_two_scans
        return both(qs, [dims], period, counted=[counted] if counted is not None else None)[0]
    expressions = _expressions(native and p90)
    aliases = [_alias(d) for d in dims]
    if not dims:
        raw_rows = [qs.aggregate(**expressions)]
    else:
        grouped = qs.annotate(**{_alias(d): _group_expression(d, period) for d in dims}).order_by()
        raw_rows = list(grouped.values(*aliases).annotate(**expressions))
    percentiles = {tuple(raw[a] for a in aliases): raw["p90_resolution"] for raw in raw_rows} if p90 else {}
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
    category × department, month) within a second. SQLite has no grouping sets: see
    `_breakdowns_two_scans`."""
    groups = [clean_dimensions(g, TICKET_DIMENSIONS) for g in groupings]
    kind_ids = _kind_ids(as_list(kinds)) if kinds is not None else None
    cleaned = clean_filters(filters)
    qs = _period_tickets(user=user, period=period, kind_ids=kind_ids, filters=cleaned)
    counted = _counted_groupings(user=user, period=period, kind_ids=kind_ids, groups=groups, filters=cleaned)
    if not native_percentile(qs):
        return _breakdowns_two_scans(qs, groups, period, counted=counted)
    if counted is not None:
        return _counted_and_native_p90(qs, groups, period, counted=counted)
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


def _counted_groupings(
    *, user, period: Period, kind_ids: list[int] | None, groups: list[list[str]], filters: Mapping[str, list[Any]]
) -> list[list[tuple[list, dict]]] | None:
    """Each grouping's rows from the counters, or None when one of them cannot be
    counted (then one scan gives them all)."""
    from kefu.reports.rollup.tickets import rollup_raw_groupings

    return rollup_raw_groupings(user=user, period=period, kind_ids=kind_ids, groups=groups, filters=filters)


def _counted_and_native_p90(
    qs: QuerySet, groups: list[list[str]], period: Period, *, counted: list[list[tuple[list, dict]]]
) -> list[list[dict]]:
    """PostgreSQL, the counters giving every sum: one GROUPING SETS statement over the
    period's resolution minutes and the dimensions only, for the p90s — the narrow rows
    the statistics index (tickets: kind, created_at, id, resolution_minutes, the
    dimensions, assignee) holds, so the period is read from the index alone."""
    from kefu.reports.sql import grouping_sets

    every = list(dict.fromkeys(d for g in groups for d in g))
    aliases = [_alias(d) for d in every]
    inner = (
        qs.filter(resolution_minutes__isnull=False)
        .annotate(**{_alias(d): _group_expression(d, period) for d in every})
        .order_by()
        .values(*aliases, "resolution_minutes")
    )
    raw_sets = grouping_sets(
        inner,
        keys=aliases,
        sets=[[_alias(d) for d in g] for g in groups],
        measures={"p90_resolution": f"percentile_disc({P90}) WITHIN GROUP (ORDER BY resolution_minutes)"},
        params={},
    )
    result = []
    for g, rows, raw_rows in zip(groups, counted, raw_sets, strict=True):
        p90 = {_keyed(g, tuple(raw[_alias(d)] for d in g)): raw["p90_resolution"] for raw in raw_rows}
        result.append(_rows(g, [(values, raw, p90.get(tuple(values))) for values, raw in rows]))
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


def _breakdowns_two_scans(
    qs: QuerySet, groups: list[list[str]], period: Period, *, counted: list[list[tuple[list, dict]]] | None = None
) -> list[list[dict]]:
    """SQLite's ticket figures with a p90 (`ticket_breakdowns`, `ticket_figures`): it has
    no grouping sets and no percentile, and one scan of the period per grouping (plus a
    window query per grouping for the p90) read a year of complaints sixteen times. At
    most two reads instead:

    1. the figures' sums and counts at the finest grain — grouped by every dimension
       asked at once — added up here into each grouping (a few thousand rows); or none,
       when the counters answered for every grouping (`counted`: each grouping's rows
       from `rollup.tickets.rollup_raw_groupings`);
    2. the resolution minutes with those dimensions, for the p90 (`_p90_by_buckets`).
    The same rows as a scan per grouping (tests compare them)."""
    every = list(dict.fromkeys(d for g in groups for d in g))
    annotated = qs.annotate(**{_alias(d): _group_expression(d, period) for d in every}).order_by()
    positions = [[every.index(d) for d in g] for g in groups]
    percentiles = _p90_by_buckets(annotated, every, positions)
    if counted is None:
        counted = _fine_sums(annotated, every, positions)
    return [
        _rows(g, [(values, raw, p90.get(tuple(values))) for values, raw in rows])
        for g, rows, p90 in zip(groups, counted, percentiles, strict=True)
    ]


def _fine_sums(annotated: QuerySet, every: list[str], positions: list[list[int]]) -> list[list[tuple[list, dict]]]:
    """Scan 1: each grouping's (dimension values, raw aggregates), from one GROUP BY of
    every dimension at once."""
    aliases = [_alias(d) for d in every]
    additive = ADDITIVE
    fine = annotated.values(*aliases).annotate(**additive) if every else [annotated.aggregate(**additive)]
    totals: list[dict[tuple, dict[str, int]]] = [{} for _ in positions]
    for row in fine:
        values = _keyed(every, tuple(row[a] for a in aliases))
        for index, places in enumerate(positions):
            key = tuple(values[i] for i in places)
            into = totals[index].setdefault(key, dict.fromkeys(additive, 0))
            for name in additive:
                into[name] += row[name] or 0
    for places, sums in zip(positions, totals, strict=True):
        if not places and not sums:
            sums[()] = dict.fromkeys(additive, 0)  # the totals row, even of nothing
    return [[(list(key), raw_from_sums(raw)) for key, raw in sums.items()] for sums in totals]


def _keyed(every: Sequence[str], values: tuple) -> tuple:
    """Dimension values as the rows carry them (a month as "YYYY-MM")."""
    return tuple(month_key(v) if d == "month" else v for d, v in zip(every, values, strict=True))


def _p90_by_buckets(annotated: QuerySet, every: list[str], positions: list[list[int]]) -> list[dict[tuple, int]]:
    """{group key: nearest-rank p90 of resolution_minutes} per grouping, from one read
    of the period's resolution minutes: sorted once here, then dealt into one list per
    group in that order — the p90 of a group of n is its ceil(0.9·n)-th value. (Walking
    the sorted rows and counting each group's rank per row cost four times as long: a
    year of complaints at 1M tickets, 1.3 s of Python.)"""
    aliases = [_alias(d) for d in every]
    query = annotated.filter(resolution_minutes__isnull=False).values_list(*aliases, "resolution_minutes")
    # Read through the cursor: ids, codes and the month CASE's "YYYY-MM" text need no
    # conversion, and the ORM's per-row work was most of the time of 180k rows.
    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:  # a scope that selects nothing (no region, no department)
        return [{} for _ in positions]
    with connections[query.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    rows.sort(key=itemgetter(-1))
    minutes = [row[-1] for row in rows]
    found: list[dict[tuple, int]] = []
    for places in positions:
        if not places:
            found.append({(): nearest_rank(minutes, P90)} if minutes else {})
            continue
        key_of = itemgetter(*places)
        buckets: dict[Any, list[int]] = defaultdict(list)
        for key, value in zip(map(key_of, rows), minutes, strict=True):
            buckets[key].append(value)
        # itemgetter of one place gives the value, not a tuple; keys as the rows carry them.
        dims = [every[i] for i in places]
        found.append(
            {
                _keyed(dims, (key,) if len(places) == 1 else key): nearest_rank(values, P90)
                for key, values in buckets.items()
            }
        )
    return found


def raw_from_sums(sums: Mapping[str, Any]) -> dict[str, Any]:
    """The raw aggregates `_figures` reads, from the additive sums and counts (`ADDITIVE`,
    the counters' measures): a scan at a finer grain, or the counters, added up."""
    from kefu.reports.rollup.common import average

    def get(name: str) -> int:
        return int(sums.get(name) or 0)

    return {
        "n_count": get("n_count"),
        "n_resolved": get("n_resolved"),
        "n_open": get("n_open"),
        "avg_resolution": average(get("sum_resolution"), get("n_resolution")),
        "avg_response": average(get("sum_response"), get("n_response")),
        "n_sla_breached": get("n_sla_breached"),
        "n_reopened": get("n_reopened"),
        "avg_satisfaction": average(get("sum_satisfaction"), get("n_satisfaction")),
        "n_satisfaction": get("n_satisfaction"),
        "n_escalated": get("n_escalated"),
    }
