"""Customer figures of a period over the archives the viewer may see (`customer_base`:
merged-away archives excluded): how many exist at the period's end, how many were
opened in it, how many were lost in it, key accounts and the lifecycle split — by
class, region, source, product category, lifecycle, owner or month.

"Lost in the period": every lifecycle change writes a timeline entry
`customer.lifecycle_changed` (its data holds the states only since 2026-11, so older
entries cannot be asked which state they led to). A customer counts as lost in the
period when it is lost now and its LAST lifecycle change lies in the period (that
change is the one that made it lost); an archive entered as lost (created, imported)
with no change since counts at its creation. A customer lost in the period and won
back since is not counted: the figure is "lost, and still lost".

Any number of periods and groupings are read at once (`customer_breakdowns`: a
report's figures are one call), at the finest grain: the customers by creation bucket
— between the days that start or end a period or month asked — cumulated here into
"existing at the end" (from the counters when they can answer), and the lost customers
(one timeline probe each) by loss bucket; the groupings by product category apart."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.reports.periods import Period, first_of_next_month
from kefu.reports.selectors.common import (
    clean_dimensions,
    group_column,
    names_of,
    sort_rows,
    user_names,
)

CUSTOMER_DIMENSIONS = ("customer_class", "region", "source", "category", "lifecycle", "owner", "month")
CUSTOMER_FIGURES = ("total", "new", "lost", "key_accounts", "active", "potential")
LIFECYCLE_CHANGED = "customer.lifecycle_changed"
LOST = "lost"
# The archive counts per group and bucket, in this order (the counters' measures).
PARTS = ("n", "key", "active", "potential")

_GROUP_FIELDS = {
    "customer_class": "customer_class_id",
    "region": "region_id",
    "source": "source_id",
    "category": "categories",
    "lifecycle": "lifecycle",
    "owner": "owner_id",
}
_NONE_LABELS = {
    "customer_class": gettext_lazy("未分类"),
    "region": gettext_lazy("未指定片区"),
    "source": gettext_lazy("未知来源"),
    "category": gettext_lazy("未指定类别"),
    "lifecycle": gettext_lazy("未知"),
    "owner": gettext_lazy("未指定客户经理"),
}


def _aware(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _labels(dims: Sequence[str], rows: list[dict]) -> None:
    from kefu.core.models import Region
    from kefu.customers.choices import Lifecycle
    from kefu.customers.models import CustomerClass, CustomerSource, ProductCategory

    for dim in dims:
        rows_of = [row for row in rows if dim in row]  # the rows of the asks grouped by it
        values = {row[dim] for row in rows_of}
        if dim == "customer_class":
            names = names_of(CustomerClass, values)
        elif dim == "region":
            names = names_of(Region, values)
        elif dim == "source":
            names = names_of(CustomerSource, values)
        elif dim == "category":
            names = names_of(ProductCategory, values)
        elif dim == "owner":
            names = user_names(values)
        elif dim == "lifecycle":
            names = {v: str(Lifecycle(v).label) for v in values if v in Lifecycle.values}
        else:
            names = {v: v for v in values}
        for row in rows_of:
            value = row[dim]
            text = names.get(value) if value is not None else None
            row[f"{dim}_label"] = (
                text if text is not None else (str(_NONE_LABELS[dim]) if value is None else str(value))
            )


def customer_figures(*, user, period: Period, group_by: Sequence[str] = (), lost: bool = True) -> list[dict]:
    """Per group: total (existing at the period's — or month's — end), new (opened in
    it), lost (became lost in it), key_accounts, active, potential (current lifecycle
    of those existing). `group_by=()` → exactly one row. A customer in two product
    categories counts in both category rows. `lost=False` (the dashboards' pies) leaves
    `lost` None and reads no timeline. One `customer_breakdowns` ask."""
    (rows,) = customer_breakdowns(user=user, asks=[(period, group_by)], lost=lost)
    return rows


def customer_breakdowns(*, user, asks: Sequence[tuple[Period, Sequence[str]]], lost: bool = True) -> list[list[dict]]:
    """`[customer_figures(user=user, period=p, group_by=g, lost=lost) for p, g in asks]`
    — the same rows — read once for all the asks (a report's totals, comparison
    periods, breakdowns and months), where one call per ask scanned the archive and
    probed the timeline again each time. The archive is read at the finest grain —
    every dimension asked at once, and buckets between the days that start or end a
    period or month asked (`_bounds`) — and each ask's rows are added up here from
    those few rows: the archives opened per creation bucket from the counters
    (`kefu.reports.rollup.customers`) when they can answer, else one scan
    (`opened_by_bucket`); the lost customers per loss bucket (`lost_by_bucket`).
    Product categories join a customer once per category: the asks by category are
    read apart, with their own buckets (a scan: the counters hold no categories)."""
    from kefu.customers.selectors import customer_base
    from kefu.reports.rollup.customers import rollup_opened

    cleaned = [(period, clean_dimensions(group_by, CUSTOMER_DIMENSIONS)) for period, group_by in asks]
    base = customer_base(user)
    results: list[list[dict]] = [[] for _ in cleaned]
    for by_category in (False, True):
        family = [i for i, (_period, dims) in enumerate(cleaned) if ("category" in dims) == by_category]
        if not family:
            continue
        bounds = _bounds([cleaned[i] for i in family])
        fields = list(dict.fromkeys(d for i in family for d in cleaned[i][1] if d != "month"))
        opened = rollup_opened(user=user, bounds=bounds, fields=fields)
        if opened is None:
            opened = opened_by_bucket(base, bounds, fields)
        losses = lost_by_bucket(base, bounds, fields) if lost else None
        for i in family:
            results[i] = _ask_rows(*cleaned[i], fields, bounds, opened, losses)
    every_field = list(dict.fromkeys(d for _period, dims in cleaned for d in dims if d != "month"))
    _labels(every_field, [row for rows in results for row in rows])
    return [sort_rows(rows, dims, "total") for rows, (_period, dims) in zip(results, cleaned, strict=True)]


def _bounds(asks: Sequence[tuple[Period, Sequence[str]]]) -> list[datetime.date]:
    """The days that cut the archive into buckets: each period's start and end, and the
    first of every month inside a period asked by month."""
    days = set()
    for period, dims in asks:
        days |= {period.start, period.end}
        if "month" in dims:
            days |= {first for first in period.months() if first > period.start}
    return sorted(days)


def bucket_case(field: str, bounds: Sequence[datetime.date], *, dates: bool = False) -> Case:
    """The bucket of `field` between `bounds`: i for [bounds[i-1], bounds[i]), 0 before
    the first, len(bounds) from the last on. Local midnights, unless `dates` (a DateField)."""
    whens = [When(**{f"{field}__lt": day if dates else _aware(day)}, then=Value(i)) for i, day in enumerate(bounds)]
    return Case(*whens, default=Value(len(bounds)), output_field=IntegerField())


def opened_by_bucket(qs: QuerySet, bounds: Sequence[datetime.date], fields: Sequence[str]) -> dict[tuple, list[int]]:
    """{(values of `fields`…, creation bucket): [n, key accounts, active, potential]} of
    the archives of `qs` opened before the last bound — bucket i for [bounds[i-1],
    bounds[i]), 0 before the first — buckets without one left out.

    One GROUP BY of the dimensions with a count per bucket and figure: grouped by the
    bucket as well, PostgreSQL expects a group per archive (its estimate for an
    expression of created_at) and sorts the whole archive — a million rows joined to
    their product categories — where these few groups are hashed in parallel workers."""
    windows = [Q(created_at__lt=_aware(bounds[0]))]
    windows += [Q(created_at__gte=_aware(a), created_at__lt=_aware(b)) for a, b in itertools.pairwise(bounds)]
    conditions = dict(
        zip(PARTS, (Q(), Q(is_key_account=True), Q(lifecycle="active"), Q(lifecycle="potential")), strict=True)
    )
    counts = {
        f"{part}_{i}": Count("pk", filter=window & condition)
        for i, window in enumerate(windows)
        for part, condition in conditions.items()
    }
    dimensions = _dimensions(fields)
    # No `created_at <` the last bound in the WHERE (the counts' filters leave later
    # archives out): for a recent period it holds for nearly every archive, and SQLite
    # would read them all through the created_at index, at twice the time of a scan.
    opened = qs.annotate(**dimensions).order_by()
    rows = opened.values(*dimensions).annotate(**counts) if dimensions else [opened.aggregate(**counts)]
    return {
        (*(row[name] for name in dimensions), i): [row[f"{part}_{i}"] for part in PARTS]
        for row in rows
        for i in range(len(windows))
        if row[f"n_{i}"]
    }


def lost_by_bucket(qs: QuerySet, bounds: Sequence[datetime.date], fields: Sequence[str]) -> dict[tuple, int]:
    """{(values of `fields`…, loss bucket): lost customers} of `qs` lost between the
    first and the last bound: at their last lifecycle change, or at their creation when
    they never changed. The timeline probe (its (customer, at) index) gives the bucket
    itself, so each lost customer is probed once (a CASE over the probe's time would
    repeat the probe per bound)."""
    from kefu.customers.models import TimelineEntry

    last_change = (
        TimelineEntry.objects.filter(customer=OuterRef("pk"), kind=LIFECYCLE_CHANGED)
        .order_by()
        .values("customer")
        .annotate(last=Max("at"))
        .annotate(bucket=bucket_case("last", bounds))
        .values("bucket")
    )
    loss = Coalesce(Subquery(last_change, output_field=IntegerField()), bucket_case("created_at", bounds))
    dimensions = _dimensions(fields)
    rows = (
        qs.filter(lifecycle=LOST)
        .annotate(**dimensions, loss=loss)
        .order_by()
        .values(*dimensions, "loss")
        .annotate(n=Count("pk"))
    )
    inside = range(1, len(bounds))
    return {(*(row[name] for name in dimensions), row["loss"]): row["n"] for row in rows if row["loss"] in inside}


def _dimensions(fields: Sequence[str]) -> dict[str, Any]:
    """The `dim_<name>` annotations; a foreign key as `column + 0` (`group_column`):
    SQLite otherwise walks that column's index for the groups' order, reading every
    archive instead of the lost ones through the lifecycle index."""
    return {
        f"dim_{d}": group_column(_GROUP_FIELDS[d]) if _GROUP_FIELDS[d].endswith("_id") else F(_GROUP_FIELDS[d])
        for d in fields
    }


def _ask_rows(
    period: Period,
    dims: Sequence[str],
    fields: Sequence[str],
    bounds: list[datetime.date],
    opened: dict[tuple, list[int]],
    losses: dict[tuple, int] | None,
) -> list[dict]:
    """One ask's rows from the fine counts: a group per value of its dimensions that has
    an archive opened by the period's end or a customer lost in it; per window (the
    period, or each month of it) the archives of the buckets up to the window's end
    and the opened and lost ones of the buckets inside it."""
    own = [d for d in dims if d != "month"]
    places = [fields.index(d) for d in own]
    first, last = bounds.index(period.start), bounds.index(period.end)
    groups: dict[tuple, dict[int, list[int]]] = {}
    for (*values, bucket), counts in opened.items():
        if bucket <= last:
            into = groups.setdefault(tuple(values[i] for i in places), {}).setdefault(bucket, [0] * len(PARTS))
            for part, count in enumerate(counts):
                into[part] += count
    lost_in: dict[tuple, dict[int, int]] = {}
    for (*values, bucket), n in (losses or {}).items():
        if first < bucket <= last:
            key = tuple(values[i] for i in places)
            groups.setdefault(key, {})  # a group may have losses only (an archive dated later)
            per_bucket = lost_in.setdefault(key, {})
            per_bucket[bucket] = per_bucket.get(bucket, 0) + n
    if not own:
        groups.setdefault((), {})  # the totals row (or months) even with no customer
    rows = []
    for key, buckets in groups.items():
        for label, start, end in _windows(period, "month" in dims, bounds):
            existing = [counts for bucket, counts in buckets.items() if bucket <= end]
            row: dict[str, Any] = dict(zip(own, key, strict=True))
            if label is not None:
                row["month"] = row["month_label"] = label
            row.update(
                {
                    "total": sum(c[0] for c in existing),
                    "new": sum(c[0] for b, c in buckets.items() if start < b <= end),
                    "lost": sum(n for b, n in lost_in.get(key, {}).items() if start < b <= end)
                    if losses is not None
                    else None,
                    "key_accounts": sum(c[1] for c in existing),
                    "active": sum(c[2] for c in existing),
                    "potential": sum(c[3] for c in existing),
                }
            )
            rows.append(row)
    return rows


def _windows(period: Period, by_month: bool, bounds: list[datetime.date]) -> list[tuple[str | None, int, int]]:
    """(month label or None, index of the window's start and end in `bounds`) of the
    period, or of each month of it (the first and last clipped to the period)."""
    if not by_month:
        return [(None, bounds.index(period.start), bounds.index(period.end))]
    windows = []
    for first in period.months():
        start, end = max(first, period.start), min(first_of_next_month(first), period.end)
        windows.append((f"{first:%Y-%m}", bounds.index(start), bounds.index(end)))
    return windows


def customer_totals(*, user, period: Period) -> dict:
    return customer_figures(user=user, period=period)[0]


# ---------------------------------------------------------------------------- at risk

RISK_DAYS = 60


def key_accounts_at_risk(*, user, today: datetime.date | None = None, limit: int = 20) -> list[dict]:
    """Key accounts (visible, not lost) with an open complaint, or without a reached
    visit in the last 60 days: id, name, archive_no, region and owner, reasons. Open
    complaints first, then the longest without a visit.

    The key accounts with an open complaint are found from the open tickets (their
    partial index: a few thousand at a million tickets), and only they are probed for
    their last visit — one query, where probing every key account took seconds. Only
    when fewer than `limit` have a complaint does a second query look for the others
    without a recent visit."""
    from kefu.customers.selectors import customer_base
    from kefu.tickets.models import TicketKind
    from kefu.tickets.selectors import ticket_base

    today = today or timezone.localdate()
    since = _aware(today - datetime.timedelta(days=RISK_DAYS))
    limit = max(int(limit), 0)
    if not limit:
        return []
    accounts = customer_base(user).filter(is_key_account=True).exclude(lifecycle=LOST)
    # `kind_id + 0`: SQLite otherwise reads every complaint ever registered through the
    # kind index to find the open ones, instead of the few open tickets through theirs.
    complaint_kinds = TicketKind.objects.filter(code="complaint").values("pk")
    complaints = (
        ticket_base(user)
        .filter(is_open=True)
        .alias(kind_unindexed=group_column("kind_id"))
        .filter(kind_unindexed__in=complaint_kinds)
    )
    # Without the customerless complaints: one NULL in `NOT IN (…)` would leave out
    # every account without a recent visit. `customer_id + 0` again: on the column
    # itself SQLite reads every ticket with a customer through the customer index.
    complained = (
        complaints.alias(customer_unindexed=group_column("customer_id"))
        .filter(customer_unindexed__isnull=False)
        .order_by()
        .values("customer_id")
    )
    open_count = (
        complaints.filter(customer=OuterRef("pk")).order_by().values("customer").annotate(n=Count("pk")).values("n")
    )
    first = list(
        _with_last_reached(accounts.filter(pk__in=complained), user)
        .annotate(open_complaints=Subquery(open_count[:1]))
        .order_by(F("open_complaints").desc(nulls_last=True), F("last_reached").asc(nulls_first=True), "pk")[:limit]
    )
    rest = []
    if len(first) < limit:
        rest = list(
            _with_last_reached(accounts.exclude(pk__in=complained), user)
            .filter(Q(last_reached__isnull=True) | Q(last_reached__lt=since))
            .order_by(F("last_reached").asc(nulls_first=True), "pk")[: limit - len(first)]
        )
    return [_risk_row(customer, since) for customer in (*first, *rest)]


def _with_last_reached(accounts: QuerySet, user) -> QuerySet:
    """`last_reached`: when the customer's last reached (done) visit the viewer may see
    was done, probed on the visits' (customer, done_at) index."""
    from kefu.visits.choices import VisitStatus
    from kefu.visits.selectors import visit_base

    reached = visit_base(user).filter(customer=OuterRef("pk"), status=VisitStatus.DONE)
    last_visit = reached.order_by("-done_at").values("done_at")[:1]
    return accounts.annotate(last_reached=Subquery(last_visit, output_field=DateTimeField())).select_related(
        "region", "owner"
    )


def _risk_row(customer, since: datetime.datetime) -> dict[str, Any]:
    open_complaints = getattr(customer, "open_complaints", 0) or 0
    reasons = []
    if open_complaints:
        reasons.append(_("有 %(n)s 件未结投诉") % {"n": open_complaints})
    if customer.last_reached is None or customer.last_reached < since:
        reasons.append(_("%(d)s 天内没有成功回访") % {"d": RISK_DAYS})
    return {
        "customer": customer.pk,
        "name": customer.name,
        "archive_no": customer.archive_no,
        "region_label": customer.region.name if customer.region else str(_NONE_LABELS["region"]),
        "owner_label": (customer.owner.display_name or customer.owner.username) if customer.owner else "",
        "open_complaints": open_complaints,
        "last_reached_visit": timezone.localtime(customer.last_reached).date().isoformat()
        if customer.last_reached
        else None,
        "reason": "；".join(reasons),
    }
