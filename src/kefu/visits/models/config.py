"""What a manager configures for return visits: the rules that plan them and the
questionnaires they ask (versioned, so old answers keep their meaning)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models.base import TimeStampedModel
from kefu.visits.choices import AssignTo, RuleKind, Trigger, VisitChannel


class Questionnaire(TimeStampedModel):
    """A questionnaire; what it asks lives in its versions (the newest published one is
    used for new visits)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("问卷")
        verbose_name_plural = _("问卷")
        permissions = [("manage_visit_settings", _("配置回访规则与问卷"))]

    def __str__(self) -> str:
        return self.name

    def current_version(self):
        return self.versions.order_by("-number").first()


class QuestionnaireVersion(models.Model):
    """The questions of one version: [{key, text, type, choices, required}]. Never
    edited once a visit used it — a change makes a new version."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("版本"))
    questions = models.JSONField(_("题目"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "number"], name="visits_questionnaire_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} v{self.number}"


class VisitRule(TimeStampedModel):
    """Plans visits. A cadence rule covers the customers of a class (and/or the key
    accounts) `visits_per_month` times a month; an event rule follows an event (a ticket
    resolved, a service done, a project stage, a birthday) after each of `offsets_days`.
    Pausing a rule stops new visits and cancels its planned ones."""

    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=16, choices=RuleKind.choices)
    visit_type = models.CharField(_("回访类型"), max_length=40, help_text=_("如 满意度回访、术后回访、大客户跟踪"))
    is_active = models.BooleanField(_("启用"), default=True)
    # cadence
    customer_class = models.ForeignKey(
        "customers.CustomerClass", verbose_name=_("客户分类"), null=True, blank=True, on_delete=models.PROTECT
    )
    key_accounts_only = models.BooleanField(_("仅大客户"), default=False)
    visits_per_month = models.PositiveSmallIntegerField(
        _("每月次数"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("留空则按客户分类的每月跟踪次数"),
    )
    # event
    trigger = models.CharField(_("触发事件"), max_length=24, choices=Trigger.choices, blank=True)
    offsets_days = models.JSONField(_("间隔天数"), default=list, blank=True, help_text=_("如 [1, 7, 30]"))
    # For project stages: the customer's date field (e.g. start_date) the offsets count from.
    date_field = models.CharField(_("日期字段"), max_length=40, blank=True)
    # who calls
    assign_to = models.CharField(_("分配给"), max_length=20, choices=AssignTo.choices, default=AssignTo.OWNER)
    team = models.ForeignKey(
        "core.Department", verbose_name=_("班组"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("默认方式"), max_length=16, choices=VisitChannel.choices, default=VisitChannel.PHONE)
    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name=_("问卷"), null=True, blank=True, on_delete=models.PROTECT
    )
    # "No answer": try again after `retry_working_days`, at most `max_attempts` calls.
    max_attempts = models.PositiveSmallIntegerField(
        _("最多拨打次数"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    retry_working_days = models.PositiveSmallIntegerField(
        _("未接通后间隔（工作日）"), default=1, validators=[MaxValueValidator(30)]
    )

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("回访规则")
        verbose_name_plural = _("回访规则")

    def __str__(self) -> str:
        return self.name


class Campaign(TimeStampedModel):
    """A one-off batch of visits for a filtered customer list (二次开发, unconverted
    consultations…). `filters` are the archive list's query parameters."""

    name = models.CharField(_("名称"), max_length=60)
    visit_type = models.CharField(_("回访类型"), max_length=40)
    filters = models.JSONField(_("客户筛选条件"), default=dict)
    due_date = models.DateField(_("回访日期"))
    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name=_("问卷"), null=True, blank=True, on_delete=models.PROTECT
    )
    assign_to = models.CharField(_("分配给"), max_length=20, choices=AssignTo.choices, default=AssignTo.OWNER)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    visit_count = models.PositiveIntegerField(_("回访数"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("回访活动")
        verbose_name_plural = _("回访活动")

    def __str__(self) -> str:
        return self.name
