"""Large files: 50,000 rows checked and committed in bulk (statements of many rows, never
one per row); a re-run of thousands of rows updates what changed and skips the rest."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.models import AuditEvent
from kefu.customers.io.importing import import_check, import_commit
from kefu.customers.models import Contact, Customer, TimelineEntry
from kefu.customers.models.imports import ImportMode, ImportStatus
from tests.factories import RegionFactory
from tests.factories_customers import CustomerClassFactory
from tests.factories_customers_io import upload, valid_ids, write_xlsx

pytestmark = pytest.mark.django_db

ROWS = 50_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def big_file(path):
    ids = valid_ids()
    regions = ["东区", "西区", "south"]
    classes = ["A", "B类", "C"]

    def rows():
        for i in range(ROWS):
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + str(i // 400)
            yield [
                name,
                f"13{i % 10}{i:08d}",
                next(ids) if i % 3 == 0 else "",
                regions[i % 3],
                classes[i % 3],
                "老客户、重点" if i % 5 == 0 else "",
            ]

    return write_xlsx(path, ["名称", "手机/电话", "证件号码", "片区", "客户分类", "标签"], rows())


def test_fifty_thousand_rows_are_checked_and_imported_in_bulk(make_user, tmp_path):
    boss = make_user("archivist", scope_all=True)
    RegionFactory(code="east", name="东区"), RegionFactory(code="west", name="西区")
    RegionFactory(code="south", name="南区")
    for code in "ABC":
        CustomerClassFactory(code=code, name=f"{code}类")
    path = big_file(tmp_path / "big.xlsx")

    job = import_check(job=upload(boss, path))
    assert job.status == ImportStatus.CHECKED, job.error
    assert (job.total_rows, job.valid_rows, job.created_count) == (ROWS, ROWS, ROWS)

    with CaptureQueriesContext(connection) as queries:
        job = import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)

    assert job.status == ImportStatus.DONE, job.error
    assert job.created_count == ROWS and job.processed_rows == ROWS
    assert Customer.objects.count() == ROWS and Contact.objects.count() == ROWS
    assert AuditEvent.objects.filter(code="customer.created").count() == ROWS
    assert TimelineEntry.objects.count() == ROWS
    # bulk writes: statements of many rows each (SQLite caps one at 999 parameters),
    # never one per row
    assert len(queries) < ROWS // 10, len(queries)
    sample = Contact.objects.get(phone="13700000007").customer  # row 7
    assert (sample.name, sample.customer_class.code, sample.region.code) == (SURNAMES[7] + GIVEN[0] + "0", "B", "west")
    assert sorted(Contact.objects.get(phone="13000000010").customer.tags.values_list("name", flat=True)) == [
        "老客户",
        "重点",
    ]
    numbers = list(Customer.objects.values_list("archive_no", flat=True))
    assert len(set(numbers)) == ROWS


def test_a_rerun_at_scale_updates_the_changed_rows_and_skips_the_rest(make_user, tmp_path):
    boss = make_user("archivist", scope_all=True)
    count = 4000
    header = ["名称", "手机/电话", "地址"]
    rows = [[f"客户{i}", f"139{i:08d}", "西安"] for i in range(count)]
    first = import_commit(job=import_check(job=upload(boss, write_xlsx(tmp_path / "a.xlsx", header, rows))), mode="all")
    assert first.created_count == count
    for i in range(0, count, 10):
        rows[i][2] = "宝鸡"

    job = import_check(job=upload(boss, write_xlsx(tmp_path / "b.xlsx", header, rows)))
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, count // 10, count - count // 10)
    with CaptureQueriesContext(connection) as queries:
        job = import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)

    assert (job.created_count, job.updated_count, job.skipped_count) == (0, count // 10, count - count // 10)
    assert Customer.objects.count() == count and Customer.objects.filter(address="宝鸡").count() == count // 10
    assert Customer.objects.filter(address="宝鸡", version=2).count() == count // 10
    assert AuditEvent.objects.filter(code="customer.updated").count() == count // 10
    assert len(queries) < count // 20, len(queries)


def test_ids_helper_gives_distinct_valid_numbers():
    from stdnum.cn import ric

    sample = list(itertools.islice(valid_ids(), 2000))
    assert len(set(sample)) == 2000 and all(ric.is_valid(n) for n in sample)
