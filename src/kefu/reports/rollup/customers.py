"""Customer figures from the counters (`reports_customerrollup`) — the archives by
opening month, class, region, source and lifecycle — for the questions they can answer
exactly, otherwise None and the caller scans the archive: whole months, a viewer who
sees every archive or one scoped to regions (plus their own archives elsewhere), grouped by those dimensions and month, and not the losses (when a
customer became lost is a question about its timeline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When

from kefu.reports.periods import Period
from kefu.reports.rollup import common, maintain, schema
from kefu.reports.selectors.common import month_case

DIMENSIONS = ("customer_class", "region", "source", "lifecycle", "month")
VIEW = "customers.view_customer"
_ID_KEYS = ("customer_class", "region", "source")


def counted_regions(user) -> set[int] | None | bool:
    """None for one who sees everything, the regions of a region scope, False for none."""
    return common.counted_regions(user, view=VIEW)


def answers(*, user, period: Period, dims: Sequence[str]) -> bool:
    return (
        period.start.day == 1
        and period.end.day == 1
        and all(d in DIMENSIONS for d in dims)
        and counted_regions(user) is not False
        and maintain.ready(schema.CUSTOMERS)
    )


def rollup_opened(*, user, period: Period, dims: Sequence[str]) -> list[dict[str, Any]] | None:
    """The archives opened before the period's end per group and bucket ("" before the
    period, then "in" or each month of it) — the rows `selectors.customers` cumulates:
    `dim_<name>`, bucket, n, key, active, potential. None when the counters cannot
    answer. A viewer scoped to regions gets the counters of those regions plus their
    own archives elsewhere (the owner index)."""
    from kefu.reports.models import CustomerRollup

    if not answers(user=user, period=period, dims=dims):
        return None
    regions = counted_regions(user)
    fields = [d for d in dims if d != "month"]
    inside = month_case("month", period, dates=True) if "month" in dims else Value("in")
    bucket = Case(When(month__lt=period.start, then=Value("")), default=inside, output_field=CharField())
    counters = CustomerRollup.objects.filter(month__lt=period.end)
    if regions is not None:
        counters = counters.filter(region__in=sorted(regions))
    rows = (
        counters.annotate(bucket=bucket)
        .order_by()
        .values(*fields, "bucket")
        .annotate(n=Sum("n"), key=Sum("key_accounts"), active=Sum("active"), potential=Sum("potential"))
    )
    parts = ("n", "key", "active", "potential")
    keyed: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (*(common.key_value(d, row[d], ids=d in _ID_KEYS) for d in fields), row["bucket"])
        keyed[key] = {part: int(row[part] or 0) for part in parts}
    if regions is not None:
        for key, counts in _own_elsewhere(user, period, fields, "month" in dims, regions).items():
            into = keyed.setdefault(key, dict.fromkeys(parts, 0))
            for part in parts:
                into[part] += counts[part]
    return [
        {**{f"dim_{d}": key[i] for i, d in enumerate(fields)}, "bucket": key[-1], **counts}
        for key, counts in keyed.items()
        if counts["n"] > 0
    ]


def _own_elsewhere(user, period: Period, fields: Sequence[str], by_month: bool, regions) -> dict[tuple, dict]:
    """{(dimension values…, bucket): counts} of the viewer's own live archives outside
    `regions`, found through the owner index."""
    from kefu.customers.models import Customer
    from kefu.reports.selectors.customers import _GROUP_FIELDS, _buckets

    start, end = period.bounds()
    _windows, created_bucket, _lost = _buckets(period, by_month)
    mine = Customer.objects.filter(owner=user).values("pk")
    rows = (
        Customer.objects.filter(pk__in=mine, merged_into__isnull=True, created_at__lt=end)
        .exclude(region_id__in=sorted(regions))
        .annotate(**{f"dim_{d}": F(_GROUP_FIELDS[d]) for d in fields}, bucket=created_bucket)
        .order_by()
        .values(*[f"dim_{d}" for d in fields], "bucket")
        .annotate(
            n=Count("pk"),
            key=Count("pk", filter=Q(is_key_account=True)),
            active=Count("pk", filter=Q(lifecycle="active")),
            potential=Count("pk", filter=Q(lifecycle="potential")),
        )
    )
    return {
        (*(row[f"dim_{d}"] for d in fields), row["bucket"]): {p: row[p] for p in ("n", "key", "active", "potential")}
        for row in rows
    }
