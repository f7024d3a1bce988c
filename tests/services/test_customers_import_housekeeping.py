"""Import jobs left running by a worker that died are failed (periodic job and job page);
uploaded files are deleted when the job finishes, and abandoned dry runs are closed
after a day."""

import datetime

import pytest
from django.db import OperationalError, connection, connections
from django.urls import reverse
from django.utils import timezone

from kefu import schedule
from kefu.core.errors import InvalidState
from kefu.core.models import AuditEvent
from kefu.customers.io import importer
from kefu.customers.io.housekeeping import import_jobs_fail_stale, import_uploads_purge
from kefu.customers.io.importing import import_check, import_commit
from kefu.customers.models import Customer, ImportJob
from kefu.customers.models.imports import ImportMode, ImportStatus
from tests.factories_customers_io import check, upload, write_csv

pytestmark = pytest.mark.django_db

HEADER = ["名称", "手机/电话"]
ROWS = [["张三", "13812345678"], ["李四", "13900000000"]]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def boss(make_user):
    return make_user("archivist", username="boss", scope_all=True)


def stored(job):
    """Whether the job's upload is still on disk."""
    job.refresh_from_db()
    return bool(job.file.name) and job.file.storage.exists(job.file.name)


def left_running(job, status, *, minutes, total_rows=2):
    """What a worker that died leaves behind: a running job whose heartbeat stopped."""
    ago = timezone.now() - datetime.timedelta(minutes=minutes)
    ImportJob.objects.filter(pk=job.pk).update(status=status, heartbeat_at=ago, total_rows=total_rows)
    job.refresh_from_db()
    return job


# --- jobs whose worker died -------------------------------------------------------------


def test_the_periodic_job_fails_running_jobs_whose_worker_died(boss, tmp_path, django_capture_on_commit_callbacks):
    dead_check = left_running(upload(boss, write_csv(tmp_path / "a.csv", HEADER, ROWS)), "checking", minutes=20)
    dead_commit = left_running(upload(boss, write_csv(tmp_path / "b.csv", HEADER, ROWS)), "importing", minutes=20)
    alive = left_running(upload(boss, write_csv(tmp_path / "c.csv", HEADER, ROWS)), "importing", minutes=1)

    with django_capture_on_commit_callbacks(execute=True):
        schedule.customer_imports_tidy.call_local()

    for job in (dead_check, dead_commit, alive):
        job.refresh_from_db()
    assert dead_check.status == ImportStatus.FAILED and "检查中断" in dead_check.error
    assert dead_commit.status == ImportStatus.FAILED and "未写入任何数据" in dead_commit.error
    assert dead_commit.finished_at is not None
    assert alive.status == ImportStatus.IMPORTING and alive.error == ""
    assert not stored(dead_check) and not stored(dead_commit) and stored(alive)
    events = AuditEvent.objects.filter(code="customer.import_abandoned")
    assert sorted(int(e.object_id) for e in events) == sorted([dead_check.pk, dead_commit.pk])
    assert (
        all(e.actor is None for e in events) and events.get(object_id=str(dead_commit.pk)).data["status"] == "importing"
    )
    # a second run finds nothing left to do
    assert import_jobs_fail_stale() == 0 and not Customer.objects.exists()


def test_a_sqlite_commit_gets_time_in_proportion_to_its_rows(boss, tmp_path):
    """SQLite cannot store a heartbeat during the commit's transaction (one writer)."""
    job = left_running(upload(boss, write_csv(tmp_path / "a.csv", HEADER, ROWS)), "importing", minutes=20)
    ImportJob.objects.filter(pk=job.pk).update(total_rows=1_000_000)

    import_jobs_fail_stale()

    job.refresh_from_db()
    if connection.vendor == "sqlite":  # 15 min + 1,000,000 / 200 s
        assert job.status == ImportStatus.IMPORTING
        assert import_jobs_fail_stale(now=timezone.now() + datetime.timedelta(hours=2)) == 1
    else:  # PostgreSQL stores the heartbeat through a second connection
        assert job.status == ImportStatus.FAILED


def test_the_job_page_reports_a_dead_worker_at_once(manager_client, manager, tmp_path):
    job = left_running(upload(manager, write_csv(tmp_path / "a.csv", HEADER, ROWS)), "importing", minutes=30)

    status = manager_client.get(reverse("customers:import_job_status", args=[job.pk]))

    assert status["HX-Refresh"] == "true"  # no longer running: the page reloads
    page = manager_client.get(reverse("customers:import_job", args=[job.pk])).content.decode()
    assert "导入中断" in page and 'hx-trigger="every 2s"' not in page
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert AuditEvent.objects.filter(code="customer.import_abandoned", object_id=str(job.pk), actor=None).count() == 1


def test_a_live_job_page_keeps_polling(manager_client, manager, tmp_path):
    job = left_running(upload(manager, write_csv(tmp_path / "a.csv", HEADER, ROWS)), "checking", minutes=2)
    page = manager_client.get(reverse("customers:import_job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKING and not AuditEvent.objects.filter(code="customer.import_abandoned")


def test_progress_moves_the_heartbeat(boss, tmp_path, monkeypatch):
    job = upload(boss, write_csv(tmp_path / "a.csv", HEADER, ROWS))
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(days=3))
    before = timezone.now()
    job = import_check(job=job)
    assert job.status == ImportStatus.CHECKED and job.heartbeat_at >= before


@pytest.mark.django_db(transaction=True)
def test_a_commit_failed_as_abandoned_meanwhile_writes_nothing(make_user, tmp_path, monkeypatch):
    """Another process judged the worker dead while it was in fact still writing. On
    PostgreSQL it can fail the job, so the commit must roll back for "failed, nothing
    written" to stay true; on SQLite it cannot even do that (the commit holds the only
    write lock)."""
    boss = make_user("archivist", username="boss", scope_all=True)
    job = check(boss, write_csv(tmp_path / "a.csv", HEADER, ROWS))
    real_write = importer.write_chunk
    refused = []

    def write_then_get_failed(imp, rows):
        real_write(imp, rows)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                if other.vendor == "sqlite":
                    cursor.execute("PRAGMA busy_timeout = 0")
                cursor.execute(
                    "UPDATE customers_importjob SET status = 'failed', error = %s WHERE id = %s", ["导入中断", job.pk]
                )
        except OperationalError:
            refused.append(True)
        finally:
            other.close()

    monkeypatch.setattr(importer, "write_chunk", write_then_get_failed)

    job = import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)

    if connection.vendor == "sqlite":
        assert refused and job.status == ImportStatus.DONE and Customer.objects.count() == 2
    else:
        assert not refused and job.status == ImportStatus.FAILED and job.error == "导入中断"
        assert not Customer.objects.exists()
        assert not AuditEvent.objects.filter(code__in=["customer.created", "customer.imported"]).exists()


def test_a_check_failed_as_abandoned_meanwhile_stays_failed(boss, tmp_path, monkeypatch):
    job = upload(boss, write_csv(tmp_path / "a.csv", HEADER, ROWS))
    real_chunk = importer.Importer._chunk

    def chunk_then_get_failed(self, rows):
        real_chunk(self, rows)
        ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
        import_jobs_fail_stale()

    monkeypatch.setattr(importer.Importer, "_chunk", chunk_then_get_failed)

    job = import_check(job=job)

    assert job.status == ImportStatus.FAILED and "检查中断" in job.error and job.valid_rows == 0


# --- uploaded files ---------------------------------------------------------------------


def test_the_file_is_deleted_when_the_job_finishes(boss, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        done = check(boss, write_csv(tmp_path / "a.csv", HEADER, ROWS))
        assert stored(done)  # checked: kept for the commit
        done = import_commit(job=done, mode=ImportMode.ALL_OR_NOTHING)
        failed = check(boss, write_csv(tmp_path / "b.csv", ["鞋码"], [["42"]]))
    assert done.status == ImportStatus.DONE and failed.status == ImportStatus.FAILED
    assert not stored(done) and not stored(failed)
    assert done.file.name == "" and not list((tmp_path / "media").rglob("*.csv"))


def test_a_rolled_back_commit_keeps_the_file_for_the_valid_rows_only_commit(
    boss, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = check(boss, write_csv(tmp_path / "a.csv", HEADER, [*ROWS, ["王五", "12345"]]))
        job = import_commit(job=job, mode=ImportMode.ALL_OR_NOTHING)
        assert job.status == ImportStatus.CHECKED and stored(job)
        job = import_commit(job=job, mode=ImportMode.VALID_ONLY)
    assert job.status == ImportStatus.DONE and Customer.objects.count() == 2 and not stored(job)


def test_abandoned_dry_runs_are_closed_after_a_day(boss, tmp_path, django_capture_on_commit_callbacks):
    old_check = check(boss, write_csv(tmp_path / "a.csv", HEADER, ROWS))
    old_upload = upload(boss, write_csv(tmp_path / "b.csv", HEADER, ROWS))
    recent = check(boss, write_csv(tmp_path / "c.csv", HEADER, ROWS))
    day_ago = timezone.now() - datetime.timedelta(hours=25)
    ImportJob.objects.filter(pk__in=[old_check.pk, old_upload.pk]).update(heartbeat_at=day_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert import_uploads_purge() == 2

    for job in (old_check, old_upload, recent):
        job.refresh_from_db()
    assert old_check.status == ImportStatus.FAILED and "超过 24 小时未导入" in old_check.error
    assert old_upload.status == ImportStatus.FAILED
    assert not stored(old_check) and not stored(old_upload)
    assert recent.status == ImportStatus.CHECKED and stored(recent)
    assert AuditEvent.objects.filter(code="customer.import_expired").count() == 2
    with pytest.raises(InvalidState):  # the file is gone: it cannot be committed any more
        import_commit(job=old_check, mode=ImportMode.ALL_OR_NOTHING)
    assert not Customer.objects.exists()


def test_a_finished_jobs_file_left_on_disk_is_deleted_by_the_periodic_job(boss, tmp_path):
    job = upload(boss, write_csv(tmp_path / "a.csv", HEADER, ROWS))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE)  # its deletion had failed
    assert stored(job)

    schedule.customer_imports_tidy.call_local()

    assert not stored(job) and ImportJob.objects.get(pk=job.pk).file.name == ""
