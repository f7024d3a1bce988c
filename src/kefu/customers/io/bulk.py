"""Multi-row INSERTs for the import, without a model instance per row.

`QuerySet.bulk_create` builds a model instance for every row and prepares every value
of every field through the ORM; at 100,000 customers (each with a contact, an audit
event and a timeline entry) that bookkeeping costs several times the database work
itself. Here a row is a dict of column values (`attname` → value); only the columns
whose Python values need adapting (dates, times, JSON, IP addresses) go through the
field's own `get_db_prep_save`, and rows are sent in as few statements as the
database's parameter limit allows — on PostgreSQL through COPY, since Django's
client-side parameter binding would spell out every value of a 65,535-parameter
statement in Python. Defaults are the model's; `auto_now` fields must be given (nothing
calls `pre_save`). New ids are not returned: callers find them by a unique column."""

from __future__ import annotations

from collections.abc import Sequence
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
        self.batch = max(1, max_params() // len(fields))

    def _values(self, row: dict[str, Any]) -> list[Any]:
        out = []
        for name, default, adapt in zip(self.attnames, self.defaults, self.adapt, strict=True):
            value = row.get(name, default)
            out.append(adapt(value) if adapt is not None and value is not None else value)
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
            for start in range(0, len(rows), self.batch):
                part = rows[start : start + self.batch]
                params: list[Any] = []
                for row in part:
                    params.extend(self._values(row))
                cursor.execute(self.head + ", ".join([self.one] * len(part)), params)


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
