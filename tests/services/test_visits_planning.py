"""Planning return visits: cadence arithmetic over working days (a month with the
National Day holidays), a customer promoted mid-month, idempotent generation, paused
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


def test_generation_is_per_class_cadence_and_idempotent(classes):
    w = classes["w"]
    owner = w["agent"]
    for code, name in (("A", "甲"), ("B", "乙"), ("C", "丙")):
        make_customer(w["manager"], name=f"客户{name}", phone="", customer_class=classes[code], owner=owner)
    today = datetime.date(2026, 10, 8)
    first = plan_all(today=today)
    # This month and next: A 1+1, B 2+2, C 3+3.
    assert first.created == 12
    counts = {c: Visit.objects.filter(customer__customer_class__code=c).count() for c in "ABC"}
    assert counts == {"A": 2, "B": 4, "C": 6}
    assert set(Visit.objects.values_list("assignee", flat=True)) == {owner.pk}
    again = plan_all(today=today)
    assert again.created == 0 and Visit.objects.count() == 12


def test_promotion_from_c_to_a_mid_month(classes):
    w = classes["w"]
    customer = make_customer(w["manager"], name="升级客户", phone="", customer_class=classes["C"], owner=w["agent"])
    plan_all(today=datetime.date(2026, 10, 8))
    october_c = Visit.objects.filter(customer=customer, period_key__startswith="2026-10")
    assert october_c.count() == 3
    first = october_c.order_by("due_date").first()
    first.status = VisitStatus.DONE
    first.save()
    Customer.objects.filter(pk=customer.pk).update(customer_class=classes["A"])
    result = plan_all(today=datetime.date(2026, 10, 16))
    # The two C visits still planned are cancelled (this month's and next month's three);
    # the A slot of October (8 Oct) is planned for today, November's on its day.
    assert result.cancelled == 5
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
    assert Visit.objects.filter(customer=kept, status=VisitStatus.PLANNED).count() == 4
