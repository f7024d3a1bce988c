"""Visit figures of a period: the visits DUE in it (by planned date), over what the
viewer may see (`visit_base`), cancelled ones left out (never work to do).

The figures are sums and counts (`ADDITIVE`, the visit counters' measures by the same
names), so the counters, a scan of the period and a scan at a finer grain added up give
the same numbers; they count what the oversight page counts (planned, reached,
satisfaction, NPS answers, arrivals, deals — a test compares the two pages), and on top
the reports count as "done" every visit worked to an end — reached (已完成) or given up
(未能联系) — and split it by outcome: reach rate = reached / done. (The oversight page's
"completion" counts reached visits only.)

Cadence compliance counts, per class and month, the customers (visible to the viewer,
not lost) whose reached visits that month reached their class's visits per month — one
scan of the period's done visits grouped by customer and month, counted per class."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import ValidationFailed
from kefu.core.params import has_control
from kefu.reports.periods import Period, first_of_next_month
from kefu.reports.selectors.common import (
    as_list,
    clean_dimensions,
    group_column,
    int_list,
    month_case,
    month_key,
    names_of,
    one_decimal,
    percent,
    sort_rows,
    user_names,
)
from kefu.reports.sql import count_groups
from kefu.visits.choices import Outcome, VisitChannel, VisitStatus
from kefu.visits.selectors import visit_base

VISIT_DIMENSIONS = ("assignee", "team", "rule", "region", "channel", "visit_type", "customer_class", "month")
FILTER_KEYS = ("assignee", "team", "rule", "region", "channel", "visit_type", "customer_class")
FINISHED = (VisitStatus.DONE, VisitStatus.FAILED)

VISIT_FIGURES = (
    "planned",
    "done",
    "reached",
    "reach_rate",
    "overdue",
    "satisfaction_avg",
    "nps",
    "nps_n",
    "arrivals",
    "deals",
    "deal_amount",
    "completion_rate",
)

_FK_COLUMNS = {
    "assignee": "assignee_id",
    "team": "team_id",
    "rule": "rule_id",
    "region": "region_id",
}


def _group_expression(dim: str, period: Period):
    if dim == "month":
        return month_case("due_date", period, dates=True)
    if dim == "customer_class":
        return F("customer__customer_class_id")
    if dim in _FK_COLUMNS:
        return group_column(_FK_COLUMNS[dim])
    return F(dim)


_NONE_LABELS = {
    "assignee": gettext_lazy("未分配"),
    "team": gettext_lazy("未指定班组"),
    "rule": gettext_lazy("手工安排 / 活动"),
    "region": gettext_lazy("未指定片区"),
    "channel": gettext_lazy("未知方式"),
    "visit_type": gettext_lazy("未分类"),
    "customer_class": gettext_lazy("未分类"),
    "month": "",
}


def _alias(dim: str) -> str:
    return f"dim_{dim}"


def clean_filters(filters: Mapping[str, object] | None) -> dict[str, list[Any]]:
    """The figure filters as the values they select (ids, channel and visit-type codes),
    empty ones dropped; an unknown key or value is a 422."""
    cleaned: dict[str, list[Any]] = {}
    for key, raw in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise ValidationFailed(_("不支持的筛选条件：%(f)s") % {"f": str(key)[:40]}, details={"field": str(key)})
        values = as_list(raw)
        if not values:
            continue
        if key == "channel":
            if any(v not in VisitChannel.values for v in values):
                raise ValidationFailed(_("筛选条件无效：%(f)s") % {"f": key}, details={"field": key})
            cleaned[key] = [str(v) for v in values]
        elif key == "visit_type":
            if any(has_control(str(v)) for v in values):  # never in a type; PostgreSQL refuses NUL
                raise ValidationFailed(_("筛选条件无效：%(f)s") % {"f": key}, details={"field": key})
            cleaned[key] = [str(v) for v in values]
        else:
            cleaned[key] = int_list(values, field=key)
    return cleaned


_FILTER_LOOKUPS = {
    "assignee": "assignee_id__in",
    "team": "team_id__in",
    "rule": "rule_id__in",
    "region": "region_id__in",
    "channel": "channel__in",
    "visit_type": "visit_type__in",
    "customer_class": "customer__customer_class_id__in",
}


def period_visits(*, user, period: Period, filters: Mapping[str, object] | None = None) -> QuerySet:
    """The visits due in `period` that `user` may see, cancelled ones left out."""
    qs = visit_base(user).filter(due_date__gte=period.start, due_date__lt=period.end)
    qs = qs.exclude(status=VisitStatus.CANCELLED)
    for key, values in clean_filters(filters).items():
        qs = qs.filter(**{_FILTER_LOOKUPS[key]: values})
    return qs


# The figures as sums and counts — what adds up across groups (the counters' measures,
# by the same names; cancelled visits are never in the rows summed).
ADDITIVE = {
    "planned": Count("pk"),
    "finished": Count("pk", filter=Q(status__in=FINISHED)),
    "waiting": Count("pk", filter=Q(status=VisitStatus.PLANNED)),
    "reached": Count("pk", filter=Q(outcome=Outcome.REACHED)),
    "sum_satisfaction": Sum("satisfaction"),
    "n_satisfaction": Count("satisfaction"),
    "promoters": Count("pk", filter=Q(nps__gte=9)),
    "detractors": Count("pk", filter=Q(nps__lte=6)),
    "nps_answers": Count("nps"),
    "arrived": Count("pk", filter=Q(arrived=True)),
    "deals": Count("pk", filter=Q(deal=True)),
    "amount": Sum("deal_amount", filter=Q(deal=True)),
}


def additive_with_overdue(due_before: datetime.date) -> dict[str, Any]:
    """ADDITIVE and `overdue`: the visits still planned, due before `due_before`."""
    return {**ADDITIVE, "overdue": Count("pk", filter=Q(status=VisitStatus.PLANNED, due_date__lt=due_before))}


def cents(amount) -> int:
    """A deal amount (two decimals) as whole cents, as the counters hold it."""
    return int(round(Decimal(amount or 0) * 100))


def raw_from_sums(sums: Mapping[str, Any]) -> dict[str, Any]:
    """The raw aggregates `_figures` and `_funnel` read, from the sums and counts (the
    amount in cents)."""
    from kefu.reports.rollup.common import average

    def get(name: str) -> int:
        return int(sums.get(name) or 0)

    return {
        "planned": get("planned"),
        "finished": get("finished"),
        "reached": get("reached"),
        "avg_satisfaction": average(get("sum_satisfaction"), get("n_satisfaction")),
        "promoters": get("promoters"),
        "detractors": get("detractors"),
        "nps_answers": get("nps_answers"),
        "arrived": get("arrived"),
        "deals": get("deals"),
        "amount": Decimal(get("amount_cents")) / 100,
        "overdue": get("overdue"),
    }


def _figures(raw: Mapping[str, Any]) -> dict[str, Any]:
    planned, done, reached = raw["planned"] or 0, raw["finished"] or 0, raw["reached"] or 0
    answers = raw["nps_answers"] or 0
    nps = None
    if answers:
        nps = round(100 * ((raw["promoters"] or 0) - (raw["detractors"] or 0)) / answers, 1)
    amount = raw["amount"]
    return {
        "planned": planned,
        "done": done,
        "reached": reached,
        "reach_rate": percent(reached, done),
        "overdue": raw["overdue"] or 0,
        "satisfaction_avg": one_decimal(raw["avg_satisfaction"]),
        "nps": nps,
        "nps_n": answers,
        "arrivals": raw["arrived"] or 0,
        "deals": raw["deals"] or 0,
        "deal_amount": round(float(amount), 2) if amount is not None else 0.0,
        "completion_rate": percent(done, planned),
    }


def _labels(dims: Sequence[str], rows: list[dict]) -> None:
    from kefu.core.models import Department, Region
    from kefu.customers.models import CustomerClass
    from kefu.visits.models import VisitRule

    for dim in dims:
        values = {row[dim] for row in rows}
        if dim == "assignee":
            names = user_names(values)
        elif dim == "team":
            names = names_of(Department, values)
        elif dim == "rule":
            names = names_of(VisitRule, values)
        elif dim == "region":
            names = names_of(Region, values)
        elif dim == "customer_class":
            names = names_of(CustomerClass, values)
        elif dim == "channel":
            names = {v: str(VisitChannel(v).label) for v in values if v in VisitChannel.values}
        else:
            names = {v: v for v in values if v}
        for row in rows:
            value = row[dim]
            text = names.get(value) if value is not None else None
            row[f"{dim}_label"] = text if text is not None else (str(_NONE_LABELS[dim]) if not value else str(value))


def _rows(dims: Sequence[str], raw_rows: list[dict], figures) -> list[dict]:
    rows = []
    for raw in raw_rows:
        row: dict[str, Any] = {}
        for dim in dims:
            value = raw[_alias(dim)]
            row[dim] = month_key(value) if dim == "month" else value
        row.update(figures(raw))
        rows.append(row)
    _labels(dims, rows)
    return rows


def _raw_breakdowns(
    *, user, period: Period, groups: list[list[str]], filters: Mapping[str, object] | None, today: datetime.date
) -> list[list[dict]]:
    """Each grouping's aggregates: from the visit counters for the groupings they can
    answer (`kefu.reports.rollup.visits`: the same numbers), and the others (by agent, by
    the customer's class, a part of a month…) from ONE scan of the period's visits grouped
    by all their dimensions at once, added up here per grouping — a year of visits is
    millions of rows, read once instead of once per grouping."""
    from kefu.reports.rollup.visits import rollup_raw_groupings

    cleaned = clean_filters(filters)
    counted = rollup_raw_groupings(user=user, period=period, groups=groups, filters=cleaned, today=today)
    found = {tuple(dims): rows for dims, rows in zip(groups, counted, strict=True) if rows is not None}
    missing = [dims for dims in groups if tuple(dims) not in found]
    if missing:
        qs = period_visits(user=user, period=period, filters=filters)
        found.update(_scanned_breakdowns(qs, missing, period, today))
    return [found[tuple(dims)] for dims in groups]


def _scanned_breakdowns(
    qs: QuerySet, groups: list[list[str]], period: Period, today: datetime.date
) -> dict[tuple, list[dict]]:
    """{grouping: its raw rows} from one GROUP BY of every dimension asked."""
    every = list(dict.fromkeys(d for dims in groups for d in dims))
    aliases = [_alias(d) for d in every]
    measures = additive_with_overdue(today)
    annotated = qs.annotate(**{_alias(d): _group_expression(d, period) for d in every}).order_by()
    fine = list(annotated.values(*aliases).annotate(**measures)) if every else [qs.aggregate(**measures)]
    result = {}
    for dims in groups:
        places = [every.index(d) for d in dims]
        sums: dict[tuple, dict[str, int]] = {}
        for row in fine:
            into = sums.setdefault(tuple(row[aliases[i]] for i in places), {})
            for name in measures:
                value = cents(row[name]) if name == "amount" else row[name] or 0
                key = "amount_cents" if name == "amount" else name
                into[key] = into.get(key, 0) + value
        if not dims and not sums:
            sums[()] = {}  # the totals row, even of nothing
        result[tuple(dims)] = [
            {**raw_from_sums(into), **{_alias(d): value for d, value in zip(dims, key, strict=True)}}
            for key, into in sums.items()
        ]
    return result


def visit_figures(
    *,
    user,
    period: Period,
    group_by: Sequence[str] = (),
    filters: Mapping[str, object] | None = None,
    today: datetime.date | None = None,
) -> list[dict]:
    """One row per group of the visits due in `period`: planned, done (reached or given
    up), reached, reach_rate (% reached of done), overdue (still planned, due before
    today), satisfaction_avg, nps (promoters % − detractors %), nps_n, arrivals, deals,
    deal_amount, completion_rate (% done of planned). One GROUP BY query (plus one
    label query per named dimension); `group_by=()` → exactly one row."""
    dims = clean_dimensions(group_by, VISIT_DIMENSIONS)
    (raw_rows,) = _raw_breakdowns(
        user=user, period=period, groups=[dims], filters=filters, today=today or timezone.localdate()
    )
    return sort_rows(_rows(dims, raw_rows, _figures), dims, "planned")


def visit_breakdowns(
    *,
    user,
    period: Period,
    groupings: Sequence[Sequence[str]],
    filters: Mapping[str, object] | None = None,
    today: datetime.date | None = None,
) -> list[list[dict]]:
    """`[visit_figures(group_by=g) for g in groupings]` — the same rows — with the
    groupings the counters cannot give read from one scan of the period for all of them
    (`_raw_breakdowns`)."""
    groups = [clean_dimensions(g, VISIT_DIMENSIONS) for g in groupings]
    raw = _raw_breakdowns(user=user, period=period, groups=groups, filters=filters, today=today or timezone.localdate())
    return [sort_rows(_rows(dims, rows, _figures), dims, "planned") for dims, rows in zip(groups, raw, strict=True)]


def visit_totals(*, user, period: Period, filters: Mapping[str, object] | None = None, today=None) -> dict:
    return visit_figures(user=user, period=period, filters=filters, today=today)[0]


def _funnel(raw: Mapping[str, Any]) -> dict[str, Any]:
    done, reached = raw["finished"] or 0, raw["reached"] or 0
    arrivals, deals = raw["arrived"] or 0, raw["deals"] or 0
    amount = raw["amount"]
    return {
        "planned": raw["planned"] or 0,
        "visits": done,
        "reached": reached,
        "arrivals": arrivals,
        "deals": deals,
        "deal_amount": round(float(amount), 2) if amount is not None else 0.0,
        "reach_rate": percent(reached, done),
        "arrival_rate": percent(arrivals, reached),
        "deal_rate": percent(deals, arrivals),
        "conversion_rate": percent(deals, reached),
    }


def visit_funnel(*, user, period: Period, group_by: Sequence[str] = ()) -> list[dict]:
    """The seed-004 funnel (回访量 → 到院量 → 成交量): visits worked to an end, reached,
    arrivals, deals and the amount, with each step's rate against the step before
    (arrival_rate = arrivals / reached, deal_rate = deals / arrivals) and the overall
    conversion (deals / reached). One GROUP BY query."""
    dims = clean_dimensions(group_by, VISIT_DIMENSIONS)
    (raw_rows,) = _raw_breakdowns(user=user, period=period, groups=[dims], filters=None, today=timezone.localdate())
    return sort_rows(_rows(dims, raw_rows, _funnel), dims, "visits")


# ---------------------------------------------------------------------------- cadence


def _aware(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def cadence_compliance(*, user, period: Period, today: datetime.date | None = None) -> list[dict]:
    """Per customer class with a cadence (visits a month > 0) and per calendar month of
    the period up to today: customer_months (the class's customers existing that month,
    visible to `user`, not lost), compliant (those with at least the class's number of
    reached visits done that month), rate (%). Two queries whatever the number of
    customers or visits."""
    from kefu.customers.models import CustomerClass
    from kefu.customers.selectors import customer_base
    from kefu.visits.models import Visit

    today = today or timezone.localdate()
    months = [m for m in period.months() if m <= today]
    classes = {c.pk: c for c in CustomerClass.objects.filter(visits_per_month__gt=0).order_by("sort_order", "code")}
    if not months or not classes:
        return []
    customers = customer_base(user).filter(customer_class_id__in=list(classes)).exclude(lifecycle="lost")
    # customer_months: the class's customers created before each month's end.
    existing = {
        f"m{i}": Count("pk", filter=Q(created_at__lt=_aware(first_of_next_month(first))))
        for i, first in enumerate(months)
    }
    sizes = {
        row["customer_class_id"]: row for row in customers.order_by().values("customer_class_id").annotate(**existing)
    }
    # compliant: (customer, month) groups of reached visits at or above the class cadence,
    # counted per class and month around the grouped query.
    start, end = _aware(months[0]), _aware(first_of_next_month(months[-1]))
    per_customer = (
        Visit.objects.filter(
            customer__in=customers.values("pk"), status=VisitStatus.DONE, done_at__gte=start, done_at__lt=end
        )
        # A visit counts for a customer-month only when the archive existed (backdated
        # visits of an archive opened later would make compliant exceed customer_months).
        .filter(customer__created_at__lte=F("done_at"))
        .annotate(
            visit_month=month_case("done_at", months),
            class_id=F("customer__customer_class_id"),
            need=F("customer__customer_class__visits_per_month"),
        )
        .order_by()
        .values("customer_id", "visit_month", "class_id", "need")
        .annotate(reached_n=Count("pk"))
        .filter(reached_n__gte=F("need"))
    )
    compliant = {
        (class_id, str(month)[:7]): n
        for (class_id, month), n in count_groups(per_customer, ("class_id", "visit_month")).items()
    }
    rows = []
    for class_id, cls in classes.items():
        size = sizes.get(class_id, {})
        for i, first in enumerate(months):
            customer_months = size.get(f"m{i}", 0) or 0
            ok = compliant.get((class_id, f"{first:%Y-%m}"), 0)
            rows.append(
                {
                    "customer_class": class_id,
                    "customer_class_label": cls.name,
                    "cadence": cls.visits_per_month,
                    "month": f"{first:%Y-%m}",
                    "customer_months": customer_months,
                    "compliant": ok,
                    "rate": percent(ok, customer_months),
                }
            )
    return rows
