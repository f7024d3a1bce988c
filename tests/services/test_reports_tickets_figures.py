"""Ticket figures checked against plain Python over the generated data set: counts,
working-hour averages and nearest-rank p90 across the National Day holidays, SLA,
reopen rate, satisfaction, escalations; scope (the two regions sum to the manager's);
query counts independent of the number of tickets."""

import datetime
import statistics
from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.errors import ValidationFailed
from kefu.reports.periods import parse_period
from kefu.reports.selectors.common import compare
from kefu.reports.selectors.tickets import (
    TICKET_FIGURES,
    ticket_breakdowns,
    ticket_figures,
    ticket_list_query,
    ticket_totals,
    top_causes,
)
from kefu.tickets.models import Ticket
from kefu.tickets.params import filters_from_params
from kefu.tickets.selectors import ticket_list
from tests.factories_reports import PERIOD, build_report_world, in_period, nearest_rank

pytestmark = pytest.mark.django_db

OCTOBER = (datetime.date(2026, 10, 1), datetime.date(2026, 11, 1))


@pytest.fixture
def world(make_user):
    return build_report_world(make_user)


def _hours(minutes):
    return None if minutes is None else round(minutes / 60, 1)


def expected(tickets):
    """The figures of a list of planned tickets, from the plans alone."""
    resolved = [t for t in tickets if not t.is_open]
    minutes = [t.resolution_minutes for t in resolved]
    responses = [t.response_minutes for t in tickets if t.response_minutes is not None]
    scores = [t.satisfaction for t in tickets if t.satisfaction is not None]
    breached = sum(1 for t in resolved if t.breached)
    reopened = sum(1 for t in tickets if t.plan.reopened is not None)
    return {
        "count": len(tickets),
        "resolved": len(resolved),
        "open": sum(1 for t in tickets if t.is_open),
        "avg_resolution_hours": _hours(statistics.fmean(minutes)) if minutes else None,
        "p90_resolution_hours": _hours(nearest_rank(minutes)),
        "avg_response_hours": _hours(statistics.fmean(responses)) if responses else None,
        "sla_met": len(resolved) - breached,
        "sla_breached": breached,
        "sla_rate": round(100 * (len(resolved) - breached) / len(resolved), 1) if resolved else None,
        "reopened": reopened,
        "reopen_rate": round(100 * reopened / len(tickets), 1) if tickets else None,
        "satisfaction_avg": round(statistics.fmean(scores), 1) if scores else None,
        "satisfaction_n": len(scores),
        "escalated": sum(1 for t in tickets if t.escalated),
    }


def test_the_data_set_crosses_the_holidays(world):
    """Guard on the generator: the figures below are only meaningful if some tickets
    were handled across the holidays, some reopened, some breached, some open."""
    october = in_period(world["tickets"], *OCTOBER)
    assert len(october) == 40
    across = [
        t
        for t in october
        if t.final_resolved and t.plan.created.date() < datetime.date(2026, 10, 8) <= t.final_resolved.date()
    ]
    assert across, "no ticket handled across the holidays"
    assert any(t.plan.reopened for t in october) and any(t.breached for t in october)
    assert any(t.is_open for t in october) and any(t.escalated for t in october)
    # The services stored the same working minutes as the hand-written calendar gives.
    stored = dict(Ticket.objects.values_list("pk", "resolution_minutes"))
    assert all(stored[t.pk] == t.resolution_minutes for t in world["tickets"])


def test_totals_match_the_plans(world):
    period = parse_period(PERIOD)
    totals = ticket_totals(user=world["manager"], period=period)
    assert totals == expected(in_period(world["tickets"], *OCTOBER))
    assert set(TICKET_FIGURES) <= set(totals)


def test_complaints_by_category_department_region_channel_severity(world):
    period = parse_period(PERIOD)
    complaints = [t for t in in_period(world["tickets"], *OCTOBER) if t.plan.kind == "complaint"]
    names = {"engineering": world["engineering"], "repair": world["repair"]}
    regions = {"north": world["north"], "south": world["south"]}
    dims = {
        "category": lambda t: t.plan.category,
        "department": lambda t: names[t.department].pk if t.department else None,
        "region": lambda t: regions[t.plan.region].pk,
        "channel": lambda t: t.plan.channel,
        "severity": lambda t: t.plan.severity,
    }
    for dim, key in dims.items():
        rows = ticket_figures(user=world["manager"], period=period, kinds=["complaint"], group_by=[dim])
        groups = defaultdict(list)
        for ticket in complaints:
            groups[key(ticket)].append(ticket)
        got = {}
        for row in rows:
            value = row[dim]
            if dim == "category" and value is not None:
                value = _category_name(value)
            got[value] = {k: row[k] for k in TICKET_FIGURES}
        assert got == {k: expected(v) for k, v in groups.items()}, dim
        counts = [row["count"] for row in rows]
        assert counts == sorted(counts, reverse=True)
        assert all(row[f"{dim}_label"] for row in rows)


def _category_name(pk):
    from kefu.tickets.models import TicketCategory

    return TicketCategory.objects.get(pk=pk).name


def test_two_dimensions_and_labels(world):
    period = parse_period(PERIOD)
    rows = ticket_figures(user=world["manager"], period=period, group_by=["kind", "department"])
    complaints = [t for t in in_period(world["tickets"], *OCTOBER) if t.plan.kind == "complaint"]
    assert sum(r["count"] for r in rows if r["kind_label"] == "投诉") == len(complaints)
    unrouted = [r for r in rows if r["department"] is None]
    assert unrouted and all(r["department_label"] == "未指定部门" for r in unrouted)
    assert {r["kind_label"] for r in rows} == {"投诉", "报修"}


def test_month_dimension_over_a_quarter(world):
    period = parse_period("2026-Q3")
    rows = ticket_figures(user=world["manager"], period=period, group_by=["month"])
    september = in_period(world["tickets"], datetime.date(2026, 9, 1), datetime.date(2026, 10, 1))
    assert [r["month"] for r in rows] == ["2026-09"]
    assert rows[0]["month_label"] == "2026-09"
    assert {k: rows[0][k] for k in TICKET_FIGURES} == expected(september)
    year = ticket_figures(user=world["manager"], period=parse_period("2026"), group_by=["month"])
    assert [r["month"] for r in year] == ["2026-09", "2026-10"]


def test_filters_narrow_the_set(world):
    period = parse_period(PERIOD)
    october = in_period(world["tickets"], *OCTOBER)
    north = [t for t in october if t.plan.region == "north" and t.plan.severity == "normal"]
    totals = ticket_totals(
        user=world["manager"], period=period, filters={"region": world["north"].pk, "severity": ["normal"]}
    )
    assert totals == expected(north)
    by_kind_code = ticket_totals(user=world["manager"], period=period, filters={"kind": "repair"})
    assert by_kind_code["count"] == sum(1 for t in october if t.plan.kind == "repair")
    with pytest.raises(ValidationFailed):
        ticket_totals(user=world["manager"], period=period, filters={"status": "open"})
    with pytest.raises(ValidationFailed):
        ticket_totals(user=world["manager"], period=period, filters={"severity": "bad"})
    with pytest.raises(ValidationFailed):
        ticket_figures(user=world["manager"], period=period, group_by=["colour"])
    with pytest.raises(ValidationFailed):
        ticket_totals(user=world["manager"], period=period, kinds=["nonsense"])


def test_no_tickets_gives_one_row_of_zeros(world):
    totals = ticket_totals(user=world["manager"], period=parse_period("2024-01"))
    assert totals["count"] == 0 and totals["sla_rate"] is None and totals["p90_resolution_hours"] is None
    assert ticket_figures(user=world["manager"], period=parse_period("2024-01"), group_by=["region"]) == []


def test_scope_the_regions_sum_to_the_manager(world):
    period = parse_period(PERIOD)
    additive = ("count", "resolved", "open", "sla_met", "sla_breached", "reopened", "satisfaction_n", "escalated")
    everything = ticket_totals(user=world["manager"], period=period)
    for pair in (("am_north", "am_south"), ("supervisor", "supervisor_south")):
        parts = [ticket_totals(user=world[who], period=period) for who in pair]
        for key in additive:
            assert parts[0][key] + parts[1][key] == everything[key], (pair, key)
        assert 0 < parts[0]["count"] < everything["count"]
    # Each region's account manager sees exactly that region's figures.
    north = [t for t in in_period(world["tickets"], *OCTOBER) if t.plan.region == "north"]
    assert ticket_totals(user=world["am_north"], period=period) == expected(north)
    # The department sees only what was routed to it.
    repair_rows = ticket_figures(user=world["repairer"], period=period, group_by=["kind"])
    routed_to_repair = [t for t in in_period(world["tickets"], *OCTOBER) if t.plan.department == "repair"]
    assert sum(r["count"] for r in repair_rows) == len(routed_to_repair)
    # No report permission on tickets at all: nothing.
    assert ticket_totals(user=world["finance"], period=period)["count"] == 0


def test_top_causes(world):
    period = parse_period(PERIOD)
    complaints = [t for t in in_period(world["tickets"], *OCTOBER) if t.plan.kind == "complaint"]
    counts = defaultdict(int)
    for t in complaints:
        if t.plan.category:
            counts[t.plan.category] += 1
    causes = top_causes(user=world["manager"], period=period, limit=3)
    assert len(causes) == 3
    assert [c["count"] for c in causes] == sorted(counts.values(), reverse=True)[:3]
    assert causes[0]["share"] == round(100 * causes[0]["count"] / len(complaints), 1)
    assert "›" in causes[0]["category_label"] or causes[0]["category_label"]


def test_click_through_query_selects_the_same_tickets(world):
    period = parse_period(PERIOD)
    rows = ticket_figures(user=world["manager"], period=period, group_by=["department", "severity"])
    row = next(r for r in rows if r["department"] is not None)
    params = ticket_list_query(period=period, row=row)
    listed = ticket_list(user=world["manager"], filters=filters_from_params(params))
    assert listed.count() == row["count"]


def test_compare_with_previous_and_last_year(world):
    period = parse_period(PERIOD)
    current = ticket_totals(user=world["manager"], period=period)
    previous = ticket_totals(user=world["manager"], period=period.previous())
    last_year = ticket_totals(user=world["manager"], period=period.same_last_year())
    assert previous["count"] == 8 and last_year["count"] == 6
    change = compare(current, previous, keys=["count", "sla_rate"])
    assert change["count"] == {
        "value": current["count"],
        "previous": 8,
        "delta": current["count"] - 8,
        "delta_pct": round(100 * (current["count"] - 8) / 8, 1),
    }
    assert compare(current, None, keys=["count"])["count"]["delta"] is None
    assert compare({"count": 3}, {"count": 0}, keys=["count"])["count"] == {
        "value": 3,
        "previous": 0,
        "delta": 3,
        "delta_pct": None,
    }


def test_query_count_does_not_grow_with_the_rows(world, django_assert_max_num_queries):
    period = parse_period(PERIOD)
    dims = ["kind", "category", "department", "region", "channel", "severity", "assignee", "month"]
    manager = world["manager"]
    manager.refresh_from_db()
    # kind lookup + scan (+ window on SQLite) + one label query per named dimension
    with django_assert_max_num_queries(3 + 6):
        rows = ticket_figures(user=manager, period=period, kinds=["complaint", "repair"], group_by=dims)
    assert sum(r["count"] for r in rows) == 40
    with django_assert_max_num_queries(3):
        ticket_totals(user=manager, period=period)


def test_breakdowns_equal_the_single_groupings(world, django_assert_max_num_queries):
    """Several groupings at once (one GROUPING SETS scan on PostgreSQL) give exactly the
    rows of one ticket_figures call per grouping."""
    period = parse_period("2026-Q4")
    groupings = [(), ("category",), ("department", "severity"), ("month",), ("region",), ("category",)]
    manager = world["manager"]
    single = [ticket_figures(user=manager, period=period, kinds=["complaint"], group_by=g) for g in groupings]
    with django_assert_max_num_queries(len(groupings) * 4):
        together = ticket_breakdowns(user=manager, period=period, kinds=["complaint"], groupings=groupings)
    assert together == single
    assert together[0][0]["count"] == sum(r["count"] for r in together[1])
    # The sums from the counters; the tickets read once, for every p90 (PostgreSQL: one
    # GROUPING SETS statement; SQLite: the resolution minutes).
    with CaptureQueriesContext(connection) as captured:
        ticket_breakdowns(user=manager, period=period, kinds=["complaint"], groupings=groupings)
    reading = [q["sql"] for q in captured.captured_queries if '"tickets_ticket"' in q["sql"]]
    assert len(reading) == 1
    assert ("GROUPING SETS" in reading[0]) == (connection.vendor == "postgresql")
    filtered = ticket_breakdowns(
        user=manager, period=period, groupings=[("kind",)], filters={"region": world["north"].pk}
    )
    assert filtered == [
        ticket_figures(user=manager, period=period, group_by=["kind"], filters={"region": world["north"].pk})
    ]
