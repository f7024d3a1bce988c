"""Keeping the counters: install the triggers and count everything again (migration,
`kefu rollups --rebuild`, a change of TIME_ZONE), fold the delta rows (the periodic
job), and check the counters against their source rows (`kefu rollups --check`).
Each function works on the rollups of `schema.SPECS` it is given (default: all)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.utils import timezone

from kefu.reports.rollup import schema
from kefu.reports.rollup.schema import SPECS, Spec

logger = logging.getLogger(__name__)

TICKETS = schema.TICKETS.name


def _state_model(state_model=None):
    if state_model is not None:
        return state_model
    from kefu.reports.models import RollupState

    return RollupState


def _forget_state() -> None:
    from kefu.core import configcache

    configcache.invalidate()


def install(*, using: str = "default", specs: Sequence[Spec] = SPECS, state_model=None) -> bool:
    """Install the triggers for the current TIME_ZONE and count every source row again,
    in one transaction (PostgreSQL: writes to the source wait meanwhile, so no delta is
    counted twice or lost). False — triggers dropped, readers fall back to scanning —
    when SQLite cannot bucket months in this zone."""
    connection = connections[using]
    vendor = connection.vendor
    zone = settings.TIME_ZONE
    state = _state_model(state_model)
    installed = True
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for spec in specs:
            if vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {spec.source} IN SHARE ROW EXCLUSIVE MODE")
            for statement in schema.drop_triggers_sql(spec, vendor):
                cursor.execute(statement)
            try:
                statements = [*schema.create_triggers_sql(spec, vendor, zone), *schema.rebuild_sql(spec, vendor, zone)]
            except schema.ZoneUnsupported:
                logger.warning("%s rollup not installed: SQLite cannot bucket months in time zone %s", spec.name, zone)
                cursor.execute(f"DELETE FROM {spec.table}")  # noqa: S608 - our own table
                state.objects.using(using).filter(name=spec.name).delete()
                installed = False
                continue
            for statement in statements:
                cursor.execute(statement)
            state.objects.using(using).update_or_create(
                name=spec.name,
                defaults={"time_zone": zone, "rebuilt_at": timezone.now(), "folded_at": None, "paused": False},
            )
    _forget_state()
    return installed


def uninstall(*, using: str = "default", specs: Sequence[Spec] = SPECS, state_model=None) -> None:
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for spec in specs:
            for statement in schema.drop_triggers_sql(spec, connection.vendor):
                cursor.execute(statement)
            _state_model(state_model).objects.using(using).filter(name=spec.name).delete()
    _forget_state()


def installed_zones(*, using: str = "default") -> dict[str, str | None]:
    """{rollup name: the time zone its counters were built for, if their triggers are
    all in place} — a SQLite migration that rebuilds a source table drops its triggers.
    One query for every rollup."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        triggers = "SELECT COUNT(*) FROM pg_trigger WHERE tgname = ANY(%s) AND tgrelid = %s::regclass"
    else:
        triggers = (
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN (%s, %s, %s)"
        )
    state = _state_model()._meta.db_table
    parts, params = [], []
    for spec in SPECS:
        parts.append(f"({triggers}), (SELECT time_zone FROM {state} WHERE name = %s)")  # noqa: S608 - our own tables
        if connection.vendor == "postgresql":
            params += [list(spec.triggers), spec.source, spec.name]
        else:
            params += [spec.source, *spec.triggers, spec.name]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {spec.name: row[2 * i + 1] if row[2 * i] == len(spec.triggers) else None for i, spec in enumerate(SPECS)}


def installed_zone(spec: Spec = schema.TICKETS, *, using: str = "default") -> str | None:
    return installed_zones(using=using)[spec.name]


def ensure_installed(*, using: str = "default", specs: Sequence[Spec] = SPECS) -> bool:
    """Install (and count everything) unless the counters are in place for this
    TIME_ZONE — after every `migrate` (reports.apps), so a migration that dropped the
    triggers or a new time zone never leaves stale counters behind."""
    stale = [spec for spec in specs if installed_zone(spec, using=using) != settings.TIME_ZONE]
    return install(using=using, specs=stale) if stale else True


def ready(spec: Spec, *, using: str = "default") -> bool:
    """Whether the counters may answer: installed for the time zone in force."""
    from kefu.core import configcache

    zones = configcache.cached(("rollups", using), lambda: installed_zones(using=using))
    zone = zones.get(spec.name)
    return zone is not None and zone == timezone.get_current_timezone_name()


# After folding this many delta rows PostgreSQL's rollup table is mostly dead space (a
# bulk load, an import): plain VACUUM frees it but keeps the pages, and every report
# then reads them — 1M tickets loaded left 40,000 keys in 128 MB, a third of a yearly
# complaint report's time. So the table is rewritten compactly at once (VACUUM FULL:
# 7 MB, 0.3 s under an exclusive lock on the counters only). Should that lock not come
# within COMPACT_LOCK_TIMEOUT (a long reader holds the table), a plain VACUUM instead.
VACUUM_AFTER = 10_000
COMPACT_LOCK_TIMEOUT = "2s"


def fold(*, using: str = "default", specs: Sequence[Spec] = SPECS) -> dict[str, int]:
    """Fold every key with delta rows into one row; {rollup: its rows after}."""
    from kefu.reports.models import RollupState

    connection = connections[using]
    vendor = connection.vendor
    rows = {}
    for spec in specs:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {spec.table} WHERE fresh")  # noqa: S608 - our own table
            fresh = cursor.fetchone()[0]
            mark = 0
            if vendor != "postgresql":
                cursor.execute(f"SELECT MAX(id) FROM {spec.table}")  # noqa: S608 - our own table
                mark = cursor.fetchone()[0] or 0
            for statement in schema.fold_sql(spec, vendor, mark):
                cursor.execute(statement)
            cursor.execute(f"SELECT COUNT(*) FROM {spec.table}")  # noqa: S608 - our own table
            rows[spec.name] = cursor.fetchone()[0]
            RollupState.objects.using(using).filter(name=spec.name).update(folded_at=timezone.now())
        if vendor == "postgresql" and fresh > VACUUM_AFTER and not connection.in_atomic_block:
            _compact(connection, spec.table)
    return rows


def _compact(connection, table: str) -> None:
    """VACUUM FULL `table` (our own counter table) if its lock comes soon, else VACUUM."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{COMPACT_LOCK_TIMEOUT}'")
        try:
            cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")
            return
        except OperationalError:  # the lock did not come in time
            logger.warning("counters %s: VACUUM FULL could not lock the table, plain VACUUM instead", table)
        finally:
            cursor.execute("RESET lock_timeout")
        # Without the timeout, as before: it only waits for another VACUUM of the table.
        cursor.execute(f"VACUUM (ANALYZE) {table}")


@contextmanager
def inserts_counted_after(spec: Spec, *, using: str = "default") -> Iterator[None]:
    """Around a bulk INSERT … SELECT inside a transaction on SQLite: its row trigger
    paused, and the rows it added (ids above the highest before) counted in one grouped
    statement after — a row-level trigger nearly doubled the time of planning a million
    customers' visits. Only INSERTs may run inside (an UPDATE's trigger would count a
    change to a row not counted yet). Elsewhere (PostgreSQL's statement triggers do
    this already; no transaction; counters not installed) the triggers count as usual."""
    connection = connections[using]
    if connection.vendor == "postgresql" or not connection.in_atomic_block or installed_zone(spec, using=using) is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {spec.source}")  # noqa: S608 - our own table
        mark = cursor.fetchone()[0]
        cursor.execute(f"UPDATE {schema.STATE_TABLE} SET paused = 1 WHERE name = %s", [spec.name])  # noqa: S608
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {schema.STATE_TABLE} SET paused = 0 WHERE name = %s", [spec.name])  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(schema.counted_inserts_sql(spec, connection.vendor, settings.TIME_ZONE, mark))


@dataclass
class Check:
    keys: int = 0
    differing: list[tuple] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differing


def check(spec: Spec = schema.TICKETS, *, using: str = "default") -> Check:
    """Compare every key's counters with the source rows counted afresh (run it when
    nothing else writes — a migration, the command: the two statements read two
    snapshots on PostgreSQL)."""
    connection = connections[using]
    width = len(spec.key_names)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(schema.counted_sql(spec, connection.vendor, settings.TIME_ZONE))
        counted = {_key(row[:width]): tuple(int(v) for v in row[width:]) for row in cursor.fetchall()}
        cursor.execute(schema.stored_sql(spec))
        stored = {_key(row[:width]): tuple(int(v) for v in row[width:]) for row in cursor.fetchall()}
    result = Check(keys=len(counted))
    for key in sorted(set(counted) | set(stored), key=str):
        if counted.get(key) != stored.get(key):
            result.differing.append((key, counted.get(key), stored.get(key)))
    return result


def _key(values) -> tuple:
    month, *rest = values
    return (str(month)[:10], *(v if isinstance(v, str) else int(v) for v in rest))
