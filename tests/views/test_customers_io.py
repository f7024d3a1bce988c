"""The import pages (upload → check → commit, progress polling, rejected rows, template,
recent jobs) and the export download."""

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kefu.core.models import AuditEvent
from kefu.customers.io import importing
from kefu.customers.models import Customer, ImportJob
from kefu.customers.models.imports import ImportMode, ImportStatus
from tests.factories import RegionFactory
from tests.factories_customers import make_customer

pytestmark = pytest.mark.django_db

CSV = "名称,手机/电话,片区\n张三,13812345678,东区\n李四,12345,东区\n王五,13700000000,\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


def csv_upload(text=CSV, name="客户.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def upload(client, **kwargs):
    return client.post(reverse("customers:import"), {"file": csv_upload(**kwargs)})


def test_upload_check_and_commit_valid_rows_only(manager_client, manager, east):
    response = upload(manager_client)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("customers:import_job", args=[job.pk])
    assert job.status == ImportStatus.CHECKED  # small: checked in the request
    page = manager_client.get(reverse("customers:import_job", args=[job.pk]))
    html = page.content.decode()
    assert 'data-testid="import-rejected"' in html and "第 3 行" in html and "电话号码格式不正确：12345" in html
    assert 'data-testid="import-commit"' in html and 'hx-trigger="every 2s"' not in html
    assert page.context["commit_form"].initial["mode"] == ImportMode.VALID_ONLY
    assert not Customer.objects.exists()

    response = manager_client.post(reverse("customers:import_commit", args=[job.pk]), {"mode": "valid"}, follow=True)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "王五"]
    assert "导入完成：新建 2，更新 0，无变化 0，未导入 1" in response.content.decode()
    assert AuditEvent.objects.filter(code="customer.imported", actor=manager).count() == 1


def test_all_or_nothing_with_a_bad_row_writes_nothing_and_says_so(manager_client, east):
    upload(manager_client)
    job = ImportJob.objects.get()

    response = manager_client.post(reverse("customers:import_commit", args=[job.pk]), {"mode": "all"}, follow=True)

    assert not Customer.objects.exists()
    assert "未写入任何数据" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED  # may still be committed valid-rows-only


def test_bad_file_type_is_refused_on_the_form(manager_client):
    response = manager_client.post(reverse("customers:import"), {"file": csv_upload(name="客户.txt")})
    assert response.status_code == 200
    assert "只支持 .xlsx 或 .csv 文件" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_bad_headers_show_the_failure_on_the_job_page(manager_client):
    upload(manager_client, text="姓名X,鞋码\n张三,42\n")
    job = ImportJob.objects.get()
    html = manager_client.get(reverse("customers:import_job", args=[job.pk])).content.decode()
    assert job.status == ImportStatus.FAILED
    assert "缺少必需的列：名称" in html and "无法识别的列：姓名X、鞋码" in html
    assert 'data-testid="import-commit"' not in html


def test_large_files_are_checked_in_the_background_with_progress_polling(
    manager_client, monkeypatch, django_capture_on_commit_callbacks, east
):
    monkeypatch.setattr(importing, "SMALL_FILE_ROWS", 1)
    monkeypatch.setattr(importing, "estimate_rows", lambda job: 10_000)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(manager_client)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.UPLOADED and len(callbacks) == 1

    page = manager_client.get(reverse("customers:import_job", args=[job.pk]))
    assert 'hx-trigger="every 2s"' not in page.content.decode()  # uploaded, not yet checking
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKING, processed_rows=2000)
    status = manager_client.get(reverse("customers:import_job_status", args=[job.pk]))
    assert 'hx-trigger="every 2s"' in status.content.decode() and "已处理 2000 行" in status.content.decode()
    assert "HX-Refresh" not in status
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.UPLOADED)

    callbacks[0]()  # the transaction committed: the (immediate) job runs

    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED and job.total_rows == 3
    status = manager_client.get(reverse("customers:import_job_status", args=[job.pk]))
    assert status["HX-Refresh"] == "true"


def test_large_commit_runs_in_the_background(manager_client, monkeypatch, django_capture_on_commit_callbacks, east):
    upload(manager_client)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(total_rows=50_000)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("customers:import_commit", args=[job.pk]), {"mode": "valid"})
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and Customer.objects.count() == 2


def test_only_the_uploader_commits_and_a_job_commits_once(manager_client, make_user, east):
    upload(manager_client)
    job = ImportJob.objects.get()
    other = make_user("archivist", username="other", scope_all=True)
    client = Client()
    client.force_login(other)
    assert client.get(reverse("customers:import_job", args=[job.pk])).status_code == 200  # sees all
    assert client.post(reverse("customers:import_commit", args=[job.pk]), {"mode": "valid"}).status_code == 403
    assert not Customer.objects.exists()

    manager_client.post(reverse("customers:import_commit", args=[job.pk]), {"mode": "valid"})
    response = manager_client.post(reverse("customers:import_commit", args=[job.pk]), {"mode": "valid"}, follow=True)
    assert "只能提交一次" in response.content.decode()
    assert Customer.objects.count() == 2


def test_jobs_of_others_are_hidden_from_importers_who_do_not_see_everything(manager_client, make_user):
    upload(manager_client)
    job = ImportJob.objects.get()
    clerk = make_user("agent", username="clerk")
    from django.contrib.auth.models import Permission

    clerk.user_permissions.add(Permission.objects.get(codename="import_customer"))
    client = Client()
    client.force_login(clerk)
    assert client.get(reverse("customers:import_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("customers:import_job_status", args=[job.pk])).status_code == 404
    assert job.original_name not in client.get(reverse("customers:import")).content.decode()


def test_import_page_lists_recent_jobs_in_constant_queries(manager_client, manager, django_assert_max_num_queries):
    for i in range(3):
        upload(manager_client, name=f"第{i}批.csv")
    with django_assert_max_num_queries(12):
        few = manager_client.get(reverse("customers:import"))
    for i in range(3, 25):
        ImportJob.objects.create(original_name=f"第{i}批.csv", file="imports/x.csv", file_hash="0", created_by=manager)
    with django_assert_max_num_queries(12):
        many = manager_client.get(reverse("customers:import"))
    assert "第2批.csv" in few.content.decode()
    assert len(many.context["page"].items) == 20 and many.context["page"].has_more


def test_template_download(manager_client):
    response = manager_client.get(reverse("customers:import_template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    import io

    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    assert next(sheet.iter_rows(values_only=True))[:3] == ("档案编号", "类型", "名称")


def test_export_download_follows_the_list_query(manager_client, manager, east):
    make_customer(manager, name="张三", phone="13812345678", region=east)
    make_customer(manager, name="李四", phone="13900000000")

    response = manager_client.get(reverse("customers:export"), {"region": east.pk, "cursor": "ignored"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=utf-8''" in disposition
    import io

    content = b"".join(response.streaming_content)  # the test client closes it at the end, as a server does
    rows = list(openpyxl.load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == ["张三"]
    event = AuditEvent.objects.get(code="customer.exported")
    assert event.data["rows"] == 1 and event.data["params"] == {"region": str(east.pk)}


def test_export_temp_file_is_removed_after_the_download(manager_client, manager, monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    make_customer(manager)
    response = manager_client.get(reverse("customers:export"))
    assert list(tmp_path.glob("kefu-export-*"))
    b"".join(response.streaming_content)  # sent: the response is closed, as a server closes it
    assert not list(tmp_path.glob("kefu-export-*"))


def test_export_with_a_bad_filter_goes_back_to_the_list(manager_client):
    response = manager_client.get(reverse("customers:export"), {"region": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("customers:list"))
    assert not AuditEvent.objects.filter(code="customer.exported").exists()


def test_agents_may_neither_export_nor_import(client, make_user):
    client.force_login(make_user("agent"))
    for name in ("customers:export", "customers:import", "customers:import_template"):
        assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("customers:import"), {"file": csv_upload()}).status_code == 403
    assert not ImportJob.objects.exists()
