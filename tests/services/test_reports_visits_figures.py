"""Visit figures checked against plain Python over the generated visits: volume,
outcomes, satisfaction, NPS, the arrivals → deals funnel, cadence compliance by class;
scope (two regions sum to the manager's); query counts independent of the rows."""

import datetime
import statistics
from collections import defaultdict

import pytest

from kefu.reports.periods import parse_period
from kefu.reports.selectors.visits import (
    VISIT_FIGURES,
    cadence_compliance,
    visit_breakdowns,
    visit_figures,
    visit_funnel,
    visit_totals,
)
from kefu.visits.choices import VisitStatus
from kefu.visits.oversight import completion_by, month_visits
from tests.factories_reports import PERIOD, TZ, build_report_world

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 10, 15)


@pytest.fixture
def world(make_user):
    return build_report_world(make_user, tickets_in_period=4)


def october(world):
    return [
        p
        for p in world["visit_plans"]
        if p.due.month == 10 and p.due.year == 2026 and p.status != VisitStatus.CANCELLED
    ]


def expected(plans):
    done = [p for p in plans if p.status in (VisitStatus.DONE, VisitStatus.FAILED)]
    reached = [p for p in plans if p.status == VisitStatus.DONE]
    scores = [p.satisfaction for p in reached if p.satisfaction is not None]
    answers = [p.nps for p in reached if p.nps is not None]
    deals = [p for p in reached if p.deal]
    nps = None
    if answers:
        nps = round(100 * (sum(a >= 9 for a in answers) - sum(a <= 6 for a in answers)) / len(answers), 1)
    return {
        "planned": len(plans),
        "done": len(done),
        "reached": len(reached),
        "reach_rate": round(100 * len(reached) / len(done), 1) if done else None,
        "overdue": sum(1 for p in plans if p.status == VisitStatus.PLANNED and p.due < TODAY),
        "satisfaction_avg": round(statistics.fmean(scores), 1) if scores else None,
        "nps": nps,
        "nps_n": len(answers),
        "arrivals": sum(1 for p in reached if p.arrived),
        "deals": len(deals),
        "deal_amount": float(sum(p.amount for p in deals)) if deals else 0.0,
        "completion_rate": round(100 * len(done) / len(plans), 1) if plans else None,
    }


def test_totals_match_the_plans(world):
    plans = october(world)
    assert any(p.status == VisitStatus.FAILED for p in plans) and any(p.deal for p in plans)
    assert any(p.status == VisitStatus.PLANNED for p in plans)
    totals = visit_totals(user=world["manager"], period=parse_period(PERIOD), today=TODAY)
    assert totals == expected(plans)
    assert set(VISIT_FIGURES) <= set(totals)


def test_grouped_by_assignee_class_channel_and_month(world):
    period = parse_period(PERIOD)
    plans = october(world)
    keys = {
        "assignee": lambda p: world[p.assignee_key].pk,
        "customer_class": lambda p: p.customer.customer_class_id,
        "channel": lambda p: p.channel,
        "region": lambda p: p.customer.region_id,
    }
    for dim, key in keys.items():
        groups = defaultdict(list)
        for plan in plans:
            groups[key(plan)].append(plan)
        rows = visit_figures(user=world["manager"], period=period, group_by=[dim], today=TODAY)
        assert {r[dim]: {k: r[k] for k in VISIT_FIGURES} for r in rows} == {
            k: expected(v) for k, v in groups.items()
        }, dim
        assert all(r[f"{dim}_label"] for r in rows)
    quarter = visit_figures(user=world["manager"], period=parse_period("2026-Q4"), group_by=["month"], today=TODAY)
    assert [r["month"] for r in quarter] == ["2026-10", "2026-11"]


def test_agrees_with_the_oversight_page(world):
    """The same visits and the same reached / satisfaction figures as 回访监督."""
    rows = visit_figures(user=world["manager"], period=parse_period(PERIOD), group_by=["assignee"], today=TODAY)
    oversight = completion_by(
        visits=month_visits(user=world["manager"], month=datetime.date(2026, 10, 1)), grouping="assignee"
    )
    ours = {r["assignee"]: (r["planned"], r["reached"], r["deals"]) for r in rows}
    theirs = {r["key"]: (r["planned"], r["reached"], r["deals"]) for r in oversight}
    assert ours == theirs


def test_funnel(world):
    plans = october(world)
    reached = [p for p in plans if p.status == VisitStatus.DONE]
    arrivals = [p for p in reached if p.arrived]
    deals = [p for p in reached if p.deal]
    (row,) = visit_funnel(user=world["manager"], period=parse_period(PERIOD))
    assert (row["visits"], row["reached"], row["arrivals"], row["deals"]) == (
        sum(1 for p in plans if p.status in (VisitStatus.DONE, VisitStatus.FAILED)),
        len(reached),
        len(arrivals),
        len(deals),
    )
    assert row["arrival_rate"] == round(100 * len(arrivals) / len(reached), 1)
    assert row["deal_rate"] == (round(100 * len(deals) / len(arrivals), 1) if arrivals else None)
    assert row["deal_amount"] == float(sum(p.amount for p in deals))
    by_region = visit_funnel(user=world["manager"], period=parse_period(PERIOD), group_by=["region"])
    assert sum(r["deals"] for r in by_region) == len(deals)


def test_scope_the_regions_sum_to_the_manager(world):
    period = parse_period(PERIOD)
    everything = visit_totals(user=world["manager"], period=period, today=TODAY)
    north = visit_totals(user=world["am_north"], period=period, today=TODAY)
    south = visit_totals(user=world["am_south"], period=period, today=TODAY)
    for key in ("planned", "done", "reached", "overdue", "nps_n", "arrivals", "deals"):
        assert north[key] + south[key] == everything[key], key
    assert north["deal_amount"] + south["deal_amount"] == pytest.approx(everything["deal_amount"])
    assert 0 < north["planned"] < everything["planned"]
    # An agent sees their own list only.
    mine = [p for p in october(world) if p.assignee_key == "agent"]
    assert visit_totals(user=world["agent"], period=period, today=TODAY)["planned"] == len(mine)


def test_cadence_compliance_by_class_and_month(world):
    period = parse_period("2026-Q4")
    rows = cadence_compliance(user=world["manager"], period=period, today=datetime.date(2026, 11, 24))
    customers = [c for c in world["customers"].values() if c.customer_class_id and c.lifecycle != "lost"]
    reached = defaultdict(int)
    for plan in world["visit_plans"]:
        done_at = datetime.datetime(plan.due.year, plan.due.month, plan.due.day, 10, 30, tzinfo=TZ)
        # Visits before the archive existed (a backdated plan) do not count.
        if plan.status == VisitStatus.DONE and plan.customer.created_at <= done_at:
            reached[(plan.customer.pk, plan.due.month)] += 1
    for month in (10, 11):
        end = datetime.date(2026, month + 1, 1)
        for cls in {c.customer_class for c in customers}:
            members = [c for c in customers if c.customer_class_id == cls.pk and c.created_at.date() < end]
            ok = [c for c in members if reached[(c.pk, month)] >= cls.visits_per_month]
            row = next(r for r in rows if r["customer_class"] == cls.pk and r["month"] == f"2026-{month}")
            assert (row["customer_months"], row["compliant"], row["cadence"]) == (
                len(members),
                len(ok),
                cls.visits_per_month,
            )
            assert row["rate"] == (round(100 * len(ok) / len(members), 1) if members else None)
    assert {r["month"] for r in rows} == {"2026-10", "2026-11"}  # December is still to come
    # Region scope: the two account managers' customer-months add up.
    north = cadence_compliance(user=world["am_north"], period=period, today=datetime.date(2026, 11, 24))
    south = cadence_compliance(user=world["am_south"], period=period, today=datetime.date(2026, 11, 24))
    assert sum(r["customer_months"] for r in north + south) == sum(r["customer_months"] for r in rows)
    assert sum(r["compliant"] for r in north + south) == sum(r["compliant"] for r in rows)


def test_query_counts(world, django_assert_max_num_queries):
    period = parse_period(PERIOD)
    manager = world["manager"]
    visit_totals(user=manager, period=period)  # permissions cached on the user
    dims = ["assignee", "team", "rule", "region", "channel", "visit_type", "customer_class", "month"]
    with django_assert_max_num_queries(1 + 5):
        visit_figures(user=manager, period=period, group_by=dims)
    # The manager's whole month comes from the visit counters: their readiness (one
    # query; cached per process outside a transaction that changed configuration, as
    # this test's is) and one aggregate.
    with django_assert_max_num_queries(2):
        visit_funnel(user=manager, period=period)
    with django_assert_max_num_queries(3):
        cadence_compliance(user=manager, period=parse_period("2026"), today=datetime.date(2026, 11, 24))


def test_a_nul_in_a_visit_type_filter_is_a_422(world):
    from kefu.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        visit_figures(user=world["manager"], period=parse_period(PERIOD), filters={"visit_type": "回访\x00"})
    assert caught.value.details == {"field": "visit_type"}


@pytest.mark.parametrize("who", ["manager", "am_north", "agent"])
@pytest.mark.parametrize("period_key", [PERIOD, "2026", "2026-10-03..2026-10-20"])
def test_breakdowns_equal_the_single_groupings(world, who, period_key):
    """Several groupings at once — those the counters cannot give (agent, customer class)
    from one scan of the period — are exactly the rows of one visit_figures call each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    period = parse_period(period_key)
    viewer = world[who]
    groupings = [(), ("assignee",), ("customer_class",), ("channel",), ("customer_class", "month"), ("rule",)]
    single = [visit_figures(user=viewer, period=period, group_by=g, today=TODAY) for g in groupings]
    with CaptureQueriesContext(connection) as captured:
        together = visit_breakdowns(user=viewer, period=period, groupings=groupings, today=TODAY)
    assert together == single
    assert together[0][0]["planned"] == sum(r["planned"] for r in together[1])
    if period_key == PERIOD:
        assert together[0][0]["planned"] > 0  # not a comparison of empty tables
    scans = [
        q["sql"] for q in captured.captured_queries if 'FROM "visits_visit"' in q["sql"] and "GROUP BY" in q["sql"]
    ]
    # One scan for every grouping the counters cannot give (the agent's own list: all of
    # them), plus the counters' own reads of what a region scope sees elsewhere.
    assert len([q for q in scans if '"customers_customer"' in q]) == 1
    # What a region scope sees outside its regions (own visits, the team's pool) is read
    # once for all the counted groupings, not once per grouping.
    elsewhere = [q["sql"] for q in captured.captured_queries if 'NOT ("visits_visit"."region_id" IN' in q["sql"]]
    assert len(elsewhere) <= (2 if who == "am_north" else 0)
