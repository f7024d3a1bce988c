"""Services of the working calendar: loading statutory holidays and 调休 working days
from chinese-calendar, a manager's own edits of single days, confirming a year kept by
hand, and the working hours of the default and of each department.

Every write checks `core.manage_calendar` (unless run by the system, `actor=None`, which
only `calendar_seed` allows), runs in one transaction and is audited in it.

Weekend holidays are stored too. chinese-calendar lists every day of a holiday block,
including its Saturdays and Sundays (e.g. 2026-10-03/04 of National Day). For a
Monday–Friday department those rows change nothing, but a department that works
weekends (a service counter open on Saturdays) must still be off during the statutory
block, and only a row for that day says so.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access, configcache
from kefu.core.audit import audit_record, field_changes
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.models import CalendarDay, CalendarYear, DayKind, DaySource, Department, WorkingHours

MANAGE = "core.manage_calendar"
VIEW = "core.view_calendarday"

# Years a person may maintain; outside is surely a typing mistake.
MIN_YEAR, MAX_YEAR = 1990, 2200


# -- chinese-calendar ----------------------------------------------------------------


def _library_data() -> tuple[dict[datetime.date, str], dict[datetime.date, str], dict[str, str]]:
    from chinese_calendar import constants

    chinese_names = {holiday.value: holiday.chinese for holiday in constants.Holiday}
    return constants.holidays, constants.workdays, chinese_names


def seed_supported_years() -> list[int]:
    """The years the installed chinese-calendar has data for."""
    holidays, _workdays, _names = _library_data()
    return sorted({day.year for day in holidays})


def _library_rows(years: Iterable[int]) -> dict[datetime.date, tuple[str, str]]:
    """{date: (kind, name)} of chinese-calendar for `years`, names in Chinese."""
    holidays, workdays, names = _library_data()
    years = set(years)
    rows: dict[datetime.date, tuple[str, str]] = {}
    for day, english in holidays.items():
        if day.year in years:
            rows[day] = (DayKind.HOLIDAY, names.get(english, english)[:60])
    for day, english in workdays.items():
        if day.year in years:
            rows[day] = (DayKind.WORKDAY, _("%(holiday)s调休上班") % {"holiday": names.get(english, english)})
    return rows


def _year_range(years: Iterable[int]) -> tuple[datetime.date, datetime.date]:
    return datetime.date(min(years), 1, 1), datetime.date(max(years), 12, 31)


def _clean_years(years) -> list[int]:
    try:
        cleaned = sorted({int(year) for year in years})
    except (TypeError, ValueError):
        raise ValidationFailed(_("年份无效。"), details={"field": "year"})
    if any(year < MIN_YEAR or year > MAX_YEAR for year in cleaned):
        raise ValidationFailed(
            _("年份须在 %(min)s 与 %(max)s 之间。") % {"min": MIN_YEAR, "max": MAX_YEAR}, details={"field": "year"}
        )
    return cleaned


def calendar_seed(*, years: Iterable[int] | None = None, actor=None, missing_only: bool = False) -> dict[str, Any]:
    """Load statutory holidays and 调休 working days from chinese-calendar, for every year
    it has (or `years`). Idempotent: rows already right are left alone, seeded rows the
    library no longer lists are removed, rows a manager entered (`source=manual`) are
    never touched. Each loaded year gets its `CalendarYear`. Years the library does not
    have are reported in `unsupported`, not raised. `missing_only` skips years already
    loaded from the library (what the periodic job uses, so a manager's deletion of a
    seeded day is not undone every month; the manager's reload button re-syncs).

    One audit event `calendar.seeded` sums up the run; a run that changes nothing
    writes nothing."""
    if actor is not None:
        access.require(actor, MANAGE)
    supported = set(seed_supported_years())
    wanted = sorted(supported) if years is None else _clean_years(years)
    result: dict[str, Any] = {
        "years": [],
        "unsupported": [year for year in wanted if year not in supported],
        "skipped": [],
        "created": 0,
        "updated": 0,
        "deleted": 0,
        "preserved_manual": 0,
        "years_marked": [],
    }
    todo = [year for year in wanted if year in supported]
    with transaction.atomic():
        if missing_only and todo:
            seeded = set(
                CalendarYear.objects.filter(year__in=todo, source=DaySource.SEED).values_list("year", flat=True)
            )
            result["skipped"] = [year for year in todo if year in seeded]
            todo = [year for year in todo if year not in seeded]
        result["years"] = todo
        if not todo:
            return result

        low, high = _year_range(todo)
        existing = {
            row.date: row
            for row in CalendarDay.objects.select_for_update().filter(date__gte=low, date__lte=high)
            if row.date.year in todo
        }
        wanted_rows = _library_rows(todo)
        to_create, to_update = [], []
        for day, (kind, name) in sorted(wanted_rows.items()):
            row = existing.get(day)
            if row is None:
                to_create.append(CalendarDay(date=day, kind=kind, name=name, source=DaySource.SEED))
            elif row.source == DaySource.MANUAL:
                result["preserved_manual"] += 1
            elif row.kind != kind or row.name != name:
                row.kind, row.name = kind, name
                to_update.append(row)
        stale = [row.pk for day, row in existing.items() if row.source == DaySource.SEED and day not in wanted_rows]

        CalendarDay.objects.bulk_create(to_create)
        if to_update:
            now = timezone.now()
            for row in to_update:
                row.updated_at = now
            CalendarDay.objects.bulk_update(to_update, ["kind", "name", "updated_at"])
        if stale:
            CalendarDay.objects.filter(pk__in=stale).delete()
        result.update(created=len(to_create), updated=len(to_update), deleted=len(stale))
        configcache.invalidate()  # bulk writes send no signals

        marks = {row.year: row for row in CalendarYear.objects.select_for_update().filter(year__in=todo)}
        for year in todo:
            mark = marks.get(year)
            if mark is None:
                CalendarYear.objects.create(year=year, source=DaySource.SEED)
                result["years_marked"].append(year)
            elif mark.source != DaySource.SEED:
                # A year confirmed by hand is now also loaded from the library.
                mark.source = DaySource.SEED
                mark.save(update_fields=["source", "updated_at"])
                result["years_marked"].append(year)

        if result["created"] or result["updated"] or result["deleted"] or result["years_marked"]:
            audit_record(
                code="calendar.seeded",
                actor=actor,
                object_type="core.calendaryear",
                object_id=str(todo[0]) if len(todo) == 1 else f"{todo[0]}-{todo[-1]}",
                object_repr=_("工作日历 %(years)s") % {"years": _years_label(todo)},
                data=result,
            )
    return result


def _years_label(years: list[int]) -> str:
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return "、".join(str(year) for year in years)


# -- single days ------------------------------------------------------------------------


def _clean_day(date, kind, name) -> tuple[datetime.date, str, str]:
    if isinstance(date, datetime.datetime) or not isinstance(date, datetime.date):
        raise ValidationFailed(_("请输入有效的日期。"), details={"field": "date"})
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        raise ValidationFailed(
            _("日期须在 %(min)s 年至 %(max)s 年之间。") % {"min": MIN_YEAR, "max": MAX_YEAR}, details={"field": "date"}
        )
    if kind not in DayKind.values:
        raise ValidationFailed(_("类型须为“休息日”或“调休上班”。"), details={"field": "kind"})
    name = (name or "").strip()
    if len(name) > 60:
        raise ValidationFailed(_("名称不能超过 60 个字。"), details={"field": "name"})
    return date, str(kind), name


def calendar_day_set(*, actor, date: datetime.date, kind: str, name: str = "") -> CalendarDay:
    """Make `date` a holiday or a 调休 working day, creating or changing its row. The row
    becomes `source=manual`, so reloading from chinese-calendar will not overwrite it."""
    access.require(actor, MANAGE)
    date, kind, name = _clean_day(date, kind, name)
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(date=date).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = CalendarDay.objects.create(date=date, kind=kind, name=name, source=DaySource.MANUAL)
            except IntegrityError:
                raise ValidationFailed(_("该日期刚被他人设置，请刷新后重试。"), details={"field": "date"})
            audit_record(
                code="calendar_day.created",
                obj=row,
                actor=actor,
                changes={"kind": (None, kind), "name": (None, name), "source": (None, DaySource.MANUAL)},
                data={"date": date},
            )
            return row
        values = {"kind": kind, "name": name, "source": DaySource.MANUAL}
        changes = field_changes(row, values)
        if not changes:
            return row
        for field in changes:
            setattr(row, field, values[field])
        row.save(update_fields=[*changes, "updated_at"])
        audit_record(code="calendar_day.updated", obj=row, actor=actor, changes=changes, data={"date": date})
        return row


def calendar_day_delete(*, actor, day: CalendarDay) -> None:
    """Remove a day's exception: it follows the weekly pattern again. A seeded day comes
    back when the year is reloaded from chinese-calendar; to overrule the library for
    good, set the day to the other kind instead (kept as manual)."""
    access.require(actor, MANAGE)
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(pk=day.pk).first()
        if row is None:
            raise NotFound(_("该日期已被删除。"))
        pk, label = row.pk, str(row)
        data = {"date": row.date, "kind": row.kind, "name": row.name, "source": row.source}
        row.delete()
        audit_record(
            code="calendar_day.deleted",
            actor=actor,
            object_type="core.calendarday",
            object_id=pk,
            object_repr=label,
            data=data,
        )


def calendar_year_confirm(*, actor, year: int) -> CalendarYear:
    """A manager states that `year`'s holidays have been entered by hand (chinese-calendar
    does not have it yet), so deadlines stop warning about it. Confirming a year that is
    already maintained changes nothing."""
    access.require(actor, MANAGE)
    (year,) = _clean_years([year])
    with transaction.atomic():
        existing = CalendarYear.objects.filter(year=year).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                mark = CalendarYear.objects.create(year=year, source=DaySource.MANUAL)
        except IntegrityError:
            return CalendarYear.objects.get(year=year)
        days = CalendarDay.objects.filter(date__year=year).count()
        audit_record(code="calendar_year.confirmed", obj=mark, actor=actor, data={"year": year, "days": days})
        return mark


# -- working hours ----------------------------------------------------------------------

HOURS_FIELDS = ("morning_start", "morning_end", "afternoon_start", "afternoon_end", "weekdays")


def _clean_weekdays(weekdays) -> str:
    digits = list(weekdays.strip()) if isinstance(weekdays, str) else [str(d) for d in (weekdays or [])]
    if not digits:
        raise ValidationFailed(_("请至少选择一个工作日。"), details={"field": "weekdays"})
    if any(len(d) != 1 or d not in "1234567" for d in digits):
        raise ValidationFailed(
            _("工作日须为 1–7 的数字（1 表示周一，7 表示周日），例如 12345。"), details={"field": "weekdays"}
        )
    return "".join(sorted(set(digits)))


def _clean_hours(values: dict[str, Any]) -> dict[str, Any]:
    labels = {
        "morning_start": _("上午上班"),
        "morning_end": _("上午下班"),
        "afternoon_start": _("下午上班"),
        "afternoon_end": _("下午下班"),
    }
    for field, label in labels.items():
        if not isinstance(values[field], datetime.time):
            raise ValidationFailed(_("请填写有效的%(label)s时间。") % {"label": label}, details={"field": field})
    if not values["morning_start"] < values["morning_end"]:
        raise ValidationFailed(_("上午上班时间必须早于上午下班时间。"), details={"field": "morning_end"})
    if not values["morning_end"] <= values["afternoon_start"]:
        raise ValidationFailed(_("下午上班时间不能早于上午下班时间。"), details={"field": "afternoon_start"})
    if not values["afternoon_start"] < values["afternoon_end"]:
        raise ValidationFailed(_("下午上班时间必须早于下午下班时间。"), details={"field": "afternoon_end"})
    values["weekdays"] = _clean_weekdays(values["weekdays"])
    return values


def working_hours_set(
    *,
    actor,
    department: Department | None = None,
    morning_start: datetime.time,
    morning_end: datetime.time,
    afternoon_start: datetime.time,
    afternoon_end: datetime.time,
    weekdays: str,
) -> WorkingHours:
    """Set the working hours of `department` (or the default ones): a morning and an
    afternoon session, the lunch break between them, on the ISO `weekdays` ("12345").
    Creates the row on first use; audited with before and after."""
    access.require(actor, MANAGE)
    values = _clean_hours(
        {
            "morning_start": morning_start,
            "morning_end": morning_end,
            "afternoon_start": afternoon_start,
            "afternoon_end": afternoon_end,
            "weekdays": weekdays,
        }
    )
    with transaction.atomic():
        # The department must still exist; lock it so it is not deleted meanwhile.
        if department is not None and not Department.objects.select_for_update().filter(pk=department.pk).exists():
            raise NotFound(_("部门不存在。"))
        rows = WorkingHours.objects.select_for_update()
        row = (
            rows.filter(department__isnull=True) if department is None else rows.filter(department=department)
        ).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = WorkingHours.objects.create(department=department, updated_by=actor, **values)
            except IntegrityError:
                raise ValidationFailed(_("工作时间刚被他人设置，请刷新后重试。"))
            audit_record(
                code="working_hours.created",
                obj=row,
                actor=actor,
                changes={name: (None, values[name]) for name in HOURS_FIELDS},
                data={"department": department.pk if department else None},
            )
            return row
        changes = field_changes(row, values)
        if not changes:
            return row
        for name in changes:
            setattr(row, name, values[name])
        row.updated_by = actor
        row.save(update_fields=[*changes, "updated_by", "updated_at"])
        audit_record(
            code="working_hours.updated",
            obj=row,
            actor=actor,
            changes=changes,
            data={"department": department.pk if department else None},
        )
        return row


def working_hours_delete(*, actor, hours: WorkingHours) -> None:
    """Drop a department's own working hours: it follows the default hours again. The
    default row itself cannot be dropped (edit it instead)."""
    access.require(actor, MANAGE)
    with transaction.atomic():
        row = WorkingHours.objects.select_for_update().filter(pk=hours.pk).first()
        if row is None:
            raise NotFound(_("该工作时间已被删除。"))
        if row.department_id is None:
            raise ValidationFailed(_("默认工作时间不能删除，只能修改。"))
        before = {name: getattr(row, name) for name in HOURS_FIELDS}
        pk, label, department_id = row.pk, str(row), row.department_id
        row.delete()
        audit_record(
            code="working_hours.deleted",
            actor=actor,
            object_type="core.workinghours",
            object_id=pk,
            object_repr=label,
            changes={name: (value, None) for name, value in before.items()},
            data={"department": department_id},
        )


# -- reads (selectors) ------------------------------------------------------------------


def calendar_day_list(*, user, year: int) -> QuerySet[CalendarDay]:
    """The exceptions of `year` the user may see (the calendar is not scoped: anyone
    with `core.view_calendarday` sees all of it)."""
    low, high = _year_range([year])
    return access.restrict(CalendarDay.objects.all(), user, VIEW).filter(date__gte=low, date__lte=high)


def calendar_year_list(*, user) -> QuerySet[CalendarYear]:
    if not access.has_perm(user, VIEW):
        return CalendarYear.objects.none()
    return CalendarYear.objects.all()


def calendar_departments(*, user) -> QuerySet[Department]:
    """Departments whose working hours the user may see: every department (they are
    reference data, not scoped) for whoever may view the calendar."""
    return access.restrict(Department.objects.all(), user, VIEW)


def working_hours_list(*, user) -> QuerySet[WorkingHours]:
    """The default row and the rows of the departments the user may see."""
    if not access.has_perm(user, VIEW):
        return WorkingHours.objects.none()
    departments = calendar_departments(user=user).values("pk")
    return WorkingHours.objects.filter(Q(department__isnull=True) | Q(department__in=departments)).select_related(
        "department"
    )
