"""Archive settings: classes, grades, sources, categories, custom fields, numbering, and
the profile seed."""

import pytest

from kefu.core.errors import AccessDenied, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import (
    ArchiveNumbering,
    CreditGrade,
    Customer,
    CustomerClass,
    CustomerSource,
    CustomField,
    ProductCategory,
)
from kefu.customers.profile_data import ClassSpec, FieldSpec
from kefu.customers.services import config as svc
from tests.factories_customers import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(make_user):
    return make_user("manager", username="boss", scope_all=True)


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="sysadmin")


def _events(prefix):
    return AuditEvent.objects.filter(code__startswith=prefix).count()


# --- classes, grades, sources, categories --------------------------------------------------


def test_create_each_kind_is_audited(boss, admin):
    cls = svc.customer_class_create(actor=boss, code="A", name="A类", visits_per_month=1, description="重点")
    grade = svc.credit_grade_create(actor=admin, code="AAA", name="AAA", description="信用极好")
    source = svc.customer_source_create(actor=boss, code="referral", name="老客户介绍")
    category = svc.product_category_create(actor=boss, code="c1", name="一类 计重收费设备")
    assert (cls.visits_per_month, grade.name, source.name, category.name) == (
        1,
        "AAA",
        "老客户介绍",
        "一类 计重收费设备",
    )
    for code in ("customer_class", "credit_grade", "customer_source", "product_category"):
        assert AuditEvent.objects.filter(code=f"{code}.created").count() == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"code": "", "name": "A类"}, "请填写编码"),
        ({"code": "A 1", "name": "A类"}, "编码不能包含空格"),
        ({"code": "A" * 21, "name": "A类"}, "编码不能超过 20 个字符"),
        ({"code": "B", "name": " "}, "请填写名称"),
        ({"code": "B", "name": "B类", "visits_per_month": 32}, "每月最少跟踪次数应在 0 到 31 之间"),
        ({"code": "B", "name": "B类", "visits_per_month": "x"}, "每月最少跟踪次数必须是整数"),
        ({"code": "B", "name": "B类", "sort_order": -1}, "排序应在 0 到 32767 之间"),
    ],
)
def test_class_validation_in_chinese_creates_nothing(boss, values, message):
    with pytest.raises(ValidationFailed, match=message):
        svc.customer_class_create(actor=boss, **values)
    assert not CustomerClass.objects.exists() and _events("customer_class.") == 0


def test_codes_are_unique_ignoring_case(boss):
    svc.customer_class_create(actor=boss, code="A", name="A类")
    with pytest.raises(ValidationFailed, match="编码 a 已存在"):
        svc.customer_class_create(actor=boss, code="a", name="另一个")
    other = svc.customer_class_create(actor=boss, code="B", name="B类")
    with pytest.raises(ValidationFailed, match="编码 A 已存在"):
        svc.customer_class_update(actor=boss, customer_class=other, values={"code": "A"})
    assert CustomerClass.objects.count() == 2 and _events("customer_class.updated") == 0


def test_update_records_the_change_and_nothing_when_unchanged(boss):
    cls = svc.customer_class_create(actor=boss, code="C", name="C类", visits_per_month=2)
    changes = svc.customer_class_update(actor=boss, customer_class=cls, values={"visits_per_month": 3, "name": "C类"})
    assert changes == {"visits_per_month": (2, 3)}
    assert CustomerClass.objects.get(pk=cls.pk).visits_per_month == 3 and cls.visits_per_month == 3
    assert svc.customer_class_update(actor=boss, customer_class=cls, values={"visits_per_month": 3}) == {}
    assert _events("customer_class.updated") == 1
    with pytest.raises(ValidationFailed, match="不能在此修改"):
        svc.customer_class_update(actor=boss, customer_class=cls, values={"is_active": False})


def test_deactivate_keeps_archives_pointing_at_it(boss):
    grade = svc.credit_grade_create(actor=boss, code="B", name="B")
    customer = make_customer(boss, credit_grade=grade)
    svc.credit_grade_deactivate(actor=boss, grade=grade)
    svc.credit_grade_deactivate(actor=boss, grade=grade)  # already: nothing more recorded
    assert not CreditGrade.objects.get(pk=grade.pk).is_active
    assert Customer.objects.get(pk=customer.pk).credit_grade_id == grade.pk
    assert _events("credit_grade.deactivated") == 1
    svc.credit_grade_reactivate(actor=boss, grade=grade)
    assert CreditGrade.objects.get(pk=grade.pk).is_active and _events("credit_grade.reactivated") == 1


def test_sources_and_categories_update_and_toggle(boss):
    source = svc.customer_source_create(actor=boss, code="expo", name="展会")
    svc.customer_source_update(actor=boss, source=source, values={"name": "行业展会"})
    svc.customer_source_deactivate(actor=boss, source=source)
    category = svc.product_category_create(actor=boss, code="c3", name="三类")
    svc.product_category_update(actor=boss, category=category, values={"name": "三类 通常衡器"})
    svc.product_category_deactivate(actor=boss, category=category)
    svc.product_category_reactivate(actor=boss, category=category)
    svc.customer_source_reactivate(actor=boss, source=source)
    assert CustomerSource.objects.get().name == "行业展会" and ProductCategory.objects.get().name == "三类 通常衡器"
    assert _events("customer_source.") == 4 and _events("product_category.") == 4


def test_only_archive_setting_managers_may_change_settings(make_user, boss):
    cls = svc.customer_class_create(actor=boss, code="A", name="A类")
    for role in ("agent", "archivist", "director", "department_staff"):
        user = make_user(role, username=role, scope_all=True)
        with pytest.raises(AccessDenied):
            svc.customer_class_create(actor=user, code="Z", name="Z")
        with pytest.raises(AccessDenied):
            svc.customer_class_update(actor=user, customer_class=cls, values={"name": "x"})
        with pytest.raises(AccessDenied):
            svc.customer_class_deactivate(actor=user, customer_class=cls)
        with pytest.raises(AccessDenied):
            svc.archive_numbering_update(actor=user, pattern="X-{seq:04d}")
    assert CustomerClass.objects.get().name == "A类" and CustomerClass.objects.get().is_active
    assert _events("customer_class.") == 1 and _events("archive_numbering.") == 0


# --- custom fields -----------------------------------------------------------------------


def test_custom_field_create_and_validation(boss):
    field = svc.custom_field_create(
        actor=boss, key="level", label="会员等级", field_type="choice", choices="金卡\n银卡\n普卡", applies_to="person"
    )
    assert field.choices == ["金卡", "银卡", "普卡"] and field.applies_to == "person"
    both = svc.custom_field_create(actor=boss, key="note2", label="备注二", choices=["x"], applies_to="both")
    assert both.choices == [] and both.applies_to == ""
    bad = [
        ({"key": "Contract Date", "label": "合同日期"}, "字段键只能由小写字母"),
        ({"key": "2nd", "label": "x"}, "字段键只能由小写字母"),
        ({"key": "level", "label": "x"}, "字段键 level 已存在"),
        ({"key": "grade", "label": "等级", "field_type": "choice"}, "请至少填写一个可选值"),
        ({"key": "grade", "label": "等级", "field_type": "choice", "choices": ["甲", "甲"]}, "重复"),
        ({"key": "grade", "label": "等级", "field_type": "colour"}, "字段类型无效"),
        ({"key": "grade", "label": "等级", "applies_to": "pets"}, "适用范围无效"),
        ({"key": "grade", "label": ""}, "请填写名称"),
    ]
    for values, message in bad:
        with pytest.raises(ValidationFailed, match=message):
            svc.custom_field_create(actor=boss, **values)
    assert CustomField.objects.count() == 2 and _events("custom_field.created") == 2


def test_custom_field_key_and_type_are_fixed_once_archives_hold_values(boss):
    field = svc.custom_field_create(actor=boss, key="foreman", label="工长")
    # Without values the key may still be corrected
    svc.custom_field_update(actor=boss, field=field, values={"key": "foreman_name"})
    make_customer(boss, extra={"foreman_name": "王工"})
    with pytest.raises(ValidationFailed, match="字段键不能再修改"):
        svc.custom_field_update(actor=boss, field=field, values={"key": "foreman"})
    with pytest.raises(ValidationFailed, match="字段类型不能再修改"):
        svc.custom_field_update(actor=boss, field=field, values={"field_type": "number"})
    svc.custom_field_update(actor=boss, field=field, values={"label": "施工工长", "key": "foreman_name"})
    field.refresh_from_db()
    assert (field.key, field.field_type, field.label) == ("foreman_name", "text", "施工工长")
    assert _events("custom_field.updated") == 2


def test_a_choice_in_use_cannot_be_removed(boss):
    field = svc.custom_field_create(actor=boss, key="level", label="等级", field_type="choice", choices=["金", "银"])
    make_customer(boss, extra={"level": "金"})
    with pytest.raises(ValidationFailed, match="可选值“金”已被档案使用"):
        svc.custom_field_update(actor=boss, field=field, values={"choices": ["银"]})
    svc.custom_field_update(actor=boss, field=field, values={"choices": ["金", "铜"]})
    field.refresh_from_db()
    assert field.choices == ["金", "铜"]


def test_deactivated_field_keeps_values(boss):
    field = svc.custom_field_create(actor=boss, key="employer", label="工作单位")
    customer = make_customer(boss, extra={"employer": "某公司"})
    svc.custom_field_deactivate(actor=boss, field=field)
    assert Customer.objects.get(pk=customer.pk).extra == {"employer": "某公司"}
    assert not CustomField.objects.get().is_active and _events("custom_field.deactivated") == 1


# --- numbering ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "请填写编号规则"),
        ("KH-{year}", "必须包含流水号"),
        ("KH-{{seq}}", "必须包含流水号"),
        ("KH-{nope}-{seq}", "档案编号规则无效"),
        ("KH-{seq:06q}", "档案编号规则无效"),
        ("KH-{seq.real.x}", "档案编号规则无效"),
        ("KH {seq}", "不能包含空格"),
        ("K" * 40 + "{seq:06d}", "编号过长"),
    ],
)
def test_bad_patterns_are_refused(boss, pattern, message):
    with pytest.raises(ValidationFailed, match=message):
        svc.archive_numbering_update(actor=boss, pattern=pattern)
    assert ArchiveNumbering.objects.get().pattern == "KH-{year}-{seq:06d}" and _events("archive_numbering.") == 0


def test_changing_the_pattern_never_reuses_a_number(boss):
    # Given archives numbered with the default pattern
    first = make_customer(boss, name="甲", phone="13800000001")
    second = make_customer(boss, name="乙", phone="13800000002")
    # When the pattern changes, new archives follow it and the counter carries on
    svc.archive_numbering_update(actor=boss, pattern="DA{year}{seq:05d}")
    third = make_customer(boss, name="丙", phone="13800000003")
    assert third.archive_no.startswith("DA") and third.archive_no.endswith("00003")
    # …and when it goes back, no number already given is given again
    ArchiveNumbering.objects.update(last_seq=0)
    svc.archive_numbering_update(actor=boss, pattern="KH-{year}-{seq:06d}")
    fourth = make_customer(boss, name="丁", phone="13800000004")
    assert fourth.archive_no not in {first.archive_no, second.archive_no, third.archive_no}
    assert Customer.objects.filter(archive_no=fourth.archive_no).count() == 1
    assert _events("archive_numbering.updated") == 2


def test_preview_shows_the_next_number(boss):
    make_customer(boss)
    numbering = svc.archive_numbering()
    assert svc.preview_archive_no(numbering.pattern).endswith("000002")


# --- seeding -------------------------------------------------------------------------------


def test_seed_creates_only_what_is_missing(boss):
    # Given a class a manager already edited
    svc.customer_class_create(actor=boss, code="A", name="重点客户", visits_per_month=2)
    spec = {
        "classes": [
            ClassSpec("A", "A类", "", 1),
            {"code": "B", "name": "B类", "visits_per_month": 2},
            {"code": "c", "name": "C类", "visits_per_month": 3},
        ],
        "grades": [{"code": "AAA", "name": "AAA"}],
        "sources": [{"code": "referral", "name": "老客户介绍"}],
        "categories": [{"code": "c1", "name": "一类 计重收费设备"}],
        "fields": [
            FieldSpec("level", "会员等级", "choice", ("金卡", "银卡")),
            {"key": "employer", "label": "工作单位"},
        ],
    }
    # When the profile seeds twice
    created = svc.archive_settings_seed(**spec)
    again = svc.archive_settings_seed(**spec)
    # Then the missing rows were created once, the edited one left alone
    assert created == {"classes": 2, "grades": 1, "sources": 1, "categories": 1, "fields": 2}
    assert set(again.values()) == {0}
    a = CustomerClass.objects.get(code="A")
    assert (a.name, a.visits_per_month) == ("重点客户", 2)
    assert list(CustomerClass.objects.values_list("code", "sort_order")) == [("A", 0), ("B", 20), ("c", 30)]
    assert CustomField.objects.get(key="level").choices == ["金卡", "银卡"]
    assert AuditEvent.objects.filter(code="archive_settings.seeded").count() == 1


def test_seed_validates_like_the_forms(boss):
    with pytest.raises(ValidationFailed, match="字段键只能由小写字母"):
        svc.archive_settings_seed(fields=[{"key": "Bad Key", "label": "x"}])
    with pytest.raises(ValidationFailed, match="不能在此修改"):
        svc.archive_settings_seed(classes=[{"code": "A", "name": "A", "colour": "red"}])
    assert not CustomField.objects.exists() and not CustomerClass.objects.exists()
