# ruff: noqa: S608 - every statement here is built from this module's constants (see the docstring)
"""The counters as SQL: what one source row (a ticket, a visit) adds to its rollup
table, and the triggers that add it — the same expressions for the triggers, the
rebuild and the check, so the three cannot disagree.

A `Spec` names the rollup table, the source table, how a row's month is found, the
key columns and the measures, each an SQL expression of the row (`{r}` stands for
NEW, OLD or a table alias). Every value spliced into the SQL text comes from this code
(column names, our own status codes) or is a validated time-zone name / a whole number
of minutes; nothing from a request ever reaches it."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from kefu.tickets.choices import OPEN_STATUSES, SlaState
from kefu.visits.choices import Outcome, VisitStatus

STATE_TABLE = "reports_rollupstate"
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


def date_month_sql(vendor: str, column: str) -> str:
    """The first day of the month of a date column."""
    if vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


@dataclass(frozen=True)
class Spec:
    name: str  # RollupState.name
    model: str  # the rollup's model in the reports app
    table: str
    source: str
    # The source column the month is taken from, and whether it is a timestamp (local
    # month in the site's time zone) or a date.
    month_column: str
    month_is_timestamp: bool
    # (rollup column, SQL of the row; None counts as 0)
    keys: tuple[tuple[str, str], ...]
    # Source columns whose change moves a row from one key to another.
    key_columns: tuple[str, ...]
    measures: tuple[tuple[str, str], ...]

    @property
    def key_names(self) -> tuple[str, ...]:
        return ("month", *(name for name, _sql in self.keys))

    @property
    def measure_names(self) -> tuple[str, ...]:
        return tuple(name for name, _sql in self.measures)

    @property
    def triggers(self) -> tuple[str, str, str]:
        return (f"{self.table}_ins", f"{self.table}_upd", f"{self.table}_del")

    @property
    def function(self) -> str:
        return f"{self.table}_add"


_OPEN = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)

TICKETS = Spec(
    name="tickets",
    model="TicketRollup",
    table="reports_ticketrollup",
    source="tickets_ticket",
    month_column="created_at",
    month_is_timestamp=True,
    keys=(
        ("kind", "{r}.kind_id"),
        ("region", "COALESCE({r}.region_id, 0)"),
        ("category", "COALESCE({r}.category_id, 0)"),
        ("department", "COALESCE({r}.responsible_department_id, 0)"),
        ("channel", "{r}.channel"),
        ("severity", "{r}.severity"),
    ),
    key_columns=(
        "created_at",
        "kind_id",
        "region_id",
        "category_id",
        "responsible_department_id",
        "channel",
        "severity",
    ),
    # The figures of `reports.selectors.tickets`: resolved = resolved_at set; open = an
    # open status; breached = resolved and breached; averages as sum and count of the
    # non-null values.
    measures=(
        ("n_count", "1"),
        ("n_resolved", _flag("{r}.resolved_at IS NOT NULL")),
        ("n_open", _flag(f"{{r}}.status IN ({_OPEN})")),
        ("sum_resolution", "COALESCE({r}.resolution_minutes, 0)"),
        ("n_resolution", _flag("{r}.resolution_minutes IS NOT NULL")),
        ("sum_response", "COALESCE({r}.response_minutes, 0)"),
        ("n_response", _flag("{r}.response_minutes IS NOT NULL")),
        ("n_sla_breached", _flag(f"{{r}}.resolved_at IS NOT NULL AND {{r}}.sla_state = '{SlaState.BREACHED.value}'")),
        ("n_reopened", _flag("{r}.reopen_count > 0")),
        ("sum_satisfaction", "COALESCE({r}.satisfaction, 0)"),
        ("n_satisfaction", _flag("{r}.satisfaction IS NOT NULL")),
        ("n_escalated", _flag("{r}.escalation_level > 0")),
    ),
)

# A cancelled visit was never work to do: the visit figures leave it out.
_LIVE = f"{{r}}.status <> '{VisitStatus.CANCELLED.value}'"

VISITS = Spec(
    name="visits",
    model="VisitRollup",
    table="reports_visitrollup",
    source="visits_visit",
    month_column="due_date",
    month_is_timestamp=False,
    keys=(
        ("region", "COALESCE({r}.region_id, 0)"),
        ("rule", "COALESCE({r}.rule_id, 0)"),
        ("team", "COALESCE({r}.team_id, 0)"),
        ("channel", "{r}.channel"),
        ("visit_type", "{r}.visit_type"),
    ),
    key_columns=("due_date", "region_id", "rule_id", "team_id", "channel", "visit_type"),
    # The figures of `reports.selectors.visits` (planned = not cancelled; finished =
    # done or failed; NPS promoters 9–10, detractors 0–6); `waiting` = still planned,
    # from which the reader takes the overdue visits of the months before today's.
    measures=(
        ("planned", _flag(_LIVE)),
        ("finished", _flag(f"{{r}}.status IN ('{VisitStatus.DONE.value}', '{VisitStatus.FAILED.value}')")),
        ("waiting", _flag(f"{{r}}.status = '{VisitStatus.PLANNED.value}'")),
        ("reached", _flag(f"{_LIVE} AND {{r}}.outcome = '{Outcome.REACHED.value}'")),
        ("sum_satisfaction", f"CASE WHEN {_LIVE} THEN COALESCE({{r}}.satisfaction, 0) ELSE 0 END"),
        ("n_satisfaction", _flag(f"{_LIVE} AND {{r}}.satisfaction IS NOT NULL")),
        ("promoters", _flag(f"{_LIVE} AND {{r}}.nps >= 9")),
        ("detractors", _flag(f"{_LIVE} AND {{r}}.nps <= 6")),
        ("nps_answers", _flag(f"{_LIVE} AND {{r}}.nps IS NOT NULL")),
        ("arrived", _flag(f"{_LIVE} AND {{r}}.arrived")),
        ("deals", _flag(f"{_LIVE} AND {{r}}.deal")),
        # Cents, exactly: the amounts have two decimals.
        (
            "amount_cents",
            f"CASE WHEN {_LIVE} AND {{r}}.deal THEN CAST(ROUND(COALESCE({{r}}.deal_amount, 0) * 100) AS BIGINT) "
            f"ELSE 0 END",
        ),
    ),
)

# A merged-away archive lives on with `merged_into` set: the customer figures leave it out.
_LIVE_CUSTOMER = "{r}.merged_into_id IS NULL"

CUSTOMERS = Spec(
    name="customers",
    model="CustomerRollup",
    table="reports_customerrollup",
    source="customers_customer",
    month_column="created_at",
    month_is_timestamp=True,
    keys=(
        ("customer_class", "COALESCE({r}.customer_class_id, 0)"),
        ("region", "COALESCE({r}.region_id, 0)"),
        ("source", "COALESCE({r}.source_id, 0)"),
        ("lifecycle", "{r}.lifecycle"),
    ),
    key_columns=("created_at", "customer_class_id", "region_id", "source_id", "lifecycle"),
    # The figures of `reports.selectors.customers` but the losses (a question about the
    # timeline): archives, key accounts, active and potential ones, by opening month.
    measures=(
        ("n", _flag(_LIVE_CUSTOMER)),
        ("key_accounts", _flag(f"{_LIVE_CUSTOMER} AND {{r}}.is_key_account")),
        ("active", _flag(f"{_LIVE_CUSTOMER} AND {{r}}.lifecycle = 'active'")),
        ("potential", _flag(f"{_LIVE_CUSTOMER} AND {{r}}.lifecycle = 'potential'")),
    ),
)

SPECS = (TICKETS, VISITS, CUSTOMERS)


# --------------------------------------------------------------------------- SQL


def key_sql(spec: Spec, vendor: str, zone_name: str, row: str) -> list[str]:
    """The key of source row `row` (NEW, OLD or a table alias)."""
    column = f"{row}.{spec.month_column}"
    month = month_sql(vendor, zone_name, column) if spec.month_is_timestamp else date_month_sql(vendor, column)
    return [month, *(sql.format(r=row) for _name, sql in spec.keys)]


def measure_sql(spec: Spec, row: str) -> list[str]:
    return [sql.format(r=row) for _name, sql in spec.measures]


def _columns(spec: Spec) -> str:
    return ", ".join((*spec.key_names, "fresh", *spec.measure_names))


def _contribution(spec: Spec, vendor: str, zone_name: str, row: str, sign: int) -> str:
    """INSERT of the signed counters of `row` as a fresh delta row."""
    fresh = "TRUE" if vendor == "postgresql" else "1"
    measures = measure_sql(spec, row) if sign > 0 else [f"-({m})" for m in measure_sql(spec, row)]
    values = ", ".join((*key_sql(spec, vendor, zone_name, row), fresh, *measures))
    return f"INSERT INTO {spec.table} ({_columns(spec)}) VALUES ({values});"


def _changed(spec: Spec, vendor: str) -> str:
    """Whether an UPDATE changed anything the counters read (the trigger's WHEN)."""
    differs = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    inputs = [f"OLD.{column} {differs} NEW.{column}" for column in spec.key_columns]
    pairs = zip(measure_sql(spec, "OLD"), measure_sql(spec, "NEW"), strict=True)
    inputs += [f"({old}) {differs} ({new})" for old, new in pairs if old != new]  # not a constant
    return " OR ".join(inputs)


def _statement_contribution(spec: Spec, zone_name: str, sources: Sequence[tuple[str, int]]) -> str:
    """PostgreSQL: INSERT of the signed counters of a statement's transition tables,
    summed per key — one row per key the statement touched, none where its changes net
    to nothing (an UPDATE of columns the counters do not read)."""
    width = len(spec.key_names)
    selects = []
    for table, sign in sources:
        keys = key_sql(spec, "postgresql", zone_name, "r")
        measures = measure_sql(spec, "r") if sign > 0 else [f"-({m})" for m in measure_sql(spec, "r")]
        columns = [f"{k} AS k{i}" for i, k in enumerate(keys)] + [f"{m} AS m{i}" for i, m in enumerate(measures)]
        selects.append(f"SELECT {', '.join(columns)} FROM {table} r")
    keys = ", ".join(f"k{i}" for i in range(width))
    count = len(spec.measures)
    sums = ", ".join(f"SUM(m{i})" for i in range(count))
    nonzero = " OR ".join(f"SUM(m{i}) <> 0" for i in range(count))
    return (
        f"INSERT INTO {spec.table} ({_columns(spec)}) SELECT {keys}, TRUE, {sums} "
        f"FROM ({' UNION ALL '.join(selects)}) c GROUP BY {keys} HAVING {nonzero};"
    )


def create_triggers_sql(spec: Spec, vendor: str, zone_name: str) -> list[str]:
    ins, upd, dele = spec.triggers
    if vendor == "postgresql":
        # Statement-level triggers over the transition tables: a bulk INSERT … SELECT
        # (the visit planner's millions of rows, an import) adds one delta row per key,
        # not one per row, and costs one grouped INSERT instead of a function call each.
        body = (
            f"BEGIN\n"
            f"  IF TG_OP = 'INSERT' THEN {_statement_contribution(spec, zone_name, [('new_rows', +1)])}\n"
            f"  ELSIF TG_OP = 'UPDATE' THEN "
            f"{_statement_contribution(spec, zone_name, [('old_rows', -1), ('new_rows', +1)])}\n"
            f"  ELSE {_statement_contribution(spec, zone_name, [('old_rows', -1)])}\n"
            f"  END IF;\n"
            f"  RETURN NULL;\n"
            f"END"
        )
        function = spec.function
        return [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $kefu$\n{body}\n$kefu$",
            f"CREATE TRIGGER {ins} AFTER INSERT ON {spec.source} REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {upd} AFTER UPDATE ON {spec.source} REFERENCING OLD TABLE AS old_rows "
            f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {dele} AFTER DELETE ON {spec.source} REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    add_old = _contribution(spec, vendor, zone_name, "OLD", -1)
    add_new = _contribution(spec, vendor, zone_name, "NEW", +1)
    return [
        # Skipped while a bulk INSERT counts its rows itself (maintain.inserts_counted_after).
        f"CREATE TRIGGER {ins} AFTER INSERT ON {spec.source} "
        f"WHEN NOT EXISTS (SELECT 1 FROM {STATE_TABLE} WHERE name = '{spec.name}' AND paused) BEGIN {add_new} END",
        f"CREATE TRIGGER {upd} AFTER UPDATE ON {spec.source} WHEN {_changed(spec, vendor)} BEGIN {add_old} {add_new} END",
        # Django's flush (between transactional tests) empties the tables one by one in
        # no set order: a row deleted after the counters were emptied must not leave a
        # −1 behind. While any source row exists its key holds a positive count, so an
        # empty counter table only ever means "flushed" (PostgreSQL flushes by
        # TRUNCATE, which fires no row triggers).
        f"CREATE TRIGGER {dele} AFTER DELETE ON {spec.source} WHEN EXISTS (SELECT 1 FROM {spec.table}) BEGIN "
        f"{add_old} END",
    ]


def drop_triggers_sql(spec: Spec, vendor: str) -> list[str]:
    if vendor == "postgresql":
        drops = [f"DROP TRIGGER IF EXISTS {name} ON {spec.source}" for name in spec.triggers]
        return [*drops, f"DROP FUNCTION IF EXISTS {spec.function}()"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in spec.triggers]


def _counted(spec: Spec, vendor: str, zone_name: str, fresh: str, where: str = "") -> str:
    """SELECT of the counters of the source rows (matching `where`) per key, in the
    rollup's column order with `fresh` as that column — keys whose rows add nothing
    left out. The rebuild, the check and the SQLite bulk-insert count share it."""
    keys = key_sql(spec, vendor, zone_name, "t")
    measures = measure_sql(spec, "t")
    sums = ", ".join(f"SUM({m})" for m in measures)
    positions = ", ".join(str(i) for i in range(1, len(keys) + 1))
    nonzero = " OR ".join(f"SUM({m}) <> 0" for m in measures)
    head = ", ".join((*keys, fresh)) if fresh else ", ".join(keys)
    return f"SELECT {head}, {sums} FROM {spec.source} t {where} GROUP BY {positions} HAVING {nonzero}"


def counted_sql(spec: Spec, vendor: str, zone_name: str) -> str:
    """Every key's counters computed from the source rows (for the check)."""
    return _counted(spec, vendor, zone_name, fresh="")


def rebuild_sql(spec: Spec, vendor: str, zone_name: str) -> list[str]:
    """Empty the counters and count every source row again, one row per key."""
    stale = "FALSE" if vendor == "postgresql" else "0"
    return [
        f"DELETE FROM {spec.table}",
        f"INSERT INTO {spec.table} ({_columns(spec)}) {_counted(spec, vendor, zone_name, fresh=stale)}",
    ]


def stored_sql(spec: Spec) -> str:
    """Every key's counters as the rollup holds them (for the check)."""
    sums = ", ".join(f"SUM({m})" for m in spec.measure_names)
    keys = ", ".join(spec.key_names)
    nonzero = " OR ".join(f"SUM({m}) <> 0" for m in spec.measure_names)
    return f"SELECT {keys}, {sums} FROM {spec.table} GROUP BY {keys} HAVING {nonzero}"


def fold_sql(spec: Spec, vendor: str, mark: int = 0) -> list[str]:
    """Fold each key with fresh delta rows into one row (dropping keys that add
    nothing any more). PostgreSQL: one statement — DELETE … RETURNING feeding the
    INSERT — so the rows folded are exactly those the statement saw; a delta committed
    meanwhile stays fresh for the next fold. SQLite: writers are serialised, so a
    watermark id inside the caller's transaction does the same."""
    keys = ", ".join(spec.key_names)
    sums = ", ".join(f"SUM({m})" for m in spec.measure_names)
    nonzero = " OR ".join(f"SUM({m}) <> 0" for m in spec.measure_names)
    table = spec.table
    if vendor == "postgresql":
        match = " AND ".join(f"r.{k} = f.{k}" for k in spec.key_names)
        return [
            f"WITH fresh_keys AS (SELECT DISTINCT {keys} FROM {table} WHERE fresh), "
            f"gone AS (DELETE FROM {table} r USING fresh_keys f WHERE {match} RETURNING r.*) "
            f"INSERT INTO {table} ({_columns(spec)}) SELECT {keys}, FALSE, {sums} FROM gone "
            f"GROUP BY {keys} HAVING {nonzero}"
        ]
    mark = int(mark)  # the highest id when the fold began
    chosen = f"({keys}) IN (SELECT {keys} FROM {table} WHERE fresh AND id <= {mark})"
    return [
        f"INSERT INTO {table} ({_columns(spec)}) SELECT {keys}, 0, {sums} FROM {table} "
        f"WHERE id <= {mark} AND {chosen} GROUP BY {keys} HAVING {nonzero}",
        f"DELETE FROM {table} WHERE id <= {mark} AND {chosen}",
    ]


def counted_inserts_sql(spec: Spec, vendor: str, zone_name: str, mark: int) -> str:
    """The counters of the source rows with an id above `mark` as delta rows, per key —
    what a bulk INSERT made while its row triggers were paused."""
    fresh = "TRUE" if vendor == "postgresql" else "1"
    counted = _counted(spec, vendor, zone_name, fresh=fresh, where=f"WHERE t.id > {int(mark)}")
    return f"INSERT INTO {spec.table} ({_columns(spec)}) {counted}"
