"""The visit counters (`kefu.reports.rollup.visits`): the figures they give equal the
scan's for every grouping and filter they hold, on days before, inside and after the
period (the overdue visits move with the clock), without reading the visits table
except for today's month; every write path counts; the fold changes nothing."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.reports.models import VisitRollup
from kefu.reports.periods import parse_period
from kefu.reports.rollup import maintain, schema
from kefu.reports.rollup import visits as counters
from kefu.reports.selectors.visits import visit_figures, visit_funnel
from kefu.visits.choices import Outcome, VisitStatus
from kefu.visits.models import Visit
from tests.factories_reports import PERIOD, build_report_world

pytestmark = pytest.mark.django_db

VISITS_TABLE = re.compile(r'"visits_visit"')


@pytest.fixture
def world(make_user):
    return build_report_world(make_user, tickets_in_period=4)


def _visit_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if VISITS_TABLE.search(q["sql"])]


def _scanned(monkeypatch, **kwargs):
    with monkeypatch.context() as patch:
        patch.setattr(counters, "answers", lambda **_kw: False)
        return visit_figures(**kwargs)


def assert_counted():
    result = maintain.check(schema.VISITS)
    assert result.ok, result.differing[:5]


@pytest.mark.parametrize(
    "group_by",
    [(), ("region",), ("rule",), ("team",), ("channel",), ("visit_type",), ("month",), ("month", "region")],
)
@pytest.mark.parametrize(
    ("period_key", "today"),
    [
        (PERIOD, datetime.date(2026, 10, 15)),  # today inside the period: its month read from the visits
        (PERIOD, datetime.date(2026, 10, 1)),  # the first day: nothing overdue in it yet
        ("2026-Q4", datetime.date(2026, 11, 24)),
        ("2026", datetime.date(2027, 2, 1)),  # the period is over: every planned visit is overdue
        ("2026-Q4", datetime.date(2026, 9, 1)),  # not begun: nothing overdue
    ],
)
def test_counters_equal_the_scan(world, monkeypatch, group_by, period_key, today):
    period = parse_period(period_key)
    manager = world["manager"]
    scanned = _scanned(monkeypatch, user=manager, period=period, group_by=group_by, today=today)
    with CaptureQueriesContext(connection) as captured:
        counted = visit_figures(user=manager, period=period, group_by=group_by, today=today)
    assert counted == scanned
    in_this_month = period.start <= today < period.end and today.day > 1
    assert bool(_visit_queries(captured)) == in_this_month
    assert counted and counted[0]["planned"] > 0


def test_counters_filter_like_the_scan(world, monkeypatch):
    period = parse_period("2026-Q4")
    filters = {"region": [world["north"].pk], "channel": ["phone"]}
    today = datetime.date(2026, 11, 10)
    scanned = _scanned(monkeypatch, user=world["manager"], period=period, filters=filters, group_by=["month"])
    assert scanned  # the north's phone visits of the quarter: not two empty lists
    assert visit_figures(user=world["manager"], period=period, filters=filters, group_by=["month"]) == scanned
    scanned = _scanned(monkeypatch, user=world["manager"], period=period, filters=filters, today=today)
    assert visit_figures(user=world["manager"], period=period, filters=filters, today=today) == scanned


def test_the_funnel_from_the_counters(world, monkeypatch):
    period = parse_period(PERIOD)
    with monkeypatch.context() as patch:
        patch.setattr(counters, "answers", lambda **_kw: False)
        scanned = visit_funnel(user=world["manager"], period=period)
    with CaptureQueriesContext(connection) as captured:
        counted = visit_funnel(user=world["manager"], period=period)
    assert counted == scanned and counted[0]["deals"] > 0
    assert _visit_queries(captured) == []


@pytest.mark.parametrize(
    ("who", "period_key", "group_by"),
    [
        ("agent", PERIOD, ()),  # an agent's own list
        ("manager", "2026-10-01..2026-10-20", ()),  # part of a month
        ("manager", PERIOD, ("assignee",)),  # dimensions the counters do not hold
        ("manager", PERIOD, ("customer_class",)),
    ],
)
def test_the_scan_answers_what_the_counters_cannot(world, who, period_key, group_by):
    with CaptureQueriesContext(connection) as captured:
        rows = visit_figures(user=world[who], period=parse_period(period_key), group_by=group_by)
    assert _visit_queries(captured)
    assert rows


@pytest.mark.parametrize("group_by", [(), ("region",), ("month", "channel"), ("team",)])
@pytest.mark.parametrize("who", ["am_north", "supervisor", "supervisor_south"])
def test_region_scopes_get_their_regions_counters_and_the_rest_from_the_visits(world, monkeypatch, who, group_by):
    viewer = world[who]
    other = world["south"] if viewer.region_id == world["north"].pk else world["north"]
    # Seen outside the viewer's region: one assigned to them, one unassigned in their
    # team's pool, one of each with no region.
    outside = list(Visit.objects.filter(region=other).exclude(status=VisitStatus.CANCELLED).order_by("pk")[:4])
    Visit.objects.filter(pk=outside[0].pk).update(assignee=viewer)
    Visit.objects.filter(pk=outside[1].pk).update(assignee=viewer, region=None, status=VisitStatus.PLANNED)
    if viewer.department_id:
        Visit.objects.filter(pk__in=[v.pk for v in outside[2:]]).update(assignee=None, team=viewer.department_id)
    period = parse_period("2026-Q4")
    today = datetime.date(2026, 11, 20)
    scanned = _scanned(monkeypatch, user=viewer, period=period, group_by=group_by, today=today)
    assert counters.counted_regions(viewer) == {viewer.region_id}
    assert visit_figures(user=viewer, period=period, group_by=group_by, today=today) == scanned
    assert scanned and scanned[0]["planned"] > 0


def test_every_write_path_counts_and_the_fold_changes_nothing(world):
    assert_counted()
    visits = list(Visit.objects.order_by("pk")[:6])
    Visit.objects.filter(pk=visits[0].pk).update(
        status=VisitStatus.DONE, outcome=Outcome.REACHED, satisfaction=5, nps=10, arrived=True, deal=True
    )
    Visit.objects.filter(pk=visits[1].pk).update(deal_amount="1234.56", deal=True, status=VisitStatus.DONE)
    Visit.objects.filter(pk=visits[2].pk).update(status=VisitStatus.CANCELLED)
    Visit.objects.filter(pk=visits[3].pk).update(due_date=datetime.date(2025, 1, 31), channel="onsite")
    assert_counted()
    Visit.objects.filter(pk=visits[4].pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE visits_visit SET nps = 3 WHERE id = %s", [visits[5].pk])
    assert_counted()
    before = visit_figures(user=world["manager"], period=parse_period("2026"), group_by=["month"])
    assert VisitRollup.objects.filter(fresh=True).exists()
    maintain.fold(specs=[schema.VISITS])
    assert not VisitRollup.objects.filter(fresh=True).exists()
    assert visit_figures(user=world["manager"], period=parse_period("2026"), group_by=["month"]) == before
    assert_counted()


def test_planning_counts_its_visits_in_one_statement(world):
    from kefu.reports.models import RollupState
    from kefu.visits.services.planning import plan_all

    assert_counted()
    before = Visit.objects.count()
    with CaptureQueriesContext(connection) as captured:
        result = plan_all(today=datetime.date(2026, 11, 24))
    assert result.created > 0 and Visit.objects.count() == before + result.created
    if connection.vendor == "sqlite":
        # Planning reaches the counters through kefu.core.bulk (it does not import
        # reports): their row trigger was paused around each rule's INSERT … SELECT.
        pauses = [q["sql"] for q in captured.captured_queries if "SET paused = 1" in q["sql"]]
        from kefu.visits.models import VisitRule

        assert len(pauses) == VisitRule.objects.filter(is_active=True).count() > 0
    assert not RollupState.objects.filter(paused=True).exists()
    assert_counted()
    # Visits written one by one afterwards still count through the trigger.
    Visit.objects.filter(pk=Visit.objects.order_by("-pk").values("pk")[:1]).update(status=VisitStatus.CANCELLED)
    assert_counted()


def test_a_failed_bulk_insert_leaves_nothing_paused_or_counted(world):
    from django.db import transaction

    from kefu.reports.models import RollupState
    from kefu.reports.rollup.maintain import inserts_counted_after

    rows = VisitRollup.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic(), inserts_counted_after(schema.VISITS):
        raise RuntimeError("the INSERT failed")
    assert not RollupState.objects.filter(paused=True).exists()
    assert VisitRollup.objects.count() == rows
    assert_counted()
