"""Excel/CSV imports of customers: the uploaded file, its dry-run report and progress."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    CHECKING = "checking", _("检查中")
    CHECKED = "checked", _("已检查")
    IMPORTING = "importing", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("全部成功才导入")
    VALID_ONLY = "valid", _("只导入有效行")


class ImportJob(models.Model):
    """One import: checked first (dry run, every rejected row with its reason), then
    committed all-or-nothing or valid-rows-only, in a background job with progress."""

    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    # sha256 of the file: re-importing the same file is recognised (and creates nothing twice).
    file_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    mode = models.CharField(_("方式"), max_length=8, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理"), default=0)
    valid_rows = models.PositiveIntegerField(_("有效行"), default=0)
    created_count = models.PositiveIntegerField(_("新建"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    skipped_count = models.PositiveIntegerField(_("跳过"), default=0)
    # [{"row": 7, "errors": ["手机号格式不正确"]}, …] — capped; the count is in rejected_rows.
    rejected = models.JSONField(_("被拒绝的行"), default=list, blank=True)
    rejected_rows = models.PositiveIntegerField(_("被拒绝行数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Last sign of life: set on upload, on each claim and after every chunk a worker
    # processes. A running job whose heartbeat is too old was left by a worker that died
    # (`housekeeping`); an unfinished one untouched for a day has been abandoned.
    heartbeat_at = models.DateTimeField(_("最近进展"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")

    def __str__(self) -> str:
        return self.original_name
