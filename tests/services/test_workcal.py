"""Working time by the Chinese calendar: deadlines and elapsed working minutes."""

import datetime
import logging
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kefu.core.errors import InvalidState
from kefu.core.models import CalendarYear
from kefu.core.services.calendar import calendar_seed, calendar_year_confirm
from kefu.core.workcal import (
    WorkingCalendar,
    add_working_days,
    add_working_minutes,
    calendar_warnings,
    is_working_day,
    next_working_day,
    working_minutes_between,
)
from tests.factories import DepartmentFactory
from tests.factories_calendar import CalendarDayFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = datetime.date


def at(year, month, day, hour=0, minute=0, second=0):
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def seeded(db):
    return calendar_seed(years=[2026])


@pytest.fixture
def weekend_department(db):
    """A service counter open every day, 08:00–12:00 and 14:00–17:00 (420 min a day)."""
    department = DepartmentFactory(code="counter", name="服务台")
    WorkingHoursFactory(
        department=department,
        morning_start=datetime.time(8, 0),
        morning_end=datetime.time(12, 0),
        afternoon_start=datetime.time(14, 0),
        afternoon_end=datetime.time(17, 0),
        weekdays="1234567",
    )
    return department


# -- the cases of the brief ------------------------------------------------------------


def test_friday_evening_complaint_is_due_on_the_adjusted_working_sunday(seeded):
    # Given a complaint on Friday 2026-09-18 at 17:30 with 8 working hours to answer
    received = at(2026, 9, 18, 17, 30)

    # When the deadline is computed on the default hours (09:00–12:00, 13:30–18:00)
    due = add_working_minutes(received, 480)

    # Then 30 minutes count on Friday, Saturday is off, and Sunday 2026-09-20 — a 调休
    # working day before National Day — supplies the remaining 450 minutes: a full day.
    assert due == at(2026, 9, 20, 18, 0)
    assert working_minutes_between(received, due) == 480


def test_deadline_jumps_the_national_day_holiday(seeded):
    received = at(2026, 9, 30, 17, 30)

    due = add_working_minutes(received, 480)

    # 30 minutes on 30 September, 1–7 October off, 450 minutes on Thursday 8 October.
    assert due == at(2026, 10, 8, 18, 0)


def test_adjusted_working_saturday_counts(seeded):
    assert is_working_day(D(2026, 10, 10))  # Saturday, 调休 after National Day
    assert not is_working_day(D(2026, 10, 17))  # an ordinary Saturday
    assert add_working_minutes(at(2026, 10, 9, 17, 30), 60) == at(2026, 10, 10, 9, 30)


def test_holiday_on_a_weekday_is_off(seeded):
    assert not is_working_day(D(2026, 10, 1))  # Thursday, National Day
    assert not is_working_day(D(2026, 9, 25))  # Friday, Mid-autumn
    assert is_working_day(D(2026, 9, 24))


def test_lunch_break_is_not_counted(seeded):
    monday = (2026, 9, 14)
    assert add_working_minutes(at(*monday, 11, 30), 60) == at(*monday, 14, 0)
    assert working_minutes_between(at(*monday, 11, 0), at(*monday, 14, 0)) == 90
    assert working_minutes_between(at(*monday, 12, 0), at(*monday, 13, 30)) == 0


def test_a_session_used_up_exactly_ends_at_its_end(seeded):
    assert add_working_minutes(at(2026, 9, 14, 9, 0), 180) == at(2026, 9, 14, 12, 0)
    assert add_working_minutes(at(2026, 9, 14, 9, 0), 181) == at(2026, 9, 14, 13, 31)


def test_start_outside_working_time_rolls_forward(seeded):
    # 0 minutes from a non-working moment is the next working moment.
    assert add_working_minutes(at(2026, 9, 14, 12, 0), 0) == at(2026, 9, 14, 13, 30)
    assert add_working_minutes(at(2026, 9, 14, 12, 45), 0) == at(2026, 9, 14, 13, 30)
    assert add_working_minutes(at(2026, 9, 12, 10, 0), 0) == at(2026, 9, 14, 9, 0)  # Saturday
    assert add_working_minutes(at(2026, 9, 14, 20, 0), 30) == at(2026, 9, 15, 9, 30)
    assert add_working_minutes(at(2026, 9, 14, 7, 0), 30) == at(2026, 9, 14, 9, 30)
    # …and a working moment stays where it is.
    assert add_working_minutes(at(2026, 9, 14, 10, 15), 0) == at(2026, 9, 14, 10, 15)


def test_any_time_zone_in_shanghai_time_out(seeded):
    received_utc = datetime.datetime(2026, 9, 18, 9, 30, tzinfo=datetime.UTC)  # 17:30 in Shanghai

    due = add_working_minutes(received_utc, 480)

    assert due == at(2026, 9, 20, 18, 0)
    assert due.utcoffset() == datetime.timedelta(hours=8)


def test_negative_minutes_are_refused(seeded):
    with pytest.raises(ValueError):
        add_working_minutes(at(2026, 9, 14, 10), -1)


# -- departments -----------------------------------------------------------------------


def test_department_working_weekends_uses_its_own_hours(seeded, weekend_department):
    # Saturday 2026-09-12 is an ordinary Saturday: the counter works, the default does not.
    assert is_working_day(D(2026, 9, 12), department=weekend_department)
    assert not is_working_day(D(2026, 9, 12))

    friday = at(2026, 9, 11, 16, 30)
    assert add_working_minutes(friday, 60, department=weekend_department) == at(2026, 9, 12, 8, 30)
    assert add_working_minutes(friday, 60) == at(2026, 9, 11, 17, 30)
    assert add_working_minutes(at(2026, 9, 14, 12, 30), 0, department=weekend_department) == at(2026, 9, 14, 14, 0)


def test_statutory_holidays_close_even_a_weekend_department(seeded, weekend_department):
    # National Day's Saturday and Sunday are stored holidays too, so the counter is off.
    assert not is_working_day(D(2026, 10, 3), department=weekend_department)
    assert not is_working_day(D(2026, 10, 4), department=weekend_department)
    due = add_working_minutes(at(2026, 9, 30, 16, 30), 60, department=weekend_department)
    assert due == at(2026, 10, 8, 8, 30)


def test_department_accepts_a_primary_key(seeded, weekend_department):
    assert is_working_day(D(2026, 9, 12), department=weekend_department.pk)


def test_department_without_hours_falls_back_to_the_default_row(seeded):
    plain = DepartmentFactory(code="plain")
    WorkingHoursFactory(
        morning_start=datetime.time(8, 0),
        morning_end=datetime.time(11, 0),
        afternoon_start=datetime.time(12, 0),
        afternoon_end=datetime.time(17, 0),
        weekdays="123456",
    )

    assert add_working_minutes(at(2026, 9, 14, 7, 0), 0, department=plain) == at(2026, 9, 14, 8, 0)
    assert is_working_day(D(2026, 9, 12), department=plain)  # Saturday in "123456"


def test_without_any_hours_row_the_builtin_hours_apply(seeded):
    plain = DepartmentFactory(code="plain")
    assert add_working_minutes(at(2026, 9, 14, 7, 0), 0, department=plain) == at(2026, 9, 14, 9, 0)
    assert add_working_minutes(at(2026, 9, 14, 17, 0), 120, department=plain) == at(2026, 9, 15, 10, 0)


# -- manual days -------------------------------------------------------------------------


def test_manual_days_override_the_weekly_pattern(seeded):
    CalendarDayFactory(date=D(2026, 11, 16), kind="holiday", name="公司年会")  # Monday
    CalendarDayFactory(date=D(2026, 11, 14), kind="workday", name="补班")  # Saturday

    assert not is_working_day(D(2026, 11, 16))
    assert is_working_day(D(2026, 11, 14))
    assert add_working_minutes(at(2026, 11, 13, 17, 30), 60) == at(2026, 11, 14, 9, 30)


# -- minutes between -------------------------------------------------------------------


def test_minutes_between_across_a_holiday(seeded):
    assert working_minutes_between(at(2026, 9, 30, 9, 0), at(2026, 10, 8, 18, 0)) == 2 * 450
    assert working_minutes_between(at(2026, 10, 1, 0, 0), at(2026, 10, 8, 0, 0)) == 0


def test_minutes_between_an_empty_or_negative_range_is_zero(seeded):
    moment = at(2026, 9, 14, 10, 0)
    assert working_minutes_between(moment, moment) == 0
    assert working_minutes_between(moment, moment - datetime.timedelta(days=3)) == 0


def test_minutes_between_counts_whole_minutes(seeded):
    assert working_minutes_between(at(2026, 9, 14, 10, 0, 0), at(2026, 9, 14, 10, 1, 59)) == 1


# -- working days --------------------------------------------------------------------------


def test_next_working_day(seeded):
    assert next_working_day(D(2026, 9, 30)) == D(2026, 10, 8)
    assert next_working_day(D(2026, 9, 18)) == D(2026, 9, 20)  # the 调休 Sunday
    assert next_working_day(D(2026, 9, 14)) == D(2026, 9, 15)


def test_add_working_days(seeded):
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 18), 2) == D(2026, 9, 21)


def test_a_calendar_without_working_days_fails_cleanly(seeded):
    department = DepartmentFactory(code="closed")
    WorkingHoursFactory(department=department, weekdays="7")
    for week in range(110):
        sunday = D(2026, 11, 22) + datetime.timedelta(weeks=week)
        CalendarDayFactory(date=sunday, kind="holiday")

    with pytest.raises(InvalidState) as err:
        add_working_minutes(at(2026, 11, 23, 9), 10, department=department)
    assert err.value.code == "calendar_no_data"


# -- years without data --------------------------------------------------------------------


def test_2027_without_data_warns_and_computes_on_weekends(seeded, caplog):
    caplog.set_level(logging.WARNING, logger="kefu.core.workcal")
    assert not CalendarYear.objects.filter(year=2027).exists()

    # Thursday 2026-12-31 17:30 + 480: 1 January 2027 is a Friday, counted as working
    # because nobody has entered 2027's New Year holiday yet.
    due = add_working_minutes(at(2026, 12, 31, 17, 30), 480)

    assert due == at(2027, 1, 1, 18, 0)
    assert not is_working_day(D(2027, 1, 2))  # Saturday
    assert any("2027" in record.getMessage() for record in caplog.records)


def test_calendar_records_which_years_lacked_data(seeded):
    workcal = WorkingCalendar()
    workcal.add_working_minutes(at(2026, 9, 14, 9, 0), 60)
    assert workcal.missing_years == set()

    workcal.is_working_day(D(2027, 3, 1))
    assert workcal.missing_years == {2027}


def test_warnings_for_this_year_and_next(seeded, manager):
    assert calendar_warnings(today=D(2026, 11, 23)) == [
        "2027 年的法定节假日尚未维护，截止时间按周末计算，请在工作日历中补充。"
    ]
    assert calendar_warnings(today=D(2027, 3, 1)) == [
        "2027 年的法定节假日尚未维护，截止时间按周末计算，请在工作日历中补充。",
        "2028 年的法定节假日尚未维护，截止时间按周末计算，请在工作日历中补充。",
    ]
    assert calendar_warnings(today=D(2025, 6, 1)) == [
        "2025 年的法定节假日尚未维护，截止时间按周末计算，请在工作日历中补充。"
    ]

    calendar_year_confirm(actor=manager, year=2027)

    assert calendar_warnings(today=D(2026, 11, 23)) == []


# -- efficiency --------------------------------------------------------------------------


def test_large_deadlines_skip_whole_days_with_few_queries(seeded, django_assert_max_num_queries):
    start = at(2026, 1, 5, 9, 0)
    with django_assert_max_num_queries(3):
        due = add_working_minutes(start, 10_000)
    with django_assert_max_num_queries(3):
        assert working_minutes_between(start, due) == 10_000
    # 10,000 minutes = 22 days of 450 minutes and 100 minutes more.
    assert due.date() > D(2026, 1, 31)

    # Even ~8 years ahead: the years crossed are read in one range query.
    with django_assert_max_num_queries(3):
        far = add_working_minutes(start, 1_000_000)
    assert far.year >= 2034


def test_one_calendar_answers_many_questions_without_more_queries(seeded, django_assert_num_queries):
    workcal = WorkingCalendar()
    workcal.add_working_minutes(at(2026, 3, 2, 9, 0), 60)
    with django_assert_num_queries(0):
        for day in range(1, 28):
            workcal.add_working_minutes(at(2026, 10, day, 10, 0), 480)
            workcal.working_minutes_between(at(2026, 1, 1), at(2026, 12, 31))


# -- properties ------------------------------------------------------------------------------


@pytest.fixture
def workcal_2026(seeded):
    workcal = WorkingCalendar()
    workcal.load_years(2026, 2028)
    return workcal


def _session_moment(day: datetime.date, minute_of_day: int) -> datetime.datetime:
    """The `minute_of_day`-th working minute (0–449) of `day` on the default hours."""
    base = 9 * 60 if minute_of_day < 180 else 13 * 60 + 30 - 180
    minutes = base + minute_of_day
    return at(day.year, day.month, day.day, minutes // 60, minutes % 60)


working_starts = st.builds(
    _session_moment, st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 12, 31)), st.integers(0, 449)
)
PROPERTY = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(start=working_starts, minutes=st.integers(0, 20_000))
def test_minutes_between_inverts_add(workcal_2026, start, minutes):
    assume(workcal_2026.is_working_day(start.date()))
    due = workcal_2026.add_working_minutes(start, minutes)
    assert workcal_2026.working_minutes_between(start, due) == minutes


@PROPERTY
@given(
    start=st.datetimes(min_value=datetime.datetime(2026, 1, 1), max_value=datetime.datetime(2026, 12, 31)),
    minutes=st.integers(0, 5_000),
)
def test_minutes_between_inverts_add_from_any_start(workcal_2026, start, minutes):
    start = start.replace(tzinfo=SHANGHAI)
    due = workcal_2026.add_working_minutes(start, minutes)
    assert workcal_2026.working_minutes_between(start, due) == minutes


@PROPERTY
@given(start=working_starts, a=st.integers(0, 10_000), b=st.integers(0, 10_000))
def test_add_is_monotonic_in_minutes(workcal_2026, start, a, b):
    low, high = sorted((a, b))
    assert workcal_2026.add_working_minutes(start, low) <= workcal_2026.add_working_minutes(start, high)


@PROPERTY
@given(first=working_starts, second=working_starts, minutes=st.integers(0, 10_000))
def test_add_is_monotonic_in_start(workcal_2026, first, second, minutes):
    early, late = sorted((first, second))
    assert workcal_2026.add_working_minutes(early, minutes) <= workcal_2026.add_working_minutes(late, minutes)
