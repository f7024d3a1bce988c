"""The approvals engine: a policy (refund, entertainment, penalty…) defines ordered
steps, each a role and optionally an amount threshold; a request instantiates the steps
that apply to its amount and is decided step by step, one decision per step."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models.base import TimeStampedModel, VersionedModel


class ApprovalPolicy(VersionedModel):
    """How requests of one kind are approved; `code` is what a module asks for."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    description = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")
        permissions = [("manage_approvals", _("配置审批流程"))]

    def __str__(self) -> str:
        return self.name


class ApprovalPolicyStep(models.Model):
    """One step of a policy: the role that decides and the amount from which it applies
    (empty: always)."""

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    role = models.ForeignKey(Group, verbose_name=_("审批角色"), on_delete=models.PROTECT, related_name="+")
    min_amount = models.DecimalField(_("金额起点"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["policy", "order"]
        verbose_name = _("审批步骤")
        verbose_name_plural = _("审批步骤")
        constraints = [models.UniqueConstraint(fields=["policy", "order"], name="core_policystep_unique_order")]

    def __str__(self) -> str:
        return f"{self.policy} #{self.order} {self.role.name}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")


class ApprovalRequest(VersionedModel):
    """A request for approval of something (the subject, identified by its type label
    and id) with an optional amount; decided step by step."""

    policy = models.ForeignKey(ApprovalPolicy, verbose_name=_("审批流程"), on_delete=models.PROTECT, related_name="+")
    subject_type = models.CharField(_("对象类型"), max_length=100)
    subject_id = models.CharField(_("对象编号"), max_length=64)
    title = models.CharField(_("标题"), max_length=200)
    reason = models.TextField(_("事由"), blank=True)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("审批申请")
        verbose_name_plural = _("审批申请")
        indexes = [models.Index(fields=["subject_type", "subject_id"]), models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.title


class ApprovalStep(TimeStampedModel):
    """One step of one request; decided once (its status leaves `pending` only once)."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    role = models.ForeignKey(Group, verbose_name=_("审批角色"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    comment = models.TextField(_("意见"), blank=True)

    class Meta:
        ordering = ["request", "order"]
        verbose_name = _("审批环节")
        verbose_name_plural = _("审批环节")
        constraints = [models.UniqueConstraint(fields=["request", "order"], name="core_approvalstep_unique_order")]
        indexes = [models.Index(fields=["role", "status"])]

    def __str__(self) -> str:
        return f"{self.request} #{self.order}"
