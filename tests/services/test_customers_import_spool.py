"""The check's spool of parsed rows: the commit takes its rows from it instead of reading
the file again — only when it is complete and made for exactly this upload, reference
data, day, language and code — with the same results as reading the file; everything
that depends on the database is still decided at commit time; housekeeping deletes it
with the upload; a check that dies leaves nothing usable."""

import datetime
import os
import shutil

import pytest
from django.db import transaction
from django.utils import timezone, translation

from kefu.core.models import AuditEvent
from kefu.customers.io import importer, spool
from kefu.customers.io.columns import resolve_headers
from kefu.customers.io.housekeeping import import_jobs_fail_stale, import_uploads_purge
from kefu.customers.io.importing import import_check, import_commit
from kefu.customers.io.reading import open_rows
from kefu.customers.io.rows import References, RowParser
from kefu.customers.models import (
    ClassChange,
    Contact,
    CreditChange,
    Customer,
    CustomField,
    ImportJob,
    TimelineEntry,
)
from kefu.customers.models.imports import ImportMode, ImportStatus
from tests.factories import RegionFactory
from tests.factories_customers import (
    CreditGradeFactory,
    CustomerClassFactory,
    CustomerSourceFactory,
    ProductCategoryFactory,
    make_customer,
)
from tests.factories_customers_io import IDS, check, upload, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

USCC = "91110000600037341L"
FULL = [
    "档案编号", "类型", "名称", "证件号码", "性别", "生日", "地址", "片区", "客户经理", "客户分类", "大客户",
    "信用等级", "信息来源", "产品类别", "生命周期", "标签", "联系人", "手机/电话", "微信", "邮箱", "同意营销",
    "备注", "工长", "合同日期", "会员", "人数", "等级",
]  # fmt: skip
SMALL_HEADER = ["名称", "手机/电话", "片区"]
SMALL_ROWS = [
    ["张三", "13812345678", "东区"],
    ["李四", "13900000001", "东区"],
    ["王五", "12345", "东区"],  # bad phone
    ["赵六", "13700000000", ""],
    ["张三", "13812345678", ""],  # the first row again
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    # Several chunks per file: duplicates and matches cross chunk boundaries.
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)


@pytest.fixture
def boss(make_user):
    return make_user("archivist", username="boss", display_name="档案员", scope_all=True)


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def reads(monkeypatch):
    """The passes that read the upload itself, as "check" / "commit"."""
    calls = []

    def spy(handle, name):
        calls.append("?")
        return open_rows(handle, name)

    monkeypatch.setattr(importer, "open_rows", spy)
    return calls


def spool_of(job) -> str:
    return spool.spool_path(job.file.name, job.file.storage)


def checked(actor, path, reads=None):
    job = check(actor, path)
    assert job.status == ImportStatus.CHECKED, job.error
    assert os.path.exists(spool_of(job)) and not os.path.exists(spool_of(job) + spool.PART)
    if reads is not None:
        reads.clear()
    return job


# --- the commit reads the spool ---------------------------------------------------------------


def test_the_commit_takes_its_rows_from_the_spool_not_from_the_file(boss, east, tmp_path, monkeypatch):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS))

    def no_reading(*args, **kwargs):
        raise AssertionError("the commit read the file again")

    monkeypatch.setattr(importer, "open_rows", no_reading)
    monkeypatch.setattr(RowParser, "parse", no_reading)
    job = import_commit(job=job, mode=ImportMode.VALID_ONLY)

    assert job.status == ImportStatus.DONE, job.error
    assert (job.total_rows, job.created_count, job.rejected_rows) == (5, 3, 2)
    assert [r["row"] for r in job.rejected] == [4, 6]
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "李四", "赵六"]


def test_the_spool_keeps_the_checks_chunks_and_streams_them(boss, east, tmp_path):
    job = checked(boss, write_csv(tmp_path / "a.csv", SMALL_HEADER, SMALL_ROWS))

    with open_for(job) as chunks:
        sizes = [[row.number for row in chunk] for chunk in chunks]

    assert sizes == [[2, 3], [4, 5], [6]]


def open_for(job):
    return spool.open_spool(job, References.load(), today=timezone.localdate())


def test_database_state_is_still_resolved_at_commit_time(boss, east, tmp_path, reads):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS[:2]), reads)
    assert (job.created_count, job.updated_count) == (2, 0)
    # After the check someone files 李四 by hand: the commit must update it, not duplicate it.
    li = make_customer(boss, name="李四", phone="13900000001", address="旧地址")

    job = import_commit(job=job, mode=ImportMode.VALID_ONLY)

    assert reads == []  # from the spool
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 1, 0), job.rejected
    li.refresh_from_db()
    assert Customer.objects.filter(name="李四").get() == li
    assert (li.region, li.address) == (east, "旧地址")  # the row's region added, blank address kept
    zhang = Customer.objects.get(name="张三")
    assert zhang.archive_no > li.archive_no  # numbered at commit time, after the hand-made one


def test_a_rolled_back_all_or_nothing_commit_keeps_the_spool_for_the_valid_rows_commit(boss, east, tmp_path, reads):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS), reads)

    job = import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert job.status == ImportStatus.CHECKED and not Customer.objects.exists()
    assert os.path.exists(spool_of(job))
    job = import_commit(job=job, mode=ImportMode.VALID_ONLY)

    assert job.status == ImportStatus.DONE and job.created_count == 3
    assert reads == []


# --- same results with and without the spool ----------------------------------------------------


def rich_setup(boss, east, make_user):
    make_user("account_manager", username="liwei", display_name="李伟", region=east)
    CustomerClassFactory(code="A", name="A类")
    CustomerClassFactory(code="B", name="B类")
    CreditGradeFactory(code="AA", name="良好")
    CustomerSourceFactory(code="referral", name="转介绍")
    ProductCategoryFactory(code="c1", name="一类 计重收费设备")
    ProductCategoryFactory(code="c2", name="二类 超限设备")
    CustomField.objects.create(key="foreman", label="工长", field_type="text")
    CustomField.objects.create(key="contract_date", label="合同日期", field_type="date")
    CustomField.objects.create(key="vip", label="会员", field_type="boolean")
    CustomField.objects.create(key="size", label="人数", field_type="number")
    CustomField.objects.create(key="level", label="等级", field_type="choice", choices=["高", "低"])
    by_no = make_customer(boss, name="老客户", phone="13600000000", address="旧址")
    make_customer(boss, name="不变", phone="13600000001")
    return by_no


def rich_rows(by_no) -> list[list]:
    today = timezone.localdate()
    blank = [""] * len(FULL)

    def row(**cells):
        values = list(blank)
        for header, value in cells.items():
            values[FULL.index(header)] = value
        return values

    return [
        row(类型="个人", 名称="张三", 证件号码=IDS[0], 性别="男", 生日=datetime.date(1949, 12, 31), 地址="西安",
            片区="east", 客户经理="李伟", 客户分类="A类", 大客户="是", 信用等级="AA", 信息来源="转介绍",
            产品类别="一类 计重收费设备、c2", 生命周期="潜在", 标签="老客户、VIP", 联系人="张先生",
            **{"手机/电话": "138 1234 5678"}, 微信="zs_wx", 邮箱="zs@example.com", 同意营销="是", 备注="=不是公式",
            工长="李工", 合同日期=datetime.date(2026, 1, 31), 会员="否", 人数="12", 等级="高"),
        row(类型="单位", 名称="西安衡器有限公司", 证件号码=USCC, 片区="东区", 人数="3.5", 会员=True),
        row(名称="王五", **{"手机/电话": "12345"}),  # bad phone
        row(名称="张三", **{"手机/电话": "13812345678"}),  # row 2 again
        row(档案编号=by_no.archive_no, 名称="老客户", 地址="新址", 客户分类="B"),  # update
        row(名称="不变", **{"手机/电话": "13600000001"}),  # matches, nothing differs: skip
        row(名称="脱敏", **{"手机/电话": "138****5678"}),  # masked: cannot create
        [],  # an empty row
        row(名称="李四", 证件号码=IDS[1]),  # kind from the ID number
        row(名称="未来", 生日=today + datetime.timedelta(days=3)),
        row(名称="坏数字", 人数="很多", 等级="中"),
        row(档案编号="KH-0000-999999", 名称="不存在"),
        row(类型="个人", 名称="单位号码", 证件号码=USCC),
        row(名称="赵六", 生日="1990/1/2", **{"手机/电话": "029-8888 6666转123"}, 工长="  王工 "),
    ]  # fmt: skip


def snapshot(job) -> dict:
    """What one import wrote and reported, without what two runs differ in by nature
    (ids, timestamps, the job's id)."""
    job.refresh_from_db()
    pk = str(job.pk)

    def plain(value):
        return str(value).replace(f"#{pk}）", "#JOB）")

    number = dict(Customer.objects.values_list("pk", "archive_no"))
    skip = {"id", "created_at", "updated_at", "consent_at"}
    columns = [f.attname for f in Customer._meta.concrete_fields if f.attname not in skip]
    events = AuditEvent.objects.filter(code__startswith="customer.").exclude(code="customer.import_uploaded")
    return {
        "job": (job.status, job.total_rows, job.valid_rows, job.rejected_rows, job.rejected, job.created_count,
                job.updated_count, job.skipped_count, job.error),
        "customers": sorted(map(repr, Customer.objects.values_list(*columns))),
        "contacts": sorted(
            (number[c.pop("customer_id")], repr(c))
            for c in Contact.objects.values(
                "customer_id", "name", "phone", "phone_digits", "wechat", "email", "is_primary"
            )
        ),
        "tags": sorted((number[c.pk], sorted(c.tags.values_list("name", flat=True))) for c in Customer.objects.all()),
        "categories": sorted(
            (number[c.pk], sorted(c.categories.values_list("code", flat=True))) for c in Customer.objects.all()
        ),
        "events": sorted(
            (e.code, e.object_repr, repr(e.changes), plain({k: v for k, v in e.data.items() if k != "import_job"}))
            for e in events
        ),
        "timeline": sorted(
            (number[t.customer_id], t.kind, plain(t.title), repr(t.data)) for t in TimelineEntry.objects.all()
        ),
        "history": sorted(
            [(number[c.customer_id], c.to_grade_id, plain(c.reason)) for c in CreditChange.objects.all()]
            + [(number[c.customer_id], c.to_class_id, plain(c.reason)) for c in ClassChange.objects.all()]
        ),
    }  # fmt: skip


def import_and_forget(boss, path, reads, *, use_spool: bool) -> dict:
    """Check and commit (valid rows) in a savepoint rolled back after: both runs start
    from the same archive, numbering included."""
    with transaction.atomic():
        job = checked(boss, path, reads)
        if not use_spool:
            os.unlink(spool_of(job))
        job = import_commit(job=job, mode=ImportMode.VALID_ONLY)
        assert job.status == ImportStatus.DONE, job.error
        assert reads == ([] if use_spool else ["?"])
        result = snapshot(job)
        transaction.set_rollback(True)
    return result


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_results_are_the_same_with_and_without_the_spool(boss, east, make_user, tmp_path, reads, suffix):
    rows = rich_rows(rich_setup(boss, east, make_user))
    if suffix == "xlsx":
        path = write_xlsx(tmp_path / "rich.xlsx", FULL, rows)
    else:
        text = [[v.isoformat() if isinstance(v, datetime.date) else v for v in row] for row in rows]
        path = write_csv(tmp_path / "rich.csv", FULL, text)

    with_spool = import_and_forget(boss, path, reads, use_spool=True)
    without = import_and_forget(boss, path, reads, use_spool=False)

    assert with_spool == without
    job = with_spool["job"]
    assert job[1:4] == (13, 6, 7), job  # total, valid, rejected: something of every kind
    assert job[5:8] == (4, 1, 1), job  # created, updated, skipped
    assert with_spool["history"]  # class change and credit grade written


def kind_of(value) -> type:
    # A choice (CustomerKind.PERSON, a str enum) comes back as its plain string: equal,
    # same hash, same SQL parameter. Every other type must come back as it was.
    return str if isinstance(value, str) else type(value)


def test_spooled_rows_come_back_exactly_as_parsed(boss, east, make_user, tmp_path):
    rows = rich_rows(rich_setup(boss, east, make_user))
    path = write_xlsx(tmp_path / "rich.xlsx", FULL, rows)
    refs = References.load()
    with path.open("rb") as handle, open_rows(handle, path.name) as cells:
        (_number, header), *data = list(cells)
    parser = RowParser(resolve_headers(header, refs.fields.values()), refs)
    parsed = [r for r in (parser.parse(n, v) for n, v in data) if r is not None]

    back = spool.decode_rows(spool.encode_rows(parsed))

    assert len(back) == len(parsed) == 13
    for before, after in zip(parsed, back, strict=True):
        assert vars(after) == vars(before)
        for name, value in vars(before).items():
            assert kind_of(getattr(after, name)) is kind_of(value), name
            if isinstance(value, dict):
                assert {k: kind_of(v) for k, v in getattr(after, name).items()} == {
                    k: kind_of(v) for k, v in value.items()
                }
    assert back[0].values["birthday"] == datetime.date(1949, 12, 31)


def test_rows_already_matched_are_never_spooled(boss, east, tmp_path):
    refs = References.load()
    row = RowParser({0: "name"}, refs).parse(2, ["张三"])
    row.action = "create"

    with pytest.raises(ValueError, match="already matched"):
        spool.encode_rows([row])


# --- when the spool is not used -----------------------------------------------------------------


def damage(job, how):
    path = spool_of(job)
    if how == "missing":
        os.unlink(path)
    elif how == "unfinished":  # what a check that died before sealing it leaves
        os.replace(path, path + spool.PART)
    elif how == "truncated":
        with open(path, "r+b") as handle:
            handle.truncate(os.path.getsize(path) - 7)
    elif how == "altered":
        with open(path, "r+b") as handle:
            handle.seek(os.path.getsize(path) // 2)
            byte = handle.read(1)
            handle.seek(-1, os.SEEK_CUR)
            handle.write(bytes([byte[0] ^ 0xFF]))
    elif how == "trailing bytes":
        with open(path, "ab") as handle:
            handle.write(b"H\x00\x00\x00\x00")


@pytest.mark.parametrize("how", ["missing", "unfinished", "truncated", "altered", "trailing bytes"])
def test_a_missing_unfinished_or_damaged_spool_is_not_used(boss, east, tmp_path, reads, how):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS), reads)
    damage(job, how)

    job = import_commit(job=job, mode=ImportMode.VALID_ONLY)

    assert reads == ["?"]  # the file was read again
    assert job.status == ImportStatus.DONE, job.error
    assert (job.total_rows, job.created_count, job.rejected_rows) == (5, 3, 2)


def test_the_spool_of_another_job_is_not_used(boss, east, tmp_path, reads):
    path = write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS)
    first = checked(boss, path)
    second = checked(boss, path, reads)
    shutil.copyfile(spool_of(first), spool_of(second))  # same file, same everything but the job

    with open_for(second) as chunks:
        assert chunks is None
    job = import_commit(job=second, mode=ImportMode.VALID_ONLY)

    assert reads == ["?"] and job.created_count == 3


def test_a_changed_upload_is_not_matched_with_its_spool(boss, east, tmp_path):
    job = checked(boss, write_csv(tmp_path / "a.csv", SMALL_HEADER, SMALL_ROWS))
    with open(job.file.path, "ab") as handle:
        handle.write("孙七,13500000000,\r\n".encode())

    with open_for(job) as chunks:
        assert chunks is None


@pytest.mark.parametrize("change", ["code", "day", "language"])
def test_a_spool_made_by_other_code_on_another_day_or_in_another_language_is_not_used(
    boss, east, tmp_path, reads, monkeypatch, change
):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS), reads)
    language = "zh-hans"
    if change == "code":  # a deployment between the check and the commit
        monkeypatch.setattr(spool, "_code_digest", "another version")
    elif change == "day":  # the birthday check compares with "today"
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: tomorrow)
    else:  # the rows' messages were written in Chinese
        language = "en"

    with translation.override(language):
        job = import_commit(job=job, mode=ImportMode.VALID_ONLY)

    assert reads == ["?"]
    assert (job.status, job.created_count, job.rejected_rows) == (ImportStatus.DONE, 3, 2)


def test_reference_data_changed_after_the_check_makes_the_commit_read_the_file(boss, east, tmp_path, reads):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS), reads)
    assert job.rejected_rows == 2
    east.name = "东片区"  # the rows name it "东区": no longer found
    east.save()

    job = import_commit(job=job, mode=ImportMode.VALID_ONLY)

    assert reads == ["?"]
    # what the parse says now, not what the spool remembered: rows 2 and 3 name a region
    # that is gone, so row 6 (the same 张三) is no longer a duplicate of row 2
    assert (job.created_count, job.rejected_rows) == (2, 3)
    assert [r["row"] for r in job.rejected] == [2, 3, 4]
    assert "片区不存在：东区" in job.rejected[0]["errors"]


# --- a check that dies --------------------------------------------------------------------------


def test_a_check_that_fails_midway_leaves_no_spool(boss, east, tmp_path, monkeypatch):
    job = upload(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS))
    real = importer.Importer._chunk
    calls = []

    def fail_second(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        real(self, rows)

    monkeypatch.setattr(importer.Importer, "_chunk", fail_second)

    with pytest.raises(RuntimeError, match="worker killed"):
        import_check(job=job)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    path = spool_of(job)
    assert not os.path.exists(path) and not os.path.exists(path + spool.PART)


def test_a_worker_killed_mid_spool_leaves_only_an_unusable_part_that_housekeeping_deletes(
    boss, east, tmp_path, django_capture_on_commit_callbacks
):
    job = upload(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS))
    refs = References.load()
    writer = spool.SpoolWriter.start(job, refs, today=timezone.localdate())
    writer.add([RowParser({0: "name", 1: "phone"}, refs).parse(2, ["张三", "13812345678"])])
    writer.handle.flush()  # …and the process is killed: never sealed
    path = spool_of(job)
    assert os.path.exists(path + spool.PART) and not os.path.exists(path)
    with open_for(job) as chunks:
        assert chunks is None

    ago = timezone.now() - datetime.timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKING, heartbeat_at=ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_fail_stale() == 1

    assert not os.path.exists(path + spool.PART)
    writer.handle.close()


def test_a_spool_that_cannot_be_written_does_not_fail_the_check(boss, east, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool, "encode_rows", full)
    job = check(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS))

    assert job.status == ImportStatus.CHECKED and job.valid_rows == 3
    path = spool_of(job)
    assert not os.path.exists(path) and not os.path.exists(path + spool.PART)
    monkeypatch.undo()
    job = import_commit(job=job, mode=ImportMode.VALID_ONLY)
    assert job.created_count == 3


# --- housekeeping ---------------------------------------------------------------------------------


def test_the_spool_goes_with_the_upload_when_the_job_is_done(boss, east, tmp_path, django_capture_on_commit_callbacks):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS))
    path, upload_path = spool_of(job), job.file.path

    with django_capture_on_commit_callbacks(execute=True):
        job = import_commit(job=job, mode=ImportMode.VALID_ONLY)

    assert job.status == ImportStatus.DONE
    assert not os.path.exists(path) and not os.path.exists(upload_path)


def test_an_abandoned_checked_jobs_spool_is_deleted_with_its_upload(
    boss, east, tmp_path, django_capture_on_commit_callbacks
):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS))
    path = spool_of(job)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        assert import_uploads_purge() == 1

    assert not os.path.exists(path)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and job.file.name == ""


def test_a_spool_that_resists_deletion_keeps_the_upload_until_the_next_round(
    boss, east, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS))
    path, upload_path = spool_of(job), job.file.path
    real_unlink = os.unlink

    def refuse(name, *args, **kwargs):
        if str(name).endswith(spool.SUFFIX):
            raise PermissionError(13, "busy")
        return real_unlink(name, *args, **kwargs)

    monkeypatch.setattr(spool.os, "unlink", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        job = import_commit(job=job, mode=ImportMode.VALID_ONLY)
    assert job.status == ImportStatus.DONE
    assert os.path.exists(path) and os.path.exists(upload_path)  # found again through the job's file name

    monkeypatch.undo()
    assert import_uploads_purge() == 1
    assert not os.path.exists(path) and not os.path.exists(upload_path)


def test_the_spool_is_owner_only_data_beside_the_upload(boss, east, tmp_path):
    job = checked(boss, write_xlsx(tmp_path / "a.xlsx", SMALL_HEADER, SMALL_ROWS))
    path = spool_of(job)

    # Names, phones and ID numbers as the upload holds them: nobody else may read it.
    assert os.stat(path).st_mode & 0o077 == 0
    assert os.path.dirname(path) == os.path.dirname(job.file.path)
    # Records of plain JSON (zlib-compressed chunks), nothing that would run code when read.
    import json
    import zlib

    kinds = []
    with open(path, "rb") as handle:
        while (record := spool._read_record(handle)) is not None:
            kind, _frame, payload = record
            kinds.append(kind)
            json.loads(zlib.decompress(payload) if kind == spool._CHUNK else payload)
    assert kinds == [spool._HEADER, spool._CHUNK, spool._CHUNK, spool._CHUNK, spool._END]
