"""Choices made for the reports' speed (bench/README.md "Reports")."""

import datetime

import pytest
from django.db import connection

from kefu.reports.builders.common import previous_and_last_year
from kefu.reports.periods import parse_period


def test_a_year_scans_its_previous_period_once_as_last_year_too():
    asked = []

    def totals(period):
        asked.append(period.key())
        return {"count": len(asked)}

    previous, last_year = previous_and_last_year(totals, parse_period("2026"))
    assert asked == ["2025"] and previous is last_year

    asked.clear()
    previous, last_year = previous_and_last_year(totals, parse_period("2026-11", today=datetime.date(2026, 11, 24)))
    assert asked == ["2026-10", "2025-11"] and previous != last_year


@pytest.mark.django_db
def test_postgresql_runs_without_jit():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
