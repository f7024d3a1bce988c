"""What a manager configures for the archive, per industry profile: classes with their
follow-up cadence, credit grades, information sources, product categories, tags, custom
fields and the archive-number pattern."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models.base import TimeStampedModel
from kefu.customers.choices import FieldType


class CustomerClass(TimeStampedModel):
    """A customer class (A/B/C by default). `visits_per_month` is the follow-up cadence
    the return-visit planner uses (seed 002: A ≥ 1, B 2, C ≥ 3 a month)."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    visits_per_month = models.PositiveSmallIntegerField(_("每月最少跟踪次数"), default=1)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("客户分类")
        verbose_name_plural = _("客户分类")
        permissions = [
            ("manage_archive_settings", _("配置客户档案（分类、信用等级、来源、类别、自定义字段、编号规则）"))
        ]

    def __str__(self) -> str:
        return self.name


class CreditGrade(TimeStampedModel):
    """A credit rating grade (信用等级), e.g. AAA / AA / A / B / C."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("信用等级")
        verbose_name_plural = _("信用等级")

    def __str__(self) -> str:
        return self.name


class CustomerSource(TimeStampedModel):
    """Where a customer came from (信息来源): referral, advertising, walk-in…"""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("信息来源")
        verbose_name_plural = _("信息来源")

    def __str__(self) -> str:
        return self.name


class ProductCategory(TimeStampedModel):
    """A product / service category the customer uses (一类 计重收费设备 …)."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("产品类别")
        verbose_name_plural = _("产品类别")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(_("名称"), max_length=40, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("标签")
        verbose_name_plural = _("标签")

    def __str__(self) -> str:
        return self.name


class CustomField(TimeStampedModel):
    """An extra typed field a profile declares (decoration: contract date, foreman…).
    Values live in `Customer.extra[key]`, validated on input, filterable and exported."""

    key = models.SlugField(_("字段键"), max_length=40, unique=True)
    label = models.CharField(_("名称"), max_length=60)
    field_type = models.CharField(_("类型"), max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    choices = models.JSONField(_("可选值"), default=list, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    applies_to = models.CharField(_("适用"), max_length=16, blank=True, help_text=_("留空表示个人与单位都适用"))
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "key"]
        verbose_name = _("自定义字段")
        verbose_name_plural = _("自定义字段")

    def __str__(self) -> str:
        return self.label


class ArchiveNumbering(TimeStampedModel):
    """The archive-number pattern and its counters. `pattern` uses {year} and {seq:06d};
    numbers are taken under a row lock and never reused, even when a customer is merged
    or the create rolls back after taking one (a gap is fine, a duplicate is not)."""

    pattern = models.CharField(_("编号规则"), max_length=60, default="KH-{year}-{seq:06d}")
    # The counter restarts when the pattern's period (the year) changes.
    period = models.CharField(max_length=20, blank=True)
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("档案编号规则")
        verbose_name_plural = _("档案编号规则")

    def __str__(self) -> str:
        return self.pattern
