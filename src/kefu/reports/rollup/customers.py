"""Customer figures from the counters (`reports_customerrollup`) — the archives by
opening month, class, region, source and lifecycle — for the questions they can answer
exactly, otherwise None and the caller scans the archive: buckets cut at the first of
a month, a viewer who sees every archive or one scoped to regions (plus their own
archives elsewhere), grouped by those dimensions, and not the losses (when a customer
became lost is a question about its timeline)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db.models import Sum

from kefu.reports.rollup import common, maintain, schema

DIMENSIONS = ("customer_class", "region", "source", "lifecycle")
VIEW = "customers.view_customer"
_ID_KEYS = ("customer_class", "region", "source")


def counted_regions(user) -> set[int] | None | bool:
    """None for one who sees everything, the regions of a region scope, False for none."""
    return common.counted_regions(user, view=VIEW)


def answers(*, user, bounds: Sequence[datetime.date], dims: Sequence[str]) -> bool:
    return (
        all(day.day == 1 for day in bounds)
        and all(d in DIMENSIONS for d in dims)
        and counted_regions(user) is not False
        and maintain.ready(schema.CUSTOMERS)
    )


def rollup_opened(*, user, bounds: Sequence[datetime.date], fields: Sequence[str]) -> dict[tuple, list[int]] | None:
    """The viewer's archives by creation bucket from the counters, as
    `selectors.customers.opened_by_bucket` gives them from the archive: {(values of
    `fields`…, creation bucket between `bounds`): [n, key accounts, active, potential]},
    buckets without an archive left out. None when the counters cannot answer. A
    viewer scoped to regions gets the counters of those regions plus their own archives
    elsewhere (the owner index)."""
    from kefu.customers.models import Customer
    from kefu.reports.models import CustomerRollup
    from kefu.reports.selectors.customers import PARTS, bucket_case, opened_by_bucket

    if not answers(user=user, bounds=bounds, dims=fields):
        return None
    regions = counted_regions(user)
    counters = CustomerRollup.objects.filter(month__lt=bounds[-1])
    if regions is not None:
        counters = counters.filter(region__in=sorted(regions))
    rows = (
        counters.annotate(bucket=bucket_case("month", bounds, dates=True))
        .order_by()
        .values(*fields, "bucket")
        .annotate(n=Sum("n"), key=Sum("key_accounts"), active=Sum("active"), potential=Sum("potential"))
    )
    keyed: dict[tuple, list[int]] = {}
    for row in rows:
        key = (*(common.key_value(d, row[d], ids=d in _ID_KEYS) for d in fields), row["bucket"])
        keyed[key] = [int(row[part] or 0) for part in PARTS]
    if regions is not None:
        # The owner twice: SQLite takes the owner index only for `id IN (their ids)`,
        # PostgreSQL only for `owner_id =` (the IN alone is a join over every archive).
        mine = Customer.objects.filter(owner=user).values("pk")
        elsewhere = Customer.objects.filter(owner=user, pk__in=mine, merged_into__isnull=True).exclude(
            region_id__in=sorted(regions)
        )
        for key, counts in opened_by_bucket(elsewhere, bounds, fields).items():
            into = keyed.setdefault(key, [0] * len(PARTS))
            for part, count in enumerate(counts):
                into[part] += count
    # Deltas that net to nothing leave a key with no archive: the scan has no such group.
    return {key: counts for key, counts in keyed.items() if counts[0] > 0}
