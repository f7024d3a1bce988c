"""客户统计 reads the archive once for all its figures (issue 6: within 1.5× of the
best hand-written SQL, see bench/reports_hand.py): `customer_breakdowns` answers
every ask of the report — the period, its comparison periods, each dimension, the
months — from a few statements. Its rows are pinned here against the figures worked
out in plain Python over the archive and the timeline (the definitions of
`selectors.customers`), and against one scan per ask (the counters off), per grouping,
viewer and period; the report's tables against those scans; and the statements the
report sends."""

import datetime
import itertools

import pytest
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.customers.models import Customer, ProductCategory, TimelineEntry
from kefu.customers.selectors import customer_base
from kefu.reports.catalog import build_report
from kefu.reports.periods import parse_period
from kefu.reports.rollup import customers as counters
from kefu.reports.selectors.customers import (
    CUSTOMER_FIGURES,
    LIFECYCLE_CHANGED,
    customer_breakdowns,
    customer_figures,
)
from tests.factories_reports import TZ, build_report_world

pytestmark = pytest.mark.django_db

GROUPINGS = [
    (),
    ("customer_class",),
    ("region",),
    ("source",),
    ("category",),
    ("lifecycle",),
    ("owner",),
    ("month",),
    ("region", "month"),
    ("category", "month"),
    ("category", "lifecycle"),
]
# Whole months (the counters answer), and a week and a range (they cannot).
PERIODS = ["2026-10", "2026-Q4", "2026", "2026-W41", "2026-09-20..2026-10-10"]
VIEWERS = ("manager", "am_north", "am_south")
FIELDS = {
    "customer_class": "customer_class_id",
    "region": "region_id",
    "source": "source_id",
    "lifecycle": "lifecycle",
    "owner": "owner_id",
}


@pytest.fixture
def world(make_user):
    """The report world's named customers, plus: one in two product categories, one
    lost customer with an earlier lifecycle change too (the last one counts), and one
    whose archive was moved to after its loss (counted lost all the same)."""
    world = build_report_world(make_user, tickets_in_period=4)
    customers = world["customers"]
    customers["北一"].categories.add(*ProductCategory.objects.order_by("pk")[:2])
    TimelineEntry.objects.create(
        customer=customers["北三"], kind=LIFECYCLE_CHANGED, title="x", at=datetime.datetime(2026, 6, 1, 9, tzinfo=TZ)
    )
    Customer.objects.filter(pk=customers["南四"].pk).update(created_at=datetime.datetime(2026, 12, 5, tzinfo=TZ))
    return world


def _asks(period_key: str) -> list:
    period = parse_period(period_key)
    return [(period, g) for g in GROUPINGS] + [(period.previous(), ()), (period.same_last_year(), ())]


def _scanned(monkeypatch, user, asks, lost=True) -> list[list[dict]]:
    """One `customer_figures` per ask, the counters off: a scan of the archive each."""
    with monkeypatch.context() as patch:
        patch.setattr(counters, "answers", lambda **_kw: False)
        return [customer_figures(user=user, period=p, group_by=g, lost=lost) for p, g in asks]


def _local(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _defined(user, period, dims) -> dict:
    """{(group values, month or None): figures} from every visible archive read into
    Python: existing by the window's end, opened in it, lost in it (lost now, at its
    last lifecycle change or else its creation); a group per value of the dimensions
    with an archive by the period's end or a loss in it, a row per window."""
    last_change = dict(
        TimelineEntry.objects.filter(kind=LIFECYCLE_CHANGED)
        .values("customer")
        .annotate(last=Max("at"))
        .values_list("customer", "last")
    )
    start, end = _local(period.start), _local(period.end)
    windows = [(None, start, end)]
    if "month" in dims:
        windows = [
            (f"{m:%Y-%m}", max(_local(m), start), min(_local((m + datetime.timedelta(days=32)).replace(day=1)), end))
            for m in period.months()
        ]
    own = [d for d in dims if d != "month"]
    rows: dict = {}
    for c in customer_base(user).prefetch_related("categories"):
        lost_at = (last_change.get(c.pk) or c.created_at) if c.lifecycle == "lost" else None
        if not (c.created_at < end or (lost_at is not None and start <= lost_at < end)):
            continue
        values = [
            ([cat.pk for cat in c.categories.all()] or [None]) if d == "category" else [getattr(c, FIELDS[d])]
            for d in own
        ]
        for key in itertools.product(*values):
            for month, a, b in windows:
                row = rows.setdefault((key, month), dict.fromkeys(CUSTOMER_FIGURES, 0))
                if c.created_at < b:
                    row["total"] += 1
                    row["key_accounts"] += c.is_key_account
                    row["active"] += c.lifecycle == "active"
                    row["potential"] += c.lifecycle == "potential"
                row["new"] += a <= c.created_at < b
                row["lost"] += lost_at is not None and a <= lost_at < b
    if not own:
        for month, _a, _b in windows:
            rows.setdefault(((), month), dict.fromkeys(CUSTOMER_FIGURES, 0))
    return rows


def _figures(rows: list[dict], dims) -> dict:
    own = [d for d in dims if d != "month"]
    return {(tuple(r[d] for d in own), r.get("month")): {k: r[k] for k in CUSTOMER_FIGURES} for r in rows}


@pytest.mark.parametrize("period_key", PERIODS)
def test_one_read_for_all_asks_equals_the_definitions_and_one_scan_per_ask(world, monkeypatch, period_key):
    asks = _asks(period_key)
    for who in VIEWERS:
        user = world[who]
        together = customer_breakdowns(user=user, asks=asks)
        assert together == _scanned(monkeypatch, user, asks), who
        for (period, dims), rows in zip(asks, together, strict=True):
            assert _figures(rows, dims) == _defined(user, period, dims), (who, period.key(), dims)
        # Without the losses: the same figures, but no group that only a loss makes (南四).
        without_losses = customer_breakdowns(user=user, asks=asks, lost=False)
        assert without_losses == _scanned(monkeypatch, user, asks, lost=False), who
        for (_period, dims), rows, quick in zip(asks, together, without_losses, strict=True):
            full = {key: {**figures, "lost": None} for key, figures in _figures(rows, dims).items()}
            assert all(full[key] == figures for key, figures in _figures(quick, dims).items()), (who, dims)
    # Not rows of nothing: October's 8 archives (南四's moved to December), 北一 in two
    # categories; 北三, 南二 and 南四 lost.
    rows = customer_breakdowns(user=world["manager"], asks=[(parse_period("2026-10"), ("category",))])[0]
    assert sum(r["total"] for r in rows) == 9 and sum(r["lost"] for r in rows) == 3


def _table(report, title: str):
    return next(t for t in report.tables if t.title == title)


@pytest.mark.parametrize(
    ("who", "period_key"), [("manager", "2026"), ("am_north", "2026-Q4"), ("am_south", "2026-W41")]
)
def test_the_report_shows_one_scan_per_table(world, monkeypatch, who, period_key):
    user, period = world[who], parse_period(period_key)
    report = build_report("customers", user=user, period=period)
    metrics = list(CUSTOMER_FIGURES)

    def shown(table) -> list[tuple]:
        return [(r["label"], r["key"], *(r[m] for m in metrics)) for r in table.rows]

    def scanned(group_by) -> list[tuple]:
        (rows,) = _scanned(monkeypatch, user, [(period, group_by)])
        dim = group_by[0]
        return [(r[f"{dim}_label"], r[dim], *(r[m] for m in metrics)) for r in rows]

    overall = _table(report, "总体指标与同比、环比").rows
    (now,), (previous,), (last_year,) = _scanned(
        monkeypatch, user, [(period, ()), (period.previous(), ()), (period.same_last_year(), ())]
    )
    assert [{m: row[m] for m in metrics} for row in (overall[0], overall[1], overall[3])] == [
        {m: figures[m] for m in metrics} for figures in (now, previous, last_year)
    ]
    for dim, title in (
        ("customer_class", "按客户分类"),
        ("region", "按片区"),
        ("source", "按信息来源"),
        ("category", "按产品类别"),
        ("lifecycle", "按生命周期"),
    ):
        assert shown(_table(report, title)) == scanned((dim,)), title
    if len(period.months()) > 1:
        assert shown(_table(report, "按月新增与流失")) == scanned(("month",))
    else:
        assert "按月新增与流失" not in [t.title for t in report.tables]


# The statements of the report (the viewer's permissions cached by a first run): the
# site's name; whether the counters are installed and the counters by creation bucket
# (for a region scope also the viewer's own archives elsewhere) — for a week, which
# the counters cannot answer, a scan instead; the lost customers; the archive and the
# lost customers by product category; one label query per named dimension (class,
# region, source, category); the key accounts at risk (those with open complaints,
# then the others).
@pytest.mark.parametrize(
    ("who", "period_key", "statements", "archive_reads"),
    [("manager", "2026", 12, 5), ("am_north", "2026", 13, 6), ("manager", "2026-W41", 11, 6)],
)
def test_the_report_in_a_fixed_number_of_statements(world, who, period_key, statements, archive_reads):
    user, period = world[who], parse_period(period_key)
    build_report("customers", user=user, period=period)
    with CaptureQueriesContext(connection) as captured:
        build_report("customers", user=user, period=period)
    sql = [q["sql"] for q in captured.captured_queries]
    assert len(sql) == statements, "\n".join(sql)
    assert len([s for s in sql if 'FROM "customers_customer"' in s]) == archive_reads, "\n".join(sql)
