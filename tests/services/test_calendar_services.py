"""Calendar services: seeding from chinese-calendar, manual days, years, working hours."""

import datetime

import pytest

from kefu.core.errors import AccessDenied, NotFound, ValidationFailed
from kefu.core.models import AuditEvent, CalendarDay, CalendarYear, WorkingHours
from kefu.core.services.calendar import (
    calendar_day_delete,
    calendar_day_set,
    calendar_seed,
    calendar_year_confirm,
    seed_supported_years,
    working_hours_delete,
    working_hours_set,
)
from tests.factories import DepartmentFactory
from tests.factories_calendar import CalendarDayFactory, CalendarYearFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db

D = datetime.date
T = datetime.time

# chinese-calendar's 2026: 33 days off (weekends of holiday blocks included) and 6 调休
# working days.
HOLIDAYS_2026, WORKDAYS_2026 = 33, 6


def events(code):
    return AuditEvent.objects.filter(code=code)


# -- seeding -------------------------------------------------------------------------


def test_seed_loads_holidays_and_adjusted_workdays_of_a_year(manager):
    result = calendar_seed(years=[2026], actor=manager)

    assert result["created"] == HOLIDAYS_2026 + WORKDAYS_2026
    assert result["years"] == [2026] and result["unsupported"] == []
    assert CalendarDay.objects.filter(date__year=2026, kind="holiday").count() == HOLIDAYS_2026
    assert CalendarDay.objects.filter(date__year=2026, kind="workday").count() == WORKDAYS_2026
    national_day = CalendarDay.objects.get(date=D(2026, 10, 1))
    assert (national_day.kind, national_day.name, national_day.source) == ("holiday", "国庆节", "seed")
    # Weekend days of a holiday block are stored too (a weekend department is off then).
    assert CalendarDay.objects.get(date=D(2026, 10, 3)).kind == "holiday"
    assert CalendarDay.objects.get(date=D(2026, 9, 20)).name == "国庆节调休上班"
    assert CalendarYear.objects.get(year=2026).source == "seed"
    # One summary event, not one per day.
    event = events("calendar.seeded").get()
    assert event.actor == manager
    assert event.data["created"] == HOLIDAYS_2026 + WORKDAYS_2026
    assert event.data["years"] == [2026]


def test_seed_is_idempotent(manager):
    calendar_seed(years=[2026], actor=manager)

    again = calendar_seed(years=[2026], actor=manager)

    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert CalendarDay.objects.filter(date__year=2026).count() == HOLIDAYS_2026 + WORKDAYS_2026
    assert CalendarYear.objects.filter(year=2026).count() == 1
    assert events("calendar.seeded").count() == 1  # a run that changes nothing writes nothing


def test_seed_never_overwrites_manual_rows(manager):
    # Given a manager made National Day's last day a working day before the seed
    calendar_day_set(actor=manager, date=D(2026, 10, 7), kind="workday", name="公司安排上班")

    result = calendar_seed(years=[2026])

    day = CalendarDay.objects.get(date=D(2026, 10, 7))
    assert (day.kind, day.name, day.source) == ("workday", "公司安排上班", "manual")
    assert result["preserved_manual"] == 1
    assert result["created"] == HOLIDAYS_2026 + WORKDAYS_2026 - 1


def test_seed_repairs_and_prunes_its_own_rows(manager):
    calendar_seed(years=[2026])
    CalendarDay.objects.filter(date=D(2026, 10, 1)).update(name="改坏了", kind="workday")
    CalendarDayFactory(date=D(2026, 3, 3), kind="holiday", source="seed")  # not in the library
    CalendarDayFactory(date=D(2026, 3, 4), kind="holiday", source="manual")

    result = calendar_seed(years=[2026], actor=manager)

    assert (result["updated"], result["deleted"]) == (1, 1)
    assert CalendarDay.objects.get(date=D(2026, 10, 1)).name == "国庆节"
    assert not CalendarDay.objects.filter(date=D(2026, 3, 3)).exists()
    assert CalendarDay.objects.filter(date=D(2026, 3, 4)).exists()  # manual rows stay


def test_seed_all_supported_years_by_default():
    result = calendar_seed()

    supported = seed_supported_years()
    assert supported[0] == 2004 and 2026 in supported
    assert result["years"] == supported
    assert set(CalendarYear.objects.values_list("year", flat=True)) == set(supported)
    assert events("calendar.seeded").get().actor is None  # run by the system


def test_unsupported_years_are_reported_not_raised(manager):
    result = calendar_seed(years=[2027, 2026], actor=manager)

    assert result["unsupported"] == [2027]
    assert result["years"] == [2026]
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_only_unsupported_years_write_nothing(manager):
    result = calendar_seed(years=[2027], actor=manager)

    assert result["unsupported"] == [2027] and result["years"] == []
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()
    assert not AuditEvent.objects.exists()


def test_seed_missing_only_skips_years_already_loaded(manager):
    calendar_seed(years=[2026])
    CalendarDay.objects.filter(date=D(2026, 10, 1)).delete()
    CalendarYearFactory(year=2025, source="manual")  # confirmed by hand: the library may fill it

    result = calendar_seed(years=[2025, 2026], missing_only=True)

    assert result["skipped"] == [2026] and result["years"] == [2025]
    assert not CalendarDay.objects.filter(date=D(2026, 10, 1)).exists()
    assert CalendarDay.objects.filter(date__year=2025).exists()
    assert CalendarYear.objects.get(year=2025).source == "seed"


def test_seed_by_someone_without_the_permission_is_refused(make_user):
    agent = make_user("agent")

    with pytest.raises(AccessDenied):
        calendar_seed(years=[2026], actor=agent)

    assert not CalendarDay.objects.exists() and not AuditEvent.objects.exists()


def test_seed_refuses_nonsense_years(manager):
    with pytest.raises(ValidationFailed):
        calendar_seed(years=["abc"], actor=manager)
    with pytest.raises(ValidationFailed):
        calendar_seed(years=[99999], actor=manager)
    assert not CalendarDay.objects.exists() and not AuditEvent.objects.exists()


# -- single days ---------------------------------------------------------------------------


def test_day_set_creates_a_manual_day(manager):
    day = calendar_day_set(actor=manager, date=D(2027, 1, 1), kind="holiday", name=" 元旦 ")

    assert (day.kind, day.name, day.source) == ("holiday", "元旦", "manual")
    event = events("calendar_day.created").get()
    assert event.actor == manager and event.object_id == str(day.pk)
    assert event.changes["kind"] == [None, "holiday"]


def test_day_set_on_a_seeded_day_makes_it_manual(manager):
    calendar_seed(years=[2026])

    calendar_day_set(actor=manager, date=D(2026, 10, 7), kind="workday", name="国庆节")

    day = CalendarDay.objects.get(date=D(2026, 10, 7))
    assert (day.kind, day.source) == ("workday", "manual")
    event = events("calendar_day.updated").get()
    assert event.changes == {"kind": ["holiday", "workday"], "source": ["seed", "manual"]}


def test_day_set_without_change_writes_nothing(manager):
    calendar_day_set(actor=manager, date=D(2027, 1, 1), kind="holiday", name="元旦")

    calendar_day_set(actor=manager, date=D(2027, 1, 1), kind="holiday", name="元旦")

    assert events("calendar_day.updated").count() == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"date": D(2027, 1, 1), "kind": "weekend", "name": ""}, "kind"),
        ({"date": D(2027, 1, 1), "kind": "holiday", "name": "长" * 61}, "name"),
        ({"date": "2027-01-01", "kind": "holiday", "name": ""}, "date"),
        ({"date": D(1900, 1, 1), "kind": "holiday", "name": ""}, "date"),
    ],
)
def test_day_set_validation_writes_nothing(manager, values, field):
    with pytest.raises(ValidationFailed) as err:
        calendar_day_set(actor=manager, **values)

    assert err.value.details == {"field": field}
    assert not CalendarDay.objects.exists() and not AuditEvent.objects.exists()


def test_day_set_by_an_agent_is_refused(make_user):
    with pytest.raises(AccessDenied):
        calendar_day_set(actor=make_user("agent"), date=D(2027, 1, 1), kind="holiday", name="")
    assert not CalendarDay.objects.exists() and not AuditEvent.objects.exists()


def test_day_delete_is_audited(manager):
    day = calendar_day_set(actor=manager, date=D(2027, 1, 1), kind="holiday", name="元旦")

    calendar_day_delete(actor=manager, day=day)

    assert not CalendarDay.objects.exists()
    event = events("calendar_day.deleted").get()
    assert event.data == {"date": "2027-01-01", "kind": "holiday", "name": "元旦", "source": "manual"}
    assert event.object_type == "core.calendarday" and event.object_id == str(day.pk)


def test_day_delete_twice_is_not_found(manager):
    day = CalendarDayFactory(date=D(2027, 1, 1))
    calendar_day_delete(actor=manager, day=day)

    with pytest.raises(NotFound):
        calendar_day_delete(actor=manager, day=day)
    assert events("calendar_day.deleted").count() == 1


def test_day_delete_by_an_agent_is_refused(make_user):
    day = CalendarDayFactory(date=D(2027, 1, 1))

    with pytest.raises(AccessDenied):
        calendar_day_delete(actor=make_user("agent"), day=day)

    assert CalendarDay.objects.filter(pk=day.pk).exists() and not AuditEvent.objects.exists()


# -- years -----------------------------------------------------------------------------------


def test_year_confirm_marks_a_hand_maintained_year(manager):
    CalendarDayFactory(date=D(2027, 1, 1), name="元旦")

    mark = calendar_year_confirm(actor=manager, year=2027)

    assert (mark.year, mark.source) == (2027, "manual")
    event = events("calendar_year.confirmed").get()
    assert event.data == {"year": 2027, "days": 1} and event.actor == manager


def test_year_confirm_of_a_maintained_year_changes_nothing(manager):
    calendar_seed(years=[2026])

    mark = calendar_year_confirm(actor=manager, year=2026)

    assert mark.source == "seed"
    assert not events("calendar_year.confirmed").exists()


def test_year_confirm_refuses_bad_years_and_agents(manager, make_user):
    with pytest.raises(ValidationFailed):
        calendar_year_confirm(actor=manager, year=12)
    with pytest.raises(AccessDenied):
        calendar_year_confirm(actor=make_user("agent"), year=2027)
    assert not CalendarYear.objects.exists() and not AuditEvent.objects.exists()


# -- working hours ---------------------------------------------------------------------------

HOURS = {
    "morning_start": T(8, 30),
    "morning_end": T(12, 0),
    "afternoon_start": T(13, 0),
    "afternoon_end": T(17, 30),
    "weekdays": "654321",
}


def test_working_hours_set_creates_the_default_row(manager):
    row = working_hours_set(actor=manager, **HOURS)

    assert row.department is None and row.weekdays == "123456"  # normalised
    assert row.updated_by == manager
    event = events("working_hours.created").get()
    assert event.changes["morning_start"] == [None, "08:30:00"]
    assert event.changes["weekdays"] == [None, "123456"]


def test_working_hours_set_updates_with_before_and_after(manager):
    WorkingHoursFactory()

    working_hours_set(actor=manager, **{**HOURS, "morning_start": T(9, 0), "afternoon_start": T(13, 30)})

    row = WorkingHours.objects.get(department__isnull=True)
    assert (row.afternoon_end, row.weekdays) == (T(17, 30), "123456")
    event = events("working_hours.updated").get()
    assert event.changes == {"afternoon_end": ["18:00:00", "17:30:00"], "weekdays": ["12345", "123456"]}


def test_working_hours_set_without_change_writes_nothing(manager):
    WorkingHoursFactory()

    working_hours_set(
        actor=manager,
        morning_start=T(9, 0),
        morning_end=T(12, 0),
        afternoon_start=T(13, 30),
        afternoon_end=T(18, 0),
        weekdays="12345",
    )

    assert not AuditEvent.objects.exists()


def test_working_hours_of_a_department(manager):
    department = DepartmentFactory(code="counter")
    WorkingHoursFactory()

    row = working_hours_set(actor=manager, department=department, **{**HOURS, "weekdays": "1234567"})

    assert row.department == department
    assert WorkingHours.objects.count() == 2
    assert events("working_hours.created").get().data == {"department": department.pk}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"morning_end": T(8, 0)}, "morning_end", "上午上班时间必须早于上午下班时间。"),
        ({"afternoon_start": T(11, 0)}, "afternoon_start", "下午上班时间不能早于上午下班时间。"),
        ({"afternoon_end": T(13, 0)}, "afternoon_end", "下午上班时间必须早于下午下班时间。"),
        ({"weekdays": "1238"}, "weekdays", "工作日须为 1–7 的数字（1 表示周一，7 表示周日），例如 12345。"),
        ({"weekdays": "12a"}, "weekdays", "工作日须为 1–7 的数字（1 表示周一，7 表示周日），例如 12345。"),
        ({"weekdays": ""}, "weekdays", "请至少选择一个工作日。"),
        ({"morning_start": "09:00"}, "morning_start", "请填写有效的上午上班时间。"),
    ],
)
def test_working_hours_validation_writes_nothing(manager, change, field, message):
    WorkingHoursFactory()

    with pytest.raises(ValidationFailed) as err:
        working_hours_set(actor=manager, **{**HOURS, **change})

    assert err.value.message == message and err.value.details == {"field": field}
    row = WorkingHours.objects.get()
    assert (row.morning_start, row.weekdays) == (T(9, 0), "12345")
    assert not AuditEvent.objects.exists()


def test_working_hours_set_by_an_agent_is_refused(make_user):
    with pytest.raises(AccessDenied):
        working_hours_set(actor=make_user("agent"), **HOURS)
    assert not WorkingHours.objects.exists() and not AuditEvent.objects.exists()


def test_working_hours_delete_returns_a_department_to_the_default(manager):
    department = DepartmentFactory(code="counter")
    row = WorkingHoursFactory(department=department, weekdays="1234567")

    working_hours_delete(actor=manager, hours=row)

    assert not WorkingHours.objects.filter(department=department).exists()
    event = events("working_hours.deleted").get()
    assert event.changes["weekdays"] == ["1234567", None]


def test_the_default_hours_cannot_be_deleted(manager):
    row = WorkingHoursFactory()

    with pytest.raises(ValidationFailed):
        working_hours_delete(actor=manager, hours=row)

    assert WorkingHours.objects.filter(pk=row.pk).exists() and not AuditEvent.objects.exists()
