# ruff: noqa: S608 - every statement here is built from this module's constants (see the docstring)
"""The ticket counters as SQL: what one ticket row adds to `reports_ticketrollup`, and
the triggers that add it — the same expressions for the triggers, the rebuild and the
check, so the three cannot disagree.

Every value spliced into the SQL text comes from this code (column names, our own
status codes) or is a validated time-zone name / a whole number of minutes; nothing
from a request ever reaches it."""

from __future__ import annotations

import datetime
import re
import zoneinfo

from kefu.tickets.choices import OPEN_STATUSES, SlaState

TABLE = "reports_ticketrollup"
SOURCE = "tickets_ticket"
TRIGGERS = ("reports_ticketrollup_ins", "reports_ticketrollup_upd", "reports_ticketrollup_del")
FUNCTION = "reports_ticketrollup_add"

KEYS = ("month", "kind", "region", "category", "department")
MEASURES = (
    "n_count",
    "n_resolved",
    "n_open",
    "sum_resolution",
    "n_resolution",
    "sum_response",
    "n_response",
    "n_sla_breached",
    "n_reopened",
    "sum_satisfaction",
    "n_satisfaction",
    "n_escalated",
)
# The ticket columns a key is made of: a change of any of them moves the ticket's
# counters from one key to another.
KEY_COLUMNS = ("created_at", "kind_id", "region_id", "category_id", "responsible_department_id")

_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]{1,64}$")


class ZoneUnsupported(Exception):
    """SQLite has no time-zone database: its triggers bucket months by a fixed offset,
    which a zone with daylight saving time does not have."""


def fixed_offset_minutes(zone_name: str) -> int:
    """The zone's offset from UTC in minutes, if it has been the same since 1992 and
    stays so (Asia/Shanghai: +480); else ZoneUnsupported."""
    zone = zoneinfo.ZoneInfo(zone_name)
    offsets = set()
    for year in range(1992, 2041):
        for month in (1, 4, 7, 10):
            offset = datetime.datetime(year, month, 15, 12, tzinfo=zone).utcoffset()
            offsets.add(int(offset.total_seconds() // 60) if offset is not None else 0)
    if len(offsets) != 1:
        raise ZoneUnsupported(zone_name)
    return offsets.pop()


def month_sql(vendor: str, zone_name: str, column: str) -> str:
    """The first day of the local month of a timestamp column, as a date."""
    if not _ZONE_NAME.match(zone_name):
        raise ZoneUnsupported(zone_name)
    if vendor == "postgresql":
        return f"CAST(date_trunc('month', {column} AT TIME ZONE '{zone_name}') AS date)"
    offset = fixed_offset_minutes(zone_name)
    return f"date({column}, '{offset:+d} minutes', 'start of month')"


def key_sql(vendor: str, zone_name: str, row: str) -> list[str]:
    """The key of ticket row `row` (NEW, OLD or a table alias), None as 0."""
    return [
        month_sql(vendor, zone_name, f"{row}.created_at"),
        f"{row}.kind_id",
        f"COALESCE({row}.region_id, 0)",
        f"COALESCE({row}.category_id, 0)",
        f"COALESCE({row}.responsible_department_id, 0)",
    ]


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def measure_sql(row: str) -> list[str]:
    """What ticket row `row` adds to each measure — the figures of
    `reports.selectors.tickets` (resolved = resolved_at set; open = an open status;
    breached = resolved and breached; averages as sum and count of the non-null)."""
    open_codes = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)
    resolved = f"{row}.resolved_at IS NOT NULL"
    return [
        "1",
        _flag(resolved),
        _flag(f"{row}.status IN ({open_codes})"),
        f"COALESCE({row}.resolution_minutes, 0)",
        _flag(f"{row}.resolution_minutes IS NOT NULL"),
        f"COALESCE({row}.response_minutes, 0)",
        _flag(f"{row}.response_minutes IS NOT NULL"),
        _flag(f"{resolved} AND {row}.sla_state = '{SlaState.BREACHED.value}'"),
        _flag(f"{row}.reopen_count > 0"),
        f"COALESCE({row}.satisfaction, 0)",
        _flag(f"{row}.satisfaction IS NOT NULL"),
        _flag(f"{row}.escalation_level > 0"),
    ]


def _columns() -> str:
    return ", ".join((*KEYS, "fresh", *MEASURES))


def _contribution(vendor: str, zone_name: str, row: str, sign: int) -> str:
    """INSERT of the signed counters of `row` as a fresh delta row."""
    fresh = "TRUE" if vendor == "postgresql" else "1"
    measures = measure_sql(row) if sign > 0 else [f"-({m})" for m in measure_sql(row)]
    values = ", ".join((*key_sql(vendor, zone_name, row), fresh, *measures))
    return f"INSERT INTO {TABLE} ({_columns()}) VALUES ({values});"


def _changed(vendor: str) -> str:
    """Whether an UPDATE changed anything the counters read (the trigger's WHEN)."""
    differs = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    inputs = [f"OLD.{column} {differs} NEW.{column}" for column in KEY_COLUMNS]
    pairs = zip(measure_sql("OLD"), measure_sql("NEW"), strict=True)
    inputs += [f"({old}) {differs} ({new})" for old, new in pairs if old != new]  # not the constant count
    return " OR ".join(inputs)


def create_triggers_sql(vendor: str, zone_name: str) -> list[str]:
    if vendor == "postgresql":
        body = (
            f"BEGIN\n"
            f"  IF TG_OP <> 'INSERT' THEN {_contribution(vendor, zone_name, 'OLD', -1)} END IF;\n"
            f"  IF TG_OP <> 'DELETE' THEN {_contribution(vendor, zone_name, 'NEW', +1)} END IF;\n"
            f"  RETURN NULL;\n"
            f"END"
        )
        ins, upd, dele = TRIGGERS
        return [
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $kefu$\n{body}\n$kefu$",
            f"CREATE TRIGGER {ins} AFTER INSERT ON {SOURCE} FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
            f"CREATE TRIGGER {upd} AFTER UPDATE ON {SOURCE} FOR EACH ROW WHEN ({_changed(vendor)}) "
            f"EXECUTE FUNCTION {FUNCTION}()",
            f"CREATE TRIGGER {dele} AFTER DELETE ON {SOURCE} FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
        ]
    ins, upd, dele = TRIGGERS
    return [
        f"CREATE TRIGGER {ins} AFTER INSERT ON {SOURCE} BEGIN {_contribution(vendor, zone_name, 'NEW', +1)} END",
        f"CREATE TRIGGER {upd} AFTER UPDATE ON {SOURCE} WHEN {_changed(vendor)} BEGIN "
        f"{_contribution(vendor, zone_name, 'OLD', -1)} {_contribution(vendor, zone_name, 'NEW', +1)} END",
        # Django's flush (between transactional tests) empties the tables one by one in
        # no set order: a ticket deleted after the counters were emptied must not leave
        # a −1 behind. While any ticket exists its key holds a positive count, so an
        # empty counter table only ever means "flushed" (PostgreSQL flushes by TRUNCATE,
        # which fires no row triggers).
        f"CREATE TRIGGER {dele} AFTER DELETE ON {SOURCE} WHEN EXISTS (SELECT 1 FROM {TABLE}) BEGIN "
        f"{_contribution(vendor, zone_name, 'OLD', -1)} END",
    ]


def drop_triggers_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        drops = [f"DROP TRIGGER IF EXISTS {name} ON {SOURCE}" for name in TRIGGERS]
        return [*drops, f"DROP FUNCTION IF EXISTS {FUNCTION}()"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]


def rebuild_sql(vendor: str, zone_name: str) -> list[str]:
    """Empty the counters and count every ticket again, one row per key."""
    stale = "FALSE" if vendor == "postgresql" else "0"
    keys = key_sql(vendor, zone_name, "t")
    sums = [f"SUM({m})" for m in measure_sql("t")]
    positions = ", ".join(str(i) for i in range(1, len(keys) + 1))
    statements = [f"DELETE FROM {TABLE}"]
    statements.append(
        f"INSERT INTO {TABLE} ({_columns()}) "
        f"SELECT {', '.join(keys)}, {stale}, {', '.join(sums)} FROM {SOURCE} t GROUP BY {positions}"
    )
    return statements


def counted_sql(vendor: str, zone_name: str) -> str:
    """Every key's counters computed from the tickets (for the check)."""
    keys = key_sql(vendor, zone_name, "t")
    sums = [f"SUM({m})" for m in measure_sql("t")]
    positions = ", ".join(str(i) for i in range(1, len(keys) + 1))
    return f"SELECT {', '.join(keys)}, {', '.join(sums)} FROM {SOURCE} t GROUP BY {positions}"


def stored_sql() -> str:
    """Every key's counters as the rollup holds them (for the check)."""
    sums = ", ".join(f"SUM({m})" for m in MEASURES)
    keys = ", ".join(KEYS)
    return f"SELECT {keys}, {sums} FROM {TABLE} GROUP BY {keys} HAVING SUM(n_count) <> 0"


def fold_sql(vendor: str, mark: int = 0) -> list[str]:
    """Fold each key with fresh delta rows into one row (dropping keys whose tickets are
    all gone). PostgreSQL: one statement — DELETE … RETURNING feeding the INSERT — so
    the rows folded are exactly those the statement saw; a delta committed meanwhile
    stays fresh for the next fold. SQLite: writers are serialised, so a watermark id
    inside the caller's transaction does the same."""
    keys = ", ".join(KEYS)
    sums = ", ".join(f"SUM({m})" for m in MEASURES)
    if vendor == "postgresql":
        match = " AND ".join(f"r.{k} = f.{k}" for k in KEYS)
        return [
            f"WITH fresh_keys AS (SELECT DISTINCT {keys} FROM {TABLE} WHERE fresh), "
            f"gone AS (DELETE FROM {TABLE} r USING fresh_keys f WHERE {match} RETURNING r.*) "
            f"INSERT INTO {TABLE} ({_columns()}) SELECT {keys}, FALSE, {sums} FROM gone "
            f"GROUP BY {keys} HAVING SUM(n_count) <> 0"
        ]
    mark = int(mark)  # the highest id when the fold began
    chosen = f"({keys}) IN (SELECT {keys} FROM {TABLE} WHERE fresh AND id <= {mark})"
    return [
        f"INSERT INTO {TABLE} ({_columns()}) SELECT {keys}, 0, {sums} FROM {TABLE} "
        f"WHERE id <= {mark} AND {chosen} GROUP BY {keys} HAVING SUM(n_count) <> 0",
        f"DELETE FROM {TABLE} WHERE id <= {mark} AND {chosen}",
    ]
