"""Customer archive core: numbering, validation, duplicates, search, scope, versions."""

import pytest
from django.db import transaction

from kefu.core.errors import AccessDenied, Conflict, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import ArchiveNumbering, Customer, TimelineEntry
from kefu.customers.pinyin import name_initials
from kefu.customers.selectors import CustomerFilters, customer_list
from kefu.customers.services.contacts import contact_add, contact_remove
from kefu.customers.services.customers import (
    ContactInput,
    CustomerInput,
    DuplicateSuspected,
    customer_change_class,
    customer_change_credit,
    customer_create,
    customer_update,
)
from tests.factories import RegionFactory
from tests.factories_customers import CreditGradeFactory, CustomerClassFactory, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def boss(make_user):
    return make_user("manager", scope_all=True)


def search(user, q):
    return set(customer_list(user=user, filters=CustomerFilters(q=q)).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", {"zs"}),
        ("单田芳", {"dtf", "stf", "ctf"}),
        ("曾小贤", {"zxx", "cxx"}),
        ("解晓东", {"jxd", "xxd"}),
        ("仇英", {"cy", "qy", "jy"}),
        ("区志强", {"qzq", "ozq"}),
        ("欧阳修", {"oyx"}),
    ],
)
def test_initials_include_every_reading_of_polyphonic_surnames(name, expected):
    assert expected <= set(name_initials(name))


def test_archive_numbers_follow_the_pattern_and_are_never_reused(boss):
    ArchiveNumbering.objects.update(pattern="KH-{year}-{seq:06d}")
    first = make_customer(boss, name="甲", phone="13800000001")
    with pytest.raises(RuntimeError), transaction.atomic():
        make_customer(boss, name="乙", phone="13800000002")
        raise RuntimeError("rolled back after taking a number")
    second = make_customer(boss, name="丙", phone="13800000003")
    assert first.archive_no.startswith("KH-") and first.archive_no.endswith("000001")
    assert second.archive_no.endswith("000002")
    assert Customer.objects.filter(archive_no=second.archive_no).count() == 1


def test_create_validates_in_chinese_and_writes_nothing_on_error(boss):
    with pytest.raises(ValidationFailed, match="电话号码格式不正确"):
        customer_create(actor=boss, data=CustomerInput(name="张三", contacts=[ContactInput(phone="12345")]))
    with pytest.raises(ValidationFailed, match="身份证号码无效"):
        customer_create(actor=boss, data=CustomerInput(name="张三", id_number="110101199003071235"))
    with pytest.raises(ValidationFailed, match="统一社会信用代码无效"):
        customer_create(actor=boss, data=CustomerInput(name="某公司", kind="organisation", id_number="123"))
    assert not Customer.objects.exists() and not AuditEvent.objects.exists()


def test_create_is_audited_and_on_the_timeline(boss):
    customer = make_customer(boss)
    assert AuditEvent.objects.filter(code="customer.created", object_id=str(customer.pk)).exists()
    assert TimelineEntry.objects.filter(customer=customer, kind="customer.created").exists()
    assert customer.contacts.get().is_primary


def test_duplicate_by_name_and_phone_or_id_warns_unless_confirmed(boss):
    make_customer(boss, name="张三", phone="13812345678", id_number="11010519491231002X")
    with pytest.raises(DuplicateSuspected) as exc:
        make_customer(boss, name="张三", phone="138-1234-5678", allow_duplicate=False)
    assert exc.value.details["duplicates"][0]["name"] == "张三"
    with pytest.raises(DuplicateSuspected):
        make_customer(boss, name="张叁", phone="13900000000", id_number="11010519491231002x", allow_duplicate=False)
    assert Customer.objects.count() == 1
    make_customer(boss, name="张三", phone="13812345678", allow_duplicate=True)
    assert Customer.objects.count() == 2


def test_search_by_chinese_substring_initials_phone_and_archive_no(boss):
    zhang = make_customer(boss, name="张三", phone="13812345678")
    make_customer(boss, name="单田芳", phone="13900001111")
    make_customer(boss, name="北京张江科技有限公司", phone="01088886666", kind="organisation")
    assert search(boss, "张") == {"张三", "北京张江科技有限公司"}
    assert search(boss, "张三") == {"张三"}
    assert search(boss, "张江科技") == {"北京张江科技有限公司"}
    assert search(boss, "zs") == {"张三"}
    assert search(boss, "stf") == {"单田芳"}
    assert search(boss, "dtf") == {"单田芳"}
    assert search(boss, "5678") == {"张三"}
    assert search(boss, "138 1234") == {"张三"}
    assert search(boss, zhang.archive_no) == {"张三"}
    assert search(boss, "不存在") == set()


def test_search_follows_contact_changes(boss):
    customer = make_customer(boss, name="李四", phone="13811112222")
    contact = contact_add(actor=boss, customer=customer, data=ContactInput(phone="13933334444"))
    assert search(boss, "3333") == {"李四"}
    contact_remove(actor=boss, customer=customer, contact_id=contact.pk)
    assert search(boss, "3333") == set()


def test_scope_account_manager_sees_own_region_department_staff_none(make_user, boss, east):
    west = RegionFactory(code="west", name="西区")
    make_customer(boss, name="东客户", phone="13800000001", region=east)
    make_customer(boss, name="西客户", phone="13800000002", region=west)
    account = make_user("account_manager", region=east)
    dept = make_user("department_staff", region=east)
    assert search(account, "") == {"东客户"}
    assert search(dept, "") == set()
    assert search(boss, "") == {"东客户", "西客户"}


def test_cannot_create_outside_own_scope(make_user, east):
    west = RegionFactory(code="west", name="西区")
    agent = make_user("agent", region=east)
    with pytest.raises(AccessDenied):
        make_customer(agent, name="西客户", region=west)
    customer = make_customer(agent, name="东客户")  # defaults to the agent's region
    assert customer.region == east


def test_two_editors_the_second_gets_a_conflict(boss):
    customer = make_customer(boss)
    version = customer.version
    customer_update(actor=boss, customer=customer, values={"address": "西安市"}, expected_version=version)
    with pytest.raises(Conflict):
        customer_update(actor=boss, customer=customer, values={"address": "宝鸡市"}, expected_version=version)
    customer.refresh_from_db()
    assert customer.address == "西安市"


def test_update_audits_diff_and_renames_are_searchable(boss):
    customer = make_customer(boss, name="王五")
    customer_update(actor=boss, customer=customer, values={"name": "王小五"}, expected_version=customer.version)
    event = AuditEvent.objects.get(code="customer.updated")
    assert event.changes["name"] == ["王五", "王小五"]
    assert search(boss, "wxw") == {"王小五"}


def test_class_and_credit_changes_keep_history(boss):
    a, b = CustomerClassFactory(code="A"), CustomerClassFactory(code="B")
    aaa, bb = CreditGradeFactory(code="AAA"), CreditGradeFactory(code="BB")
    customer = make_customer(boss, customer_class=a, credit_grade=aaa)
    customer_change_class(actor=boss, customer=customer, customer_class=b, reason="消费下降")
    customer_change_credit(actor=boss, customer=customer, grade=bb, reason="逾期付款")
    customer.refresh_from_db()
    assert customer.customer_class == b and customer.credit_grade == bb
    assert customer.class_changes.get().reason == "消费下降"
    assert [c.reason for c in customer.credit_changes.order_by("id")] == ["建档时评定", "逾期付款"]
    with pytest.raises(ValidationFailed):
        customer_change_credit(actor=boss, customer=customer, grade=aaa, reason="")


def test_credit_change_needs_the_permission(make_user, boss, east):
    agent = make_user("agent", region=east)
    customer = make_customer(boss, region=east)
    with pytest.raises(AccessDenied):
        customer_change_credit(actor=agent, customer=customer, grade=CreditGradeFactory(code="B"), reason="x")


def test_name_initials_are_stored_for_display_and_follow_renames(boss):
    customer = make_customer(boss, name="单田芳")
    customer.refresh_from_db()
    assert set(customer.name_initials.split()) >= {"dtf", "stf"}
    customer_update(actor=boss, customer=customer, values={"name": "张三"}, expected_version=customer.version)
    customer.refresh_from_db()
    assert customer.name_initials == "zs"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e999999", "9" * 50])
def test_custom_number_fields_refuse_non_finite_and_huge_values(boss, value):
    from kefu.customers.models import CustomField

    CustomField.objects.create(key="area", label="面积", field_type="number")
    with pytest.raises(ValidationFailed, match="面积 必须是数字"):
        make_customer(boss, extra={"area": value})
    assert not Customer.objects.exists()


def test_custom_field_substring_filter_works_on_both_databases(boss):
    from kefu.customers.models import CustomField

    CustomField.objects.create(key="foreman", label="工长", field_type="text")
    make_customer(boss, name="甲", phone="13800000001", extra={"foreman": "李建国"})
    make_customer(boss, name="乙", phone="13800000002", extra={"foreman": "王强"})
    found = customer_list(user=boss, filters=CustomerFilters(extra={"foreman__icontains": "建国"}))
    assert list(found.values_list("name", flat=True)) == ["甲"]


def test_an_old_archive_number_finds_the_survivor_after_a_merge(boss):
    from kefu.customers.services.merge import customer_merge

    survivor = make_customer(boss, name="张三", phone="13800000001")
    source = make_customer(boss, name="张三", phone="13800000002")
    customer_merge(actor=boss, survivor=survivor, source=source)
    assert list(
        customer_list(user=boss, filters=CustomerFilters(q=source.archive_no)).values_list("pk", flat=True)
    ) == [survivor.pk]


def test_an_id_number_with_a_retired_district_code_is_refused_not_a_crash(boss):
    with pytest.raises(ValidationFailed, match="身份证号码无效"):
        customer_create(actor=boss, data=CustomerInput(name="张三", id_number="510109199001011234"))


def test_short_queries_use_the_trigram_index_not_a_scan(boss):
    """1–2 characters are matched as sentinel-wrapped tokens, long enough for the index."""
    from django.db import connection

    make_customer(boss, name="张三", phone="13812345678")
    sql = str(customer_list(user=boss, filters=CustomerFilters(q="张")).query)
    assert "\x1f张\x1f" in sql  # the sentinel-wrapped token, not a bare '%张%' scan
    if connection.vendor == "sqlite":
        assert "MATCH" in sql
    assert search(boss, "三") == {"张三"}
    assert search(boss, "13") == set()  # phones need 4+ digits
    assert search(boss, "z") == {"张三"}
