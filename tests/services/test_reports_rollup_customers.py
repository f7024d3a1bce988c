"""The customer counters (`kefu.reports.rollup.customers`): the archive figures without
losses equal the scan's for every grouping they hold, without reading the archive;
every write path (edits, merges, lifecycle, deletes, raw SQL) counts."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.customers.models import Customer
from kefu.reports.models import CustomerRollup
from kefu.reports.periods import parse_period
from kefu.reports.rollup import customers as counters
from kefu.reports.rollup import maintain, schema
from kefu.reports.selectors.customers import customer_figures
from tests.factories_reports import PERIOD, build_report_world

pytestmark = pytest.mark.django_db

ARCHIVE_TABLE = re.compile(r'"customers_customer"')


@pytest.fixture
def world(make_user):
    return build_report_world(make_user, tickets_in_period=4)


def _scanned(monkeypatch, **kwargs):
    with monkeypatch.context() as patch:
        patch.setattr(counters, "answers", lambda **_kw: False)
        return customer_figures(**kwargs)


def assert_counted():
    result = maintain.check(schema.CUSTOMERS)
    assert result.ok, result.differing[:5]


@pytest.mark.parametrize(
    "group_by", [(), ("customer_class",), ("region",), ("source",), ("lifecycle",), ("month",), ("month", "region")]
)
@pytest.mark.parametrize("period_key", [PERIOD, "2026-Q4", "2026", "2024-03"])
def test_counters_equal_the_scan(world, monkeypatch, group_by, period_key):
    period = parse_period(period_key)
    scanned = _scanned(monkeypatch, user=world["manager"], period=period, group_by=group_by, lost=False)
    with CaptureQueriesContext(connection) as captured:
        counted = customer_figures(user=world["manager"], period=period, group_by=group_by, lost=False)
    assert not [q for q in captured.captured_queries if ARCHIVE_TABLE.search(q["sql"])]
    assert counted == scanned
    assert all(row["lost"] is None for row in counted)
    if period_key != "2024-03":  # the data set's archives exist by then: not two empty tables
        assert any(row["total"] for row in counted)


def test_without_losses_the_other_figures_are_the_full_ones(world):
    period = parse_period("2026")
    full = customer_figures(user=world["manager"], period=period, group_by=("region",))
    quick = customer_figures(user=world["manager"], period=period, group_by=("region",), lost=False)
    assert [{**row, "lost": None} for row in full] == quick


@pytest.mark.parametrize(
    "group_by", [(), ("region",), ("customer_class", "lifecycle"), ("month",), ("month", "source")]
)
@pytest.mark.parametrize("who", ["am_north", "am_south"])
def test_region_scopes_get_their_regions_counters_and_their_own_archives(world, monkeypatch, who, group_by):
    viewer = world[who]
    other = world["south"] if viewer.region_id == world["north"].pk else world["north"]
    # Owned by the viewer, outside their region (or in none).
    outside = list(Customer.objects.filter(region=other).order_by("pk")[:2])
    Customer.objects.filter(pk=outside[0].pk).update(owner=viewer)
    Customer.objects.filter(pk=outside[1].pk).update(owner=viewer, region=None)
    period = parse_period("2026-Q4")
    scanned = _scanned(monkeypatch, user=viewer, period=period, group_by=group_by, lost=False)
    assert counters.counted_regions(viewer) == {viewer.region_id}
    counted = customer_figures(user=viewer, period=period, group_by=group_by, lost=False)
    assert counted == scanned
    assert any(row["total"] for row in counted)


@pytest.mark.parametrize(("who", "group_by"), [("manager", ("owner",)), ("manager", ("category",))])
def test_the_scan_answers_what_the_counters_cannot(world, who, group_by):
    with CaptureQueriesContext(connection) as captured:
        rows = customer_figures(user=world[who], period=parse_period(PERIOD), group_by=group_by, lost=False)
    assert [q for q in captured.captured_queries if ARCHIVE_TABLE.search(q["sql"])]
    assert rows


def test_every_write_path_counts(world):
    assert_counted()
    customers = list(Customer.objects.order_by("pk")[:6])
    Customer.objects.filter(pk=customers[0].pk).update(is_key_account=True, lifecycle="potential")
    Customer.objects.filter(pk=customers[1].pk).update(region=None, customer_class=None, source=None)
    Customer.objects.filter(pk=customers[2].pk).update(merged_into=customers[3])
    Customer.objects.filter(pk=customers[4].pk).update(created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert_counted()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET lifecycle = 'lost' WHERE id = %s", [customers[5].pk])
    assert_counted()
    before = customer_figures(user=world["manager"], period=parse_period("2026"), group_by=["lifecycle"], lost=False)
    maintain.fold(specs=[schema.CUSTOMERS])
    assert not CustomerRollup.objects.filter(fresh=True).exists()
    after = customer_figures(user=world["manager"], period=parse_period("2026"), group_by=["lifecycle"], lost=False)
    assert after == before
    assert_counted()
