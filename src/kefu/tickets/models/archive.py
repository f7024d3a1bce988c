"""Monthly archive PDFs rendered in the background (整理每月追访电话及投诉告知单存档资料):
the month's 投诉告知单 with their replies, and the month's call records with the slips
summary. A month can hold thousands of slips, far more than one request can lay out, so
the page asks for a job and the requester is told in the inbox when the file is ready."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ArchiveKind(models.TextChoices):
    SLIPS = "slips", _("投诉告知单月度存档")
    VISITS = "visits", _("回访记录月度存档")


class ArchiveStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


ACTIVE_STATUSES = (ArchiveStatus.QUEUED, ArchiveStatus.RUNNING)


class ArchiveJob(models.Model):
    """One request for a month's archive PDF, rendered with the requester's scope (and
    phone masking) by a background job. `scope_key` (kind, month, department, requester)
    is unique among queued and running jobs: asking again while one runs returns it."""

    kind = models.CharField(_("类型"), max_length=16, choices=ArchiveKind.choices)
    month = models.DateField(_("月份"))
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), db_index=False, on_delete=models.PROTECT, related_name="+"
    )
    scope_key = models.CharField(max_length=80)
    status = models.CharField(_("状态"), max_length=16, choices=ArchiveStatus.choices, default=ArchiveStatus.QUEUED)
    # Decided when asked (the requester may reveal phones or not) and kept: who else may
    # download the file depends on it.
    masked = models.BooleanField(_("电话已脱敏"), default=True)
    total = models.PositiveIntegerField(_("总数"), default=0)
    processed = models.PositiveIntegerField(_("已生成"), default=0)
    # What the file holds, for the page and the download's audit event (e.g. slips, replied).
    summary = models.JSONField(default=dict, blank=True)
    # A name we generate under DATA_DIR/archives/, never anything a user typed.
    file_name = models.CharField(max_length=64, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Moved after every rendered part: a running job whose heartbeat is too old was left
    # by a worker that died.
    heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("存档生成任务")
        verbose_name_plural = _("存档生成任务")
        constraints = [
            models.UniqueConstraint(
                fields=["scope_key"],
                condition=Q(status__in=["queued", "running"]),
                name="tickets_archivejob_one_active",
            )
        ]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="tickets_archivejob_mine")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.month:%Y-%m}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, int(self.processed * 100 / self.total))
