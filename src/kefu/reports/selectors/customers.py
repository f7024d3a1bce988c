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

Two GROUP BY queries per call: the customers by creation bucket (before the period, or
each month of it), cumulated here over those few buckets into "existing at the end";
and the lost customers (the lifecycle index, then the timeline probe) by loss bucket."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db.models import Case, CharField, Count, DateTimeField, F, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.reports.periods import Period
from kefu.reports.selectors.common import (
    clean_dimensions,
    group_column,
    month_case,
    names_of,
    sort_rows,
    user_names,
)

CUSTOMER_DIMENSIONS = ("customer_class", "region", "source", "category", "lifecycle", "owner", "month")
CUSTOMER_FIGURES = ("total", "new", "lost", "key_accounts", "active", "potential")
LIFECYCLE_CHANGED = "customer.lifecycle_changed"
LOST = "lost"

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


def lost_at_expression():
    """When a lost customer became lost (None for the others): its last lifecycle
    change, or its creation when it never changed. Inside CASE, so only lost customers
    probe the timeline (its (customer, at) index)."""
    from kefu.customers.models import TimelineEntry

    last_change = (
        TimelineEntry.objects.filter(customer=OuterRef("pk"), kind=LIFECYCLE_CHANGED)
        .order_by()
        .values("customer")
        .annotate(last=Max("at"))
        .values("last")
    )
    return Case(
        When(lifecycle=LOST, then=Coalesce(Subquery(last_change, output_field=DateTimeField()), F("created_at"))),
        default=None,
        output_field=DateTimeField(),
    )


def lost_in(qs: QuerySet, start: datetime.datetime, end: datetime.datetime) -> QuerySet:
    """The customers of `qs` that became lost in [start, end) (for the list behind the
    figure)."""
    return qs.filter(lifecycle=LOST).annotate(lost_at=lost_at_expression()).filter(lost_at__gte=start, lost_at__lt=end)


def _buckets(period: Period, by_month: bool) -> tuple[list[str], Case, Case]:
    """The output windows (months of the period, or the whole period as "in") and two
    CASE expressions putting a customer's creation, and a lost customer's loss, into
    them ("" = before the period)."""
    start, end = period.bounds()
    if by_month:
        keys = [f"{first:%Y-%m}" for first in period.months()]
        created = month_case("created_at", period)
        lost = month_case("lost_at", period)
        return keys, Case(When(created_at__lt=start, then=Value("")), default=created), lost
    created = Case(When(created_at__lt=start, then=Value("")), default=Value("in"), output_field=CharField())
    return ["in"], created, Case(default=Value("in"), output_field=CharField())


def _labels(dims: Sequence[str], rows: list[dict]) -> None:
    from kefu.core.models import Region
    from kefu.customers.choices import Lifecycle
    from kefu.customers.models import CustomerClass, CustomerSource, ProductCategory

    for dim in dims:
        values = {row[dim] for row in rows}
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
        for row in rows:
            value = row[dim]
            text = names.get(value) if value is not None else None
            row[f"{dim}_label"] = (
                text if text is not None else (str(_NONE_LABELS[dim]) if value is None else str(value))
            )


def customer_figures(*, user, period: Period, group_by: Sequence[str] = (), lost: bool = True) -> list[dict]:
    """Per group: total (existing at the period's — or month's — end), new (opened in
    it), lost (became lost in it), key_accounts, active, potential (current lifecycle
    of those existing). `group_by=()` → exactly one row. A customer in two product
    categories counts in both category rows.

    Two GROUP BY queries: the customers opened up to the period's end by creation
    bucket (before the period / each month), summed up cumulatively here over those
    few buckets; and the lost customers by the bucket of their loss. `lost=False` (the
    dashboards' pies) leaves `lost` None and skips the second — and lets the customer
    counters answer the first when they can (`kefu.reports.rollup.customers`)."""
    from kefu.customers.selectors import customer_base

    dims = clean_dimensions(group_by, CUSTOMER_DIMENSIONS)
    fields = [d for d in dims if d != "month"]
    start, end = period.bounds()
    windows, created_bucket, lost_bucket = _buckets(period, "month" in dims)
    aliases = {f"dim_{d}": F(_GROUP_FIELDS[d]) for d in fields}
    names = list(aliases)
    base = customer_base(user)
    opened = None
    if not lost:
        from kefu.reports.rollup.customers import rollup_opened

        opened = rollup_opened(user=user, period=period, dims=dims)
    if opened is None:
        opened = (
            base.filter(created_at__lt=end)
            .annotate(**aliases, bucket=created_bucket)
            .order_by()
            .values(*names, "bucket")
            .annotate(
                n=Count("pk"),
                key=Count("pk", filter=Q(is_key_account=True)),
                active=Count("pk", filter=Q(lifecycle="active")),
                potential=Count("pk", filter=Q(lifecycle="potential")),
            )
        )
    groups: dict[tuple, dict[str, dict[str, int]]] = {}
    for row in opened:
        groups.setdefault(tuple(row[n] for n in names), {})[row["bucket"]] = row
    lost_counts: dict[tuple, int] = {}
    if lost:
        lost_rows = (
            lost_in(base, start, end)
            .annotate(**aliases, bucket=lost_bucket)
            .order_by()
            .values(*names, "bucket")
            .annotate(n=Count("pk"))
        )
        for row in lost_rows:
            key = tuple(row[n] for n in names)
            groups.setdefault(key, {})
            lost_counts[(*key, row["bucket"])] = row["n"]
    if not fields:
        groups.setdefault((), {})  # the totals row (or months) even with no customer
    rows = []
    for key, buckets in groups.items():
        running = dict.fromkeys(("n", "key", "active", "potential"), 0)
        for part in ("n", "key", "active", "potential"):
            running[part] = (buckets.get("") or {}).get(part, 0)
        for window in windows:
            here = buckets.get(window) or {}
            for part in running:
                running[part] += here.get(part, 0)
            row: dict[str, Any] = {d: value for d, value in zip(fields, key, strict=True)}
            if "month" in dims:
                row["month"] = row["month_label"] = window
            row.update(
                {
                    "total": running["n"],
                    "new": here.get("n", 0),
                    "lost": lost_counts.get((*key, window), 0) if lost else None,
                    "key_accounts": running["key"],
                    "active": running["active"],
                    "potential": running["potential"],
                }
            )
            rows.append(row)
    _labels(fields, rows)
    return sort_rows(rows, dims, "total")


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
    complained = complaints.order_by().values("customer_id")
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
