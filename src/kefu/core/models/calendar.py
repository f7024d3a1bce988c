"""The working calendar: statutory holidays and 调休 working days (seeded from
`chinese-calendar`, editable by a manager) and each department's working hours."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models.base import TimeStampedModel


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("休息日（法定节假日）")
    WORKDAY = "workday", _("工作日（调休上班）")


class DaySource(models.TextChoices):
    SEED = "seed", _("chinese-calendar 导入")
    MANUAL = "manual", _("手工维护")


class CalendarDay(TimeStampedModel):
    """An exception to the weekly pattern: a holiday on a weekday, or a 调休 working
    weekend day. Days not listed follow the department's working weekdays."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=60, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=DaySource.choices, default=DaySource.MANUAL)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日/调休")
        verbose_name_plural = _("节假日/调休")
        permissions = [("manage_calendar", _("维护工作日历与工作时间"))]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class CalendarYear(TimeStampedModel):
    """A year whose holidays have been loaded (or confirmed by hand). Deadlines falling
    in a year missing here are computed on weekends only, with a visible warning."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=16, choices=DaySource.choices, default=DaySource.SEED)

    class Meta:
        ordering = ["year"]
        verbose_name = _("已维护年份")
        verbose_name_plural = _("已维护年份")

    def __str__(self) -> str:
        return str(self.year)


class WorkingHours(TimeStampedModel):
    """Working hours of one department (or the default, department empty): a morning
    and an afternoon session, the lunch break between them, on the listed weekdays."""

    department = models.OneToOneField(
        "core.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="working_hours",
    )
    morning_start = models.TimeField(_("上午上班"), default=datetime.time(9, 0))
    morning_end = models.TimeField(_("上午下班"), default=datetime.time(12, 0))
    afternoon_start = models.TimeField(_("下午上班"), default=datetime.time(13, 30))
    afternoon_end = models.TimeField(_("下午下班"), default=datetime.time(18, 0))
    # ISO weekdays as digits, 1 = Monday … 7 = Sunday.
    weekdays = models.CharField(_("工作日"), max_length=7, default="12345")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("工作时间")
        verbose_name_plural = _("工作时间")
        constraints = [
            models.UniqueConstraint(
                fields=["department"],
                name="core_workinghours_one_default",
                condition=models.Q(department__isnull=True),
            ),
            models.CheckConstraint(
                condition=models.Q(morning_start__lt=models.F("morning_end"))
                & models.Q(morning_end__lte=models.F("afternoon_start"))
                & models.Q(afternoon_start__lt=models.F("afternoon_end")),
                name="core_workinghours_ordered",
            ),
        ]

    def __str__(self) -> str:
        who = self.department.name if self.department_id else _("默认")
        return f"{who} {self.morning_start:%H:%M}-{self.morning_end:%H:%M} {self.afternoon_start:%H:%M}-{self.afternoon_end:%H:%M}"
