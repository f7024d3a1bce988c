"""Multi-row INSERTs for the import, without a model instance per row.

`QuerySet.bulk_create` builds a model instance for every row and prepares every value
of every field through the ORM; at 100,000 customers (each with a contact, an audit
event and a timeline entry) that bookkeeping costs several times the database work
itself. Here a row is a dict of column values (`attname` → value); only the columns
whose Python values need adapting (dates, times, JSON, IP addresses) go through the
field's own `get_db_prep_save`. PostgreSQL gets the rows through COPY (Django's
client-side parameter binding would spell out every value of a 65,535-parameter
statement in Python); SQLite multi-row INSERTs of a few fixed sizes (see
MAX_ROWS_PER_INSERT; one `executemany` of a single-row statement is four times slower:
every execution is a statement of its own, with its journal and trigger set-up). Defaults are the model's; `auto_now` fields must be given (nothing
calls `pre_save`). New ids are not returned: callers find them by a unique column."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

# PostgreSQL accepts 65,535 parameters per statement; SQLite reports its own limit.
_PG_MAX_PARAMS = 65535
_ADAPTED = (models.DateField, models.TimeField, models.JSONField, models.GenericIPAddressField, models.DecimalField)


def max_params() -> int:
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        try:
            return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        except AttributeError:  # Python < 3.11
            return connection.features.max_query_params
    if connection.vendor == "postgresql":
        return _PG_MAX_PARAMS
    return connection.features.max_query_params or 2000


# Rows per INSERT statement (SQLite and others). The driver compiles each distinct
# statement text once and keeps it in the connection's statement cache: statements of
# any row count up to the parameter limit (2,000 rows of a chunk in one statement, a
# different count for each table and chunk) filled that cache with programs of several
# MB each, 100 MB over a 100,000-row import. Full statements of a power-of-two size plus
# a remainder split into powers of two give a handful of texts per table, and run as
# fast.
MAX_ROWS_PER_INSERT = 128


def _power_of_two(n: int) -> int:
    return 1 << (max(n, 1).bit_length() - 1)


def _statement_sizes(count: int, batch: int) -> list[int]:
    """`count` rows as full statements of `batch` rows, then powers of two (batch is one)."""
    sizes = [batch] * (count // batch)
    rest = count % batch
    while rest:
        size = _power_of_two(rest)
        sizes.append(size)
        rest -= size
    return sizes


class Inserter:
    """INSERTs into one model's table."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.attnames = [f.attname for f in fields]
        self.defaults: list[Any] = []
        self.adapt: list[Any] = []
        for f in fields:
            self.defaults.append(f.get_default() if f.has_default() else (None if f.null else _empty(f)))
            self.adapt.append(_adapter(f))
        quote = connection.ops.quote_name
        # Table and column names come from the model, quoted; values are parameters.
        columns = ", ".join(quote(f.column) for f in fields)
        self.head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608
        self.copy = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        self.one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        self.batch = _power_of_two(min(max_params() // len(fields), MAX_ROWS_PER_INSERT))
        self.pairs = list(zip(self.attnames, self.defaults, strict=True))
        self.adapted = [(i, adapt) for i, adapt in enumerate(self.adapt) if adapt is not None]

    def _values(self, row: dict[str, Any]) -> list[Any]:
        get = row.get
        out = [get(name, default) for name, default in self.pairs]
        for i, adapt in self.adapted:
            value = out[i]
            if value is not None:
                out[i] = adapt(value)
        return out

    def insert(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy) as copy:
                    for row in rows:
                        copy.write_row(self._values(row))
                return
            start = 0
            for size in _statement_sizes(len(rows), self.batch):
                params: list[Any] = []
                for row in rows[start : start + size]:
                    params.extend(self._values(row))
                cursor.execute(self.head + ", ".join([self.one] * size), params)
                start += size


def _adapter(field: models.Field):
    """How a Python value becomes a parameter for this column (None: as it is)."""
    if not isinstance(field, _ADAPTED):
        return None
    ops = connections[DEFAULT_DB_ALIAS].ops
    if isinstance(field, models.DateTimeField):
        convert = ops.adapt_datetimefield_value
    elif isinstance(field, models.DateField):
        convert = ops.adapt_datefield_value
    elif isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: ops.adapt_json_value(value, encoder)
    else:
        wrapper = connections[DEFAULT_DB_ALIAS]
        return lambda value: field.get_db_prep_save(value, wrapper)
    # A whole chunk shares one timestamp ("now"): convert it once.
    last: list[Any] = [object(), None]

    def cached(value):
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return cached


def _empty(field: models.Field) -> Any:
    if isinstance(field, models.CharField | models.TextField):
        return ""
    return None


# SQLite's page cache (KiB, as a negative cache_size) while an import writes: with the
# default 2 MB every index of a 100,000-row transaction spills pages to the WAL again
# and again.
SQLITE_IMPORT_CACHE_KIB = 32 * 1024


@contextmanager
def bulk_write_session() -> Iterator[None]:
    """Connection settings for writing many rows in one transaction, put back after.
    SQLite: a larger page cache. PostgreSQL needs nothing here."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")
