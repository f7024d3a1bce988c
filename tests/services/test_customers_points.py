"""The points ledger: idempotent on its key, never below zero, audited, on the timeline."""

import threading

import pytest
from django.db import connection

from kefu.core.errors import AccessDenied, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import Customer, PointsEntry, TimelineEntry
from kefu.customers.services.merge import customer_merge
from kefu.customers.services.points import PointsInsufficient, PointsKeyReused, points_add, points_ledger
from tests.factories import RegionFactory
from tests.factories_customers import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(make_user):
    return make_user("manager", username="boss", scope_all=True)


@pytest.fixture
def customer(boss):
    return make_customer(boss, name="张三", phone="13812345678")


def _events():
    return AuditEvent.objects.filter(code="customer.points_changed").count()


def test_award_and_redeem_keep_balance_and_ledger_in_step(boss, customer):
    # When points are awarded and then part redeemed
    first = points_add(actor=boss, customer=customer, delta=100, reason="体检消费", key="order-1")
    second = points_add(actor=boss, customer=customer, delta=-40, reason="兑换礼品", key="gift-1")
    # Then each entry records the balance it left, the archive holds the sum of the ledger
    assert (first.balance_after, second.balance_after) == (100, 60)
    customer.refresh_from_db()
    assert customer.points_balance == 60 == sum(customer.points_entries.values_list("delta", flat=True))
    assert _events() == 2
    event = AuditEvent.objects.filter(code="customer.points_changed").latest("id")
    assert event.changes == {"points_balance": [100, 60]} and event.data["key"] == "gift-1"
    assert TimelineEntry.objects.filter(customer=customer, kind="customer.points_changed").count() == 2


def test_same_key_counts_once(boss, customer):
    entry = points_add(actor=boss, customer=customer, delta=50, reason="开卡礼", key="signup")
    again = points_add(actor=boss, customer=customer, delta=50, reason="开卡礼", key="signup")
    assert again.pk == entry.pk
    customer.refresh_from_db()
    assert customer.points_balance == 50 and PointsEntry.objects.count() == 1 and _events() == 1


def test_same_key_for_another_movement_is_refused(boss, customer):
    points_add(actor=boss, customer=customer, delta=50, reason="开卡礼", key="signup")
    other = make_customer(boss, name="李四", phone="13900000000")
    with pytest.raises(PointsKeyReused):
        points_add(actor=boss, customer=customer, delta=20, reason="开卡礼", key="signup")
    with pytest.raises(PointsKeyReused):
        points_add(actor=boss, customer=other, delta=50, reason="开卡礼", key="signup")
    other.refresh_from_db()
    assert PointsEntry.objects.count() == 1 and other.points_balance == 0 and _events() == 1


def test_balance_never_goes_below_zero(boss, customer):
    points_add(actor=boss, customer=customer, delta=30, reason="消费", key="k1")
    with pytest.raises(PointsInsufficient, match="积分不足：当前余额 30，本次扣减 31"):
        points_add(actor=boss, customer=customer, delta=-31, reason="兑换", key="k2")
    customer.refresh_from_db()
    assert customer.points_balance == 30 and PointsEntry.objects.count() == 1 and _events() == 1


@pytest.mark.parametrize(
    ("delta", "reason", "key", "message"),
    [
        (0, "消费", "k", "非零整数"),
        (1.5, "消费", "k", "非零整数"),
        (10, " ", "k", "请填写积分变动事由"),
        (10, "消费", "", "缺少积分变动的唯一标识"),
        (10, "消" * 201, "k", "不能超过 200 个字"),
    ],
)
def test_bad_input_is_refused_in_chinese(boss, customer, delta, reason, key, message):
    with pytest.raises(ValidationFailed, match=message):
        points_add(actor=boss, customer=customer, delta=delta, reason=reason, key=key)
    assert not PointsEntry.objects.exists() and _events() == 0


def test_who_may_move_points(make_user, boss, customer):
    finance = make_user("finance", username="finance", scope_all=True)
    with pytest.raises(AccessDenied):
        points_add(actor=finance, customer=customer, delta=10, reason="消费", key="k1")
    outsider = make_user("agent", username="outsider", region=RegionFactory(code="west"))
    with pytest.raises(NotFound):
        points_add(actor=outsider, customer=customer, delta=10, reason="消费", key="k1")
    assert not PointsEntry.objects.exists()
    # The system (a module's job) needs no person
    entry = points_add(actor=None, customer=customer, delta=10, reason="预约完成奖励", key="booking:1")
    assert entry.actor is None and AuditEvent.objects.get(code="customer.points_changed").actor is None


def test_merged_archive_takes_no_points_but_a_replay_finds_its_entry(boss, customer):
    entry = points_add(actor=boss, customer=customer, delta=10, reason="消费", key="k1")
    survivor = make_customer(boss, name="张三", phone="13812345679")
    customer_merge(actor=boss, survivor=survivor, source=customer)
    customer.refresh_from_db()
    # A retried job for the merged archive finds its entry, now under the survivor
    assert points_add(actor=boss, customer=customer, delta=10, reason="消费", key="k1").pk == entry.pk
    with pytest.raises(NotFound, match="已合并"):
        points_add(actor=boss, customer=customer, delta=10, reason="消费", key="k2")
    survivor.refresh_from_db()
    assert survivor.points_balance == 10


def test_ledger_is_newest_first_and_scoped(make_user, boss, customer):
    points_add(actor=boss, customer=customer, delta=10, reason="一", key="k1")
    points_add(actor=boss, customer=customer, delta=5, reason="二", key="k2")
    assert [e.reason for e in points_ledger(boss, customer)] == ["二", "一"]
    outsider = make_user("agent", username="outsider", region=RegionFactory(code="west"))
    with pytest.raises(NotFound):
        points_ledger(outsider, customer)
    with pytest.raises(AccessDenied):
        points_ledger(make_user("department_staff", username="dept"), customer)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_cannot_overdraw(roles, make_user):
    boss = make_user("manager", username="c-boss", scope_all=True)
    customer = make_customer(boss, name="张三", phone="13812345678")
    points_add(actor=boss, customer=customer, delta=100, reason="消费", key="seed")
    barrier = threading.Barrier(2)
    outcomes = []

    def redeem(key):
        from django.db import connections

        try:
            barrier.wait()
            points_add(actor=boss, customer=Customer.objects.get(pk=customer.pk), delta=-60, reason="兑换", key=key)
            outcomes.append("ok")
        except ValidationFailed as err:
            outcomes.append(err.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=redeem, args=(f"r{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "points_insufficient"]
    assert Customer.objects.get(pk=customer.pk).points_balance == 40
