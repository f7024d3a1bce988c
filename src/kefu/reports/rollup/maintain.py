"""Keeping the ticket counters: install the triggers and count everything again
(migration, `kefu rollups --rebuild`, a change of TIME_ZONE), fold the delta rows (the
periodic job), and check the counters against the tickets (`kefu rollups --check`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from kefu.reports.rollup import schema

logger = logging.getLogger(__name__)

TICKETS = "tickets"


def _state_model(state_model=None):
    if state_model is not None:
        return state_model
    from kefu.reports.models import RollupState

    return RollupState


def install(*, using: str = "default", state_model=None) -> bool:
    """Install the ticket triggers for the current TIME_ZONE and count every ticket
    again, in one transaction (PostgreSQL: ticket writes wait meanwhile, so no delta
    is counted twice or lost). False — triggers dropped, readers fall back to the
    tickets — when SQLite cannot bucket months in this zone."""
    connection = connections[using]
    vendor = connection.vendor
    zone = settings.TIME_ZONE
    state = _state_model(state_model)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {schema.SOURCE} IN SHARE ROW EXCLUSIVE MODE")
        for statement in schema.drop_triggers_sql(vendor):
            cursor.execute(statement)
        try:
            statements = [*schema.create_triggers_sql(vendor, zone), *schema.rebuild_sql(vendor, zone)]
        except schema.ZoneUnsupported:
            logger.warning("ticket rollup not installed: SQLite cannot bucket months in time zone %s", zone)
            cursor.execute(f"DELETE FROM {schema.TABLE}")  # noqa: S608 - our own table
            state.objects.using(using).filter(name=TICKETS).delete()
            _forget_state()
            return False
        for statement in statements:
            cursor.execute(statement)
        state.objects.using(using).update_or_create(
            name=TICKETS, defaults={"time_zone": zone, "rebuilt_at": timezone.now(), "folded_at": None}
        )
    _forget_state()
    return True


def uninstall(*, using: str = "default", state_model=None) -> None:
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in schema.drop_triggers_sql(connection.vendor):
            cursor.execute(statement)
        _state_model(state_model).objects.using(using).filter(name=TICKETS).delete()
    _forget_state()


def _forget_state() -> None:
    from kefu.core import configcache

    configcache.invalidate()


def installed_zone(*, using: str = "default") -> str | None:
    """The time zone the counters were built for, if their triggers are all in place
    (a SQLite migration that rebuilds the tickets table drops its triggers). One query."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        triggers = "SELECT COUNT(*) FROM pg_trigger WHERE tgname = ANY(%s) AND tgrelid = %s::regclass"
        params: list = [list(schema.TRIGGERS), schema.SOURCE]
    else:
        triggers = (
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN (%s, %s, %s)"
        )
        params = [schema.SOURCE, *schema.TRIGGERS]
    state = _state_model()._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ({triggers}), (SELECT time_zone FROM {state} WHERE name = %s)",  # noqa: S608 - our own tables
            [*params, TICKETS],
        )
        count, zone = cursor.fetchone()
    return zone if count == len(schema.TRIGGERS) else None


def ensure_installed(*, using: str = "default") -> bool:
    """Install (and count everything) unless the counters are in place for this
    TIME_ZONE — after every `migrate` (reports.apps), so a migration that dropped the
    triggers or a new time zone never leaves stale counters behind."""
    if installed_zone(using=using) == settings.TIME_ZONE:
        return True
    return install(using=using)


def ready(*, using: str = "default") -> bool:
    """Whether the counters may answer: installed for the time zone in force."""
    from kefu.core import configcache

    zone = configcache.cached(("rollup", using, TICKETS), lambda: installed_zone(using=using))
    return zone is not None and zone == timezone.get_current_timezone_name()


def fold(*, using: str = "default") -> int:
    """Fold every key with delta rows into one row; the number of counter rows after."""
    from kefu.reports.models import RollupState, TicketRollup

    connection = connections[using]
    vendor = connection.vendor
    with transaction.atomic(using=using), connection.cursor() as cursor:
        mark = 0
        if vendor != "postgresql":
            cursor.execute(f"SELECT MAX(id) FROM {schema.TABLE}")  # noqa: S608 - our own table
            mark = cursor.fetchone()[0] or 0
        for statement in schema.fold_sql(vendor, mark):
            cursor.execute(statement)
        RollupState.objects.using(using).filter(name=TICKETS).update(folded_at=timezone.now())
    return TicketRollup.objects.using(using).count()


@dataclass
class Check:
    keys: int = 0
    differing: list[tuple] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differing


def check(*, using: str = "default") -> Check:
    """Compare every key's counters with the tickets counted afresh (one consistent
    snapshot on PostgreSQL: REPEATABLE READ would be stricter, but the check runs when
    nothing else writes — a migration, the command)."""
    connection = connections[using]
    zone = settings.TIME_ZONE
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(schema.counted_sql(connection.vendor, zone))
        counted = {_key(row[:5]): tuple(row[5:]) for row in cursor.fetchall()}
        cursor.execute(schema.stored_sql())
        stored = {_key(row[:5]): tuple(row[5:]) for row in cursor.fetchall()}
    result = Check(keys=len(counted))
    for key in sorted(set(counted) | set(stored), key=str):
        if counted.get(key) != stored.get(key):
            result.differing.append((key, counted.get(key), stored.get(key)))
    return result


def _key(values) -> tuple:
    month, *rest = values
    return (str(month)[:10], *(int(v) for v in rest))
