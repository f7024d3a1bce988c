"""Excel/CSV import: dry run with every rejected row and its reasons, all-or-nothing and
valid-rows-only commits, re-runs that create nothing twice, failures that leave nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.core.errors import AccessDenied, InvalidState, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.io import importer, importing
from kefu.customers.io.importing import import_commit, import_job_create
from kefu.customers.io.progress import Progress
from kefu.customers.io.writing import search_text
from kefu.customers.models import (
    ArchiveNumbering,
    ClassChange,
    Contact,
    CreditChange,
    Customer,
    CustomField,
    ImportJob,
    Tag,
    TimelineEntry,
)
from kefu.customers.models.imports import ImportMode, ImportStatus
from kefu.customers.search import build_search_text
from kefu.customers.selectors import CustomerFilters, customer_list
from tests.factories import RegionFactory
from tests.factories_customers import (
    CreditGradeFactory,
    CustomerClassFactory,
    CustomerSourceFactory,
    ProductCategoryFactory,
    make_customer,
)
from tests.factories_customers_io import IDS, check, run_import, upload, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

HEADER = ["名称", "手机/电话", "证件号码", "片区"]
USCC = "91110000600037341L"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def boss(make_user):
    return make_user("archivist", username="boss", display_name="档案员", scope_all=True)


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


def customer_events():
    return AuditEvent.objects.filter(code__startswith="customer.").exclude(code="customer.import_uploaded")


def assert_nothing_written():
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()
    assert not TimelineEntry.objects.exists()
    assert not CreditChange.objects.exists()
    assert not customer_events().exists()


# --- headers and row validation ---------------------------------------------------------


def test_bad_headers_fail_the_check_naming_the_missing_and_unknown_columns(boss, tmp_path):
    path = write_xlsx(tmp_path / "bad.xlsx", ["客户姓名X", "手机/电话", "鞋码"], [["张三", "13812345678", "42"]])

    job = check(boss, path)

    assert job.status == ImportStatus.FAILED
    assert "缺少必需的列：名称" in job.error
    assert "无法识别的列：客户姓名X、鞋码" in job.error
    assert_nothing_written()


def test_duplicate_header_is_refused(boss, tmp_path):
    path = write_csv(tmp_path / "dup.csv", ["名称", "电话", "手机/电话"], [["张三", "13812345678", "13812345678"]])
    job = check(boss, path)
    assert job.status == ImportStatus.FAILED and "重复的列：手机/电话" in job.error


def test_check_lists_every_rejected_row_with_its_reasons_and_writes_nothing(boss, east, tmp_path):
    rows = [
        ["张三", "13812345678", IDS[0], "东区"],  # row 2: fine
        ["李四", "12345", "", "east"],  # row 3: bad phone
        ["王五", "13900000000", "110101199003071235", ""],  # row 4: bad ID checksum
        ["赵六", "13700000000", "", "西区"],  # row 5: unknown region
        ["", "13600000000", "", ""],  # row 6: no name
        ["钱七", "1360000", "123", "北区"],  # row 7: three problems
    ]
    path = write_xlsx(tmp_path / "rows.xlsx", HEADER, rows)

    job = check(boss, path)

    assert job.status == ImportStatus.CHECKED
    assert (job.total_rows, job.valid_rows, job.rejected_rows) == (6, 1, 5)
    assert job.created_count == 1  # predicted
    reasons = {item["row"]: item["errors"] for item in job.rejected}
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert "电话号码格式不正确：12345" in reasons[3][0]
    assert "身份证号码无效" in reasons[4][0]
    assert reasons[5] == ["片区不存在：西区"]
    assert reasons[6] == ["请填写客户名称。"]
    assert len(reasons[7]) == 3
    assert_nothing_written()


def test_duplicates_inside_the_file_are_rejected(boss, tmp_path):
    rows = [
        ["张三", "13812345678", "", ""],
        ["张三", "138-1234-5678", "", ""],  # same name + phone as row 2
        ["李四", "13900000001", IDS[1], ""],
        ["李四四", "13900000002", IDS[1], ""],  # same ID as row 4
        ["张三", "13812349999", "", ""],  # same name, other phone: a different person
    ]
    job = check(boss, write_csv(tmp_path / "dups.csv", HEADER, rows))

    reasons = {item["row"]: item["errors"] for item in job.rejected}
    assert reasons == {3: ["与第 2 行重复（名称与电话相同）。"], 5: ["与第 4 行重复（证件号码相同）。"]}
    assert job.created_count == 3


def test_rows_matching_existing_archives_are_predicted_as_updates_not_creates(boss, tmp_path):
    make_customer(boss, name="张三", phone="13812345678")
    make_customer(boss, name="李四", phone="13900000001", id_number=IDS[1])
    rows = [["张三", "13812345678", "", ""], ["李四（改名）", "", IDS[1], ""], ["王五", "13700000000", "", ""]]

    job = check(boss, write_csv(tmp_path / "m.csv", HEADER, rows))

    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 1, 1)


# --- commit -----------------------------------------------------------------------------


def full_header(extra=()):
    return [
        "档案编号",
        "类型",
        "名称",
        "证件号码",
        "性别",
        "生日",
        "地址",
        "片区",
        "客户经理",
        "客户分类",
        "大客户",
        "信用等级",
        "信息来源",
        "产品类别",
        "生命周期",
        "标签",
        "联系人",
        "手机/电话",
        "微信",
        "邮箱",
        "同意营销",
        "备注",
        *extra,
    ]


def test_commit_creates_archives_with_every_column(boss, east, make_user, tmp_path):
    owner = make_user("account_manager", username="liwei", display_name="李伟", region=east)
    a = CustomerClassFactory(code="A", name="A类")
    aa = CreditGradeFactory(code="AA", name="良好")
    source = CustomerSourceFactory(code="referral", name="转介绍")
    one = ProductCategoryFactory(code="c1", name="一类 计重收费设备")
    two = ProductCategoryFactory(code="c2", name="二类 超限设备")
    CustomField.objects.create(key="foreman", label="工长", field_type="text")
    CustomField.objects.create(key="contract_date", label="合同日期", field_type="date")
    CustomField.objects.create(key="vip", label="会员", field_type="boolean")
    row = [
        "",
        "个人",
        "张三",
        IDS[0],
        "男",
        datetime.date(1949, 12, 31),
        "西安市雁塔区",
        "east",
        "李伟",
        "A类",
        "是",
        "AA",
        "转介绍",
        "一类 计重收费设备、c2",
        "潜在",
        "老客户、VIP",
        "张先生",
        "138 1234 5678",
        "zhangsan_wx",
        "zs@example.com",
        "是",
        "=不是公式",
        "李工",
        "2026-01-31",
        "否",
    ]
    path = write_xlsx(tmp_path / "full.xlsx", full_header(["工长", "合同日期", "会员"]), [row])

    job = run_import(boss, path)

    assert job.status == ImportStatus.DONE, job.rejected
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 0, 0)
    c = Customer.objects.get()
    assert c.archive_no.startswith("KH-")
    assert (c.kind, c.name, c.id_number, c.gender, c.birthday) == (
        "person",
        "张三",
        IDS[0],
        "男",
        datetime.date(1949, 12, 31),
    )
    assert (c.region, c.owner, c.customer_class, c.credit_grade, c.source) == (east, owner, a, aa, source)
    assert c.is_key_account and c.marketing_consent and c.consent_at is not None
    assert c.lifecycle == "potential" and c.notes == "=不是公式"
    assert set(c.categories.all()) == {one, two}
    assert sorted(t.name for t in c.tags.all()) == ["VIP", "老客户"]
    assert c.extra == {"foreman": "李工", "contract_date": "2026-01-31", "vip": False}
    contact = c.contacts.get()
    assert (contact.name, contact.phone, contact.phone_digits, contact.is_primary) == (
        "张先生",
        "13812345678",
        "13812345678",
        True,
    )
    assert (contact.wechat, contact.email) == ("zhangsan_wx", "zs@example.com")
    assert c.created_by == boss
    # searchable like any archive, with the credit grade's history started
    assert list(customer_list(user=boss, filters=CustomerFilters(q="zs"))) == [c]
    assert list(customer_list(user=boss, filters=CustomerFilters(q="5678"))) == [c]
    assert c.credit_changes.get().to_grade == aa
    # audited: one event for the job, one per archive; on the timeline
    imported = AuditEvent.objects.get(code="customer.imported")
    assert imported.object_id == str(job.pk) and imported.data["created"] == 1
    created = AuditEvent.objects.get(code="customer.created", object_id=str(c.pk))
    assert created.actor == boss and created.data["import_job"] == job.pk
    assert TimelineEntry.objects.get(customer=c).kind == "customer.created"


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(boss, tmp_path):
    before = ArchiveNumbering.objects.get().last_seq
    rows = [["张三", "13812345678", "", ""], ["李四", "12345", "", ""], ["王五", "13700000000", "", ""]]
    job = check(boss, write_csv(tmp_path / "one-bad.csv", HEADER, rows))

    job = import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)

    assert job.status == ImportStatus.CHECKED
    assert "有 1 行未通过检查" in job.error
    assert [item["row"] for item in job.rejected] == [3]
    assert_nothing_written()
    assert not Tag.objects.exists()
    assert ArchiveNumbering.objects.get().last_seq == before


def test_valid_only_writes_exactly_the_valid_rows_and_reports_the_rejected_ones(boss, east, tmp_path):
    rows = [
        ["张三", "13812345678", "", "东区"],
        ["李四", "12345", "", ""],
        ["王五", "13700000000", "", "北区"],
        ["赵六", "13600000000", IDS[2], ""],
        ["赵六", "13600000000", "", ""],
    ]
    job = check(boss, write_csv(tmp_path / "mixed.csv", HEADER, rows))

    job = import_commit(job=job, mode=ImportMode.VALID_ONLY)

    assert job.status == ImportStatus.DONE
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "赵六"]
    assert [item["row"] for item in job.rejected] == [3, 4, 6]
    assert (job.created_count, job.rejected_rows, job.valid_rows) == (2, 3, 2)
    assert customer_events().filter(code="customer.created").count() == 2
    assert AuditEvent.objects.get(code="customer.imported").data["rejected"] == 3


def test_rerunning_the_same_file_creates_no_duplicates(boss, east, tmp_path):
    rows = [
        ["张三", "13812345678", IDS[0], "东区"],
        ["李四", "13900000001", "", "东区"],
        ["王五", "", IDS[1], ""],
    ]
    path = write_xlsx(tmp_path / "again.xlsx", HEADER, rows)
    first = run_import(boss, path)
    assert first.created_count == 3
    versions = dict(Customer.objects.values_list("pk", "version"))

    second = run_import(boss, path)

    assert second.status == ImportStatus.DONE
    assert (second.created_count, second.updated_count, second.skipped_count) == (0, 0, 3)
    assert Customer.objects.count() == 3 and Contact.objects.count() == 2
    assert dict(Customer.objects.values_list("pk", "version")) == versions
    assert second.file_hash == first.file_hash


def test_matching_rows_update_their_archive_by_number_id_or_name_and_phone(boss, east, tmp_path):
    a, b = CustomerClassFactory(code="A"), CustomerClassFactory(code="B")
    grade = CreditGradeFactory(code="AAA", name="优")
    by_no = make_customer(boss, name="张三", phone="13812345678", customer_class=a)
    by_id = make_customer(boss, name="李四", phone="13900000001", id_number=IDS[1])
    by_phone = make_customer(boss, name="王五", phone="13700000000")
    header = ["档案编号", "名称", "手机/电话", "证件号码", "地址", "客户分类", "信用等级", "标签"]
    rows = [
        [by_no.archive_no, "张三丰", "", "", "武当山", "B", "", ""],
        ["", "李四", "13911112222", IDS[1], "", "", "优", ""],
        ["", "王五", "137-0000-0000", "", "", "", "", "重点、回访"],
    ]

    job = run_import(boss, write_csv(tmp_path / "upd.csv", header, rows))

    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 3, 0), job.rejected
    by_no.refresh_from_db(), by_id.refresh_from_db(), by_phone.refresh_from_db()
    assert (by_no.name, by_no.address, by_no.customer_class) == ("张三丰", "武当山", b)
    assert by_no.version == 2
    assert list(customer_list(user=boss, filters=CustomerFilters(q="zsf"))) == [by_no]
    assert ClassChange.objects.get(customer=by_no).to_class == b
    assert by_id.credit_grade == grade and by_id.credit_changes.get().to_grade == grade
    assert by_id.contacts.get().phone == "13911112222"  # the primary contact's new number
    assert list(customer_list(user=boss, filters=CustomerFilters(q="1111"))) == [by_id]
    assert sorted(t.name for t in by_phone.tags.all()) == ["回访", "重点"]
    event = AuditEvent.objects.get(code="customer.updated", object_id=str(by_no.pk))
    assert event.changes["name"] == ["张三", "张三丰"] and event.data["import_job"] == job.pk
    phone_event = AuditEvent.objects.get(code="customer.updated", object_id=str(by_id.pk))
    assert "contact" in phone_event.data["fields"] and "13911112222" not in str(phone_event.changes)
    assert TimelineEntry.objects.filter(customer=by_phone, kind="customer.updated").exists()
    assert Customer.objects.count() == 3


def test_blank_cells_keep_stored_values(boss, east, tmp_path):
    customer = make_customer(boss, name="张三", phone="13812345678", region=east, address="西安")
    rows = [["张三", "13812345678", "", ""]]
    job = run_import(boss, write_csv(tmp_path / "blank.csv", HEADER, rows))
    customer.refresh_from_db()
    assert job.skipped_count == 1 and customer.region == east and customer.address == "西安"


def test_unknown_or_merged_archive_numbers_and_ambiguous_matches_are_rejected(boss, tmp_path):
    make_customer(boss, name="张三", phone="13812345678")
    make_customer(boss, name="张三", phone="13812345678")  # a confirmed duplicate already in the archive
    rows = [["KH-1999-000001", "李四", ""], ["", "张三", "13812345678"]]
    job = check(boss, write_csv(tmp_path / "amb.csv", ["档案编号", "名称", "手机/电话"], rows))
    reasons = {item["row"]: item["errors"][0] for item in job.rejected}
    assert "档案编号不存在：KH-1999-000001" in reasons[2]
    assert "与多个已有档案重复" in reasons[3]


def test_masked_numbers_keep_the_stored_ones_and_cannot_create(boss, tmp_path):
    customer = make_customer(boss, name="张三", phone="13812345678", id_number=IDS[0])
    header = ["档案编号", "名称", "手机/电话", "证件号码", "地址"]
    rows = [
        [customer.archive_no, "张三", "138****5678", "110105********002X", "新地址"],
        ["", "李四", "139****0000", "", ""],
    ]
    job = run_import(boss, write_csv(tmp_path / "masked.csv", header, rows), mode=ImportMode.VALID_ONLY)
    customer.refresh_from_db()
    assert (customer.id_number, customer.contacts.get().phone, customer.address) == (IDS[0], "13812345678", "新地址")
    assert job.rejected == [{"row": 3, "errors": ["手机/电话已脱敏（含 *），不能用于新建档案。"]}]


def test_kind_follows_the_credit_code_and_cannot_be_changed_by_import(boss, tmp_path):
    person = make_customer(boss, name="某某", phone="")
    header = ["类型", "档案编号", "名称", "证件号码"]
    rows = [
        ["", "", "北京某某有限公司", USCC],  # blank type: the credit code says organisation
        ["", "", "某公司", "91610131MA6TXXXX0X"],  # neither a valid ID nor a valid credit code
        ["单位", person.archive_no, "某某", ""],
    ]

    job = run_import(boss, write_csv(tmp_path / "kind.csv", header, rows), mode=ImportMode.VALID_ONLY)

    assert Customer.objects.get(name="北京某某有限公司").kind == "organisation"
    reasons = {item["row"]: item["errors"][0] for item in job.rejected}
    assert "身份证号码无效" in reasons[3]
    assert "导入不能修改客户类型" in reasons[4]
    person.refresh_from_db()
    assert person.kind == "person"


def test_custom_fields_are_validated_like_clean_extra(boss, tmp_path):
    CustomField.objects.create(key="contract_date", label="合同日期", field_type="date", required=True)
    CustomField.objects.create(key="level", label="等级", field_type="choice", choices=["高", "低"])
    rows = [["张三", "2026-02-30", "高"], ["李四", "2026-01-01", "中"], ["王五", "", "低"]]
    job = check(boss, write_csv(tmp_path / "extra.csv", ["名称", "合同日期", "等级"], rows))
    reasons = {item["row"]: item["errors"] for item in job.rejected}
    assert reasons[2] == ["合同日期 日期格式不正确（应为 2026-01-31）。"]
    assert reasons[3] == ["等级 只能是：高、低"]
    assert reasons[4] == ["合同日期 为必填项。"]


def test_csv_in_gb18030_and_utf8_with_bom(boss, east, tmp_path):
    rows = [["张三", "13812345678", "", "东区"]]
    gb = check(boss, write_csv(tmp_path / "gb.csv", HEADER, rows, encoding="gb18030"))
    utf = check(boss, write_csv(tmp_path / "utf.csv", HEADER, rows, encoding="utf-8-sig"))
    assert gb.status == utf.status == ImportStatus.CHECKED
    assert gb.valid_rows == utf.valid_rows == 1 and gb.rejected_rows == 0


def test_rows_outside_the_importers_scope_are_rejected(make_user, boss, east, tmp_path):
    west = RegionFactory(code="west", name="西区")
    clerk = make_user("agent", region=east)
    clerk.user_permissions.add(*_perm("import_customer"))
    theirs = make_customer(boss, name="西客户", phone="13800000009", region=west)
    rows = [
        ["东客户", "13800000001", "", "东区"],
        ["西新客户", "13800000002", "", "西区"],
        ["西客户", "13800000009", "", ""],
    ]
    job = import_commit(job=check(clerk, write_csv(tmp_path / "scope.csv", HEADER, rows)), mode="valid")
    reasons = {item["row"]: item["errors"][0] for item in job.rejected}
    assert set(reasons) == {3, 4}
    assert "只能在自己负责的片区内建档" in reasons[3]
    assert theirs.archive_no in reasons[4] and "不在您的可见范围内" in reasons[4]
    assert Customer.objects.get(name="东客户").region == east


def _perm(codename):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(codename=codename, content_type__app_label="customers")


# --- failures ---------------------------------------------------------------------------


def test_a_failure_injected_mid_import_leaves_nothing_behind(boss, monkeypatch, tmp_path):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 10)
    rows = [[f"客户{i}", f"138{i:08d}", "", ""] for i in range(35)]
    job = check(boss, write_xlsx(tmp_path / "boom.xlsx", HEADER, rows))
    assert job.valid_rows == 35
    before = ArchiveNumbering.objects.get().last_seq
    real_write = importer.write_chunk
    calls = []

    def write_then_fail(importer, chunk):
        calls.append(len(chunk))
        if len(calls) == 3:  # after 20 rows were written
            raise RuntimeError("disk full")
        real_write(importer, chunk)

    monkeypatch.setattr(importer, "write_chunk", write_then_fail)

    with pytest.raises(RuntimeError, match="disk full"):
        import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)

    assert calls == [10, 10, 10]
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "未写入任何数据" in job.error
    assert_nothing_written()
    assert ArchiveNumbering.objects.get().last_seq == before
    with pytest.raises(InvalidState):  # a failed job is not committed again by accident
        import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)


def test_a_job_is_committed_once(boss, tmp_path):
    job = run_import(boss, write_csv(tmp_path / "once.csv", HEADER, [["张三", "13812345678", "", ""]]))
    with pytest.raises(InvalidState):
        import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert Customer.objects.count() == 1


def test_only_importers_may_upload_and_only_spreadsheets(make_user, boss):
    agent = make_user("agent")
    with pytest.raises(AccessDenied):
        import_job_create(actor=agent, upload=SimpleUploadedFile("a.csv", "名称\n张三\n".encode()))
    with pytest.raises(ValidationFailed, match="只支持"):
        import_job_create(actor=boss, upload=SimpleUploadedFile("a.txt", b"x"))
    with pytest.raises(ValidationFailed, match="不能超过"):
        import_job_create(actor=boss, upload=SimpleUploadedFile("a.csv", b"x" * 30), max_bytes=10)
    assert not ImportJob.objects.exists()


def test_upload_is_stored_under_a_generated_name_and_audited(boss, tmp_path, settings):
    path = write_csv(tmp_path / "客户 名单.csv", HEADER, [["张三", "", "", ""]])
    job = upload(boss, path)
    assert job.original_name == "客户 名单.csv"
    assert "客户" not in job.file.name and job.file.name.startswith("imports/") and job.file.name.endswith(".csv")
    assert len(job.file_hash) == 64
    assert AuditEvent.objects.filter(code="customer.import_uploaded", object_id=str(job.pk)).exists()


def test_search_text_and_initials_match_the_services(boss):
    from kefu.customers.services.common import refresh_search_text

    phones = ["13812345678", "029-88886666"]
    for name, person in [
        ("张三", True),
        ("单田芳", True),
        ("欧阳修", True),
        ("北京张江科技有限公司", False),
        ("Tom Lee", True),
    ]:
        initials, text = search_text(name, person, "KH-2026-000001", phones, ["KH-2025-000009"])
        assert text == build_search_text(
            name=name, person=person, archive_no="KH-2026-000001", phones=phones, former_numbers=["KH-2025-000009"]
        )
    customer = make_customer(boss, name="单田芳", phone="13812345678")
    refresh_search_text(customer)
    customer.refresh_from_db()
    assert search_text("单田芳", True, customer.archive_no, ["13812345678"]) == (
        customer.name_initials,
        customer.search_text,
    )


@pytest.mark.django_db(transaction=True)
def test_progress_is_stored_as_chunks_go_by(make_user, monkeypatch, tmp_path):
    """Outside a transaction (a worker's job) the check stores progress after each chunk;
    during the commit's transaction PostgreSQL shows it through a second connection."""
    from django.db import connection, connections

    boss = make_user("archivist", username="boss", scope_all=True)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 10)
    rows = [[f"客户{i}", f"138{i:08d}", "", ""] for i in range(25)]
    job = upload(boss, write_csv(tmp_path / "p.csv", HEADER, rows))
    seen_check, seen_commit = [], []
    real_progress_call = Progress.__call__

    def spy(self, processed):
        real_progress_call(self, processed)
        reader = connections.create_connection("default")
        try:
            with reader.cursor() as cursor:
                cursor.execute("SELECT processed_rows FROM customers_importjob WHERE id = %s", [job.pk])
                value = cursor.fetchone()[0]
        finally:
            reader.close()
        (seen_commit if connection.in_atomic_block else seen_check).append(value)

    monkeypatch.setattr(Progress, "__call__", spy)

    job = importing.import_check(job=job)
    assert seen_check == [10, 20, 25]
    job = import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)

    assert job.status == ImportStatus.DONE and Customer.objects.count() == 25
    if connection.vendor == "postgresql":
        assert seen_commit == [10, 20, 25]
    else:  # one writer at a time: the progress of the commit shows when it ends
        assert len(seen_commit) == 3
    job.refresh_from_db()
    assert job.processed_rows == 25


def test_a_rename_keeps_merged_archive_numbers_searchable(boss, tmp_path):
    from kefu.customers.services.common import refresh_search_text

    survivor = make_customer(boss, name="张三", phone="13812345678")
    merged = make_customer(boss, name="张三", phone="13900000000")
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    refresh_search_text(survivor)
    rows = [[survivor.archive_no, "张三丰"], [merged.archive_no, "张三"]]

    job = run_import(boss, write_csv(tmp_path / "m.csv", ["档案编号", "名称"], rows), mode=ImportMode.VALID_ONLY)

    assert job.updated_count == 1 and "已合并至" in job.rejected[0]["errors"][0]
    assert list(customer_list(user=boss, filters=CustomerFilters(q=merged.archive_no))) == [survivor]
    assert list(customer_list(user=boss, filters=CustomerFilters(q="zsf"))) == [survivor]
