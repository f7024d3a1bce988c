"""What happens to a customer over time: the timeline every module writes to, credit
and class changes, the points ledger and the archive lending log (借阅)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimelineEntry(models.Model):
    """One line in the customer's chronological view. Written by services of every
    module (`kefu.customers.timeline.timeline_add`) in the transaction of their write;
    `ref_type`/`ref_id` point at the ticket, visit, booking… it is about."""

    # Looked up through (customer, -at, -id) below, which leads with it.
    customer = models.ForeignKey(
        "customers.Customer", db_index=False, on_delete=models.CASCADE, related_name="timeline"
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    kind = models.CharField(_("类型"), max_length=60)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ref_type = models.CharField(max_length=100, blank=True)
    ref_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("客户动态")
        verbose_name_plural = _("客户动态")
        indexes = [models.Index(fields=["customer", "-at", "-id"]), models.Index(fields=["ref_type", "ref_id"])]

    def __str__(self) -> str:
        return self.title


class CreditChange(models.Model):
    """A change of credit grade, with its date and reason (信用等级分级管理)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="credit_changes")
    from_grade = models.ForeignKey(
        "customers.CreditGrade", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_grade = models.ForeignKey(
        "customers.CreditGrade", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("原因"))
    effective_on = models.DateField(_("生效日期"), default=timezone.localdate)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("信用等级变更")
        verbose_name_plural = _("信用等级变更")

    def __str__(self) -> str:
        return f"{self.from_grade} → {self.to_grade}"


class ClassChange(models.Model):
    """A change of customer class (A/B/C), with its reason."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="class_changes")
    from_class = models.ForeignKey(
        "customers.CustomerClass", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_class = models.ForeignKey(
        "customers.CustomerClass", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("原因"), blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("客户分类变更")
        verbose_name_plural = _("客户分类变更")

    def __str__(self) -> str:
        return f"{self.from_class} → {self.to_class}"


class PointsEntry(models.Model):
    """One movement of a customer's points (积分). The balance on the customer is the
    sum of the ledger; `key` makes a retried award or redemption count once."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="points_entries")
    delta = models.IntegerField(_("变动"))
    balance_after = models.IntegerField(_("变动后余额"))
    reason = models.CharField(_("事由"), max_length=200)
    key = models.CharField(max_length=200, unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("积分流水")
        verbose_name_plural = _("积分流水")
        indexes = [models.Index(fields=["customer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.reason}"


class ArchiveLoan(models.Model):
    """The archive lending log (借阅手续): who borrowed which archive, why, until when,
    and when it came back. Overdue = not returned after `due_on`."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="loans")
    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("借阅人"), on_delete=models.PROTECT, related_name="archive_loans"
    )
    purpose = models.CharField(_("借阅事由"), max_length=200)
    borrowed_at = models.DateTimeField(_("借出时间"), default=timezone.now)
    due_on = models.DateField(_("应还日期"))
    returned_at = models.DateTimeField(_("归还时间"), null=True, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-borrowed_at", "-id"]
        verbose_name = _("档案借阅")
        verbose_name_plural = _("档案借阅")
        indexes = [models.Index(fields=["returned_at", "due_on"])]

    def __str__(self) -> str:
        return f"{self.customer} ← {self.borrower}"
