"""Monthly archive PDFs made by a background job (整理每月追访电话及投诉告知单存档资料).

1. `archive_request` (the page's button) checks the permission and the month, then
   returns the requester's queued or running job for the same archive, or creates one
   and enqueues `archive_render_task` once the transaction commits. A partial unique
   index (`scope_key` among queued/running jobs) makes a double click or two tabs
   create one job.
2. `archive_render` (the task) claims the job (queued → running, so a task run twice
   renders once), lays the month out part by part with the requester's scope, moving
   the progress and heartbeat after each part, writes the file under
   DATA_DIR/archives/ with a generated name, marks the job done or failed (with a
   Chinese message) and tells the requester in the inbox.
3. `archive_file` (the download) serves the file only to those who may see what it
   holds, and audits every download (the paper leaves the system there).

Two kinds share this: the slips archive (tickets) and the call-records archive
(visits); each names its permission, renderer and audit code in `KINDS`."""

from __future__ import annotations

import datetime
import logging
import os
import re
import uuid
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import access, context
from kefu.core.audit import audit_record
from kefu.core.errors import InvalidState, KefuError, NotFound, ValidationFailed
from kefu.core.models import Department, SiteConfig
from kefu.core.pii import may_reveal
from kefu.notify.services import notify_user
from kefu.tickets.models import ArchiveJob
from kefu.tickets.models.archive import ACTIVE_STATUSES, ArchiveKind, ArchiveStatus

logger = logging.getLogger(__name__)

# A live job moves its heartbeat after every part (100 slips: well under a minute).
STALE_AFTER = datetime.timedelta(minutes=15)
# A job still queued after this was lost by the queue (or the worker is down): it is
# failed so that asking again starts a new one.
QUEUED_STALE_AFTER = datetime.timedelta(hours=1)
_FILE_NAME = re.compile(r"^[0-9a-f]{32}\.pdf$")


@dataclass(frozen=True)
class KindSpec:
    """What differs between the archives: who may ask, what lays it out (a dotted
    `module:function` returning `pdf.ArchiveContent`, imported when a job runs: the
    visits archive lives in the visits app) and what a download is audited as."""

    perm: str
    renderer: str
    request_code: str
    audit_code: str
    title: str | Promise
    file_title: str | Promise


KINDS: dict[str, KindSpec] = {
    ArchiveKind.SLIPS: KindSpec(
        perm="tickets.export_ticket",
        renderer="kefu.tickets.pdf:slips_archive_content",
        request_code="ticket.slips.archive_requested",
        audit_code="ticket.slips.exported",
        title=gettext_lazy("投诉告知单月度存档 %(month)s"),
        file_title=gettext_lazy("投诉告知单存档_%(month)s"),
    ),
    ArchiveKind.VISITS: KindSpec(
        perm="visits.export_visit",
        renderer="kefu.visits.pdf:visits_archive_content",
        request_code="visit.archive_requested",
        audit_code="visit.exported",
        title=gettext_lazy("回访记录月度存档 %(month)s"),
        file_title=gettext_lazy("回访记录存档_%(month)s"),
    ),
}


def archives_root() -> Path:
    return Path(settings.DATA_DIR) / "archives"


def archive_title(job: ArchiveJob) -> str:
    """ "投诉告知单月度存档 2026-11 · 工程部", as the page, the inbox and the PDF say it."""
    title = str(KINDS[job.kind].title) % {"month": f"{job.month:%Y-%m}"}
    if job.department_id:
        title += f" · {job.department.name}"
    return title


def archive_filename(job: ArchiveJob) -> str:
    name = str(KINDS[job.kind].file_title) % {"month": f"{job.month:%Y-%m}"}
    if job.department_id:
        name += f"_{job.department.name}"
    return f"{name}.pdf"


def job_url(job: ArchiveJob) -> str:
    return reverse("tickets:archive_job", args=[job.pk])


# --- reads ------------------------------------------------------------------------------


def archive_job_list(*, user) -> QuerySet[ArchiveJob]:
    """The archive jobs `user` may see and download: their own, of the kinds they may
    still export; and, for those who see everything, everyone's — except files with
    full phone numbers when they may not reveal them."""
    kinds = [kind for kind, spec in KINDS.items() if access.has_perm(user, spec.perm)]
    if not kinds:
        return ArchiveJob.objects.none()
    jobs = ArchiveJob.objects.filter(kind__in=kinds).select_related("department", "requested_by")
    if not access.sees_everything(user):
        return jobs.filter(requested_by=user)
    if not may_reveal(user):
        return jobs.filter(Q(requested_by=user) | Q(masked=True))
    return jobs


def archive_job_get(*, user, pk: int) -> ArchiveJob:
    """One job for its page: 404 when absent or not `user`'s to see; a job whose worker
    evidently died is failed first, so nobody waits on it forever."""
    job = archive_job_list(user=user).filter(pk=pk).first()
    if job is None:
        raise NotFound(_("存档任务不存在或不在您的可见范围内。"))
    return archive_job_fail_if_stale(job=job)


# --- request ----------------------------------------------------------------------------


def _scope_key(*, kind: str, month: datetime.date, department: Department | None, user) -> str:
    return f"{kind}:{month:%Y-%m}:{department.pk if department else '-'}:{user.pk}"


def archive_request(
    *, actor, kind: str, month: datetime.date, department: Department | None = None
) -> tuple[ArchiveJob, bool]:
    """Ask for the month's archive PDF. Returns (job, created): the actor's queued or
    running job for the same kind, month and department when there is one (nothing new
    is enqueued), else a new job, audited and enqueued once this transaction commits."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValidationFailed(_("不支持的存档类型。"), details={"field": "kind"})
    access.require(actor, spec.perm)
    if kind != ArchiveKind.SLIPS and department is not None:
        raise ValidationFailed(_("回访记录存档不按部门生成。"), details={"field": "department"})
    month = month.replace(day=1)
    key = _scope_key(kind=kind, month=month, department=department, user=actor)
    with transaction.atomic():
        running = ArchiveJob.objects.filter(scope_key=key, status__in=ACTIVE_STATUSES).first()
        if running is not None and archive_job_fail_if_stale(job=running).is_active:
            return running, False
        try:
            # A savepoint: two requests racing past the check meet the unique index,
            # and the loser returns the winner's job.
            with transaction.atomic():
                job = ArchiveJob.objects.create(
                    kind=kind,
                    month=month,
                    department=department,
                    requested_by=actor,
                    scope_key=key,
                    masked=not may_reveal(actor),
                )
        except IntegrityError:
            return ArchiveJob.objects.get(scope_key=key, status__in=ACTIVE_STATUSES), False
        audit_record(
            code=spec.request_code,
            obj=job,
            actor=actor,
            data={"kind": kind, "month": f"{month:%Y-%m}", "department": department.pk if department else None},
        )
        from kefu.jobs import enqueue_on_commit
        from kefu.tickets.tasks import archive_render_task

        enqueue_on_commit(archive_render_task, job.pk)
    return job, True


# --- the job ----------------------------------------------------------------------------


class _Abandoned(Exception):
    """The job stopped being "running" while it rendered (failed as stale meanwhile)."""


def _renderer(spec: KindSpec):
    module, name = spec.renderer.split(":")
    return getattr(import_module(module), name)


def _notify(job: ArchiveJob) -> None:
    title = archive_title(job)
    if job.status == ArchiveStatus.DONE:
        subject = _("%(title)s 已生成，可以下载。") % {"title": title}
        body = ""
    else:
        subject = _("%(title)s 生成失败。") % {"title": title}
        body = job.error
    notify_user(
        recipient=job.requested_by,
        title=subject,
        body=body,
        link=job_url(job),
        category="archive",
        key=f"archive-job:{job.pk}:{job.status}",
    )


def _fail(job: ArchiveJob, message: str, *, expect: str = ArchiveStatus.RUNNING) -> bool:
    """Mark `job` failed with `message` unless it moved on meanwhile; tell the requester."""
    now = timezone.now()
    with transaction.atomic():
        changed = ArchiveJob.objects.filter(pk=job.pk, status=expect).update(
            status=ArchiveStatus.FAILED, error=message, finished_at=now, heartbeat_at=now
        )
        if not changed:
            return False
        job.status, job.error, job.finished_at, job.heartbeat_at = ArchiveStatus.FAILED, message, now, now
        _notify(job)
    return True


def archive_render(*, job_id: int) -> ArchiveJob | None:
    """Render the job's PDF (the task's body). Idempotent: only a queued job is claimed,
    so a second run of the task does nothing. Returns the job, or None when it was not
    claimed."""
    now = timezone.now()
    claimed = ArchiveJob.objects.filter(pk=job_id, status=ArchiveStatus.QUEUED).update(
        status=ArchiveStatus.RUNNING, started_at=now, heartbeat_at=now, processed=0, error=""
    )
    if not claimed:
        logger.info("archive job %s is not queued: nothing to do", job_id)
        return None
    job = ArchiveJob.objects.select_related("requested_by", "department").get(pk=job_id)
    spec = KINDS[job.kind]
    user = job.requested_by
    root = archives_root()
    name = f"{uuid.uuid4().hex}.pdf"
    partial = root / f".{name}.part"

    def progress(done: int) -> None:
        moved = ArchiveJob.objects.filter(pk=job.pk, status=ArchiveStatus.RUNNING).update(
            processed=done, heartbeat_at=timezone.now()
        )
        if not moved:
            raise _Abandoned

    try:
        # The requester may have lost the permission since asking.
        access.require(user, spec.perm)
        # Phones stay masked if the requester may no longer reveal them.
        reveal = not job.masked and may_reveal(user)
        with context.acting_as(user=user, request_id=f"job:archive:{job.pk}"):
            content = _renderer(spec)(user=user, month=job.month, department=job.department, reveal=reveal)
            ArchiveJob.objects.filter(pk=job.pk).update(total=content.total, summary=content.summary)
            job.total, job.summary = content.total, content.summary
            root.mkdir(parents=True, exist_ok=True)
            from kefu.tickets.pdf import pdf_parts_write

            with partial.open("wb") as out:
                pdf_parts_write(
                    content.parts,
                    out,
                    title=archive_title(job),
                    author=str(SiteConfig.current()),
                    progress=progress,
                )
            size = partial.stat().st_size
            os.replace(partial, root / name)
        finished = timezone.now()
        with transaction.atomic():
            done = ArchiveJob.objects.filter(pk=job.pk, status=ArchiveStatus.RUNNING).update(
                status=ArchiveStatus.DONE,
                file_name=name,
                file_size=size,
                processed=content.total,
                masked=not reveal,
                finished_at=finished,
                heartbeat_at=finished,
            )
            if not done:
                raise _Abandoned
            job.status, job.file_name, job.file_size, job.processed = ArchiveStatus.DONE, name, size, content.total
            job.masked, job.finished_at = not reveal, finished
            _notify(job)
    except _Abandoned:
        logger.warning("archive job %s was failed as stale while it rendered", job.pk)
        (root / name).unlink(missing_ok=True)
        job.refresh_from_db()
    except KefuError as exc:
        _fail(job, _("生成失败：%(error)s") % {"error": exc.message})
    except Exception:
        logger.exception("archive job %s failed", job.pk)
        _fail(job, _("生成失败：系统内部错误，请稍后重新生成或联系管理员。"))
    finally:
        partial.unlink(missing_ok=True)
    return job


def _is_stale(job: ArchiveJob, now: datetime.datetime) -> bool:
    if job.status == ArchiveStatus.RUNNING:
        return job.heartbeat_at < now - STALE_AFTER
    if job.status == ArchiveStatus.QUEUED:
        return job.created_at < now - QUEUED_STALE_AFTER
    return False


def archive_job_fail_if_stale(*, job: ArchiveJob) -> ArchiveJob:
    """`job`, failed first when its worker evidently died (or the queue lost it). No
    query unless it is stale."""
    if not _is_stale(job, timezone.now()):
        return job
    if job.status == ArchiveStatus.RUNNING:
        message = _("生成中断：后台任务长时间没有进展（可能已停止），已标记为失败。请重新生成。")
    else:
        message = _("后台任务长时间未开始（任务队列可能未运行），已标记为失败。请重新生成或联系管理员。")
    if not _fail(job, message, expect=job.status):
        job.refresh_from_db()
    return job


# --- download ---------------------------------------------------------------------------


def archive_file(*, user, job: ArchiveJob) -> Path:
    """The finished file of `job` (which `user` reached through `archive_job_list`),
    its download audited with the month and what the file holds."""
    if job.status != ArchiveStatus.DONE:
        raise InvalidState(_("存档文件尚未生成完成。"))
    if not _FILE_NAME.match(job.file_name or ""):
        raise NotFound(_("存档文件不存在。"))
    path = archives_root() / job.file_name
    if not path.is_file():
        raise NotFound(_("存档文件已丢失，请重新生成。"))
    spec = KINDS[job.kind]
    with transaction.atomic():
        audit_record(
            code=spec.audit_code,
            obj=job,
            actor=user,
            object_repr=archive_title(job),
            data={**job.summary, "masked": job.masked, "format": "pdf", "job": job.pk},
        )
    return path
