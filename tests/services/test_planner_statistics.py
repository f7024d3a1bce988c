"""What PostgreSQL's planner is told beyond its default statistics (tickets migration 0008,
customers migration 0006): without it some lists are planned from the wrong side."""

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics targets are PostgreSQL's")
def test_search_text_is_sampled_finely():
    # customers migration 0006: with the default sample a rare search term flipped
    # between the trigram index and a filtered walk of every archive from one ANALYZE
    # to the next.
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT attstattarget FROM pg_attribute
               WHERE attrelid = 'customers_customer'::regclass AND attname = 'search_text'"""
        )
        assert cursor.fetchone() == (1000,)
