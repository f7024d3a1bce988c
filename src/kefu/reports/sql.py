"""Database-specific pieces of the figures: the nearest-rank percentile.

The p90 of a group is the smallest value with at least 90 % of the group's values at
or below it — the value at rank ceil(0.9·n) in ascending order. PostgreSQL computes
exactly that with the ordered-set aggregate `percentile_disc(0.9)` inside the same
GROUP BY scan as the other figures; SQLite has no such aggregate, so there the rank is
picked with ROW_NUMBER() / COUNT() windows over the group in a second query. Both give
the same value (tests run on both databases)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from django.db import connections
from django.db.models import Aggregate, FloatField, QuerySet

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def native_percentile(qs: QuerySet) -> bool:
    """Whether the database of `qs` has percentile_disc (PostgreSQL)."""
    return connections[qs.db].vendor == "postgresql"


class PercentileDisc(Aggregate):
    """percentile_disc(fraction) WITHIN GROUP (ORDER BY expression) — PostgreSQL only.
    NULLs are ignored, like every aggregate's."""

    function = "percentile_disc"
    name = "PercentileDisc"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        # A literal in the SQL, not a parameter: the value comes from code, never input.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _rank_fraction(fraction: float) -> Fraction:
    return Fraction(str(fraction)).limit_denominator(1000)


def nearest_rank(ascending: Sequence[Any], fraction: float = 0.9) -> Any:
    """The nearest-rank percentile of values sorted ascending (at least one): the
    ceil(p·n)-th — integer arithmetic, as 0.9 · 10 is 9.000000000000002 in floats."""
    ratio = _rank_fraction(fraction)
    return ascending[-(-len(ascending) * ratio.numerator // ratio.denominator) - 1]


def count_groups(grouped: QuerySet, keys: Sequence[str]) -> dict[tuple[Any, ...], int]:
    """COUNT(*) of the rows of an aggregated queryset per `keys` (columns it selects),
    computed in SQL around it — the ORM cannot aggregate an aggregate. Values come back
    as the database returns them (no ORM converters: a truncated month is text on
    SQLite and a local timestamp on PostgreSQL)."""
    sql, params = grouped.query.sql_with_params()
    connection = connections[grouped.db]
    columns = ", ".join(connection.ops.quote_name(k) for k in keys)
    # Only the compiled ORM query and quoted column names of our own code go into the
    # text; every value stays a parameter.
    query = f"SELECT {columns}, COUNT(*) FROM ({sql}) grouped GROUP BY {columns}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return {tuple(row[:-1]): row[-1] for row in cursor.fetchall()}


def grouping_sets(
    inner: QuerySet,
    *,
    keys: Sequence[str],
    sets: Sequence[Sequence[str]],
    measures: dict[str, str],
    params: dict[str, Any],
) -> list[list[dict[str, Any]]]:
    """PostgreSQL: aggregate the rows of `inner` (a values() queryset selecting `keys`
    and the columns the measures read) for every grouping set in one scan:
    SELECT keys, GROUPING(keys), measures FROM (inner) GROUP BY GROUPING SETS (...).
    Returns one list of row dicts per set, in the order of `sets` (a set asked twice
    gets the same rows). `measures` are SQL snippets of our own code, with
    %(name)s placeholders for `params`."""
    sql, inner_params = inner.query.sql_with_params()
    connection = connections[inner.db]
    quote = connection.ops.quote_name
    distinct_sets = list(dict.fromkeys(tuple(s) for s in sets))
    key_sql = ", ".join(quote(k) for k in keys)
    grouping = f"GROUPING({key_sql})" if keys else "0"
    set_sql = ", ".join("(" + ", ".join(quote(k) for k in s) + ")" for s in distinct_sets)
    # Our placeholders come before the inner query's own in the text, so their values
    # go first; a tuple becomes (%s, %s, …) for IN.
    measure_params: list[Any] = []

    def bind(match: re.Match) -> str:
        value = params[match[1]]
        if isinstance(value, tuple | list):
            measure_params.extend(value)
            return "(" + ", ".join(["%s"] * len(value)) + ")"
        measure_params.append(value)
        return "%s"

    select_measures = ", ".join(
        f"{_PLACEHOLDER.sub(bind, snippet)} AS {quote(name)}" for name, snippet in measures.items()
    )
    key_part = f"{key_sql}, " if keys else ""
    query = (
        f"SELECT {key_part}{grouping} AS kefu_grouping, {select_measures} "  # noqa: S608
        f"FROM ({sql}) inner_rows GROUP BY GROUPING SETS ({set_sql})"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [*measure_params, *inner_params])
        described = [col[0] for col in cursor.description]
        fetched = [dict(zip(described, row, strict=True)) for row in cursor.fetchall()]
    by_mask: dict[int, list[dict[str, Any]]] = {}
    for row in fetched:
        by_mask.setdefault(row.pop("kefu_grouping"), []).append(row)
    out = []
    for wanted in sets:
        # GROUPING() sets bit (n-1-i) for each key i NOT grouped in the row's set.
        mask = sum(1 << (len(keys) - 1 - i) for i, k in enumerate(keys) if k not in wanted)
        out.append(by_mask.get(mask, []))
    return out
