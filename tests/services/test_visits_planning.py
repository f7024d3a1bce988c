"""Planning return visits: cadence arithmetic over working days (a month with the
National Day holidays), the coming week planned day by day, a late first plan (the
latest passed slot only), a customer promoted mid-month, idempotent generation, paused
rules and lost customers."""

import datetime

import pytest

from kefu.core.services.calendar import calendar_seed
from kefu.customers.choices import Lifecycle
from kefu.customers.models import Customer
from kefu.visits.choices import RuleKind, VisitStatus
from kefu.visits.models import Visit, VisitRule
from kefu.visits.services.planning import cadence_slots, plan_all
from tests.factories_customers import CustomerClassFactory, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def classes(ticket_world):
    calendar_seed(years=[2026])
    a = CustomerClassFactory(code="A", visits_per_month=1)
    b = CustomerClassFactory(code="B", visits_per_month=2)
    c = CustomerClassFactory(code="C", visits_per_month=3)
    for cls in (a, b, c):
        VisitRule.objects.create(
            name=f"{cls.code}类跟踪", kind=RuleKind.CADENCE, visit_type="定期跟踪", customer_class=cls
        )
    return {"A": a, "B": b, "C": c, "w": ticket_world}


def test_slots_spread_over_the_working_days_of_a_holiday_month(classes):
    # October 2026: 1–7 off (National Day), Sat 10 Oct worked (调休): 18 working days
    # (8, 9, 10, 12–16, 19–23, 26–30); slot i falls on working day ⌊(i−1)·18/N⌋.
    slots = cadence_slots(datetime.date(2026, 10, 1), 3)
    assert slots == [datetime.date(2026, 10, 8), datetime.date(2026, 10, 15), datetime.date(2026, 10, 23)]
    assert cadence_slots(datetime.date(2026, 10, 1), 1) == [datetime.date(2026, 10, 8)]
    two = cadence_slots(datetime.date(2026, 10, 1), 2)
    assert two[1] == datetime.date(2026, 10, 20)  # working day index 9


def _periods(customer) -> list[tuple[str, datetime.date]]:
    return list(
        Visit.objects.filter(customer=customer).order_by("due_date", "period_key").values_list("period_key", "due_date")
    )


def test_generation_is_per_class_cadence_and_idempotent(classes):
    w = classes["w"]
    owner = w["agent"]
    customers = {
        code: make_customer(w["manager"], name=f"客户{name}", phone="", customer_class=classes[code], owner=owner)
        for code, name in (("A", "甲"), ("B", "乙"), ("C", "丙"))
    }
    # October's slots (see above): A 8; B 8, 20; C 8, 15, 23. The job plans the week ahead.
    first = plan_all(today=datetime.date(2026, 10, 8))
    assert first.created == 4
    assert first.by_rule == {"A类跟踪": 1, "B类跟踪": 1, "C类跟踪": 2}
    assert set(Visit.objects.values_list("assignee", flat=True)) == {owner.pk}
    again = plan_all(today=datetime.date(2026, 10, 8))
    assert again.created == 0 and Visit.objects.count() == 4
    # Day by day the month fills up: by the 20th each class has its October visits.
    assert plan_all(today=datetime.date(2026, 10, 16)).created == 2  # B 20, C 23
    assert plan_all(today=datetime.date(2026, 10, 20)).created == 0
    counts = {c: Visit.objects.filter(customer=customers[c]).count() for c in "ABC"}
    assert counts == {"A": 1, "B": 2, "C": 3}
    # A week before November its first slot (Monday 2 November) is planned for everyone.
    assert plan_all(today=datetime.date(2026, 10, 26)).created == 3
    assert _periods(customers["C"]) == [
        ("2026-10#1", datetime.date(2026, 10, 8)),
        ("2026-10#2", datetime.date(2026, 10, 15)),
        ("2026-10#3", datetime.date(2026, 10, 23)),
        ("2026-11#1", datetime.date(2026, 11, 2)),
    ]


def test_a_late_first_plan_plans_the_latest_passed_slot_only(classes):
    w = classes["w"]
    c = make_customer(w["manager"], name="晚到", phone="", customer_class=classes["C"], owner=w["agent"])
    b = make_customer(w["manager"], name="乙客", phone="", customer_class=classes["B"], owner=w["agent"])
    # 26 October: all three of C's October slots (8, 15, 23) and both of B's (8, 20) have
    # passed unplanned. One visit each today, not a stack of the missed ones; November's
    # first slot (the 2nd) is within the week.
    plan_all(today=datetime.date(2026, 10, 26))
    assert _periods(c) == [("2026-10#3", datetime.date(2026, 10, 26)), ("2026-11#1", datetime.date(2026, 11, 2))]
    assert _periods(b) == [("2026-10#2", datetime.date(2026, 10, 26)), ("2026-11#1", datetime.date(2026, 11, 2))]
    # The next day nothing more: the skipped slots stay skipped.
    assert plan_all(today=datetime.date(2026, 10, 27)).created == 0


def test_a_rule_over_several_classes_plans_each_customers_latest_passed_slot(classes):
    w = classes["w"]
    VisitRule.objects.filter(kind=RuleKind.CADENCE).update(is_active=False)
    VisitRule.objects.create(name="大客户跟踪", kind=RuleKind.CADENCE, visit_type="大客户", key_accounts_only=True)
    a = make_customer(w["manager"], name="甲大", phone="", customer_class=classes["A"], is_key_account=True)
    c = make_customer(w["manager"], name="丙大", phone="", customer_class=classes["C"], is_key_account=True)
    make_customer(w["manager"], name="丙小", phone="", customer_class=classes["C"])
    # The rule spreads three slots (C's cadence); an A key account takes the first only,
    # so on the 26th A's latest passed slot is the first, C's the third.
    result = plan_all(today=datetime.date(2026, 10, 26))
    assert [p for p, _ in _periods(a)] == ["2026-10#1", "2026-11#1"]
    assert [p for p, _ in _periods(c)] == ["2026-10#3", "2026-11#1"]
    assert result.created == 4


def test_promotion_from_c_to_a_mid_month(classes):
    w = classes["w"]
    customer = make_customer(w["manager"], name="升级客户", phone="", customer_class=classes["C"], owner=w["agent"])
    plan_all(today=datetime.date(2026, 10, 8))
    october_c = Visit.objects.filter(customer=customer, period_key__startswith="2026-10")
    assert october_c.count() == 2  # the 8th and the 15th; the 23rd is not within the week yet
    first = october_c.order_by("due_date").first()
    first.status = VisitStatus.DONE
    first.save()
    Customer.objects.filter(pk=customer.pk).update(customer_class=classes["A"])
    result = plan_all(today=datetime.date(2026, 10, 16))
    # The C visit still planned (the 15th) is cancelled; the A slot of October (8 Oct)
    # is planned for today, November's on its day once it is within the week.
    assert result.cancelled == 1
    plan_all(today=datetime.date(2026, 10, 28))
    a_visits = Visit.objects.filter(customer=customer, rule__customer_class__code="A").order_by("due_date")
    assert [v.due_date for v in a_visits] == [datetime.date(2026, 10, 16), datetime.date(2026, 11, 2)]
    assert Visit.objects.get(pk=first.pk).status == VisitStatus.DONE


def test_paused_rule_and_lost_customer_stop_future_visits(classes):
    w = classes["w"]
    kept = make_customer(w["manager"], name="留存", phone="", customer_class=classes["B"])
    lost = make_customer(w["manager"], name="流失", phone="", customer_class=classes["B"])
    other = make_customer(w["manager"], name="甲类", phone="", customer_class=classes["A"])
    plan_all(today=datetime.date(2026, 10, 8))
    Customer.objects.filter(pk=lost.pk).update(lifecycle=Lifecycle.LOST)
    VisitRule.objects.filter(customer_class=classes["A"]).update(is_active=False)
    plan_all(today=datetime.date(2026, 10, 9))
    assert not Visit.objects.filter(customer=lost, status=VisitStatus.PLANNED).exists()
    assert not Visit.objects.filter(customer=other, status=VisitStatus.PLANNED).exists()
    assert Visit.objects.filter(customer=kept, status=VisitStatus.PLANNED).count() == 1  # B's 8 October
