"""Reporting periods: a week, month, quarter, year or any range of days, with the key
that travels in URLs (`?period=2026-Q4`), the label printed on reports and the
periods they are compared with (the previous one, the same one last year).

A period is a half-open range of local dates [start, end); `bounds()` turns it into
aware instants of the site's time zone, which is how every selector filters
timestamps (`created_at`), while date columns (`due_date`) use `start`/`end` as is."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed

KINDS = ("week", "month", "quarter", "year", "range")
# Years a key may name: keeps typos such as "20266-11" from reaching the database.
MIN_YEAR, MAX_YEAR = 2000, 2999
# A range longer than this is almost certainly a typo; a yearly report is the tool.
MAX_RANGE_DAYS = 366 * 5

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_WEEK = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|~|至|,)\s*(\d{4}-\d{1,2}-\d{1,2})$")


def first_of_next_month(day: datetime.date) -> datetime.date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _add_months(first: datetime.date, months: int) -> datetime.date:
    index = first.year * 12 + (first.month - 1) + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _minus_year(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _iso_weeks(year: int) -> int:
    """52 or 53: 28 December always lies in the last ISO week of its year."""
    return datetime.date(year, 12, 28).isocalendar().week


@dataclass(frozen=True)
class Period:
    kind: str  # "week" | "month" | "quarter" | "year" | "range"
    start: datetime.date  # inclusive
    end: datetime.date  # exclusive
    label: str

    # -- naming

    def key(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "week":
            iso = self.start.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return f"{self.start.isoformat()}..{self.last_day.isoformat()}"

    @property
    def last_day(self) -> datetime.date:
        """The last day inside the period (what people write as "to")."""
        return self.end - datetime.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __str__(self) -> str:
        return self.label

    # -- instants

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """[start 00:00, end 00:00) as aware datetimes of the current time zone."""
        tz = timezone.get_current_timezone()
        return (
            datetime.datetime.combine(self.start, datetime.time.min, tzinfo=tz),
            datetime.datetime.combine(self.end, datetime.time.min, tzinfo=tz),
        )

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day < self.end

    def months(self) -> list[datetime.date]:
        """The first day of every calendar month the period touches, in order."""
        result, first = [], self.start.replace(day=1)
        while first < self.end:
            result.append(first)
            first = first_of_next_month(first)
        return result

    # -- comparisons

    def previous(self) -> Period:
        """The period just before, of the same kind (a range: as many days before)."""
        if self.kind == "week":
            return _week_of(self.start - datetime.timedelta(days=7))
        if self.kind == "month":
            return _month_of(_add_months(self.start, -1))
        if self.kind == "quarter":
            return _quarter_of(_add_months(self.start, -3))
        if self.kind == "year":
            return _year_of(self.start.replace(year=self.start.year - 1))
        return make_range(self.start - datetime.timedelta(days=self.days), self.start - datetime.timedelta(days=1))

    def same_last_year(self) -> Period:
        """One year earlier: the same month/quarter, the ISO week of the same number
        (week 53 of a year whose predecessor has 52 maps to week 52), a range's dates
        shifted by a year."""
        if self.kind == "week":
            iso = self.start.isocalendar()
            year = iso.year - 1
            week = min(iso.week, _iso_weeks(year))
            return _week_of(datetime.date.fromisocalendar(year, week, 1))
        if self.kind == "month":
            return _month_of(self.start.replace(year=self.start.year - 1))
        if self.kind == "quarter":
            return _quarter_of(self.start.replace(year=self.start.year - 1))
        if self.kind == "year":
            return _year_of(self.start.replace(year=self.start.year - 1))
        return make_range(_minus_year(self.start), _minus_year(self.last_day))


# -- constructors (each normalises `day` to the period containing it)


def _week_of(day: datetime.date) -> Period:
    start = day - datetime.timedelta(days=day.isoweekday() - 1)
    iso = start.isocalendar()
    return Period(
        "week", start, start + datetime.timedelta(days=7), _("%(y)s年第%(w)s周") % {"y": iso.year, "w": iso.week}
    )


def _month_of(day: datetime.date) -> Period:
    start = day.replace(day=1)
    return Period("month", start, first_of_next_month(start), _("%(y)s年%(m)s月") % {"y": start.year, "m": start.month})


def _quarter_of(day: datetime.date) -> Period:
    quarter = (day.month - 1) // 3 + 1
    start = datetime.date(day.year, 3 * quarter - 2, 1)
    return Period("quarter", start, _add_months(start, 3), _("%(y)s年第%(q)s季度") % {"y": start.year, "q": quarter})


def _year_of(day: datetime.date) -> Period:
    start = datetime.date(day.year, 1, 1)
    return Period("year", start, datetime.date(day.year + 1, 1, 1), _("%(y)s年") % {"y": day.year})


def make_range(first: datetime.date, last: datetime.date) -> Period:
    """Any run of days, both ends inclusive (the end stored is the day after `last`)."""
    if last < first:
        raise ValidationFailed(_("统计期间的结束日期不能早于开始日期。"), details={"field": "period"})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(_("统计期间不能超过 5 年。"), details={"field": "period"})
    return Period(
        "range",
        first,
        last + datetime.timedelta(days=1),
        _("%(a)s 至 %(b)s") % {"a": first.isoformat(), "b": last.isoformat()},
    )


_BUILDERS = {"week": _week_of, "month": _month_of, "quarter": _quarter_of, "year": _year_of}


def period_for(kind: str, day: datetime.date) -> Period:
    """The week / month / quarter / year containing `day`."""
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ValidationFailed(_("统计期间类型无效。"), details={"field": "period"})
    return builder(day)


def _bad(value: str) -> ValidationFailed:
    return ValidationFailed(
        _(
            "统计期间格式不正确：%(v)s。应为 2026-11（月）、2026-Q4（季度）、2026（年）、2026-W47（周）或 2026-11-01..2026-11-15（日期范围）。"
        )
        % {"v": value[:40]},
        details={"field": "period"},
    )


def _year(text: str, value: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _bad(value)
    return year


def parse_period(value: str | None, *, today: datetime.date | None = None) -> Period:
    """A period from its key; empty → the current month. Anything else is a Chinese
    refusal (422), never a 500."""
    text = (value or "").strip()
    if not text:
        return _month_of(today or timezone.localdate())
    try:
        if match := _MONTH.match(text):
            year, month = _year(match[1], text), int(match[2])
            if not 1 <= month <= 12:
                raise _bad(text)
            return _month_of(datetime.date(year, month, 1))
        if match := _QUARTER.match(text):
            return _quarter_of(datetime.date(_year(match[1], text), 3 * int(match[2]) - 2, 1))
        if match := _YEAR.match(text):
            return _year_of(datetime.date(_year(match[1], text), 1, 1))
        if match := _WEEK.match(text):
            year, week = _year(match[1], text), int(match[2])
            if not 1 <= week <= _iso_weeks(year):
                raise _bad(text)
            return _week_of(datetime.date.fromisocalendar(year, week, 1))
        if match := _RANGE.match(text):
            first = datetime.date(*map(int, match[1].split("-")))
            last = datetime.date(*map(int, match[2].split("-")))
            for day in (first, last):
                _year(str(day.year), text)
            return make_range(first, last)
    except ValueError:  # 2026-02-30 and the like
        raise _bad(text) from None
    raise _bad(text)
