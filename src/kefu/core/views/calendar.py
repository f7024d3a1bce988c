"""Pages of the working calendar: the year's holidays and 调休 working days, the
working hours of the default and of each department, and a calculator to check them.

Everyone with `core.view_calendarday` may look; changes need `core.manage_calendar`."""

from __future__ import annotations

import contextlib
import datetime

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.forms import StyledForm, add_service_error
from kefu.core.models import CalendarDay, DayKind, WorkingHours
from kefu.core.services import calendar as services
from kefu.core.views.base import get_visible, require_perm
from kefu.core.workcal import BUILTIN_SCHEDULE, WorkingCalendar, WorkSchedule, missing_year_message

VIEW = services.VIEW
MANAGE = services.MANAGE

WEEKDAY_CHOICES = [
    ("1", gettext_lazy("周一")),
    ("2", gettext_lazy("周二")),
    ("3", gettext_lazy("周三")),
    ("4", gettext_lazy("周四")),
    ("5", gettext_lazy("周五")),
    ("6", gettext_lazy("周六")),
    ("7", gettext_lazy("周日")),
]
WEEKDAY_NAMES = dict(WEEKDAY_CHOICES)


def weekdays_label(digits: str) -> str:
    return "、".join(str(WEEKDAY_NAMES[d]) for d in digits if d in WEEKDAY_NAMES)


# -- forms -----------------------------------------------------------------------------


class CalendarDayForm(StyledForm):
    date = forms.DateField(
        label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=DayKind.choices)
    name = forms.CharField(
        label=gettext_lazy("名称"), max_length=60, required=False, help_text=gettext_lazy("例如：国庆节、公司年会")
    )


class WorkingHoursForm(StyledForm):
    _time = {"widget": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
    morning_start = forms.TimeField(label=gettext_lazy("上午上班"), **_time)
    morning_end = forms.TimeField(label=gettext_lazy("上午下班"), **_time)
    afternoon_start = forms.TimeField(label=gettext_lazy("下午上班"), **_time)
    afternoon_end = forms.TimeField(label=gettext_lazy("下午下班"), **_time)
    weekdays = forms.MultipleChoiceField(
        label=gettext_lazy("工作日"),
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("法定节假日休息、调休上班日上班，与此处的设置无关。"),
    )


class CalculatorForm(StyledForm):
    department = forms.ModelChoiceField(
        label=gettext_lazy("部门"), queryset=None, required=False, empty_label=gettext_lazy("默认工作时间")
    )
    start = forms.DateTimeField(
        label=gettext_lazy("开始时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    minutes = forms.IntegerField(
        label=gettext_lazy("工作分钟数"),
        required=False,
        min_value=0,
        max_value=1_000_000,
        help_text=gettext_lazy("例如 8 个工作小时填 480"),
    )
    end = forms.DateTimeField(
        label=gettext_lazy("结束时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("填写后计算两时刻之间的工作分钟数"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = services.calendar_departments(user=user).filter(is_active=True)

    def clean(self):
        data = super().clean()
        if data.get("minutes") is None and data.get("end") is None and not self.errors:
            raise forms.ValidationError(_("请填写工作分钟数或结束时间。"))
        return data


def _calculate(form: CalculatorForm) -> dict:
    """The calculator's answers for a valid form."""
    data = form.cleaned_data
    workcal = WorkingCalendar(data.get("department"))
    result: dict = {"start": timezone.localtime(data["start"])}
    try:
        result["start_working"] = workcal.is_working_time(data["start"])
        if data.get("minutes") is not None:
            result["minutes"] = data["minutes"]
            result["deadline"] = timezone.localtime(workcal.add_working_minutes(data["start"], data["minutes"]))
        if data.get("end") is not None:
            between = workcal.working_minutes_between(data["start"], data["end"])
            result["end"] = timezone.localtime(data["end"])
            result["between"] = between
            result["between_hours"], result["between_rest"] = divmod(between, 60)
    except KefuError as err:
        add_service_error(form, err)
        return {}
    result["missing_years"] = [missing_year_message(year) for year in sorted(workcal.missing_years)]
    return result


# -- year page -------------------------------------------------------------------------


def _check_year(year: int) -> int:
    if not services.MIN_YEAR <= year <= services.MAX_YEAR:
        raise Http404
    return year


@require_perm(VIEW)
def year_page(request, year: int | None = None):
    """The holidays and 调休 working days of one year, with the calculator."""
    year = _check_year(year or timezone.localdate().year)
    days = list(services.calendar_day_list(user=request.user, year=year))
    maintained = {mark.year: mark for mark in services.calendar_year_list(user=request.user)}
    today = timezone.localdate()
    # A window around the year shown, not every year since 2004.
    known_years = sorted({*(y for y in maintained if abs(y - year) <= 3), year, today.year, today.year + 1})
    # The same warnings as the home page (this year and next), plus the year shown.
    warning_years = sorted(y for y in {today.year, today.year + 1, year} if y not in maintained)
    calculator = CalculatorForm(request.GET if "start" in request.GET else None, user=request.user)
    calc_result = _calculate(calculator) if calculator.is_bound and calculator.is_valid() else None
    return render(
        request,
        "core/calendar/year.html",
        {
            "year": year,
            "days": days,
            "holiday_count": sum(1 for day in days if day.kind == DayKind.HOLIDAY),
            "workday_count": sum(1 for day in days if day.kind == DayKind.WORKDAY),
            "mark": maintained.get(year),
            "year_missing": year not in maintained,
            "warnings": [missing_year_message(y) for y in warning_years],
            "known_years": known_years,
            "seed_supported": year in services.seed_supported_years(),
            "can_manage": access.has_perm(request.user, MANAGE),
            "calculator": calculator,
            "calc_result": calc_result,
        },
    )


@require_perm(VIEW)
def calculate(request):
    """The calculator's answer alone (htmx), so the year page does not reload."""
    form = CalculatorForm(request.GET, user=request.user)
    result = _calculate(form) if form.is_valid() else None
    return render(request, "core/calendar/_calculator_result.html", {"calculator": form, "calc_result": result})


def _year_url(year: int) -> str:
    return reverse("calendar:year", args=[year])


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def day_add(request):
    initial = {"kind": DayKind.HOLIDAY}
    if raw := request.GET.get("date"):
        with contextlib.suppress(ValueError):
            initial["date"] = datetime.date.fromisoformat(raw)
    form = CalendarDayForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            day = services.calendar_day_set(actor=request.user, **form.cleaned_data)
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("已保存 %(date)s。") % {"date": day.date.isoformat()})
            return redirect(_year_url(day.date.year))
    back = initial["date"].year if "date" in initial else timezone.localdate().year
    return render(request, "core/calendar/day_form.html", {"form": form, "day": None, "back_year": back})


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def day_edit(request, pk: int):
    day = get_visible(CalendarDay.objects.all(), request.user, VIEW, pk=pk)
    form = CalendarDayForm(request.POST or None, initial={"date": day.date, "kind": day.kind, "name": day.name})
    # The date identifies the row: to move an exception, delete it and add another.
    form.fields["date"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.calendar_day_set(
                actor=request.user, date=day.date, kind=form.cleaned_data["kind"], name=form.cleaned_data["name"]
            )
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("已保存 %(date)s。") % {"date": day.date.isoformat()})
            return redirect(_year_url(day.date.year))
    return render(request, "core/calendar/day_form.html", {"form": form, "day": day, "back_year": day.date.year})


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def day_delete(request, pk: int):
    """GET asks for confirmation; POST deletes."""
    day = get_visible(CalendarDay.objects.all(), request.user, VIEW, pk=pk)
    if request.method == "POST":
        try:
            services.calendar_day_delete(actor=request.user, day=day)
        except KefuError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("已删除 %(date)s 的设置。") % {"date": day.date.isoformat()})
        return redirect(_year_url(day.date.year))
    return render(request, "core/calendar/day_confirm_delete.html", {"day": day})


@require_perm(MANAGE)
@require_POST
def seed(request):
    """(Re)load one year (or, without `year`, every year) from chinese-calendar."""
    raw = request.POST.get("year", "").strip()
    try:
        years = [int(raw)] if raw else None
        result = services.calendar_seed(years=years, actor=request.user)
    except (ValueError, KefuError) as err:
        messages.error(request, getattr(err, "message", _("年份无效。")))
        return redirect(reverse("calendar:index"))
    if result["years"]:
        messages.success(
            request,
            _(
                "已从 chinese-calendar 导入 %(years)s 年：新增 %(created)s 天，更新 %(updated)s 天，"
                "删除 %(deleted)s 天，保留手工维护 %(preserved)s 天。"
            )
            % {
                "years": services._years_label(result["years"]),
                "created": result["created"],
                "updated": result["updated"],
                "deleted": result["deleted"],
                "preserved": result["preserved_manual"],
            },
        )
    if result["unsupported"]:
        supported = services.seed_supported_years()
        messages.warning(
            request,
            _(
                "已安装的 chinese-calendar 没有 %(years)s 年的数据（支持 %(first)s–%(last)s 年）。"
                "请手工录入该年的节假日与调休上班日，然后确认该年份。"
            )
            % {
                "years": services._years_label(result["unsupported"]),
                "first": supported[0] if supported else "-",
                "last": supported[-1] if supported else "-",
            },
        )
    target = int(raw) if raw and services.MIN_YEAR <= int(raw) <= services.MAX_YEAR else timezone.localdate().year
    return redirect(_year_url(target))


@require_perm(MANAGE)
@require_POST
def year_confirm(request, year: int):
    year = _check_year(year)
    try:
        services.calendar_year_confirm(actor=request.user, year=year)
    except KefuError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("已确认 %(year)s 年的节假日已手工维护。") % {"year": year})
    return redirect(_year_url(year))


# -- working hours -----------------------------------------------------------------------


def _hours_entry(row: WorkingHours | None, *, inherited: WorkingHours | None = None) -> dict:
    """What the hours page shows for one row: its own hours, or those it inherits."""
    effective = row or inherited
    schedule = WorkSchedule.from_hours(effective) if effective is not None else BUILTIN_SCHEDULE
    return {
        "row": row,
        "effective": effective,
        "weekdays": weekdays_label(effective.weekdays if effective is not None else "12345"),
        "day_minutes": schedule.day_minutes,
    }


@require_perm(VIEW)
def hours_page(request):
    """The default working hours and each department's (own or inherited)."""
    rows = {row.department_id: row for row in services.working_hours_list(user=request.user)}
    default = rows.get(None)
    entries = []
    for department in services.calendar_departments(user=request.user).filter(is_active=True):
        entry = _hours_entry(rows.get(department.pk), inherited=default)
        entry["department"] = department
        entries.append(entry)
    return render(
        request,
        "core/calendar/hours.html",
        {
            "default": _hours_entry(default),
            "entries": entries,
            "can_manage": access.has_perm(request.user, MANAGE),
        },
    )


def _hours_initial(row: WorkingHours | None) -> dict:
    source = row or WorkingHours()  # model defaults: 09:00–12:00, 13:30–18:00, 12345
    return {
        "morning_start": source.morning_start,
        "morning_end": source.morning_end,
        "afternoon_start": source.afternoon_start,
        "afternoon_end": source.afternoon_end,
        "weekdays": list(source.weekdays),
    }


def _hours_edit(request, department):
    rows = WorkingHours.objects.select_related("department")
    row = (
        rows.filter(department__isnull=True).first()
        if department is None
        else rows.filter(department=department).first()
    )
    inherited = None
    if department is not None and row is None:
        inherited = WorkingHours.objects.filter(department__isnull=True).first()
    form = WorkingHoursForm(request.POST or None, initial=_hours_initial(row or inherited))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["weekdays"] = "".join(data["weekdays"])
        try:
            services.working_hours_set(actor=request.user, department=department, **data)
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("工作时间已保存。"))
            return redirect(reverse("calendar:hours"))
    return render(
        request,
        "core/calendar/hours_form.html",
        {"form": form, "department": department, "row": row, "inherited": department is not None and row is None},
    )


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def hours_default(request):
    return _hours_edit(request, None)


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def hours_department(request, pk: int):
    department = get_object_or_404(services.calendar_departments(user=request.user), pk=pk)
    return _hours_edit(request, department)


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def hours_reset(request, pk: int):
    """A department goes back to the default hours. GET asks for confirmation."""
    department = get_object_or_404(services.calendar_departments(user=request.user), pk=pk)
    row = WorkingHours.objects.filter(department=department).first()
    if row is None:
        messages.info(request, _("%(name)s 已在沿用默认工作时间。") % {"name": department.name})
        return redirect(reverse("calendar:hours"))
    if request.method == "POST":
        try:
            services.working_hours_delete(actor=request.user, hours=row)
        except KefuError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("%(name)s 已恢复为默认工作时间。") % {"name": department.name})
        return redirect(reverse("calendar:hours"))
    return render(request, "core/calendar/hours_confirm_reset.html", {"department": department, "row": row})
