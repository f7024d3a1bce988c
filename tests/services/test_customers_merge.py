"""Merging archives: every reference moves to the survivor, nothing is lost, the source
keeps its number; refusals change nothing; both rows are locked in pk order."""

import datetime
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.core.errors import AccessDenied, Conflict, InvalidState, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, Customer, CustomField, TimelineEntry
from kefu.customers.selectors import CustomerFilters, customer_base, customer_list
from kefu.customers.services.contacts import contact_add
from kefu.customers.services.customers import (
    ContactInput,
    customer_change_class,
    customer_change_credit,
    customer_update,
)
from kefu.customers.services.loans import archive_loan_create, archive_loan_return
from kefu.customers.services.merge import customer_merge, customer_references
from kefu.customers.services.points import points_add
from kefu.visits.services.visits import visit_create
from tests.factories import RegionFactory
from tests.factories_customers import (
    CreditGradeFactory,
    CustomerClassFactory,
    CustomerSourceFactory,
    ProductCategoryFactory,
    make_customer,
)
from tests.factories_tickets import load_ticket_config, make_ticket

pytestmark = pytest.mark.django_db

MERGE_KINDS = {"customer.merged", "customer.merged_into"}


@pytest.fixture
def boss(make_user):
    return make_user("manager", username="boss", scope_all=True)


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


def _counts(customer):
    """Rows pointing at `customer`, per reference (join tables by their targets)."""
    result = {}
    for ref in customer_references():
        qs = ref.model._base_manager.filter(**{ref.field.name: customer})
        if ref.model is TimelineEntry:
            qs = qs.exclude(kind__in=MERGE_KINDS)
        result[ref.label] = qs.count()
    return result


def _targets(customer):
    return {
        "categories": set(customer.categories.values_list("pk", flat=True)),
        "tags": set(customer.tags.values_list("name", flat=True)),
    }


def _rich_customer(boss, name, phone, *, tags, categories, points, key):
    """An archive with something in every related table."""
    customer = make_customer(boss, name=name, phone=phone, tags=tags, categories=categories)
    contact_add(actor=boss, customer=customer, data=ContactInput(name="家属", phone=f"139{phone[3:]}"))
    customer_change_class(actor=boss, customer=customer, customer_class=CustomerClassFactory(code="B"), reason="升级")
    customer_change_credit(actor=boss, customer=customer, grade=CreditGradeFactory(code="AA"), reason="按时付款")
    points_add(actor=boss, customer=customer, delta=points, reason="消费", key=key)
    customer.refresh_from_db()
    return customer


def test_discovery_covers_every_foreign_key_to_customer():
    # Given every relation Django knows that points at Customer (hidden ones included)
    expected = set()
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete):
            continue
        if rel.many_to_many:
            # …an M2M defined elsewhere is stored in its join table, whose FK must be covered
            through = rel.through if hasattr(rel, "through") else rel.field.remote_field.through
            fk = next(f for f in through._meta.fields if f.related_model is Customer)
            expected.add((through._meta.label_lower, fk.name))
        elif not (rel.related_model is Customer and rel.field.name == "merged_into"):
            expected.add((rel.related_model._meta.label_lower, rel.field.name))
    # When the merge lists what it moves
    covered = {(ref.label, ref.field.name) for ref in customer_references()}
    # Then nothing is left out, and the public related_objects are all in it
    assert covered == expected
    for rel in Customer._meta.related_objects:
        if rel.many_to_many or rel.field.name == "merged_into":
            continue
        assert (rel.related_model._meta.label_lower, rel.field.name) in covered
    # Our own M2M join tables are united, not copied
    through = {ref.label for ref in customer_references() if ref.through}
    assert {"customers.customer_categories", "customers.customer_tags"} <= through


def test_merge_moves_every_reference_and_loses_nothing(boss, make_user):
    # Given two archives of the same person, each with rows in every related table
    shared = ProductCategoryFactory(code="cat-shared")
    survivor = _rich_customer(
        boss,
        "张三",
        "13800000001",
        tags=["老客户", "VIP"],
        categories=[shared, ProductCategoryFactory(code="cat-a")],
        points=100,
        key="pts-survivor",
    )
    source = _rich_customer(
        boss,
        "张三",
        "13800000002",
        tags=["VIP", "投诉多"],
        categories=[shared, ProductCategoryFactory(code="cat-b")],
        points=30,
        key="pts-source",
    )
    borrower = make_user("agent", username="borrower")
    old = archive_loan_create(
        actor=boss, customer=source, borrower=borrower, purpose="核对合同", due_on=timezone.localdate()
    )
    archive_loan_return(actor=boss, loan=old)
    archive_loan_create(actor=boss, customer=source, borrower=borrower, purpose="复印", due_on=timezone.localdate())
    # Later modules' references: tickets (and their contact) and return visits.
    load_ticket_config()
    for customer in (survivor, source):
        make_ticket(boss, customer=customer, contact=customer.contacts.first())
        visit_create(actor=boss, customer=customer, visit_type="满意度回访", due_date=timezone.localdate())
    survivor.refresh_from_db()
    source.refresh_from_db()
    before = {"survivor": _counts(survivor), "source": _counts(source)}
    union = {k: _targets(survivor)[k] | _targets(source)[k] for k in ("categories", "tags")}
    survivor_primary = survivor.contacts.get(is_primary=True).pk
    versions = (survivor.version, source.version)
    assert all(before["source"].values()), before["source"]  # the source really has something everywhere

    # When the source is merged into the survivor
    result = customer_merge(
        actor=boss, survivor=survivor, source=source, expected_versions={"survivor": versions[0], "source": versions[1]}
    )

    # Then every row of the source now belongs to the survivor (join tables: the union)
    after = {"survivor": _counts(survivor), "source": _counts(source)}
    for ref in customer_references():
        assert after["source"][ref.label] == 0, ref.label
        if ref.through:
            continue
        assert after["survivor"][ref.label] == before["survivor"][ref.label] + before["source"][ref.label], ref.label
    assert _targets(survivor) == union
    assert len(union["tags"]) == 3 and len(union["categories"]) == 3
    # …exactly one primary contact, the survivor's
    assert list(Contact.objects.filter(customer=survivor, is_primary=True).values_list("pk", flat=True)) == [
        survivor_primary
    ]
    # …the balances added up, the source row kept with its number and pointing at the survivor
    survivor.refresh_from_db()
    source.refresh_from_db()
    assert result.pk == survivor.pk
    assert survivor.points_balance == 130 and source.points_balance == 0
    assert source.merged_into_id == survivor.pk and Customer.objects.filter(archive_no=source.archive_no).exists()
    assert (survivor.version, source.version) == (versions[0] + 1, versions[1] + 1)
    # …searching a phone of the source finds the survivor, and the source is no longer listed
    found = customer_list(user=boss, filters=CustomerFilters(q="13800000002"))
    assert list(found.values_list("pk", flat=True)) == [survivor.pk]
    assert not customer_base(boss).filter(pk=source.pk).exists()
    # …one audit event with the counts moved, and a timeline entry on both archives
    event = AuditEvent.objects.get(code="customer.merged")
    assert event.object_id == str(survivor.pk)
    assert event.data["source"] == source.pk and event.data["source_archive_no"] == source.archive_no
    moved = event.data["moved"]
    assert moved["customers.contact"] == before["source"]["customers.contact"]
    assert moved["customers.archiveloan"] == 2 and moved["customers.pointsentry"] == 1
    assert moved["customers.customer_tags"] == 1 and moved["customers.customer_categories"] == 1
    assert TimelineEntry.objects.filter(customer=survivor, kind="customer.merged").count() == 1
    assert TimelineEntry.objects.filter(customer=source, kind="customer.merged_into").count() == 1


def test_merge_fills_empty_fields_and_never_overwrites(boss, east):
    # Given custom fields, a survivor with some gaps and a source with other values
    CustomField.objects.create(key="foreman", label="工长")
    CustomField.objects.create(key="designer", label="设计师")
    grade = CreditGradeFactory(code="AAA")
    source_of_info = CustomerSourceFactory(code="expo")
    survivor = make_customer(
        boss, name="李四", phone="13800000011", address="西安市雁塔区", extra={"foreman": "王工"}, notes=""
    )
    source = make_customer(
        boss,
        name="李四",
        phone="13800000012",
        address="宝鸡市",
        region=east,
        credit_grade=grade,
        source=source_of_info,
        birthday=datetime.date(1980, 5, 1),
        is_key_account=True,
        notes="老客户",
        extra={"foreman": "张工", "designer": "刘设计"},
        marketing_consent=True,
        consent_channel="phone",
    )
    # When merging
    customer_merge(actor=boss, survivor=survivor, source=source)
    survivor.refresh_from_db()
    # Then what the survivor had stays, its gaps are filled from the source
    assert survivor.address == "西安市雁塔区"
    assert survivor.extra == {"foreman": "王工", "designer": "刘设计"}
    assert survivor.region == east and survivor.credit_grade == grade and survivor.source == source_of_info
    assert survivor.birthday == datetime.date(1980, 5, 1) and survivor.notes == "老客户"
    assert survivor.is_key_account and survivor.marketing_consent and survivor.consent_channel == "phone"
    event = AuditEvent.objects.get(code="customer.merged")
    assert "address" not in event.changes and "region" in event.changes
    assert "extra.designer" in event.data["filled"] and "extra.foreman" not in event.data["filled"]


def test_archives_merged_into_the_source_earlier_follow_to_the_survivor(boss):
    first = make_customer(boss, name="王五", phone="13800000021")
    middle = make_customer(boss, name="王五", phone="13800000022")
    last = make_customer(boss, name="王五", phone="13800000023")
    customer_merge(actor=boss, survivor=middle, source=first)
    customer_merge(actor=boss, survivor=last, source=middle)
    first.refresh_from_db()
    assert first.merged_into_id == last.pk
    assert last.contacts.count() == 3


def _nothing_merged(*customers):
    assert not AuditEvent.objects.filter(code="customer.merged").exists()
    for customer in customers:
        fresh = Customer.objects.get(pk=customer.pk)
        assert fresh.merged_into_id is None and fresh.version == customer.version
        assert fresh.contacts.count() == 1


def test_merge_refusals_change_nothing(boss, make_user, east):
    # Given two archives and people who may not merge them
    west = RegionFactory(code="west", name="西区")
    survivor = make_customer(boss, name="赵六", phone="13800000031", region=east)
    source = make_customer(boss, name="赵六", phone="13800000032", region=west)
    agent = make_user("agent", username="agent", scope_all=True)
    archivist_east = make_user("archivist", username="arch-east", region=east, scope_all=False)

    with pytest.raises(ValidationFailed, match="不能将档案与自身合并"):
        customer_merge(actor=boss, survivor=survivor, source=survivor)
    with pytest.raises(AccessDenied):
        customer_merge(actor=agent, survivor=survivor, source=source)
    with pytest.raises(NotFound):
        customer_merge(actor=archivist_east, survivor=survivor, source=source)
    with pytest.raises(Conflict):
        customer_merge(actor=boss, survivor=survivor, source=source, expected_versions=(survivor.version, 99))
    _nothing_merged(survivor, source)


def test_already_merged_archives_cannot_be_merged_again(boss):
    a = make_customer(boss, name="甲", phone="13800000041")
    b = make_customer(boss, name="甲", phone="13800000042")
    c = make_customer(boss, name="甲", phone="13800000043")
    customer_merge(actor=boss, survivor=a, source=b)
    with pytest.raises(InvalidState, match="已合并"):
        customer_merge(actor=boss, survivor=c, source=b)
    with pytest.raises(InvalidState, match="已合并"):
        customer_merge(actor=boss, survivor=b, source=c)
    assert AuditEvent.objects.filter(code="customer.merged").count() == 1
    assert Customer.objects.get(pk=c.pk).merged_into_id is None


def test_merged_archive_is_read_only(boss):
    survivor = make_customer(boss, name="甲", phone="13800000051")
    source = make_customer(boss, name="甲", phone="13800000052")
    customer_merge(actor=boss, survivor=survivor, source=source)
    source.refresh_from_db()
    with pytest.raises(NotFound, match="已合并"):
        customer_update(actor=boss, customer=source, values={"address": "x"}, expected_version=None)


def test_both_rows_are_locked_in_pk_order_whichever_way_round(boss):
    # Given a survivor with the higher pk
    low = make_customer(boss, name="甲", phone="13800000061")
    high = make_customer(boss, name="甲", phone="13800000062")
    # When merging the lower one into the higher one
    with CaptureQueriesContext(connection) as ctx:
        customer_merge(actor=boss, survivor=high, source=low)
    # Then the first two reads of the customer rows (the locks) go by ascending pk
    table = '"customers_customer"'
    reads = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT") and f"FROM {table}" in q["sql"] and f'{table}."id" =' in q["sql"]
    ]
    assert str(low.pk) in reads[0] and str(high.pk) in reads[1], reads[:2]
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in reads[0] and "FOR UPDATE" in reads[1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_opposite_merges_at_once_one_wins_no_deadlock(roles, make_user):
    # Given two archives and two people merging them in opposite directions at once
    boss = make_user("manager", username="c-boss", scope_all=True)
    a = make_customer(boss, name="甲", phone="13800000071")
    b = make_customer(boss, name="甲", phone="13800000072")
    barrier = threading.Barrier(2)
    outcomes = []

    def merge(survivor, source):
        from django.db import connections

        try:
            barrier.wait()
            customer_merge(
                actor=boss, survivor=Customer.objects.get(pk=survivor.pk), source=Customer.objects.get(pk=source.pk)
            )
            outcomes.append("ok")
        except (InvalidState, Conflict) as err:
            outcomes.append(err.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=merge, args=pair) for pair in ((a, b), (b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then exactly one merge happened and the other was refused
    assert sorted(outcomes) == ["customer_already_merged", "ok"]
    assert Customer.objects.filter(merged_into__isnull=False).count() == 1
    assert AuditEvent.objects.filter(code="customer.merged").count() == 1


def test_a_reference_that_cannot_move_rolls_everything_back(boss, monkeypatch):
    # Given a later module's unique rule that a move would break (simulated mid-merge,
    # after the contacts have already moved)
    from django.db import IntegrityError

    from kefu.customers.services import merge as merge_module

    survivor = make_customer(boss, name="甲", phone="13800000081")
    source = make_customer(boss, name="甲", phone="13800000082", tags=["VIP"])

    def broken(ref, keep, gone):
        raise IntegrityError("UNIQUE constraint failed: visits_plan.customer_id, visits_plan.month")

    monkeypatch.setattr(merge_module, "_move_through", broken)
    # When merging
    with pytest.raises(merge_module.MergeRefused, match="档案未作任何修改") as exc:
        customer_merge(actor=boss, survivor=survivor, source=source)
    # Then it is a 409 with a stable code, and nothing moved
    assert exc.value.status == 409 and exc.value.code == "customer_merge_refused"
    _nothing_merged(survivor, source)
    assert Contact.objects.get(customer=source).phone == "13800000082"
