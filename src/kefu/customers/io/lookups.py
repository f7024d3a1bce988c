"""Set-based reads for the import: "the rows whose column is one of these values", one
query per chunk of 2,000 rows, whatever the database's statistics say.

The values go in as ONE parameter — an array on PostgreSQL (`unnest`), a JSON list on
SQLite (`json_each`) — rather than an IN list of 2,000 placeholders, which costs more
to build and bind than the query takes. It also keeps the planners on the indexes: on
PostgreSQL a long IN list makes it scan the whole table, and SQLite weighs one against
statistics from when the table was small (`ANALYZE` at 10,000 archives before
100,000 are imported) and scans as well; a sub-select over the parameter does not."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache

from django.db import connection


def values_of(values: Iterable) -> tuple[str, list]:
    """A sub-select giving `values` (str or int) and its parameter."""
    values = list(values)
    if connection.vendor == "postgresql":
        # Django binds parameters client-side: the array literal needs its type spelled out.
        kind = "bigint" if all(isinstance(v, int) for v in values) else "text"
        return f"SELECT unnest(%s::{kind}[])", [values]
    if connection.vendor == "sqlite":
        return "SELECT value FROM json_each(%s)", [json.dumps(values)]
    return "VALUES " + ", ".join(["(%s)"] * len(values)), values


def one_of(column: str, values: Iterable) -> tuple[str, list]:
    """SQL for "`column` is one of `values`" and its parameter."""
    sub, params = values_of(values)
    return f"{column} IN ({sub})", params


@cache
def _sqlite_index(table: str, column: str) -> str | None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    for name, info in sorted(constraints.items()):
        if info["index"] and info["columns"] == [column] and not info["primary_key"]:
            return name
    return None


def table_by(table: str, column: str) -> str:
    """`table`, on SQLite told to use its index on `column`: for a column the statistics
    call useless (`merged_into_id`, empty on all but a few rows) even an one-parameter
    lookup would otherwise scan the table."""
    if connection.vendor != "sqlite":
        return table
    name = _sqlite_index(table, column)
    return f'{table} INDEXED BY "{name}"' if name else table


def select(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
