"""Bulk owner/class/tag changes: all-or-nothing, scoped, set-based, with the same trail
(version, class changes, timeline, audit) a single change leaves."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.errors import AccessDenied, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import ClassChange, Customer, Tag, TimelineEntry
from kefu.customers.services.bulk import MAX_BULK, customers_bulk_update
from tests.factories import RegionFactory
from tests.factories_customers import CustomerClassFactory, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def west():
    return RegionFactory(code="west", name="西区")


@pytest.fixture
def boss(make_user):
    return make_user("manager", scope_all=True)


def customers(actor, count, **fields):
    return [make_customer(actor, name=f"客户{i}", phone=f"1380000{i:04d}", **fields) for i in range(count)]


def snapshot():
    return {
        "customers": list(Customer.objects.order_by("pk").values_list("pk", "owner", "customer_class", "version")),
        "tags": list(Customer.tags.through.objects.order_by("pk").values_list("customer", "tag")),
        "class_changes": ClassChange.objects.count(),
        "timeline": TimelineEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_change_owner_bumps_versions_and_leaves_timeline_and_one_audit_event_each(boss, make_user, east):
    # given three customers and a new account manager
    rows = customers(boss, 3, region=east)
    new_owner = make_user("account_manager", region=east)
    before_audit = AuditEvent.objects.count()

    # when
    changed = customers_bulk_update(actor=boss, customer_ids=[c.pk for c in rows], owner=new_owner, reason="调岗")

    # then
    assert changed == 3
    for c in rows:
        fresh = Customer.objects.get(pk=c.pk)
        assert fresh.owner == new_owner
        assert fresh.version == c.version + 1
        assert fresh.updated_at > c.updated_at
        entry = TimelineEntry.objects.filter(customer=c).first()
        assert entry.data["bulk"] is True and "客户经理" in entry.title
    events = AuditEvent.objects.filter(code="customer.bulk_updated")
    assert AuditEvent.objects.count() == before_audit + 3
    assert {e.object_id for e in events} == {str(c.pk) for c in rows}
    event = events.first()
    assert event.actor == boss and event.object_type == "customers.customer"
    assert event.changes == {"owner": [None, new_owner.pk]}
    assert event.data["reason"] == "调岗" and event.data["count"] == 3


def test_change_class_records_class_changes_with_reason(boss, east):
    a, b = CustomerClassFactory(code="A"), CustomerClassFactory(code="B")
    rows = customers(boss, 2, region=east, customer_class=a)

    customers_bulk_update(actor=boss, customer_ids=[c.pk for c in rows], customer_class=b, reason="年度复核")

    assert set(Customer.objects.values_list("customer_class", flat=True)) == {b.pk}
    changes = ClassChange.objects.order_by("customer_id")
    assert [(x.customer_id, x.from_class_id, x.to_class_id, x.reason) for x in changes] == [
        (rows[0].pk, a.pk, b.pk, "年度复核"),
        (rows[1].pk, a.pk, b.pk, "年度复核"),
    ]
    assert TimelineEntry.objects.filter(kind="customer.class_changed").count() == 2


def test_customers_already_in_the_target_state_are_left_alone(boss, east):
    a = CustomerClassFactory(code="A")
    already = make_customer(boss, name="甲", phone="13800000001", region=east, customer_class=a)
    other = make_customer(boss, name="乙", phone="13800000002", region=east)

    changed = customers_bulk_update(actor=boss, customer_ids=[already.pk, other.pk], customer_class=a)

    assert changed == 1
    assert Customer.objects.get(pk=already.pk).version == already.version
    assert not ClassChange.objects.filter(customer=already).exists()
    assert not AuditEvent.objects.filter(code="customer.bulk_updated", object_id=str(already.pk)).exists()


def test_add_and_remove_tags(boss, east):
    one = make_customer(boss, name="甲", phone="13800000001", region=east, tags=["老客户"])
    two = make_customer(boss, name="乙", phone="13800000002", region=east)

    customers_bulk_update(actor=boss, customer_ids=[one.pk, two.pk], add_tags=["重点", "老客户"])
    assert set(one.tags.values_list("name", flat=True)) == {"老客户", "重点"}
    assert set(two.tags.values_list("name", flat=True)) == {"老客户", "重点"}
    event = AuditEvent.objects.filter(code="customer.bulk_updated", object_id=str(one.pk)).first()
    assert event.changes == {"tags": [["老客户"], ["老客户", "重点"]]}

    customers_bulk_update(actor=boss, customer_ids=[one.pk, two.pk], remove_tags=["老客户"])
    assert set(one.tags.values_list("name", flat=True)) == {"重点"}
    assert set(two.tags.values_list("name", flat=True)) == {"重点"}
    assert Tag.objects.filter(name="老客户").exists()  # the tag itself stays for others


def test_an_out_of_scope_id_rejects_the_whole_batch(make_user, boss, east, west):
    # given an account manager of the east region, one east customer and one in the west
    am = make_user("account_manager", region=east)
    mine = make_customer(boss, name="甲", phone="13800000001", region=east)
    theirs = make_customer(boss, name="乙", phone="13800000002", region=west)
    before = snapshot()

    # when the batch contains the western one
    with pytest.raises(ValidationFailed) as info:
        customers_bulk_update(actor=am, customer_ids=[mine.pk, theirs.pk], add_tags=["重点"])

    # then nothing changed at all and the rejected id is named
    assert info.value.details["rejected"] == [theirs.pk]
    assert snapshot() == before
    assert not Tag.objects.filter(name="重点").exists()


def test_unknown_and_merged_ids_are_rejected(boss, east):
    live = make_customer(boss, name="甲", phone="13800000001", region=east)
    gone = make_customer(boss, name="乙", phone="13800000002", region=east)
    Customer.objects.filter(pk=gone.pk).update(merged_into=live)
    before = snapshot()

    with pytest.raises(ValidationFailed) as info:
        customers_bulk_update(actor=boss, customer_ids=[live.pk, gone.pk, 999999], add_tags=["x"])

    assert info.value.details["rejected"] == [gone.pk, 999999]
    assert snapshot() == before


def test_owner_change_must_keep_customers_in_the_actors_scope(make_user, boss, east, west):
    am = make_user("account_manager", region=east)
    west_am = make_user("account_manager", region=west)
    # owned by the actor but placed in the west: handing it to someone else loses sight of it
    customer = make_customer(boss, name="甲", phone="13800000001", region=west, owner=am)
    before = snapshot()

    with pytest.raises(AccessDenied):
        customers_bulk_update(actor=am, customer_ids=[customer.pk], owner=west_am)

    assert snapshot() == before


def test_limits_and_empty_requests(boss, east):
    customer = make_customer(boss, region=east)
    with pytest.raises(ValidationFailed, match="请先选择客户"):
        customers_bulk_update(actor=boss, customer_ids=[], add_tags=["x"])
    with pytest.raises(ValidationFailed, match="一次最多"):
        customers_bulk_update(actor=boss, customer_ids=range(1, MAX_BULK + 2), add_tags=["x"])
    with pytest.raises(ValidationFailed, match="请选择要执行的批量操作"):
        customers_bulk_update(actor=boss, customer_ids=[customer.pk])
    with pytest.raises(ValidationFailed, match="既添加又移除"):
        customers_bulk_update(actor=boss, customer_ids=[customer.pk], add_tags=["x"], remove_tags=["x"])
    with pytest.raises(ValidationFailed, match="客户编号无效"):
        customers_bulk_update(actor=boss, customer_ids=["abc"], add_tags=["x"])
    assert not AuditEvent.objects.filter(code="customer.bulk_updated").exists()


def test_roles_without_change_permission_are_refused(make_user, boss, east):
    customer = make_customer(boss, region=east)
    viewer = make_user("quality_officer", scope_all=True)
    with pytest.raises(AccessDenied):
        customers_bulk_update(actor=viewer, customer_ids=[customer.pk], add_tags=["x"])
    assert not customer.tags.exists()


def test_query_count_does_not_grow_with_the_number_of_customers(boss, east):
    a, b = CustomerClassFactory(code="A"), CustomerClassFactory(code="B")
    few = customers(boss, 2, region=east, customer_class=a)
    many = [
        make_customer(boss, name=f"批量{i}", phone=f"1390000{i:04d}", region=east, customer_class=a) for i in range(20)
    ]

    def run(rows, klass, tag):
        with CaptureQueriesContext(connection) as ctx:
            customers_bulk_update(
                actor=boss, customer_ids=[c.pk for c in rows], customer_class=klass, owner=boss, add_tags=[tag]
            )
        return len(ctx.captured_queries)

    assert run(few, b, "甲") == run(many, b, "乙")
