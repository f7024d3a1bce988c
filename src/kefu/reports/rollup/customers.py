"""Customer figures from the counters (`reports_customerrollup`) — the archives by
opening month, class, region, source and lifecycle — for the questions they can answer
exactly, otherwise None and the caller scans the archive: whole months, a viewer who
sees every archive, grouped by those dimensions and month, and not the losses (when a
customer became lost is a question about its timeline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Case, CharField, Sum, Value, When

from kefu.core import access
from kefu.reports.periods import Period
from kefu.reports.rollup import maintain, schema
from kefu.reports.selectors.common import month_case

DIMENSIONS = ("customer_class", "region", "source", "lifecycle", "month")
VIEW = "customers.view_customer"
_ID_KEYS = ("customer_class", "region", "source")


def answers(*, user, period: Period, dims: Sequence[str]) -> bool:
    return (
        period.start.day == 1
        and period.end.day == 1
        and all(d in DIMENSIONS for d in dims)
        and access.has_perm(user, VIEW)
        and access.sees_everything(user)
        and maintain.ready(schema.CUSTOMERS)
    )


def rollup_opened(*, user, period: Period, dims: Sequence[str]) -> list[dict[str, Any]] | None:
    """The archives opened before the period's end per group and bucket ("" before the
    period, then "in" or each month of it) — the rows `selectors.customers` cumulates:
    `dim_<name>`, bucket, n, key, active, potential. None when the counters cannot
    answer."""
    from kefu.reports.models import CustomerRollup

    if not answers(user=user, period=period, dims=dims):
        return None
    fields = [d for d in dims if d != "month"]
    inside = month_case("month", period, dates=True) if "month" in dims else Value("in")
    bucket = Case(When(month__lt=period.start, then=Value("")), default=inside, output_field=CharField())
    rows = (
        CustomerRollup.objects.filter(month__lt=period.end)
        .annotate(bucket=bucket)
        .order_by()
        .values(*fields, "bucket")
        .annotate(n=Sum("n"), key=Sum("key_accounts"), active=Sum("active"), potential=Sum("potential"))
        .filter(n__gt=0)
    )
    return [
        {
            **{f"dim_{d}": (row[d] or None) if d in _ID_KEYS else row[d] for d in fields},
            "bucket": row["bucket"],
            **{part: int(row[part] or 0) for part in ("n", "key", "active", "potential")},
        }
        for row in rows
    ]
