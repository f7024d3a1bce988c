"""Excel export: exactly the list's customers (scope and filters), masked unless the
user may reveal, formulas neutralised, audited with the filter and the row count, and
importable again without changing anything."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.errors import AccessDenied
from kefu.core.models import AuditEvent
from kefu.customers.io.columns import COLUMNS
from kefu.customers.io.exporting import customers_export, import_template_bytes
from kefu.customers.models import Customer, CustomField
from kefu.customers.params import filters_from_params
from kefu.customers.selectors import CustomerFilters
from kefu.customers.services.customers import ContactInput
from tests.factories import RegionFactory
from tests.factories_customers import (
    CreditGradeFactory,
    CustomerClassFactory,
    CustomerSourceFactory,
    ProductCategoryFactory,
    make_customer,
)
from tests.factories_customers_io import IDS, read_xlsx, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def west():
    return RegionFactory(code="west", name="西区")


@pytest.fixture
def archivist(make_user):
    return make_user("archivist", username="dangan", display_name="档案员", scope_all=True)


def export_rows(actor, filters=None, **kwargs):
    path = customers_export(actor=actor, filters=filters or CustomerFilters(), **kwargs)
    try:
        return read_xlsx(path)
    finally:
        path.unlink()


def as_dicts(rows):
    header = rows[0]
    return [{h: ("" if v is None else v) for h, v in zip(header, row, strict=False)} for row in rows[1:]]


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def test_export_writes_the_headers_and_every_value(archivist, east, make_user):
    owner = make_user("account_manager", username="liwei", display_name="李伟", region=east)
    CustomField.objects.create(key="foreman", label="工长")
    CustomField.objects.create(key="vip", label="会员", field_type="boolean")
    customer = make_customer(
        archivist,
        name="张三",
        contacts=[ContactInput(name="张先生", phone="13812345678", wechat="zs_wx", email="zs@example.com")],
        id_number=IDS[0],
        gender="男",
        address="西安市",
        region=east,
        owner=owner,
        customer_class=CustomerClassFactory(code="A", name="A类"),
        is_key_account=True,
        credit_grade=CreditGradeFactory(code="AA", name="良好"),
        source=CustomerSourceFactory(code="ref", name="转介绍"),
        categories=[ProductCategoryFactory(code="c1", name="一类"), ProductCategoryFactory(code="c2", name="二类")],
        tags=["VIP", "老客户"],
        lifecycle="potential",
        marketing_consent=True,
        notes="备注",
        extra={"foreman": "李工", "vip": True},
    )

    rows = export_rows(archivist)

    assert list(rows[0]) == [c.header for c in COLUMNS] + ["工长", "会员"]
    [row] = as_dicts(rows)
    assert row == {
        "档案编号": customer.archive_no,
        "类型": "个人",
        "名称": "张三",
        "证件号码": IDS[0],
        "性别": "男",
        "生日": "",
        "地址": "西安市",
        "片区": "东区",
        "客户经理": "李伟（liwei）",
        "客户分类": "A类",
        "大客户": "是",
        "信用等级": "良好",
        "信息来源": "转介绍",
        "产品类别": "一类、二类",
        "生命周期": "潜在",
        "标签": "VIP、老客户",
        "联系人": "张先生",
        "手机/电话": "13812345678",
        "微信": "zs_wx",
        "邮箱": "zs@example.com",
        "同意营销": "是",
        "备注": "备注",
        "工长": "李工",
        "会员": "是",
    }


def test_phone_and_id_numbers_are_masked_for_a_user_who_may_export_but_not_reveal(archivist, make_user):
    make_customer(archivist, name="张三", phone="13812345678", id_number=IDS[0])
    clerk = make_user("agent", scope_all=True)
    grant(clerk, "export_customer")

    [masked] = as_dicts(export_rows(clerk))
    [full] = as_dicts(export_rows(archivist))

    assert (masked["手机/电话"], masked["证件号码"]) == ("138****5678", "110105********002X")
    assert (full["手机/电话"], full["证件号码"]) == ("13812345678", IDS[0])
    events = AuditEvent.objects.filter(code="customer.exported").order_by("id")
    assert [e.data["masked"] for e in events] == [True, False]


def test_formulas_are_neutralised_and_every_cell_is_text(archivist, tmp_path):
    make_customer(
        archivist, name='=HYPERLINK("http://x")', phone="", address="+1+2", notes="@SUM(A1)", tags=["-2", "@x"]
    )
    path = customers_export(actor=archivist, filters=CustomerFilters())
    try:
        import openpyxl

        sheet = openpyxl.load_workbook(path).active
        cells = {sheet.cell(1, col).value: sheet.cell(2, col) for col in range(1, sheet.max_column + 1)}
    finally:
        path.unlink()
    assert cells["名称"].value == '\'=HYPERLINK("http://x")' and cells["名称"].data_type == "s"
    assert cells["地址"].value == "'+1+2"
    assert cells["备注"].value == "'@SUM(A1)"
    assert cells["标签"].value == "'-2、@x"
    assert all(c.data_type == "s" for c in cells.values() if c.value is not None)


def test_export_selects_exactly_what_the_list_shows_scope_and_filters(archivist, make_user, east, west):
    a = CustomerClassFactory(code="A")
    make_customer(archivist, name="张三", phone="13800000001", region=east, customer_class=a)
    make_customer(archivist, name="张四", phone="13800000002", region=east)
    make_customer(archivist, name="西张", phone="13800000003", region=west, customer_class=a)
    regional = make_user("account_manager", region=east)
    grant(regional, "export_customer")

    names = lambda rows: sorted(r["名称"] for r in as_dicts(rows))  # noqa: E731
    assert names(export_rows(regional)) == ["张三", "张四"]
    assert names(export_rows(archivist)) == ["张三", "张四", "西张"]
    assert names(export_rows(archivist, filters_from_params({"customer_class": str(a.pk)}))) == ["张三", "西张"]
    assert names(export_rows(regional, filters_from_params({"q": "张三"}))) == ["张三"]


def test_department_staff_and_agents_may_not_export(make_user, archivist):
    make_customer(archivist)
    for role in ("agent", "department_staff", "admin"):
        with pytest.raises(AccessDenied):
            customers_export(actor=make_user(role), filters=CustomerFilters())
    assert not AuditEvent.objects.filter(code="customer.exported").exists()


def test_every_export_is_audited_with_its_filters_and_row_count(archivist, east):
    for i in range(3):
        make_customer(archivist, name=f"客户{i}", phone=f"1380000000{i}", region=east)
    filters = filters_from_params({"region": str(east.pk), "q": "客户"})

    export_rows(archivist, filters, params={"region": str(east.pk), "q": "客户"})

    event = AuditEvent.objects.get(code="customer.exported")
    assert event.actor == archivist
    assert event.data["rows"] == 3
    assert event.data["filters"] == {"q": "客户", "region": [east.pk]}
    assert event.data["params"] == {"region": str(east.pk), "q": "客户"}


def test_export_runs_a_constant_number_of_queries_whatever_the_row_count(archivist, east):
    def queries_for(count):
        for i in range(count):
            make_customer(archivist, name=f"客户{i}", phone=f"1390000{i:04d}", region=east, tags=["甲", "乙"])
        with CaptureQueriesContext(connection) as ctx:
            path = customers_export(actor=archivist, filters=CustomerFilters())
        path.unlink()
        return len(ctx)

    few = queries_for(3)
    many = queries_for(40)
    assert many == few


def test_an_exported_file_imports_back_without_changing_anything(archivist, east, tmp_path):
    CustomField.objects.create(key="foreman", label="工长")
    for i in range(5):
        make_customer(
            archivist,
            name=f"客户{i}",
            phone=f"1380000000{i}",
            region=east,
            id_number=IDS[i] if i < len(IDS) else "",
            tags=["=危险", "普通"],
            notes="-1",
            extra={"foreman": "李工"},
        )
    before = dict(Customer.objects.values_list("pk", "version"))
    path = customers_export(actor=archivist, filters=CustomerFilters())
    target = tmp_path / "export.xlsx"
    path.rename(target)

    job = run_import(archivist, target)

    assert job.status == "done", job.rejected
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 0, 5)
    assert dict(Customer.objects.values_list("pk", "version")) == before


def test_the_import_template_has_the_headers_and_an_example_row(archivist):
    import io

    import openpyxl

    CustomField.objects.create(key="foreman", label="工长")
    workbook = openpyxl.load_workbook(io.BytesIO(import_template_bytes()), read_only=True)
    rows = [tuple(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    assert list(rows[0]) == [c.header for c in COLUMNS] + ["工长"]
    assert rows[1][2] == "张三"
    assert len(workbook.worksheets) == 2
