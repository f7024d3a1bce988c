"""PostgreSQL is told that `is_open` follows from `status` (tickets migration 0008):
without it the department's queue is planned from the wrong side (bench/README.md)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="extended statistics are PostgreSQL's")
def test_status_and_open_flag_have_dependency_statistics():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.stxkind, array_agg(a.attname ORDER BY a.attname)
               FROM pg_statistic_ext s
               JOIN pg_attribute a ON a.attrelid = s.stxrelid AND a.attnum = ANY (s.stxkeys)
               WHERE s.stxname = 'tickets_status_open' AND s.stxrelid = 'tickets_ticket'::regclass
               GROUP BY s.stxkind"""
        )
        rows = cursor.fetchall()
    # "f": functional dependencies
    assert rows == [(["f"], ["is_open", "status"])]
