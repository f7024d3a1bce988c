"""Working time: which days are working days and how many working minutes lie between
two moments, by the department's working hours and the Chinese statutory calendar
(holidays and 调休 working days kept in `CalendarDay`).

Rules, in order:
1. a `CalendarDay` of kind holiday is off, even on a working weekday;
2. a `CalendarDay` of kind workday (调休) is on, even on a Saturday or Sunday;
3. any other day follows the department's `weekdays`.

A department without its own `WorkingHours` row uses the default row (department
empty); without that, 09:00–12:00 and 13:30–18:00, Monday to Friday.

Everything is computed on the wall clock of the project's TIME_ZONE (Asia/Shanghai by
default), whatever the time zone of the datetimes passed in. Working time is half-open:
09:00 is working, 12:00 is not (so 0 minutes from 12:00 is 13:30).

A year without holiday data (no `CalendarYear` row: chinese-calendar publishes a year
only once the State Council has announced it) never fails: its days follow the weekly
pattern (plus any day a manager has entered by hand), a warning is logged, and
`calendar_warnings()` shows it on the home page and the calendar page.

`WorkingCalendar` loads the working hours once and the calendar days by ranges of
years, so one instance can answer many questions (e.g. the deadlines of a list of
tickets) with a handful of queries; the module functions make a fresh one per call.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import configcache
from kefu.core.errors import ErrorCode, InvalidState

logger = logging.getLogger(__name__)

_US_PER_MINUTE = 60_000_000
_US_PER_DAY = 24 * 60 * _US_PER_MINUTE
# A calendar with no working day in two years is misconfigured; stop rather than loop.
_MAX_IDLE_DAYS = 2 * 366
# A range query costs the same for one year or many (about 40 rows a year), so the
# years a long computation will cross are read at once, up to this many.
_MAX_PREFETCH_YEARS = 50


def _time_us(value: datetime.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


@dataclass(frozen=True)
class WorkSchedule:
    """A department's working day: sessions as [start, end) offsets from midnight in
    microseconds, and the ISO weekdays (1 = Monday) that are working by default."""

    sessions: tuple[tuple[int, int], ...]
    weekdays: frozenset[int]

    @classmethod
    def from_hours(cls, hours) -> WorkSchedule:
        """From a `WorkingHours` row (or anything with the same attributes)."""
        sessions = (
            (_time_us(hours.morning_start), _time_us(hours.morning_end)),
            (_time_us(hours.afternoon_start), _time_us(hours.afternoon_end)),
        )
        weekdays = frozenset(int(ch) for ch in hours.weekdays if ch.isdigit() and 1 <= int(ch) <= 7)
        return cls(sessions=tuple((s, e) for s, e in sessions if s < e), weekdays=weekdays)

    @property
    def day_us(self) -> int:
        """Working time in one full working day."""
        return sum(e - s for s, e in self.sessions)

    @property
    def day_minutes(self) -> int:
        return self.day_us // _US_PER_MINUTE


# Used when neither the department nor the default has a WorkingHours row.
BUILTIN_SCHEDULE = WorkSchedule(
    sessions=(
        (9 * 60 * _US_PER_MINUTE, 12 * 60 * _US_PER_MINUTE),
        ((13 * 60 + 30) * _US_PER_MINUTE, 18 * 60 * _US_PER_MINUTE),
    ),
    weekdays=frozenset({1, 2, 3, 4, 5}),
)


def _department_id(department) -> int | None:
    if department is None:
        return None
    if isinstance(department, int):
        return department
    return department.pk


def missing_year_message(year: int) -> str:
    return _("%(year)s 年的法定节假日尚未维护，截止时间按周末计算，请在工作日历中补充。") % {"year": year}


def _read_years(low: int, high: int) -> tuple[dict[datetime.date, str], frozenset[int]]:
    """The special days of the years low..high and which of those years have data."""
    from kefu.core.models import CalendarDay, CalendarYear

    days = dict(
        CalendarDay.objects.filter(
            date__gte=datetime.date(low, 1, 1), date__lte=datetime.date(high, 12, 31)
        ).values_list("date", "kind")
    )
    known = frozenset(CalendarYear.objects.filter(year__gte=low, year__lte=high).values_list("year", flat=True))
    return days, known


class WorkingCalendar:
    """The working calendar of one department (or the default one, `department=None`).

    Holds what it has read: reuse one instance for many computations. `schedule` may be
    given to skip reading `WorkingHours` (tests, previews of an unsaved form)."""

    def __init__(self, department=None, *, schedule: WorkSchedule | None = None):
        self.department_id = _department_id(department)
        self._schedule = schedule
        self._tz = timezone.get_default_timezone()
        self._days: dict[datetime.date, str] = {}
        self._loaded_years: set[int] = set()
        self._known_years: set[int] = set()
        self._warned_years: set[int] = set()
        #: years consulted for which no holiday data exists (computed on weekends only)
        self.missing_years: set[int] = set()

    # -- loading -------------------------------------------------------------------

    @property
    def schedule(self) -> WorkSchedule:
        if self._schedule is None:
            self._schedule = self._load_schedule()
        return self._schedule

    def _load_schedule(self) -> WorkSchedule:
        return configcache.cached(("workcal.schedule", self.department_id), self._read_schedule)

    def _read_schedule(self) -> WorkSchedule:
        from kefu.core.models import WorkingHours

        if self.department_id is None:
            rows = WorkingHours.objects.filter(department__isnull=True)
        else:
            rows = WorkingHours.objects.filter(Q(department_id=self.department_id) | Q(department__isnull=True))
        by_department = {row.department_id: row for row in rows}
        row = by_department.get(self.department_id) or by_department.get(None)
        return WorkSchedule.from_hours(row) if row is not None else BUILTIN_SCHEDULE

    def load_years(self, first: int, last: int) -> None:
        """Read the calendar days of the years first..last not read yet: one query for
        the days of the whole span, one for which of its years have data."""
        wanted = [year for year in range(first, last + 1) if year not in self._loaded_years]
        if not wanted:
            return
        low, high = min(wanted), max(wanted)
        days, known = configcache.cached(("workcal.years", low, high), lambda: _read_years(low, high))
        self._days.update(days)
        self._known_years.update(known)
        self._loaded_years.update(range(low, high + 1))

    def _kind(self, day: datetime.date) -> str | None:
        year = day.year
        if year not in self._loaded_years:
            # Deadlines often cross New Year: take the next year in the same query.
            self.load_years(year, year + 1)
        if year not in self._known_years and year not in self._warned_years:
            self._warned_years.add(year)
            self.missing_years.add(year)
            logger.warning("No statutory holiday data for %s: working days follow the weekly pattern only", year)
        return self._days.get(day)

    # -- days ----------------------------------------------------------------------

    def is_working_day(self, day: datetime.date) -> bool:
        from kefu.core.models import DayKind

        kind = self._kind(day)
        if kind == DayKind.HOLIDAY:
            return False
        if kind == DayKind.WORKDAY:
            return True
        return day.isoweekday() in self.schedule.weekdays

    def next_working_day(self, day: datetime.date) -> datetime.date:
        """The first working day strictly after `day`."""
        candidate = day
        for _idle in range(_MAX_IDLE_DAYS):
            candidate += datetime.timedelta(days=1)
            if self.is_working_day(candidate):
                return candidate
        raise self._no_working_day()

    def add_working_days(self, day: datetime.date, days: int) -> datetime.date:
        """The working day `days` working days after `day` (0: `day` itself if working,
        else the next working day)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = day if self.is_working_day(day) else self.next_working_day(day)
        for _step in range(days):
            current = self.next_working_day(current)
        return current

    # -- moments -------------------------------------------------------------------

    def _split(self, moment: datetime.datetime) -> tuple[datetime.date, int]:
        """The local date and the offset from its midnight in microseconds."""
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, self._tz)
        local = moment.astimezone(self._tz)
        return local.date(), _time_us(local.time())

    def _join(self, day: datetime.date, offset_us: int) -> datetime.datetime:
        naive = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(microseconds=offset_us)
        return timezone.make_aware(naive, self._tz)

    def _prefetch(self, day: datetime.date, minutes: int) -> None:
        """Load, in one go, the years a computation of `minutes` from `day` will likely
        cross, instead of discovering them one by one."""
        per_day = max(self.schedule.day_minutes, 1)
        per_week = max(len(self.schedule.weekdays), 1)
        # Calendar days ≈ working days × 7 / working weekdays, plus a month of holidays.
        span = (minutes // per_day + 1) * 7 // per_week + 31
        last = (day + datetime.timedelta(days=min(span, 366 * _MAX_PREFETCH_YEARS))).year
        self.load_years(day.year, max(last, day.year + 1))

    def add_working_minutes(self, start: datetime.datetime, minutes: int) -> datetime.datetime:
        """The moment `minutes` working minutes after `start`. A start outside working
        time counts from the next working moment; 0 minutes gives that moment itself.
        A deadline that uses up a session exactly ends at the session's end (12:00)."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        schedule = self.schedule
        day, offset = self._split(start)
        remaining = minutes * _US_PER_MINUTE
        self._prefetch(day, minutes)
        idle = 0
        while True:
            if self.is_working_day(day):
                idle = 0
                if offset == 0 and remaining > schedule.day_us:
                    # A whole working day: no need to look at its sessions.
                    remaining -= schedule.day_us
                else:
                    for session_start, session_end in schedule.sessions:
                        if offset >= session_end:
                            continue
                        begin = max(offset, session_start)
                        available = session_end - begin
                        if remaining <= available:
                            return self._join(day, begin + remaining)
                        remaining -= available
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise self._no_working_day()
            day += datetime.timedelta(days=1)
            offset = 0

    def next_working_moment(self, moment: datetime.datetime) -> datetime.datetime:
        """`moment` itself if it is working time, else the start of the next session."""
        return self.add_working_minutes(moment, 0)

    def working_minutes_between(self, start: datetime.datetime, end: datetime.datetime) -> int:
        """Whole working minutes in [start, end); 0 when end is not after start."""
        first_day, first_offset = self._split(start)
        last_day, last_offset = self._split(end)
        if (last_day, last_offset) <= (first_day, first_offset):
            return 0
        self.load_years(first_day.year, last_day.year)
        schedule = self.schedule
        total = 0
        day = first_day
        while day <= last_day:
            if self.is_working_day(day):
                low = first_offset if day == first_day else 0
                high = last_offset if day == last_day else _US_PER_DAY
                if low == 0 and high == _US_PER_DAY:
                    total += schedule.day_us
                else:
                    total += sum(max(0, min(e, high) - max(s, low)) for s, e in schedule.sessions)
            day += datetime.timedelta(days=1)
        return total // _US_PER_MINUTE

    def is_working_time(self, moment: datetime.datetime) -> bool:
        day, offset = self._split(moment)
        if not self.is_working_day(day):
            return False
        return any(s <= offset < e for s, e in self.schedule.sessions)

    @staticmethod
    def _no_working_day() -> InvalidState:
        return InvalidState(
            _("工作日历中两年内没有任何工作日，请检查工作时间与节假日设置。"), code=ErrorCode.CALENDAR_NO_DATA
        )


# -- module functions: one fresh WorkingCalendar per call ------------------------------


def add_working_minutes(start: datetime.datetime, minutes: int, *, department=None) -> datetime.datetime:
    """The moment `minutes` working minutes after `start` for `department` (or the
    default hours)."""
    return WorkingCalendar(department).add_working_minutes(start, minutes)


def working_minutes_between(start: datetime.datetime, end: datetime.datetime, *, department=None) -> int:
    """Working minutes in [start, end) for `department` (or the default hours)."""
    return WorkingCalendar(department).working_minutes_between(start, end)


def is_working_day(day: datetime.date, *, department=None) -> bool:
    return WorkingCalendar(department).is_working_day(day)


def next_working_day(day: datetime.date, *, department=None) -> datetime.date:
    """The first working day strictly after `day`."""
    return WorkingCalendar(department).next_working_day(day)


def add_working_days(day: datetime.date, days: int, *, department=None) -> datetime.date:
    return WorkingCalendar(department).add_working_days(day, days)


def missing_years(years) -> list[int]:
    """Those of `years` without holiday data (neither seeded nor confirmed by hand)."""
    from kefu.core.models import CalendarYear

    years = sorted(set(years))
    known = set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
    return [year for year in years if year not in known]


def calendar_warnings(today: datetime.date | None = None) -> list[str]:
    """Messages for the home page: this year and next year without holiday data."""
    today = today or timezone.localdate()
    return [missing_year_message(year) for year in missing_years([today.year, today.year + 1])]
