"""Importing customers from .xlsx/.csv (the layout of `columns`, i.e. what the export
writes): the services the pages, the `kefu import` command and the jobs call.

1. `import_job_create` stores the upload under MEDIA_ROOT with a generated name.
2. `import_check` (dry run) reads every row, validates it the way the services do
   (`clean_phone`, `clean_id_number`, the custom-field validation of `clean_extra`,
   reference lookups by code or name), finds duplicates inside the file and matches each
   row with the archive. It lists every rejected row with its reasons and predicts how
   many archives would be created, updated or left unchanged.
3. `import_commit` runs the same pass again and writes, in ONE transaction:
   all-or-nothing (any rejected row → nothing is written) or valid rows only. It takes
   the rows as the check parsed them from the check's spool (`spool`) instead of
   reading the file again, when that spool is complete and made for exactly this upload;
   duplicates, matching with the archive and numbering are decided at commit time, as
   the check did them.

Re-running a file creates nothing twice: a row whose 档案编号 exists, or whose ID number
or name + phone matches a live archive, updates that archive (or is skipped when nothing
differs). Blank cells never clear a stored value.

The pass itself is `importer.Importer` (chunks, matching), rows are parsed in `rows`,
written in `writing` / `bulk`; `housekeeping` fails jobs whose worker died and deletes
uploaded files once they are no longer needed."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access, context
from kefu.core.audit import audit_record
from kefu.core.errors import AccessDenied, InvalidState, KefuError, ValidationFailed
from kefu.customers.io.bulk import bulk_write_session
from kefu.customers.io.housekeeping import RUNNING, discard_upload_on_commit
from kefu.customers.io.importer import CHUNK_ROWS, MAX_ROWS, REJECTED_CAP, Importer, Outcome
from kefu.customers.io.progress import Progress
from kefu.customers.io.reading import SUFFIXES, suffix_of
from kefu.customers.models import ImportJob
from kefu.customers.models.imports import ImportMode, ImportStatus

# CHUNK_ROWS, MAX_ROWS and REJECTED_CAP stay importable from here; the pass reads them
# from `importer`.
__all__ = [
    "CHUNK_ROWS",
    "IMPORT",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "REJECTED_CAP",
    "Importer",
    "estimate_rows",
    "import_check",
    "import_check_start",
    "import_commit",
    "import_commit_start",
    "import_job_create",
    "import_job_list",
    "job_is_running",
]

logger = logging.getLogger(__name__)

IMPORT = "customers.import_customer"
# Files up to this many rows are checked (and committed) in the request; larger ones
# in a background job with progress.
SMALL_FILE_ROWS = 2000
# An .xlsx this small holds at most a few thousand rows (compressed XML).
SMALL_XLSX_BYTES = 256 * 1024
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class _RollBack(Exception):
    """Raised inside the commit's transaction to undo everything written so far."""


class _Abandoned(Exception):
    """The job stopped being "importing" while the commit ran (`housekeeping` judged its
    worker dead and failed it): the commit is undone, so that "failed" stays true."""


# --- uploads --------------------------------------------------------------------------


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def import_job_create(*, actor, upload, max_bytes: int | None = MAX_UPLOAD_BYTES) -> ImportJob:
    """Store an uploaded .xlsx/.csv (under MEDIA_ROOT/imports/, with a generated name —
    never the user's) as a new import job, waiting for its check."""
    access.require(actor, IMPORT)
    original = os.path.basename(str(upload.name or "")).strip() or "upload"
    suffix = suffix_of(original)
    if suffix not in SUFFIXES:
        raise ValidationFailed(_("只支持 .xlsx 或 .csv 文件。"), details={"field": "file"})
    if not upload.size:
        raise ValidationFailed(_("文件是空的。"), details={"field": "file"})
    if max_bytes is not None and upload.size > max_bytes:
        raise ValidationFailed(
            _("文件不能超过 %(mb)d MB。") % {"mb": max_bytes // (1024 * 1024)}, details={"field": "file"}
        )
    digest = _sha256(upload)
    with transaction.atomic():
        job = ImportJob(original_name=original[:200], file_hash=digest, created_by=actor)
        job.file.save(f"{uuid.uuid4().hex}{suffix}", upload, save=False)
        job.save()
        audit_record(
            code="customer.import_uploaded",
            obj=job,
            actor=actor,
            data={"file": original, "size": upload.size, "sha256": digest},
        )
    return job


def estimate_rows(job: ImportJob) -> int | None:
    """Roughly how many data rows the file holds (None: unknown), to decide whether to
    check it in the request or in the background. A .csv counts its lines; an .xlsx is
    judged by its size (opening it would already parse all its shared strings)."""
    try:
        if suffix_of(job.file.name) == ".xlsx":
            return SMALL_FILE_ROWS if job.file.size <= SMALL_XLSX_BYTES else None
        lines = 0
        with job.file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
        return max(lines - 1, 0)
    except OSError:  # a missing file is reported by the check itself
        return None


def _is_small(rows: int | None) -> bool:
    return rows is not None and rows <= SMALL_FILE_ROWS


def import_check_start(*, job: ImportJob) -> bool:
    """Check a small file now, a large one in a background job. True when done now."""
    if _is_small(estimate_rows(job)):
        import_check(job=job)
        return True
    from kefu.customers.tasks import import_check_task
    from kefu.jobs import enqueue_on_commit

    enqueue_on_commit(import_check_task, job.pk)
    return False


def import_commit_start(*, actor, job: ImportJob, mode: str) -> bool:
    """The user's "导入" button: claim the checked job (a second click finds it already
    importing), then commit a small file now and a large one in the background. True
    when done now."""
    access.require(actor, IMPORT)
    if job.created_by_id != actor.pk:
        raise AccessDenied(_("只有上传该文件的人可以提交导入。"))
    _claim_commit(job, mode)
    if _is_small(job.total_rows):
        import_commit(job=job, mode=mode, claimed=True)
        return True
    from kefu.customers.tasks import import_commit_task
    from kefu.jobs import enqueue_on_commit

    enqueue_on_commit(import_commit_task, job.pk, mode)
    return False


# --- reads ----------------------------------------------------------------------------


def import_job_list(*, user):
    """Import jobs the user may see: their own; everyone's for those who see all data."""
    if not access.has_perm(user, IMPORT):
        return ImportJob.objects.none()
    qs = ImportJob.objects.select_related("created_by")
    if not access.sees_everything(user):
        qs = qs.filter(created_by=user)
    return qs


# --- check and commit ---------------------------------------------------------------


def _finish(job: ImportJob, *, expect: str | None = None, **values) -> ImportJob:
    """Store the job's outcome. With `expect`, only while the job is still in that state:
    a job failed meanwhile as abandoned (`housekeeping`) stays failed. A job that
    finished (done or failed) no longer needs its file, which goes once this commits."""
    values["heartbeat_at"] = timezone.now()
    jobs = ImportJob.objects.filter(pk=job.pk)
    if expect is not None:
        jobs = jobs.filter(status=expect)
    if not jobs.update(**values):
        job.refresh_from_db()
        return job
    for name, value in values.items():
        setattr(job, name, value)
    if job.status in (ImportStatus.DONE, ImportStatus.FAILED):
        discard_upload_on_commit(job)
    return job


def _result_values(outcome: Outcome) -> dict[str, Any]:
    return {
        "total_rows": outcome.total,
        "processed_rows": outcome.total,
        "valid_rows": outcome.total - outcome.rejected,
        "rejected_rows": outcome.rejected,
        "rejected": outcome.rejected_list,
        "created_count": outcome.created,
        "updated_count": outcome.updated,
        "skipped_count": outcome.skipped,
    }


def import_check(*, job: ImportJob) -> ImportJob:
    """Dry run: validate every row and match it with the archive, writing nothing but
    the job's report (rejected rows with reasons; predicted created/updated/skipped)."""
    actor = job.created_by
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
        status=ImportStatus.CHECKING, processed_rows=0, error="", heartbeat_at=timezone.now()
    )
    if not claimed:
        raise InvalidState(_("该导入任务已检查过或正在处理。"))
    job.status = ImportStatus.CHECKING
    progress = Progress(job, side_channel=False)
    checking = ImportStatus.CHECKING
    try:
        access.require(actor, IMPORT)
        with context.acting_as(user=actor):
            outcome = Importer(job, actor=actor, write=False, mode=job.mode, progress=progress).run()
    except KefuError as exc:
        return _finish(job, expect=checking, status=ImportStatus.FAILED, error=exc.message, finished_at=timezone.now())
    except Exception:
        logger.exception("import check %s failed", job.pk)
        _finish(
            job,
            expect=checking,
            status=ImportStatus.FAILED,
            error=_("检查时发生内部错误，请联系管理员。"),
            finished_at=timezone.now(),
        )
        raise
    return _finish(job, expect=checking, status=ImportStatus.CHECKED, error="", **_result_values(outcome))


def _claim_commit(job: ImportJob, mode: str) -> None:
    if mode not in ImportMode.values:
        raise ValidationFailed(_("导入方式无效。"), details={"field": "mode"})
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.IMPORTING, mode=mode, processed_rows=0, error="", heartbeat_at=timezone.now()
    )
    if not claimed:
        raise InvalidState(_("该导入任务当前不能提交（需要先完成检查，且只能提交一次）。"))
    job.status, job.mode = ImportStatus.IMPORTING, mode


def _still_importing(job: ImportJob) -> bool:
    # Locks the job row until the commit ends: from here on it cannot be failed as
    # abandoned while the import's writes become visible.
    return ImportJob.objects.select_for_update().filter(pk=job.pk, status=ImportStatus.IMPORTING).exists()


def import_commit(*, job: ImportJob, mode: str, claimed: bool = False) -> ImportJob:
    """Write the file: the same pass as the check, in one transaction.
    ALL_OR_NOTHING writes nothing when any row is rejected (the job goes back to
    "checked" with the rejected rows listed); VALID_ONLY writes exactly the valid rows
    and lists the others. A failure of any kind rolls everything back. One
    `customer.imported` audit event for the job, plus one `customer.created` /
    `customer.updated` event and timeline entry per archive written."""
    if claimed:
        if job.status != ImportStatus.IMPORTING or job.mode != mode:
            raise InvalidState(_("该导入任务未处于导入中状态。"))
    else:
        _claim_commit(job, mode)
    actor = job.created_by
    progress = Progress(job, side_channel=not connection.in_atomic_block)
    importing = ImportStatus.IMPORTING
    outcome = None
    try:
        access.require(actor, IMPORT)
        with context.acting_as(user=actor), bulk_write_session(), transaction.atomic():
            importer = Importer(job, actor=actor, write=True, mode=mode, progress=progress)
            outcome = importer.run()
            if mode == ImportMode.ALL_OR_NOTHING and outcome.rejected:
                raise _RollBack
            if not _still_importing(job):
                raise _Abandoned
            audit_record(
                code="customer.imported",
                obj=job,
                actor=actor,
                data={
                    "file": job.original_name,
                    "sha256": job.file_hash,
                    "mode": mode,
                    "rows": outcome.total,
                    "created": outcome.created,
                    "updated": outcome.updated,
                    "skipped": outcome.skipped,
                    "rejected": outcome.rejected,
                },
            )
            # In the same transaction: "done" if and only if the rows are written.
            _finish(job, status=ImportStatus.DONE, error="", finished_at=timezone.now(), **_result_values(outcome))
    except _RollBack:
        # Back to "checked", with the counts as predictions: the user may still import
        # the valid rows only.
        return _finish(
            job,
            expect=importing,
            status=ImportStatus.CHECKED,
            error=_("有 %(count)d 行未通过检查，按“全部成功才导入”未写入任何数据。") % {"count": outcome.rejected},
            **_result_values(outcome),
        )
    except _Abandoned:
        logger.warning("import job %s was failed as abandoned while it ran: rolled back", job.pk)
        job.refresh_from_db()
        return job
    except KefuError as exc:
        return _finish(
            job,
            expect=importing,
            status=ImportStatus.FAILED,
            error=_("导入失败，未写入任何数据：%(error)s") % {"error": exc.message},
            finished_at=timezone.now(),
        )
    except Exception:
        logger.exception("import commit %s failed", job.pk)
        _finish(
            job,
            expect=importing,
            status=ImportStatus.FAILED,
            error=_("导入时发生内部错误，未写入任何数据。请联系管理员。"),
            finished_at=timezone.now(),
        )
        raise
    finally:
        progress.close()
    return job


def job_is_running(job: ImportJob) -> bool:
    return job.status in RUNNING
