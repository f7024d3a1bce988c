"""Factories for the working calendar."""

import datetime

import factory

from kefu.core.models import CalendarDay, CalendarYear, DayKind, DaySource, WorkingHours


class CalendarDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarDay
        django_get_or_create = ("date",)

    date = factory.Sequence(lambda n: datetime.date(2030, 1, 1) + datetime.timedelta(days=n))
    kind = DayKind.HOLIDAY
    name = "测试假日"
    source = DaySource.MANUAL


class CalendarYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarYear
        django_get_or_create = ("year",)

    year = 2030
    source = DaySource.MANUAL


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    """Default hours unless told otherwise (department=None is the default row)."""

    class Meta:
        model = WorkingHours

    department = None
    morning_start = datetime.time(9, 0)
    morning_end = datetime.time(12, 0)
    afternoon_start = datetime.time(13, 30)
    afternoon_end = datetime.time(18, 0)
    weekdays = "12345"
