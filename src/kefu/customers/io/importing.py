"""Importing customers from .xlsx/.csv (the layout of `columns`, i.e. what the export
writes).

1. `import_job_create` stores the upload under MEDIA_ROOT with a generated name.
2. `import_check` (dry run) reads every row, validates it the way the services do
   (`clean_phone`, `clean_id_number`, the custom-field validation of `clean_extra`,
   reference lookups by code or name), finds duplicates inside the file and matches each
   row with the archive. It lists every rejected row with its reasons and predicts how
   many archives would be created, updated or left unchanged.
3. `import_commit` runs the same pass again and writes, in ONE transaction:
   all-or-nothing (any rejected row → nothing is written) or valid rows only.

Re-running a file creates nothing twice: a row whose 档案编号 exists, or whose ID number
or name + phone matches a live archive, updates that archive (or is skipped when nothing
differs). Blank cells never clear a stored value.

Rows are processed in chunks of `CHUNK_ROWS`: one set of queries per chunk to match the
archive (`rows`), then bulk writes of new customers, contacts, category/tag links,
credit history, audit events and timeline entries, with archive numbers taken in one
locked block and the search text computed in Python (`writing`, `bulk`): no row needs
a query of its own."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access, context
from kefu.core.audit import audit_record
from kefu.core.errors import AccessDenied, InvalidState, KefuError, ValidationFailed
from kefu.customers.io.columns import KIND_TEXT, resolve_headers
from kefu.customers.io.reading import SUFFIXES, cell_text, open_rows, suffix_of
from kefu.customers.io.rows import (
    ORG,
    PERSON,
    Archive,
    ImportRow,
    References,
    RowParser,
    load_archives,
    row_changes,
)
from kefu.customers.io.writing import write_chunk
from kefu.customers.models import Contact, Customer, ImportJob
from kefu.customers.models.imports import ImportMode, ImportStatus
from kefu.customers.services.common import ensure_in_scope
from kefu.customers.validation import clean_id_number

logger = logging.getLogger(__name__)

IMPORT = "customers.import_customer"
CHUNK_ROWS = 2000
REJECTED_CAP = 1000
# Files up to this many rows are checked (and committed) in the request; larger ones
# in a background job with progress.
SMALL_FILE_ROWS = 2000
# An .xlsx this small holds at most a few thousand rows (compressed XML).
SMALL_XLSX_BYTES = 256 * 1024
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 1_000_000
RUNNING = (ImportStatus.CHECKING, ImportStatus.IMPORTING)


class _RollBack(Exception):
    """Raised inside the commit's transaction to undo everything written so far."""


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


# --- a whole file ---------------------------------------------------------------------


@dataclass
class _Outcome:
    total: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected_list: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row: ImportRow) -> None:
        self.rejected += 1
        if len(self.rejected_list) < REJECTED_CAP:
            self.rejected_list.append({"row": row.number, "errors": list(row.errors)})


class Importer:
    """One pass over a file: parse and validate, match with the archive, and (when
    `write`) write each chunk. The dry run and the commit are this same pass, so the
    check predicts exactly what the commit does."""

    def __init__(self, job: ImportJob, *, actor, write: bool, mode: str, progress: Callable[[int], None]):
        self.job = job
        self.actor = actor
        self.write = write
        self.mode = mode
        self.progress = progress
        self.refs = References.load()
        self.outcome = _Outcome()
        self.sees_all = access.sees_everything(actor)
        self.region_ids = access.user_region_ids(actor)
        self.default_region_id = getattr(actor, "region_id", None)
        # Keys seen so far in the file → first row number (duplicates inside the file).
        self.seen_ids: dict[str, int] = {}
        self.seen_name_phone: dict[tuple[str, str], int] = {}
        self.seen_numbers: dict[str, int] = {}
        self.seen_targets: dict[int, int] = {}
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.ctx = context.current()

    # -- driving -------------------------------------------------------------------

    def run(self) -> _Outcome:
        with self.job.file.open("rb") as handle, open_rows(handle, self.job.file.name) as rows:
            mapping = None
            for _number, values in rows:
                if not any(cell_text(v) for v in values):
                    continue
                mapping = resolve_headers(values, self.refs.fields.values())
                break
            if mapping is None:
                raise ValidationFailed(_("文件中没有内容（第一行应为列标题）。"), code="import_empty")
            parser = RowParser(mapping, self.refs)
            chunk: list[ImportRow] = []
            for number, values in rows:
                row = parser.parse(number, values)
                if row is None:
                    continue
                self.outcome.total += 1
                if self.outcome.total > MAX_ROWS:
                    raise ValidationFailed(
                        _("文件超过 %(max)d 行，请拆分后导入。") % {"max": MAX_ROWS}, code="import_too_large"
                    )
                chunk.append(row)
                if len(chunk) >= CHUNK_ROWS:
                    self._chunk(chunk)
                    chunk = []
            if chunk:
                self._chunk(chunk)
        if self.outcome.total == 0:
            raise ValidationFailed(_("文件中没有数据行。"), code="import_empty")
        return self.outcome

    def _chunk(self, rows: list[ImportRow]) -> None:
        self._in_file_duplicates(rows)
        self._match(rows)
        for row in rows:
            if row.ok:
                self._settle(row)
        for row in rows:
            if not row.ok:
                self.outcome.reject(row)
            elif row.action == "create":
                self.outcome.created += 1
            elif row.action == "update":
                self.outcome.updated += 1
            else:
                self.outcome.skipped += 1
        if self.write and (self.mode == ImportMode.VALID_ONLY or self.outcome.rejected == 0):
            write_chunk(self, [r for r in rows if r.ok])
        self.progress(self.outcome.total)

    # -- duplicates inside the file -----------------------------------------------

    def _in_file_duplicates(self, rows: list[ImportRow]) -> None:
        for row in rows:
            if not row.ok:
                continue
            if row.archive_no and row.archive_no in self.seen_numbers:
                row.errors.append(
                    _("与第 %(row)d 行的档案编号相同：%(value)s")
                    % {"row": self.seen_numbers[row.archive_no], "value": row.archive_no}
                )
            if row.id_number and row.id_number in self.seen_ids:
                row.errors.append(_("与第 %(row)d 行重复（证件号码相同）。") % {"row": self.seen_ids[row.id_number]})
            key = (row.name, row.digits)
            if row.digits and key in self.seen_name_phone:
                row.errors.append(_("与第 %(row)d 行重复（名称与电话相同）。") % {"row": self.seen_name_phone[key]})
            if row.ok:
                if row.archive_no:
                    self.seen_numbers[row.archive_no] = row.number
                if row.id_number:
                    self.seen_ids[row.id_number] = row.number
                if row.digits:
                    self.seen_name_phone[key] = row.number

    # -- matching with the archive ------------------------------------------------

    def _match(self, rows: list[ImportRow]) -> None:
        live = [r for r in rows if r.ok]
        numbers = {r.archive_no for r in live if r.archive_no}
        by_number: dict[str, tuple[int, str | None]] = {}
        if numbers:
            for pk, number, merged_into in Customer.objects.filter(archive_no__in=numbers).values_list(
                "pk", "archive_no", "merged_into__archive_no"
            ):
                by_number[number] = (pk, merged_into)
        ids = {r.id_number for r in live if r.id_number and not r.archive_no}
        by_id: dict[str, set[int]] = defaultdict(set)
        if ids:
            for pk, id_number in Customer.objects.filter(id_number__in=ids, merged_into__isnull=True).values_list(
                "pk", "id_number"
            ):
                by_id[id_number].add(pk)
        pairs = [r for r in live if r.digits and not r.archive_no]
        by_name_phone: dict[tuple[str, str], set[int]] = defaultdict(set)
        if pairs:
            for customer_id, name, digits in Contact.objects.filter(
                phone_digits__in={r.digits for r in pairs},
                customer__name__in={r.name for r in pairs},
                customer__merged_into__isnull=True,
            ).values_list("customer_id", "customer__name", "phone_digits"):
                by_name_phone[(name, digits)].add(customer_id)

        wanted: dict[ImportRow, int] = {}
        for row in live:
            if row.archive_no:
                found = by_number.get(row.archive_no)
                if found is None:
                    row.errors.append(
                        _("档案编号不存在：%(value)s（新建档案请将档案编号留空）") % {"value": row.archive_no}
                    )
                elif found[1]:
                    row.errors.append(
                        _("档案 %(value)s 已合并至 %(into)s，请改用 %(into)s。")
                        % {"value": row.archive_no, "into": found[1]}
                    )
                else:
                    wanted[row] = found[0]
                continue
            candidates = set(by_id.get(row.id_number, ())) if row.id_number else set()
            if row.digits:
                candidates |= by_name_phone.get((row.name, row.digits), set())
            if len(candidates) == 1:
                wanted[row] = candidates.pop()
            elif len(candidates) > 1:
                numbers_found = (
                    Customer.objects.filter(pk__in=candidates).order_by("pk").values_list("archive_no", flat=True)
                )
                row.errors.append(
                    _("与多个已有档案重复（%(numbers)s），请填写档案编号指明要更新哪一个。")
                    % {"numbers": "、".join(numbers_found)}
                )
        if not wanted:
            return
        loaded = load_archives(set(wanted.values()), lock=self.write)
        for row, pk in wanted.items():
            target = loaded.get(pk)
            if target is None:  # merged or gone since the lookup
                row.errors.append(_("对应的档案已不存在或已被合并。"))
                continue
            if not self._visible(target):
                row.errors.append(
                    _("档案 %(value)s 不在您的可见范围内，不能通过导入修改。") % {"value": target.archive_no}
                )
                continue
            first = self.seen_targets.get(pk)
            if first is not None:
                row.errors.append(
                    _("与第 %(row)d 行对应同一档案（%(value)s）。") % {"row": first, "value": target.archive_no}
                )
                continue
            self.seen_targets[pk] = row.number
            row.target = target

    def _visible(self, customer: Archive) -> bool:
        return self.sees_all or customer.owner_id == self.actor.pk or customer.region_id in self.region_ids

    # -- what each row does -------------------------------------------------------

    def _settle(self, row: ImportRow) -> None:
        """Final checks that depend on the matched archive, then create / update / skip."""
        target = row.target
        if target is not None:
            if row.kind and row.kind != target.kind:
                row.errors.append(
                    _("类型与档案 %(value)s 不一致（导入不能修改客户类型）。") % {"value": target.archive_no}
                )
            kind = target.kind
        else:
            kind = row.kind or row.id_kind or PERSON
            if row.id_masked:
                row.errors.append(_("证件号码已脱敏（含 *），不能用于新建档案。"))
            if row.phone_masked:
                row.errors.append(_("手机/电话已脱敏（含 *），不能用于新建档案。"))
        if row.id_number and row.id_kind != kind:
            try:
                row.id_number = clean_id_number(row.id_raw, organisation=kind == ORG)
            except ValidationFailed as exc:
                row.errors.append(exc.message)
        row.kind = kind
        self._check_extra(row, target)
        self._check_scope(row, target)
        if not row.ok:
            return
        if target is None:
            row.action = "create"
        else:
            row.action = "update" if row_changes(row, target, self.now) else "skip"

    def _check_extra(self, row: ImportRow, target: Archive | None) -> None:
        fields = [f for f in self.refs.fields.values() if not f.applies_to or f.applies_to == row.kind]
        applicable = {f.key for f in fields}
        for key in row.extra:
            if key not in applicable:
                label = next(f.label for f in self.refs.fields.values() if f.key == key)
                row.errors.append(
                    _("%(label)s 不适用于%(kind)s客户。") % {"label": label, "kind": KIND_TEXT.get(row.kind, "")}
                )
        merged = {**(target.extra if target is not None else {}), **row.extra}
        for custom in fields:
            if custom.required and merged.get(custom.key) in (None, ""):
                row.errors.append(_("%(label)s 为必填项。") % {"label": custom.label})

    def _check_scope(self, row: ImportRow, target: Archive | None) -> None:
        if target is None:
            region = row.values.get("region_id") or self.default_region_id
            owner = row.values.get("owner_id")
        elif "region_id" in row.values or "owner_id" in row.values:
            region = row.values.get("region_id", target.region_id)
            owner = row.values.get("owner_id", target.owner_id)
        else:
            return
        try:
            ensure_in_scope(self.actor, region=region, owner=owner)
        except AccessDenied as exc:
            row.errors.append(exc.message)


# --- progress -------------------------------------------------------------------------


class _Progress:
    """Stores `processed_rows` on the job as chunks go by. Outside a transaction (the
    dry run) it simply updates the row. Inside the commit's transaction an update on
    the same connection would stay invisible until the end, so on PostgreSQL a second
    connection writes it (it only ever touches the job row, which the import itself
    never locks); on SQLite, which allows one writer at a time, progress during the
    commit is not shown."""

    def __init__(self, job: ImportJob, *, side_channel: bool):
        self.job_id = job.pk
        self.side = None
        if side_channel and connection.vendor == "postgresql":
            try:
                self.side = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.side.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '1s'")
            except Exception:
                logger.warning("no side connection for import progress", exc_info=True)
                self._close()

    def __call__(self, processed: int) -> None:
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(processed_rows=processed)
            return
        if self.side is None:
            return
        try:
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET processed_rows = %s WHERE id = %s",  # noqa: S608
                    [processed, self.job_id],
                )
        except Exception:
            logger.warning("import progress not stored", exc_info=True)
            self._close()

    def _close(self) -> None:
        if self.side is not None:
            try:
                self.side.close()
            finally:
                self.side = None

    def close(self) -> None:
        self._close()


# --- check and commit -----------------------------------------------------------------


def _finish(job: ImportJob, **values) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(**values)
    for name, value in values.items():
        setattr(job, name, value)
    return job


def _result_values(outcome: _Outcome) -> dict[str, Any]:
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
        status=ImportStatus.CHECKING, processed_rows=0, error=""
    )
    if not claimed:
        raise InvalidState(_("该导入任务已检查过或正在处理。"))
    job.status = ImportStatus.CHECKING
    progress = _Progress(job, side_channel=False)
    try:
        access.require(actor, IMPORT)
        with context.acting_as(user=actor):
            outcome = Importer(job, actor=actor, write=False, mode=job.mode, progress=progress).run()
    except KefuError as exc:
        return _finish(job, status=ImportStatus.FAILED, error=exc.message, finished_at=timezone.now())
    except Exception:
        logger.exception("import check %s failed", job.pk)
        _finish(
            job, status=ImportStatus.FAILED, error=_("检查时发生内部错误，请联系管理员。"), finished_at=timezone.now()
        )
        raise
    return _finish(job, status=ImportStatus.CHECKED, error="", **_result_values(outcome))


def _claim_commit(job: ImportJob, mode: str) -> None:
    if mode not in ImportMode.values:
        raise ValidationFailed(_("导入方式无效。"), details={"field": "mode"})
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.IMPORTING, mode=mode, processed_rows=0, error=""
    )
    if not claimed:
        raise InvalidState(_("该导入任务当前不能提交（需要先完成检查，且只能提交一次）。"))
    job.status, job.mode = ImportStatus.IMPORTING, mode


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
    progress = _Progress(job, side_channel=not connection.in_atomic_block)
    outcome = None
    try:
        access.require(actor, IMPORT)
        with context.acting_as(user=actor), transaction.atomic():
            importer = Importer(job, actor=actor, write=True, mode=mode, progress=progress)
            outcome = importer.run()
            if mode == ImportMode.ALL_OR_NOTHING and outcome.rejected:
                raise _RollBack
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
    except _RollBack:
        # Back to "checked", with the counts as predictions: the user may still import
        # the valid rows only.
        return _finish(
            job,
            status=ImportStatus.CHECKED,
            error=_("有 %(count)d 行未通过检查，按“全部成功才导入”未写入任何数据。") % {"count": outcome.rejected},
            **_result_values(outcome),
        )
    except KefuError as exc:
        return _finish(
            job,
            status=ImportStatus.FAILED,
            error=_("导入失败，未写入任何数据：%(error)s") % {"error": exc.message},
            finished_at=timezone.now(),
        )
    except Exception:
        logger.exception("import commit %s failed", job.pk)
        _finish(
            job,
            status=ImportStatus.FAILED,
            error=_("导入时发生内部错误，未写入任何数据。请联系管理员。"),
            finished_at=timezone.now(),
        )
        raise
    finally:
        progress.close()
    return _finish(job, status=ImportStatus.DONE, error="", finished_at=timezone.now(), **_result_values(outcome))


def job_is_running(job: ImportJob) -> bool:
    return job.status in RUNNING
