"""Reporting periods: keys, labels, bounds and the periods they are compared with."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from kefu.core.errors import ValidationFailed
from kefu.reports.periods import make_range, parse_period, period_for

D = datetime.date


@pytest.mark.parametrize(
    ("key", "kind", "start", "end", "label"),
    [
        ("2026-11", "month", D(2026, 11, 1), D(2026, 12, 1), "2026年11月"),
        ("2026-12", "month", D(2026, 12, 1), D(2027, 1, 1), "2026年12月"),
        ("2026-Q4", "quarter", D(2026, 10, 1), D(2027, 1, 1), "2026年第4季度"),
        ("2026-Q1", "quarter", D(2026, 1, 1), D(2026, 4, 1), "2026年第1季度"),
        ("2026", "year", D(2026, 1, 1), D(2027, 1, 1), "2026年"),
        ("2026-W47", "week", D(2026, 11, 16), D(2026, 11, 23), "2026年第47周"),
        # ISO week 1 of 2027 starts in 2026; week 53 of 2026 exists (2026 has 53 weeks).
        ("2027-W01", "week", D(2027, 1, 4), D(2027, 1, 11), "2027年第1周"),
        ("2026-W53", "week", D(2026, 12, 28), D(2027, 1, 4), "2026年第53周"),
        ("2026-11-01..2026-11-15", "range", D(2026, 11, 1), D(2026, 11, 16), "2026-11-01 至 2026-11-15"),
    ],
)
def test_keys_parse_to_periods_and_back(key, kind, start, end, label):
    period = parse_period(key)
    assert (period.kind, period.start, period.end, period.label) == (kind, start, end, label)
    assert period.key() == key
    assert parse_period(period.key()) == period


def test_lenient_spellings():
    assert parse_period("2026-q4") == parse_period("2026-Q4")
    assert parse_period("2026W47") == parse_period("2026-W47")
    assert parse_period("2026-3").key() == "2026-03"
    assert parse_period("2026-11-01 至 2026-11-15") == parse_period("2026-11-01..2026-11-15")


def test_empty_is_the_current_month():
    assert parse_period(None, today=D(2026, 11, 24)).key() == "2026-11"
    assert parse_period("", today=D(2026, 2, 28)).key() == "2026-02"


@pytest.mark.parametrize(
    "bad",
    [
        "2026-13",
        "2026-00",
        "2026-Q5",
        "2026-W54",
        "2025-W53",
        "abc",
        "20266-11",
        "1999",
        "2026-02-30..2026-03-01",
        "2026-11-15..2026-11-01",
        "2020-01-01..2026-01-01",
        "2026-11; drop table",
    ],
)
def test_bad_keys_are_refused_in_chinese(bad):
    with pytest.raises(ValidationFailed) as info:
        parse_period(bad)
    assert info.value.details == {"field": "period"}
    assert "统计期间" in info.value.message


def test_bounds_are_local_midnights(settings):
    period = parse_period("2026-11")
    start, end = period.bounds()
    tz = ZoneInfo(settings.TIME_ZONE)
    assert start == datetime.datetime(2026, 11, 1, tzinfo=tz)
    assert end == datetime.datetime(2026, 12, 1, tzinfo=tz)
    assert start.utcoffset() is not None


@pytest.mark.parametrize(
    ("key", "previous", "last_year"),
    [
        ("2026-11", "2026-10", "2025-11"),
        ("2026-01", "2025-12", "2025-01"),
        ("2026-Q1", "2025-Q4", "2025-Q1"),
        ("2026-Q3", "2026-Q2", "2025-Q3"),
        ("2026", "2025", "2025"),
        ("2026-W47", "2026-W46", "2025-W47"),
        ("2026-W01", "2025-W52", "2025-W01"),
        # 2025 has 52 ISO weeks: week 53 maps onto the last one.
        ("2026-W53", "2026-W52", "2025-W52"),
        ("2026-11-01..2026-11-15", "2026-10-17..2026-10-31", "2025-11-01..2025-11-15"),
        ("2028-02-29..2028-03-01", "2028-02-27..2028-02-28", "2027-02-28..2027-03-01"),
    ],
)
def test_previous_and_same_period_last_year(key, previous, last_year):
    period = parse_period(key)
    assert period.previous().key() == previous
    assert period.same_last_year().key() == last_year
    assert period.previous().kind == period.kind
    if period.kind == "range":
        assert period.previous().days == period.days
        assert period.previous().end == period.start


@pytest.mark.parametrize(
    ("kind", "key"),
    [("week", "2026-W48"), ("month", "2026-11"), ("quarter", "2026-Q4"), ("year", "2026")],
)
def test_period_for_a_day(kind, key):
    assert period_for(kind, D(2026, 11, 24)).key() == key


def test_period_for_unknown_kind_is_refused():
    with pytest.raises(ValidationFailed):
        period_for("decade", D(2026, 11, 24))


def test_range_helpers():
    period = make_range(D(2026, 11, 30), D(2026, 12, 2))
    assert period.days == 3
    assert period.last_day == D(2026, 12, 2)
    assert period.months() == [D(2026, 11, 1), D(2026, 12, 1)]
    assert period.contains(D(2026, 12, 2)) and not period.contains(D(2026, 12, 3))
    assert parse_period("2026").months()[-1] == D(2026, 12, 1)
