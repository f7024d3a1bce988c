"""Customer figures (total, new, lost, key accounts, lifecycle split) by class, region,
source, category and month; key accounts at risk; 完工客户月报 — checked against the
named customers of the generated data set, with scope and query counts."""

import datetime

import pytest

from kefu.reports.periods import parse_period
from kefu.reports.selectors.completed import completed_customers
from kefu.reports.selectors.customers import CUSTOMER_FIGURES, customer_figures, customer_totals, key_accounts_at_risk
from kefu.visits.choices import Outcome, VisitStatus
from kefu.visits.models import Visit, VisitRule
from tests.factories_reports import PERIOD, TZ, build_report_world
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db

# The named customers (tests/factories_reports._customer_set) in October 2026.
EXISTING = {"北一", "北二", "北三", "北四", "北五", "南一", "南二", "南三", "南四"}  # 南五 opened 2 Nov
NEW = {"北一", "北五", "南一", "南二"}
LOST = {"北三", "南二", "南四"}  # 北四 was lost in September; 南二 entered as lost on 5 Oct
KEY = {"北一", "北四", "南一", "南三"}
ACTIVE = {"北一", "北二", "南一", "南三"}
POTENTIAL = {"北五"}


@pytest.fixture
def world(make_user):
    return build_report_world(make_user, tickets_in_period=4)


def _expected(names):
    return {
        "total": len(EXISTING & names),
        "new": len(NEW & names),
        "lost": len(LOST & names),
        "key_accounts": len(KEY & names),
        "active": len(ACTIVE & names),
        "potential": len(POTENTIAL & names),
    }


def test_totals(world):
    totals = customer_totals(user=world["manager"], period=parse_period(PERIOD))
    # The ticket customers of the world were opened on the real today (after October).
    assert totals == _expected(EXISTING)
    assert customer_totals(user=world["manager"], period=parse_period("2019-01")) == dict.fromkeys(CUSTOMER_FIGURES, 0)
    september = customer_totals(user=world["manager"], period=parse_period("2026-09"))
    assert september["lost"] == 1 and september["new"] == 1  # 北四 lost, 北二 opened


def test_by_region_class_and_source(world):
    period = parse_period(PERIOD)
    customers = world["customers"]
    for dim, attr in (("region", "region_id"), ("customer_class", "customer_class_id"), ("source", "source_id")):
        rows = customer_figures(user=world["manager"], period=period, group_by=[dim])
        groups = {}
        for name, customer in customers.items():
            if name in EXISTING:
                groups.setdefault(getattr(customer, attr), set()).add(name)
        got = {r[dim]: {k: r[k] for k in CUSTOMER_FIGURES} for r in rows if r["total"]}
        assert got == {k: _expected(v) for k, v in groups.items()}, dim
        assert all(r[f"{dim}_label"] for r in rows)
    none_class = next(
        r
        for r in customer_figures(user=world["manager"], period=period, group_by=["customer_class"])
        if r["customer_class"] is None
    )
    assert none_class["customer_class_label"] == "未分类"


def test_by_category_counts_each_category(world):
    rows = customer_figures(user=world["manager"], period=parse_period(PERIOD), group_by=["category"])
    per_category = {}
    for name, customer in world["customers"].items():
        if name in EXISTING:
            for category in customer.categories.all():
                per_category[category.pk] = per_category.get(category.pk, 0) + 1
    assert {r["category"]: r["total"] for r in rows if r["category"] is not None} == per_category


def test_by_month(world):
    rows = customer_figures(user=world["manager"], period=parse_period("2026-Q3"), group_by=["month"])
    assert [r["month"] for r in rows] == ["2026-07", "2026-08", "2026-09"]
    july, _august, september = rows
    assert july["total"] == 4  # 北三, 北四, 南三, 南四
    assert september["total"] == 5 and september["new"] == 1 and september["lost"] == 1
    by_region_month = customer_figures(
        user=world["manager"], period=parse_period("2026-Q4"), group_by=["region", "month"]
    )
    october = [r for r in by_region_month if r["month"] == "2026-10"]
    assert sum(r["new"] for r in october) == len(NEW)
    assert sum(r["lost"] for r in october) == len(LOST)


def test_scope_the_regions_sum_to_the_manager(world):
    period = parse_period(PERIOD)
    everything = customer_totals(user=world["manager"], period=period)
    north = customer_totals(user=world["am_north"], period=period)
    south = customer_totals(user=world["am_south"], period=period)
    assert north == _expected({n for n in EXISTING if n.startswith("北")})
    for key in CUSTOMER_FIGURES:
        assert north[key] + south[key] == everything[key], key


def test_query_count(world, django_assert_max_num_queries):
    manager = world["manager"]
    customer_totals(user=manager, period=parse_period(PERIOD))
    # the customers by creation bucket, the lost ones, one label query per named dimension
    with django_assert_max_num_queries(2 + 4):
        customer_figures(
            user=manager, period=parse_period("2026"), group_by=["customer_class", "region", "source", "owner", "month"]
        )
    with django_assert_max_num_queries(2):
        key_accounts_at_risk(user=manager, today=datetime.date(2026, 11, 1))


def test_key_accounts_at_risk(world):
    today = datetime.date(2026, 11, 1)
    since = datetime.datetime(2026, 9, 2, tzinfo=TZ)
    customers = world["customers"]
    ticket = make_ticket(world["agent"], customer=customers["北一"], now=datetime.datetime(2026, 10, 20, 10, tzinfo=TZ))
    assert ticket.status == "registered"
    last = {}
    for plan in world["visit_plans"]:
        if plan.status == VisitStatus.DONE:
            done_at = datetime.datetime(plan.due.year, plan.due.month, plan.due.day, 10, 30, tzinfo=TZ)
            last[plan.customer.pk] = max(last.get(plan.customer.pk, done_at), done_at)
    expected = {"北一"} | {
        name
        for name in ("南一", "南三")  # the key accounts not lost (北四 is lost)
        if customers[name].pk not in last or last[customers[name].pk] < since
    }
    rows = key_accounts_at_risk(user=world["manager"], today=today)
    assert {r["name"] for r in rows} == {f"客户{n}" for n in expected}
    assert rows[0]["name"] == "客户北一" and "1 件未结投诉" in rows[0]["reason"]
    assert set(rows[0]) >= {"customer", "name", "archive_no", "reason"}
    # The south account manager does not see the north archive.
    assert all(r["name"].startswith("客户南") for r in key_accounts_at_risk(user=world["am_south"], today=today))
    # An open complaint without a customer (a kind configured not to need one) changes
    # nothing: `NOT IN` over a NULL would have dropped every account without a visit.
    from kefu.tickets.models import Ticket

    stray = make_ticket(world["agent"], customer=customers["北二"], now=datetime.datetime(2026, 10, 21, 9, tzinfo=TZ))
    Ticket.objects.filter(pk=stray.pk).update(customer=None)
    # Next summer no key account has had a visit for 60 days.
    later = key_accounts_at_risk(user=world["manager"], today=datetime.date(2027, 6, 1))
    assert {r["name"] for r in later} == {"客户北一", "客户南一", "客户南三"}


def test_completed_customers_monthly_report(world):
    customers = world["customers"]
    rule = VisitRule.objects.get(name="完工回访")
    Visit.objects.create(
        customer=customers["北一"],
        rule=rule,
        period_key="finish_date:2026-10-12:+3",
        visit_type=rule.visit_type,
        due_date=datetime.date(2026, 10, 15),
        assignee=world["am_north"],
        region=customers["北一"].region,
        status=VisitStatus.DONE,
        outcome=Outcome.REACHED,
        attempts=1,
        satisfaction=4,
        done_at=datetime.datetime(2026, 10, 15, 11, tzinfo=TZ),
        done_by=world["am_north"],
    )
    make_ticket(world["agent"], customer=customers["北一"], now=datetime.datetime(2026, 10, 20, 10, tzinfo=TZ))
    rows = completed_customers(user=world["manager"], period=parse_period(PERIOD))
    assert [r["name"] for r in rows] == ["客户南一", "客户北一", "客户北二"]  # by completion date
    north_one = rows[1]
    assert north_one["finish_date"] == "2026-10-12" and north_one["completion_date"] == "2026-10-12"
    assert (north_one["designer"], north_one["foreman"]) == ("北一设计师", "王工长")
    assert (north_one["contract_date"], north_one["start_date"]) == ("2026-05-01", "2026-06-01")
    assert north_one["completion_satisfaction"] == 4 and north_one["completion_visit_date"] == "2026-10-15"
    assert north_one["open_tickets"] == 1
    assert rows[0]["completion_satisfaction"] is None and rows[0]["open_tickets"] == 0
    north_only = completed_customers(user=world["am_north"], period=parse_period(PERIOD))
    assert [r["name"] for r in north_only] == ["客户北一", "客户北二"]


def test_completed_customers_without_a_finish_date_field(world):
    """Another profile: customers with a project-stage visit reached in the period."""
    from kefu.customers.models import CustomField

    CustomField.objects.filter(key="finish_date").update(is_active=False)
    customers = world["customers"]
    rule = VisitRule.objects.get(name="开工追访")
    Visit.objects.create(
        customer=customers["南三"],
        rule=rule,
        period_key="start_date:2026-06-01:+7",
        visit_type=rule.visit_type,
        due_date=datetime.date(2026, 10, 9),
        region=customers["南三"].region,
        status=VisitStatus.DONE,
        outcome=Outcome.REACHED,
        attempts=1,
        satisfaction=5,
        done_at=datetime.datetime(2026, 10, 9, 11, tzinfo=TZ),
    )
    rows = completed_customers(user=world["manager"], period=parse_period(PERIOD))
    assert [(r["name"], r["completion_date"], r["completion_satisfaction"]) for r in rows] == [
        ("客户南三", "2026-06-01", 5)
    ]


def test_key_accounts_at_risk_rank_open_complaints_first(world, django_assert_max_num_queries):
    today = datetime.date(2026, 11, 1)
    customers = world["customers"]
    when = datetime.datetime(2026, 10, 20, 10, tzinfo=TZ)
    for name, complaints, agent in (("南一", 2, "agent_south"), ("北一", 1, "agent")):
        for _ in range(complaints):
            make_ticket(world[agent], customer=customers[name], now=when)
    manager = world["manager"]
    key_accounts_at_risk(user=manager, today=today, limit=1)  # permissions cached on the user
    # As many key accounts with complaints as asked: one query, the most complaints first.
    with django_assert_max_num_queries(1):
        rows = key_accounts_at_risk(user=manager, today=today, limit=2)
    assert [(r["name"], r["open_complaints"]) for r in rows] == [("客户南一", 2), ("客户北一", 1)]
    assert key_accounts_at_risk(user=manager, today=today, limit=1)[0]["name"] == "客户南一"
    # More asked: the others without a recent visit follow, the complaints keep their places.
    everything = key_accounts_at_risk(user=manager, today=today, limit=10)
    assert [r["name"] for r in everything[:2]] == ["客户南一", "客户北一"]
    assert all(r["open_complaints"] == 0 for r in everything[2:])
    assert key_accounts_at_risk(user=manager, today=today, limit=0) == []
