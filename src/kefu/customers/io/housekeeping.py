"""Import jobs nobody will finish, and uploaded files nobody needs any more.

- A job left "checking" or "importing" by a worker that died (killed, out of memory,
  machine restarted) would show as running forever. Its heartbeat (`heartbeat_at`,
  moved after every chunk) tells: older than `STALE_AFTER` and the job is failed with
  a message saying so. Nothing was written — the commit is one transaction, which the
  database rolled back when the worker's connection went away.
- The uploaded file (with the check's spool of parsed rows beside it, see `spool`) is
  deleted once the job is done or failed, and a job left waiting (uploaded or checked
  but never imported) for `ABANDON_AFTER` is closed and its file deleted.

Both run from the periodic job in `kefu.schedule`; the job pages also check the job
they show, so a stuck job is reported as soon as someone looks at it."""

from __future__ import annotations

import datetime
import logging

from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import context
from kefu.core.audit import audit_record
from kefu.customers.io.spool import discard_spool
from kefu.customers.models import ImportJob
from kefu.customers.models.imports import ImportStatus

logger = logging.getLogger(__name__)

# A live job moves its heartbeat every chunk (2,000 rows: about a second).
STALE_AFTER = datetime.timedelta(minutes=15)
# SQLite allows one writer at a time, so a commit cannot store its heartbeat until it
# ends: it is given STALE_AFTER plus one second per this many rows of its file.
SQLITE_COMMIT_ROWS_PER_S = 200
ABANDON_AFTER = datetime.timedelta(hours=24)
RUNNING = (ImportStatus.CHECKING, ImportStatus.IMPORTING)
FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)
WAITING = (ImportStatus.UPLOADED, ImportStatus.CHECKED)


# --- uploaded files ---------------------------------------------------------------------


def discard_upload(job: ImportJob) -> bool:
    """Delete the job's uploaded file, with the check's spool of parsed rows beside it
    (finished or not, see `spool`), and forget its name. False when the storage refused
    (the periodic job tries again: the spool goes first and the upload is kept until it
    has gone, because the job's file name is how the spool is found)."""
    name = job.file.name
    if not name:
        return True
    if not discard_spool(name, job.file.storage):
        return False
    try:
        job.file.storage.delete(name)
    except OSError:
        logger.warning("import upload %s of job %s not deleted", name, job.pk, exc_info=True)
        return False
    ImportJob.objects.filter(pk=job.pk, file=name).update(file="")
    job.file.name = ""
    return True


def discard_upload_on_commit(job: ImportJob) -> None:
    """Delete the file once the transaction that finished the job commits (at once
    outside one): a rolled-back finish keeps it."""
    transaction.on_commit(lambda: discard_upload(job), robust=True)


# --- stuck jobs -------------------------------------------------------------------------


def _allowance(job: ImportJob) -> datetime.timedelta:
    if job.status == ImportStatus.IMPORTING and connection.vendor == "sqlite":
        return STALE_AFTER + datetime.timedelta(seconds=job.total_rows / SQLITE_COMMIT_ROWS_PER_S)
    return STALE_AFTER


def job_is_stale(job: ImportJob, *, now: datetime.datetime | None = None) -> bool:
    """Running, with a heartbeat too old for a live worker."""
    if job.status not in RUNNING:
        return False
    return job.heartbeat_at < (now or timezone.now()) - _allowance(job)


def _stale_message(status: str) -> str:
    if status == ImportStatus.IMPORTING:
        return _("导入中断：后台任务长时间没有进展（可能已停止），已标记为失败，未写入任何数据。请重新上传文件导入。")
    return _("检查中断：后台任务长时间没有进展（可能已停止），已标记为失败。请重新上传文件。")


def _close(job: ImportJob, *, code: str, error: str, now: datetime.datetime) -> bool:
    """Fail `job` unless it moved since it was read (same status and heartbeat), with
    an audit event by the system; its file goes once that commits."""
    before = job.status
    with transaction.atomic():
        changed = ImportJob.objects.filter(pk=job.pk, status=before, heartbeat_at=job.heartbeat_at).update(
            status=ImportStatus.FAILED, error=error, finished_at=now, heartbeat_at=now
        )
        if not changed:
            return False
        job.status, job.error, job.finished_at, job.heartbeat_at = ImportStatus.FAILED, error, now, now
        ctx = context.current()
        with context.acting_as(request_id=ctx.request_id, ip=ctx.ip):
            audit_record(
                code=code,
                obj=job,
                data={"status": before, "processed_rows": job.processed_rows, "file": job.original_name},
            )
        discard_upload_on_commit(job)
    return True


def import_job_fail_if_stale(*, job: ImportJob) -> ImportJob:
    """For the job pages: `job`, failed first when its worker has evidently died. No
    query unless it is stale."""
    if not job_is_stale(job):
        return job
    try:
        if not _close(job, code="customer.import_abandoned", error=_stale_message(job.status), now=timezone.now()):
            job.refresh_from_db()
    except OperationalError:
        # SQLite: a commit still holds the write lock, so the job is alive after all.
        logger.info("import job %s looked stale but the database is busy", job.pk)
    return job


def import_jobs_fail_stale(*, now: datetime.datetime | None = None) -> int:
    """Every running job whose worker has evidently died is failed. Returns how many."""
    now = now or timezone.now()
    candidates = ImportJob.objects.filter(status__in=RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    failed = 0
    for job in candidates:
        if not job_is_stale(job, now=now):
            continue
        try:
            failed += _close(job, code="customer.import_abandoned", error=_stale_message(job.status), now=now)
        except OperationalError:
            logger.info("import job %s looked stale but the database is busy", job.pk)
    return failed


# --- abandoned jobs and left-over files ----------------------------------------------


def import_uploads_purge(*, now: datetime.datetime | None = None) -> int:
    """Jobs uploaded or checked but not imported within ABANDON_AFTER are closed (a
    message says why) and their files deleted; the file of a finished job still on disk
    (its deletion had failed) is deleted. Returns how many jobs it closed or cleaned."""
    now = now or timezone.now()
    error = _("超过 24 小时未导入，已关闭该任务并删除上传的文件；如需导入请重新上传。")
    done = 0
    for job in ImportJob.objects.filter(status__in=FINISHED).exclude(file=""):
        done += discard_upload(job)
    for job in ImportJob.objects.filter(status__in=WAITING, heartbeat_at__lt=now - ABANDON_AFTER):
        done += _close(job, code="customer.import_expired", error=error, now=now)
    return done
