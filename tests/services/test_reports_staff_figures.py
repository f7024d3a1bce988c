"""Staff figures (员工统计): tickets resolved, response and resolution time in working
hours, satisfaction, visits done and reached — per person, against the plans."""

import datetime
import statistics

import pytest

from kefu.reports.periods import parse_period
from kefu.reports.selectors.staff import STAFF_FIGURES, staff_figures
from kefu.visits.choices import VisitStatus
from tests.factories_reports import PERIOD, build_report_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    return build_report_world(make_user, tickets_in_period=24)


def _hours(values):
    return round(statistics.fmean(values) / 60, 1) if values else None


def expected(world, key):
    # The agents resolved their region's tickets; the account managers none.
    region = {"agent": "north", "agent_south": "south"}.get(key)
    resolved = [
        t
        for t in world["tickets"]
        if t.plan.region == region
        and t.final_resolved
        and t.final_resolved.date().replace(day=1) == datetime.date(2026, 10, 1)
    ]
    visits = [
        p
        for p in world["visit_plans"]
        if p.assignee_key == key and p.due.month == 10 and p.status in (VisitStatus.DONE, VisitStatus.FAILED)
    ]
    scores = [t.satisfaction for t in resolved if t.satisfaction is not None]
    return {
        "tickets_handled": len(resolved),
        "avg_response_hours": _hours([t.response_minutes for t in resolved]),
        "avg_resolution_hours": _hours([t.resolution_minutes for t in resolved]),
        "satisfaction_avg": round(statistics.fmean(scores), 1) if scores else None,
        "visits_done": len(visits),
        "visits_reached": sum(1 for p in visits if p.status == VisitStatus.DONE),
    }


def test_per_person(world):
    rows = {r["user"]: r for r in staff_figures(user=world["manager"], period=parse_period(PERIOD))}
    for key in ("agent", "agent_south", "am_north", "am_south"):
        person = world[key]
        want = expected(world, key)
        if not any(want.values()):
            assert person.pk not in rows
            continue
        got = rows[person.pk]
        assert {k: got[k] for k in STAFF_FIGURES} == want, key
        assert got["label"] == person.display_name
    assert rows[world["agent"].pk]["tickets_handled"] > 0


def test_scope_and_order(world, django_assert_max_num_queries):
    period = parse_period(PERIOD)
    manager = world["manager"]
    everything = staff_figures(user=manager, period=period)
    handled = [r["tickets_handled"] for r in everything]
    assert handled == sorted(handled, reverse=True)
    north = staff_figures(user=world["am_north"], period=period)
    south = staff_figures(user=world["am_south"], period=period)
    for key in ("tickets_handled", "visits_done", "visits_reached"):
        assert sum(r[key] for r in north + south) == sum(r[key] for r in everything), key
    with django_assert_max_num_queries(3):
        staff_figures(user=manager, period=period)
