"""What a manager configures for tickets: kinds with their form fields and flow
options, the category tree, SLA policies, escalation rules and the module's settings.
Profiles seed them; nothing here is fixed in code."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models.base import TimeStampedModel
from kefu.tickets.choices import Severity


class TicketKind(TimeStampedModel):
    """投诉 / 报修 / 咨询 / 退换货 / 建议 … each with its number prefix, its own form
    fields (`fields`: [{key, label, type, choices, required}], values kept in
    `Ticket.extra`) and the options of its flow."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    prefix = models.CharField(
        _("编号前缀"),
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{1,6}$", _("编号前缀只能是 1–6 个大写字母。"))],
    )
    requires_customer = models.BooleanField(_("必须关联客户"), default=True)
    # A kind that can be answered on the call (咨询) may be resolved without routing.
    requires_routing = models.BooleanField(_("须派单给责任部门"), default=True)
    # A kind whose handling the customer confirms in a return visit before closing.
    requires_confirmation = models.BooleanField(_("须客户回访确认"), default=True)
    allows_refund = models.BooleanField(_("可申请退款/补偿"), default=False)
    # Complaints about a staff member count towards the agent discipline rule.
    counts_against_staff = models.BooleanField(_("计入员工被投诉次数"), default=False)
    fields = models.JSONField(_("附加字段"), default=list, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("工单类型")
        verbose_name_plural = _("工单类型")
        permissions = [("manage_ticket_settings", _("配置工单类型、分类、时限与升级规则"))]

    def __str__(self) -> str:
        return self.name


class TicketCategory(TimeStampedModel):
    """A node of the category tree (e.g. 施工质量 › 墙面开裂); `kind` empty means it
    applies to every kind. `path` is the names from the root, kept by the service."""

    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    kind = models.ForeignKey(
        TicketKind, verbose_name=_("工单类型"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=40)
    path = models.CharField(_("完整路径"), max_length=200, editable=False)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("工单分类")
        verbose_name_plural = _("工单分类")
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="tickets_category_unique_name")]

    def __str__(self) -> str:
        return self.path or self.name


class SlaPolicy(TimeStampedModel):
    """Response and resolution targets in working minutes for tickets matching kind ×
    severity × category (empty = any). The most specific active policy wins; a
    category policy also covers the category's descendants."""

    name = models.CharField(_("名称"), max_length=60)
    kind = models.ForeignKey(
        TicketKind, verbose_name=_("工单类型"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    severity = models.CharField(_("严重程度"), max_length=16, choices=Severity.choices, blank=True)
    category = models.ForeignKey(
        TicketCategory, verbose_name=_("分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    response_minutes = models.PositiveIntegerField(
        _("响应时限（工作分钟）"), validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 365)]
    )
    resolve_minutes = models.PositiveIntegerField(
        _("解决时限（工作分钟）"), validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 365)]
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["kind_id", "severity", "category_id", "id"]
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")

    def __str__(self) -> str:
        return self.name


class EscalationRule(TimeStampedModel):
    """Level n of the escalation chain: the role told when a ticket has been overdue
    for `after_minutes` working minutes (supervisor → manager → director)."""

    level = models.PositiveSmallIntegerField(_("级别"), unique=True, validators=[MinValueValidator(1)])
    role = models.ForeignKey("auth.Group", verbose_name=_("通知角色"), on_delete=models.PROTECT, related_name="+")
    after_minutes = models.PositiveIntegerField(_("超时后（工作分钟）"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["level"]
        verbose_name = _("升级规则")
        verbose_name_plural = _("升级规则")

    def __str__(self) -> str:
        return f"L{self.level}"


class TicketSettings(TimeStampedModel):
    """The module's one settings row (pk 1)."""

    # Seed 004: the front consultant tries three times, then customer service takes over.
    failed_attempts_limit = models.PositiveSmallIntegerField(
        _("未解决处理次数上限"), default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    # Warn when this share of the resolution allowance is used up.
    warn_percent = models.PositiveSmallIntegerField(
        _("预警比例（%）"), default=80, validators=[MinValueValidator(10), MaxValueValidator(99)]
    )
    # Seed 003: the third complaint against a staff member in a month flags a penalty.
    complaints_per_month_limit = models.PositiveSmallIntegerField(
        _("员工月被投诉上限"), default=3, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    # Used when no SLA policy matches, so every ticket has deadlines (and sorts by them).
    default_response_minutes = models.PositiveIntegerField(_("默认响应时限（工作分钟）"), default=240)
    default_resolve_minutes = models.PositiveIntegerField(_("默认解决时限（工作分钟）"), default=60 * 8 * 3)
    # Default department deadline of a slip, in working minutes, when none is given.
    slip_minutes = models.PositiveIntegerField(_("告知单默认回复时限（工作分钟）"), default=60 * 8 * 2)
    attachment_max_mb = models.PositiveSmallIntegerField(
        _("附件大小上限（MB）"), default=20, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("工单设置")
        verbose_name_plural = _("工单设置")

    @classmethod
    def current(cls) -> "TicketSettings":
        """The row as stored now (to edit it)."""
        row = cls.objects.filter(pk=1).first()
        return row or cls(pk=1)

    @classmethod
    def cached(cls) -> "TicketSettings":
        """The settings for reading on every ticket (see kefu.core.configcache): shared,
        never to be modified or saved."""
        from kefu.core import configcache

        return configcache.cached("tickets.settings", cls.current)


class TicketNumberCounter(models.Model):
    """The last sequence number given per prefix and day (TS-20261123-0007)."""

    prefix = models.CharField(max_length=6)
    day = models.DateField()
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="tickets_counter_unique_day")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.day:%Y%m%d}: {self.last_seq}"
