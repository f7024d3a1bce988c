"""Rows for the working calendar: everyone looks, managers and admins change."""

import datetime

from django.urls import reverse

from tests.factories_calendar import CalendarDayFactory, WorkingHoursFactory
from tests.permissions.matrix import EVERY_ROLE, Row, roles

MANAGERS = roles("manager", "admin")

HOURS_FORM = {
    "morning_start": "08:30",
    "morning_end": "12:00",
    "afternoon_start": "13:00",
    "afternoon_end": "17:30",
    "weekdays": ["1", "2", "3", "4", "5"],
}


def _day(w):
    return CalendarDayFactory(date=datetime.date(2026, 11, 16), kind="holiday", name="矩阵")


def _department_hours(w):
    WorkingHoursFactory(department=w.department, weekdays="1234567")
    return w.department


ROWS = [
    Row("calendar-index", lambda w: reverse("calendar:index"), EVERY_ROLE),
    Row("calendar-year", lambda w: reverse("calendar:year", args=[2026]), EVERY_ROLE),
    Row(
        "calendar-calculate",
        lambda w: reverse("calendar:calculate") + "?start=2026-09-18T17:30&minutes=480",
        EVERY_ROLE,
    ),
    Row("calendar-hours", lambda w: reverse("calendar:hours"), EVERY_ROLE),
    Row("calendar-day-add-form", lambda w: reverse("calendar:day_add"), MANAGERS),
    Row(
        "calendar-day-add",
        lambda w: reverse("calendar:day_add"),
        MANAGERS,
        method="post",
        data=lambda w: {"date": "2026-11-16", "kind": "holiday", "name": "年会"},
    ),
    Row(
        "calendar-day-edit",
        lambda w: reverse("calendar:day_edit", args=[_day(w).pk]),
        MANAGERS,
        method="post",
        data=lambda w: {"kind": "workday", "name": "补班"},
    ),
    Row("calendar-day-delete-confirm", lambda w: reverse("calendar:day_delete", args=[_day(w).pk]), MANAGERS),
    Row(
        "calendar-day-delete",
        lambda w: reverse("calendar:day_delete", args=[_day(w).pk]),
        MANAGERS,
        method="post",
        data=lambda w: {},
    ),
    Row("calendar-seed", lambda w: reverse("calendar:seed"), MANAGERS, method="post", data=lambda w: {"year": "2026"}),
    Row(
        "calendar-year-confirm",
        lambda w: reverse("calendar:year_confirm", args=[2027]),
        MANAGERS,
        method="post",
        data=lambda w: {},
    ),
    Row("calendar-hours-default-form", lambda w: reverse("calendar:hours_default"), MANAGERS),
    Row(
        "calendar-hours-default",
        lambda w: reverse("calendar:hours_default"),
        MANAGERS,
        method="post",
        data=lambda w: HOURS_FORM,
    ),
    Row(
        "calendar-hours-department",
        lambda w: reverse("calendar:hours_department", args=[w.department.pk]),
        MANAGERS,
        method="post",
        data=lambda w: HOURS_FORM,
    ),
    Row(
        "calendar-hours-reset",
        lambda w: reverse("calendar:hours_reset", args=[_department_hours(w).pk]),
        MANAGERS,
        method="post",
        data=lambda w: {},
    ),
]
