#!/usr/bin/env python
"""The named reports other than the complaint and repair statistics against the best
hand-written SQL for the same figures (issue 6: "each report's query time within 1.5×
of the best hand-written SQL for the same figures").

    python bench/reports_hand.py --data-dir /tmp/rb-sqlite
    python bench/reports_hand.py --database-url postgres://postgres@127.0.0.1:5432/kefu_rbench --data-dir /tmp/rb-pg

Runs on a database reports_bench.py has loaded (`--keep --skip-load`: nothing is
loaded; it only reads, but for reports_bench's `viewers()`, which makes sure its
region-scoped role copies exist; the demo logins must be there). For each report of --reports
(回访统计 visits, 客户统计 customers, 员工统计 staff, 重要投诉报表 important, 完工客户月报
completed), each period of --periods (the year and the month of --today) and the two
viewers of reports_bench (the manager, who sees everything, and the account manager
scoped to a region):

1. the report as the code computes it, `build_report` — p50 wall time of --repeat runs
   after a warm-up, the number of statements and their time (reports_bench's
   `measure`, fetching included);
2. hand-written SQL for every table of the report, the viewer's scope written out
   (`visit_base`, `customer_base`, `ticket_base`), in a few variants per database (the
   counter tables where they give the same numbers, or a scan; PostgreSQL GROUPING SETS;
   SQLite a materialised CTE with UNION ALL, or a statement per grouping) — each timed
   like reports_bench's hand SQL (`run_sql`, p50 of --repeat runs after a warm-up);
3. every variant's figures turned into the report's rows and compared with the
   report's, table by table and row by row: the number of rows (groups) that differ,
   which must be 0;
4. a summary table: report ms, statements and their ms, the best hand SQL's ms, the
   ratio statements ÷ hand and whether it is ≤ 1.5.

Python only adds up what the SQL returns where the code does too (buckets into
cumulative totals, the counters' sums into averages, the completed customers into
their per-region summary) and rounds with the selectors' own helpers.

"Today" in the figures (overdue visits, cadence months, key accounts at risk) is the
code's: `timezone.localdate()`, whatever --today says (--today picks the periods).
The cadence statement of 回访统计 is written two ways and the faster kept per run
(`pick_cadence`); 完工客户月报 is written for the decoration profile (the archive's
竣工日期) only. --show-sql prints the best variant's statements. Not a test: it prints
figures."""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reports_bench  # noqa: E402
from customers_bench import setup_django  # noqa: E402

REPORT_KEYS = ("visits", "customers", "staff", "important", "completed")
TOTALS = "合计"
TARGET = 1.5


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="e.g. postgres://postgres@127.0.0.1:5432/kefu_rbench")
    parser.add_argument("--data-dir", default="", help="KEFU_DATA_DIR of the loaded database (SQLite: its file)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure, after one warm-up (default 3)")
    parser.add_argument("--reports", default=",".join(REPORT_KEYS), help="comma-separated report keys")
    parser.add_argument("--periods", default="year,month", help="year, month or period keys (default year,month)")
    parser.add_argument("--today", default="", help="the periods of this ISO date (default: today)")
    parser.add_argument("--show-sql", action="store_true", help="print the best hand SQL of each report")
    args = parser.parse_args(argv)
    args.keep, args.skip_load = True, True  # reports_bench's options: an existing database, no load
    return args


# --- SQL pieces ---------------------------------------------------------------------------


def marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def ts(moment: datetime.datetime):
    """An aware datetime as the database compares it (SQLite: UTC text)."""
    from django.db import connection

    return connection.ops.adapt_datetimefield_value(moment)


def day(value: datetime.date):
    from django.db import connection

    return connection.ops.adapt_datefield_value(value)


def aware(value: datetime.date) -> datetime.datetime:
    from django.utils import timezone

    return datetime.datetime.combine(value, datetime.time.min, tzinfo=timezone.get_current_timezone())


def month_end(first: datetime.date) -> datetime.date:
    return (first + datetime.timedelta(days=32)).replace(day=1)


_PG_FORMATS = {"month": "YYYY-MM", "date": "YYYY-MM-DD", "minute": "YYYY-MM-DD HH24:MI"}
_SQLITE_FORMATS = {"month": "%%Y-%%m", "date": "%%Y-%%m-%%d", "minute": "%%Y-%%m-%%d %%H:%%M"}


def local_text(vendor: str, column: str, unit: str) -> str:
    """A timestamp column as local text ("month" 2026-11, "date", "minute"): PostgreSQL
    in the site's zone, SQLite (UTC text) by the zone's fixed offset, as the counters'
    triggers do (Asia/Shanghai has no daylight saving)."""
    from django.utils import timezone

    if vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE '{timezone.get_current_timezone_name()}', '{_PG_FORMATS[unit]}')"
    offset = int(timezone.localtime().utcoffset().total_seconds() // 60)
    return f"strftime('{_SQLITE_FORMATS[unit]}', {column}, '{offset:+d} minutes')"


def date_month(vendor: str, column: str) -> str:
    """A date column's month as text."""
    return f"to_char({column}, 'YYYY-MM')" if vendor == "postgresql" else f"substr({column}, 1, 7)"


def group_key(vendor: str, column: str) -> str:
    """A foreign key to group by: `+ 0` on SQLite, which otherwise walks the column's
    index to get the groups in order instead of the narrow range the WHERE reads."""
    return f"{column} + 0" if vendor == "sqlite" else column


def counted(condition: str) -> str:
    return f"COUNT(CASE WHEN {condition} THEN 1 END)"


def quoted(values) -> str:
    """Our own status codes as SQL literals."""
    return ", ".join(f"'{v}'" for v in values)


# --- the viewer's scope, by hand ------------------------------------------------------------


def ticket_scope(user, vendor: str) -> tuple[str, list]:
    """`ticket_base`: nothing without the view permission; else reports_bench's scope
    (alias t): their regions, their own tickets, tickets routed to their departments."""
    from kefu.core import access

    if not access.has_perm(user, "tickets.view_ticket"):
        return " AND 1 = 0", []
    return reports_bench._scope_sql(user, vendor)


def visit_scope(user, alias: str = "v") -> tuple[str, list]:
    """`visit_base`: their own visits, their teams' unassigned ones, and with the region
    permission their regions' (Visit.scope_fields)."""
    from kefu.core import access

    if not access.has_perm(user, "visits.view_visit"):
        return " AND 1 = 0", []
    if access.sees_everything(user):
        return "", []
    parts, params = [f"{alias}.assignee_id = %s"], [user.pk]
    teams = sorted(access.user_department_ids(user))
    if teams:
        parts.append(f"({alias}.assignee_id IS NULL AND {alias}.team_id IN ({marks(teams)}))")
        params += teams
    regions = sorted(access.user_region_ids(user)) if user.has_perm("visits.view_region_visits") else []
    if regions:
        parts.append(f"{alias}.region_id IN ({marks(regions)})")
        params += regions
    return " AND (" + " OR ".join(parts) + ")", params


def customer_scope(user, alias: str = "c") -> tuple[str, list]:
    """`customer_base` (merged-away archives aside): their regions and their own."""
    from kefu.core import access

    if not access.has_perm(user, "customers.view_customer"):
        return " AND 1 = 0", []
    if access.sees_everything(user):
        return "", []
    parts, params = [f"{alias}.owner_id = %s"], [user.pk]
    regions = sorted(access.user_region_ids(user))
    if regions:
        parts.append(f"{alias}.region_id IN ({marks(regions)})")
        params += regions
    return " AND (" + " OR ".join(parts) + ")", params


def counter_regions(user, view: str, view_region: str | None) -> list[int] | None | bool:
    """Which counter rows the viewer's scope covers: None = every region; the regions of
    a region scope; False = the counters cannot serve this viewer."""
    from kefu.core import access

    if not access.has_perm(user, view):
        return False
    if access.sees_everything(user):
        return None
    regions = sorted(access.user_region_ids(user)) if (view_region is None or user.has_perm(view_region)) else []
    return regions or False


# --- grouped statements, several ways -----------------------------------------------------


@dataclass
class Grouped:
    """Aggregates (`measures`, SQL over the columns of `base`) of the rows of `base` for
    each grouping set of `keys` — one GROUPING SETS statement, a materialised CTE with a
    UNION ALL member per set, or one statement per set, as the style says."""

    name: str
    base: str
    params: list
    keys: tuple[str, ...]
    sets: tuple[tuple[str, ...], ...]
    measures: tuple[tuple[str, str], ...]


@dataclass
class Plain:
    name: str
    sql: str
    params: list


STYLES = {"postgresql": ("sets", "each"), "sqlite": ("union", "each")}
STYLE_NAMES = {
    "sets": "GROUPING SETS",
    "union": "materialised CTE + UNION ALL",
    "each": "a statement per grouping",
}


def _grouped_statements(g: Grouped, style: str) -> list[tuple[str, list]]:
    measures = ", ".join(f"{sql} AS {name}" for name, sql in g.measures)
    if style == "sets" and g.keys:
        keys = ", ".join(g.keys)
        sets = ", ".join("(" + ", ".join(s) + ")" for s in g.sets)
        sql = f"SELECT {keys}, GROUPING({keys}) AS g_mask, {measures} FROM ({g.base}) b GROUP BY GROUPING SETS ({sets})"
        return [(sql, list(g.params))]
    if style == "union" and len(g.sets) > 1:
        members = []
        for i, grouping in enumerate(g.sets):
            columns = "".join(f"{k if k in grouping else 'NULL AS ' + k}, " for k in g.keys)
            group = f" GROUP BY {', '.join(grouping)}" if grouping else ""
            members.append(f"SELECT {i} AS g_set, {columns}{measures} FROM b{group}")
        return [(f"WITH b AS MATERIALIZED ({g.base}) " + " UNION ALL ".join(members), list(g.params))]
    out = []
    for grouping in g.sets:
        columns = "".join(f"{k}, " for k in grouping)
        group = f" GROUP BY {', '.join(grouping)}" if grouping else ""
        out.append((f"SELECT {columns}{measures} FROM ({g.base}) b{group}", list(g.params)))
    return out


def _parse_grouped(g: Grouped, style: str, results: list[list[dict]]) -> dict:
    """{grouping set: {key tuple: row}}."""
    out: dict = {s: {} for s in g.sets}
    if style == "sets" and g.keys:
        n = len(g.keys)
        masks = {sum(1 << (n - 1 - i) for i, k in enumerate(g.keys) if k not in s): s for s in g.sets}
        for row in results[0]:
            grouping = masks[row["g_mask"]]
            out[grouping][tuple(row[k] for k in grouping)] = row
    elif style == "union" and len(g.sets) > 1:
        for row in results[0]:
            grouping = g.sets[row["g_set"]]
            out[grouping][tuple(row[k] for k in grouping)] = row
    else:
        for grouping, rows in zip(g.sets, results, strict=True):
            for row in rows:
                out[grouping][tuple(row[k] for k in grouping)] = row
    return out


def statements_of(parts, style: str) -> list[tuple[str, list]]:
    out = []
    for part in parts:
        out += _grouped_statements(part, style) if isinstance(part, Grouped) else [(part.sql, list(part.params))]
    return out


def split_results(parts, style: str, results: list[list[dict]]) -> dict:
    """{part name: parsed}: a Grouped's {set: {key: row}}, a Plain's rows."""
    out, at = {}, 0
    for part in parts:
        if isinstance(part, Grouped):
            n = len(_grouped_statements(part, style))
            out[part.name] = _parse_grouped(part, style, results[at : at + n])
        else:
            n = 1
            out[part.name] = results[at]
        at += n
    return out


def time_plan(parts, style: str, repeat: int) -> tuple[float, int, dict]:
    """p50 of `repeat` runs after a warm-up; the statements; the last run's results."""
    statements = statements_of(parts, style)
    reports_bench.run_sql(statements)
    samples, results = [], []
    for _ in range(max(1, repeat)):
        elapsed, results = reports_bench.run_sql(statements)
        samples.append(elapsed)
    return statistics.median(samples), len(statements), split_results(parts, style, results)


# --- what a report's run needs ------------------------------------------------------------


@dataclass
class Ctx:
    user: object
    period: object
    vendor: str
    today: datetime.date  # the code's today: timezone.localdate()
    cadence_form: str = "by done_at"  # see CADENCE_FORMS

    @property
    def comparisons(self) -> list:
        """The previous period and the same one last year, once when they are one."""
        prev, last = self.period.previous(), self.period.same_last_year()
        return [prev] if last == prev else [prev, last]

    @property
    def multi_month(self) -> bool:
        return len(self.period.months()) > 1

    @property
    def whole_months(self) -> bool:
        return all(p.start.day == 1 and p.end.day == 1 for p in (self.period, *self.comparisons))


def comparison_rows(ctx: Ctx, metrics, current: dict, comparisons: list[dict]) -> dict:
    """The overall table's rows (this period, previous, change, last year, change) as the
    builders lay them out, from the hand figures."""
    from kefu.reports.builders.common import comparison_table

    previous = comparisons[0]
    last_year = comparisons[-1]
    table = comparison_table(
        title="", metrics=metrics, period=ctx.period, current=current, previous=previous, last_year=last_year
    )
    return {i: {m.key: row.get(m.key) for m in metrics} for i, row in enumerate(table.rows)}


def dimension_rows(groups: dict, figures, metrics, totals: dict | None) -> dict:
    """{key: the row's metrics} of a table by one dimension, its totals row under TOTALS
    (a table without rows has none, as `Table` drops it)."""
    rows = {key[0]: {m.key: figures(raw).get(m.key) for m in metrics} for key, raw in groups.items()}
    if rows and totals is not None:
        rows[TOTALS] = {m.key: totals.get(m.key) for m in metrics}
    return rows


# --- 回访统计 (visits) ---------------------------------------------------------------------

VISIT_DIMS = ("region", "rule", "visit_type", "channel", "customer_class", "assignee")
COUNTED_VISIT_DIMS = ("region", "rule", "visit_type", "channel")  # the counters' keys
VISIT_SUMS = (
    "planned", "finished", "reached", "sum_sat", "n_sat", "promoters", "detractors", "nps_answers", "arrived",
    "deals", "amount_cents", "overdue",
)  # fmt: skip


def _visit_key_sql(vendor: str, dim: str) -> str:
    return {
        "region": f"{group_key(vendor, 'v.region_id')} AS region",
        "rule": f"{group_key(vendor, 'v.rule_id')} AS rule",
        "visit_type": "v.visit_type",
        "channel": "v.channel",
        "customer_class": f"{group_key(vendor, 'c.customer_class_id')} AS customer_class",
        "assignee": f"{group_key(vendor, 'v.assignee_id')} AS assignee",
        "month": f"{date_month(vendor, 'v.due_date')} AS month",
    }[dim]


def _visit_measures(today: datetime.date) -> tuple:
    """The selector's raw figures (kefu.reports.selectors.visits._expressions)."""
    return (
        ("planned", "COUNT(*)"),
        ("finished", counted("status IN ('done', 'failed')")),
        ("reached", counted("outcome = 'reached'")),
        ("avg_satisfaction", "AVG(satisfaction)"),
        ("promoters", counted("nps >= 9")),
        ("detractors", counted("nps <= 6")),
        ("nps_answers", "COUNT(nps)"),
        ("arrived", counted("arrived")),
        ("deals", counted("deal")),
        ("amount", "SUM(CASE WHEN deal THEN deal_amount END)"),
        ("overdue", counted(f"status = 'planned' AND due_date < '{today.isoformat()}'")),
    )


def _visit_counted_measures(this_month: datetime.date) -> tuple:
    """The counters' measures over the visits themselves (as `_seen_elsewhere`)."""
    return (
        ("planned", "COUNT(*)"),
        ("finished", counted("status IN ('done', 'failed')")),
        ("reached", counted("outcome = 'reached'")),
        ("sum_sat", "COALESCE(SUM(satisfaction), 0)"),
        ("n_sat", "COUNT(satisfaction)"),
        ("promoters", counted("nps >= 9")),
        ("detractors", counted("nps <= 6")),
        ("nps_answers", "COUNT(nps)"),
        ("arrived", counted("arrived")),
        ("deals", counted("deal")),
        ("amount_cents", "SUM(CASE WHEN deal THEN CAST(ROUND(COALESCE(deal_amount, 0) * 100) AS BIGINT) ELSE 0 END)"),
        ("overdue", counted(f"status = 'planned' AND due_date < '{this_month.isoformat()}'")),
    )


VISIT_COLUMNS = "v.status, v.outcome, v.satisfaction, v.nps, v.arrived, v.deal, v.deal_amount, v.due_date"


def _keys_of(sets) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for s in sets for k in s))


def visit_scan(
    ctx: Ctx, period, sets, name: str, *, measures=None, where: str = "", params=(), scoped: bool = True
) -> Grouped:
    """The visits due in `period` the viewer sees (`scoped`; else `where` says which),
    cancelled ones left out, grouped."""
    keys = _keys_of(sets)
    scope, scope_params = visit_scope(ctx.user) if scoped else ("", [])
    join = " JOIN customers_customer c ON c.id = v.customer_id" if "customer_class" in keys else ""
    select = "".join(f"{_visit_key_sql(ctx.vendor, k)}, " for k in keys)
    base = (
        f"SELECT {select}{VISIT_COLUMNS} FROM visits_visit v{join} "  # noqa: S608 (our own SQL)
        f"WHERE v.due_date >= %s AND v.due_date < %s AND v.status <> 'cancelled'{scope}{where}"
    )
    return Grouped(
        name,
        base,
        [day(period.start), day(period.end), *scope_params, *params],
        keys,
        tuple(sets),
        measures or _visit_measures(ctx.today),
    )


def visit_counters(ctx: Ctx, period, sets, name: str, regions) -> Grouped:
    """The visit counters of `period`'s months (of `regions`, or all)."""
    this_month = ctx.today.replace(day=1)
    keys = _keys_of(sets)
    columns = {
        "region": "NULLIF(r.region, 0) AS region",
        "rule": "NULLIF(r.rule, 0) AS rule",
        "visit_type": "r.visit_type",
        "channel": "r.channel",
        "month": f"{date_month(ctx.vendor, 'r.month')} AS month",
    }
    select = "".join(f"{columns[k]}, " for k in keys)
    where, params = "", [day(this_month), day(period.start), day(period.end)]
    if regions is not None:
        where = f" AND r.region IN ({marks(regions)})"
        params += regions
    names = [n for n in VISIT_SUMS if n not in ("sum_sat", "n_sat", "overdue")]
    base = (
        f"SELECT {select}{', '.join(f'r.{n}' for n in names)}, r.sum_satisfaction AS sum_sat, "  # noqa: S608
        "r.n_satisfaction AS n_sat, CASE WHEN r.month < %s THEN r.waiting ELSE 0 END AS overdue "
        f"FROM reports_visitrollup r WHERE r.month >= %s AND r.month < %s{where}"
    )
    return Grouped(name, base, params, keys, tuple(sets), tuple((n, f"SUM({n})") for n in VISIT_SUMS))


def visit_elsewhere(ctx: Ctx, period, sets, name: str, regions) -> Grouped:
    """What a region-scoped viewer sees outside their regions: their own visits and their
    teams' unassigned ones (the counters' measures)."""
    from kefu.core import access

    teams = sorted(access.user_department_ids(ctx.user))
    mine, params = "v.assignee_id = %s", [ctx.user.pk]
    if teams:
        mine += f" OR (v.assignee_id IS NULL AND v.team_id IN ({marks(teams)}))"
        params += teams
    where = f" AND (v.region_id IS NULL OR v.region_id NOT IN ({marks(regions)})) AND ({mine})"
    measures = _visit_counted_measures(ctx.today.replace(day=1))
    return visit_scan(ctx, period, sets, name, measures=measures, where=where, params=[*regions, *params], scoped=False)


def visit_overdue_now(ctx: Ctx, sets) -> Grouped | None:
    """Visits still planned and due in today's month before today (the counters hold the
    still-planned ones per month only), when the period has today in it."""
    first = max(ctx.today.replace(day=1), ctx.period.start)
    if not (ctx.period.start <= ctx.today < ctx.period.end) or first >= ctx.today:
        return None
    days = type(ctx.period)("range", first, ctx.today, "")
    return visit_scan(
        ctx, days, sets, "overdue this month", measures=(("n", "COUNT(*)"),), where=" AND v.status = 'planned'"
    )


def visit_sets(ctx: Ctx, dims) -> tuple:
    return ((), *((d,) for d in dims), *((("month",),) if ctx.multi_month else ()))


def visits_scan_plan(ctx: Ctx) -> list:
    parts = [visit_scan(ctx, ctx.period, visit_sets(ctx, VISIT_DIMS), "current")]
    parts += [visit_scan(ctx, p, ((),), f"comparison {i}") for i, p in enumerate(ctx.comparisons)]
    return parts + cadence_parts(ctx)


def visits_counter_plan(ctx: Ctx) -> list | None:
    from kefu.reports.rollup import maintain, schema

    regions = counter_regions(ctx.user, "visits.view_visit", "visits.view_region_visits")
    if regions is False or not ctx.whole_months or not maintain.ready(schema.VISITS):
        return None
    sets = visit_sets(ctx, COUNTED_VISIT_DIMS)
    periods = [("current", ctx.period, sets), *((f"comparison {i}", p, ((),)) for i, p in enumerate(ctx.comparisons))]
    parts: list = [visit_counters(ctx, p, s, f"counters {n}", regions) for n, p, s in periods]
    if regions is not None:
        parts += [visit_elsewhere(ctx, p, s, f"elsewhere {n}", regions) for n, p, s in periods]
    overdue = visit_overdue_now(ctx, sets)
    parts += [overdue] if overdue else []
    parts.append(visit_scan(ctx, ctx.period, (("customer_class",),), "current by class"))
    parts.append(visit_scan(ctx, ctx.period, (("assignee",),), "current by agent"))
    return parts + cadence_parts(ctx)


def cadence_parts(ctx: Ctx) -> list:
    """Per class with a cadence: the customers existing at each month's end (visible,
    live, not lost), and those with at least the cadence's reached visits in the month."""
    months = [m for m in ctx.period.months() if m <= ctx.today]
    if not months:
        return []
    scope, params = customer_scope(ctx.user)
    ends = [ts(aware(month_end(m))) for m in months]
    sizes = ", ".join(f"{counted('c.created_at < %s')} AS m{i}" for i in range(len(months)))
    live = "c.merged_into_id IS NULL AND c.lifecycle <> 'lost'"
    return [
        Plain(
            "cadence sizes",
            f"SELECT k.id AS class_id, k.visits_per_month AS need, {sizes} FROM customers_customerclass k "  # noqa: S608
            f"LEFT JOIN customers_customer c ON c.customer_class_id = k.id AND {live}{scope} "
            "WHERE k.visits_per_month > 0 GROUP BY k.id, k.visits_per_month",
            [*ends, *params],
        ),
        cadence_compliant(ctx, months, ends, scope, params),
    ]


# The customer-months at cadence, written two ways: the period's reached visits (the
# done_at index) joined to their customers — best for a month; or the visits of the
# customers concerned (an IN list, then the (customer, done_at) index) — best over many
# months. The faster on the database is picked once per report run (`pick_cadence`).
CADENCE_FORMS = ("by done_at", "customers' visits")


def cadence_compliant(ctx: Ctx, months, ends, scope: str, params: list) -> Plain:
    live = "c.merged_into_id IS NULL AND c.lifecycle <> 'lost'"
    # The month as a CASE over its bounds (as the selector's month_case): cheaper than
    # formatting every row's timestamp in the zone.
    month = "CASE " + " ".join(f"WHEN v.done_at < %s THEN '{m:%Y-%m}'" for m in months) + " END"
    where, extra = f"{live}{scope}", list(params)
    if ctx.cadence_form != CADENCE_FORMS[0]:
        where = (
            "v.customer_id IN (SELECT c.id FROM customers_customer c WHERE "  # noqa: S608
            f"{live} AND c.customer_class_id IN (SELECT id FROM customers_customerclass WHERE visits_per_month > 0)"
            f"{scope})"
        )
    return Plain(
        "cadence compliant",
        f"SELECT class_id, ym, COUNT(*) AS n FROM (SELECT c.customer_class_id AS class_id, {month} AS ym "  # noqa: S608
        "FROM visits_visit v JOIN customers_customer c ON c.id = v.customer_id "
        "JOIN customers_customerclass k ON k.id = c.customer_class_id "
        "WHERE v.status = 'done' AND v.done_at >= %s AND v.done_at < %s AND c.created_at <= v.done_at "
        f"AND k.visits_per_month > 0 AND {where} "
        "GROUP BY v.customer_id, c.customer_class_id, ym, k.visits_per_month "
        "HAVING COUNT(*) >= k.visits_per_month) g GROUP BY class_id, ym",
        [*ends, ts(aware(months[0])), ts(aware(month_end(months[-1]))), *extra],
    )


def pick_cadence(ctx: Ctx, repeat: int) -> str:
    """Time both forms of the cadence statement; keep the faster in `ctx`. Returns a line
    saying so (and whether they agree)."""
    timings, rows = {}, {}
    for form in CADENCE_FORMS:
        ctx.cadence_form = form
        parts = [p for p in cadence_parts(ctx) if p.name == "cadence compliant"]
        if not parts:
            return ""
        timings[form], _n, found = time_plan(parts, "each", repeat)
        rows[form] = sorted((r["class_id"], r["ym"], r["n"]) for r in found["cadence compliant"])
    ctx.cadence_form = min(timings, key=timings.get)
    agree = "same rows" if len({tuple(r) for r in rows.values()}) == 1 else "ROWS DIFFER"
    shown = ", ".join(f"{form} {ms:.1f} ms" for form, ms in timings.items())
    return f"cadence statement: {shown} ({agree}) → {ctx.cadence_form}"


def cadence_rows(ctx: Ctx, found: dict) -> dict:
    from kefu.reports.selectors.common import percent

    months = [m for m in ctx.period.months() if m <= ctx.today]
    if not months:
        return {}
    ok = {(r["class_id"], r["ym"]): r["n"] for r in found["cadence compliant"]}
    rows = {}
    for size in found["cadence sizes"]:
        for i, first in enumerate(months):
            n, done = size[f"m{i}"] or 0, ok.get((size["class_id"], f"{first:%Y-%m}"), 0)
            rows[(size["class_id"], f"{first:%Y-%m}")] = {
                "cadence": size["need"], "customer_months": n, "compliant": done, "rate": percent(done, n),
            }  # fmt: skip
    return rows


def _counted_raw(sums: dict) -> dict:
    from kefu.reports.rollup.common import average

    return {
        "planned": sums["planned"], "finished": sums["finished"], "reached": sums["reached"],
        "avg_satisfaction": average(sums["sum_sat"], sums["n_sat"]), "promoters": sums["promoters"],
        "detractors": sums["detractors"], "nps_answers": sums["nps_answers"], "arrived": sums["arrived"],
        "deals": sums["deals"], "amount": Decimal(sums["amount_cents"]) / 100, "overdue": sums["overdue"],
    }  # fmt: skip


def counted_groups(parsed: list[dict], overdue: dict | None) -> dict:
    """The counters (and what the viewer sees elsewhere) summed per group, the visits
    overdue this month added, as raw figures: {set: {key: raw}}."""
    out: dict = {}
    for found in parsed:
        for grouping, groups in found.items():
            for key, row in groups.items():
                into = out.setdefault(grouping, {}).setdefault(key, dict.fromkeys(VISIT_SUMS, 0))
                for name in VISIT_SUMS:
                    into[name] += int(row[name] or 0)
    for grouping, groups in out.items():
        for key in [k for k, sums in groups.items() if grouping and sums["planned"] <= 0]:
            del groups[key]  # deltas netting to nothing
        for key, row in ((overdue or {}).get(grouping) or {}).items():
            if key in groups:
                groups[key]["overdue"] += row["n"]
    return {grouping: {k: _counted_raw(s) for k, s in groups.items()} for grouping, groups in out.items()}


def _counted_parts(found: dict, suffix: str) -> list[dict]:
    """The counters of a period, and what the viewer sees outside their regions."""
    return [found[f"{part} {suffix}"] for part in ("counters", "elsewhere") if f"{part} {suffix}" in found]


def visit_figures_by_set(ctx: Ctx, found: dict) -> tuple[dict, list[dict]]:
    """{set: {key: raw}} of the current period and the comparisons' total raw figures."""
    comparisons = range(len(ctx.comparisons))
    if "current" in found:
        groups = dict(found["current"])
        return groups, [found[f"comparison {i}"][()][()] for i in comparisons]
    groups = counted_groups(_counted_parts(found, "current"), found.get("overdue this month"))
    groups.update({**found["current by class"], **found["current by agent"]})
    totals = [counted_groups(_counted_parts(found, f"comparison {i}"), None)[()][()] for i in comparisons]
    return groups, totals


def visits_expected(ctx: Ctx, found: dict) -> dict:
    from kefu.reports.builders.visits import funnel_metrics, visit_metrics
    from kefu.reports.selectors.visits import _figures, _funnel

    groups, comparison_raw = visit_figures_by_set(ctx, found)
    total_raw = groups[()][()]
    current, funnel_total = _figures(total_raw), _funnel(total_raw)
    metrics, funnel = visit_metrics(), funnel_metrics()
    tables = {
        "总体指标与同比、环比": comparison_rows(ctx, metrics, current, [_figures(r) for r in comparison_raw]),
        "回访 → 到院 → 成交": {0: {c.key: funnel_total.get(c.key) for c in funnel}},
        "漏斗：按顾客来源区域": dimension_rows(groups[("region",)], _funnel, funnel, funnel_total),
        "漏斗：按回访项目": dimension_rows(groups[("rule",)], _funnel, funnel, funnel_total),
    }
    for dim, title in (
        ("visit_type", "按回访类型"), ("channel", "按回访方式"), ("customer_class", "按客户分类"), ("assignee", "按回访人"),
    ):  # fmt: skip
        tables[title] = dimension_rows(groups[(dim,)], _figures, metrics, current)
    if ctx.multi_month:
        tables["按月趋势"] = dimension_rows(groups[("month",)], _figures, metrics, current)
    tables["回访频次达标（按客户分类）"] = cadence_rows(ctx, found)
    return tables


# --- 客户统计 (customers) -------------------------------------------------------------------

CUSTOMER_DIMS = ("customer_class", "region", "source", "lifecycle")
CUSTOMER_PARTS = ("n", "n_key", "active", "potential")
LOST_KIND = "customer.lifecycle_changed"


def customer_bounds(ctx: Ctx) -> list[datetime.date]:
    """The days that cut the archive into buckets: every period's start and end, and the
    month boundaries inside a multi-month period."""
    days = {ctx.period.start, ctx.period.end}
    for p in ctx.comparisons:
        days |= {p.start, p.end}
    if ctx.multi_month:
        days |= {d for window in month_windows(ctx.period).values() for d in window}
    return sorted(days)


def month_windows(period) -> dict[str, tuple[datetime.date, datetime.date]]:
    """{"YYYY-MM": [first, end)} of each month of `period`, clipped to it."""
    return {f"{m:%Y-%m}": (max(m, period.start), min(month_end(m), period.end)) for m in period.months()}


def bucket_sql(column: str, bounds, *, dates: bool = False) -> tuple[str, list]:
    """CASE giving 0 before the first bound, i in [bound i-1, bound i)."""
    whens = " ".join(f"WHEN {column} < %s THEN {i}" for i in range(len(bounds)))
    params = [day(b) if dates else ts(aware(b)) for b in bounds]
    return f"CASE {whens} END", params


def _opened_measures() -> tuple:
    return (
        ("n", "COUNT(*)"),
        ("n_key", counted("is_key_account")),
        ("active", counted("state = 'active'")),
        ("potential", counted("state = 'potential'")),
    )


def _customer_key_sql(vendor: str, dim: str) -> str:
    return {
        "customer_class": f"{group_key(vendor, 'c.customer_class_id')} AS customer_class",
        "region": f"{group_key(vendor, 'c.region_id')} AS region",
        "source": f"{group_key(vendor, 'c.source_id')} AS source",
        "lifecycle": "c.lifecycle",
        "category": "cc.productcategory_id AS category",
    }[dim]


def customer_scan(ctx: Ctx, name: str, dims, *, where: str = "", params=(), scoped: bool = True) -> Grouped:
    """The live archives the viewer sees opened before the period's end, per creation
    bucket and each dimension of `dims` (a category: joined, a customer once per
    category)."""
    bounds = customer_bounds(ctx)
    bucket, bucket_params = bucket_sql("c.created_at", bounds)
    scope, scope_params = customer_scope(ctx.user) if scoped else ("", [])
    join = " LEFT JOIN customers_customer_categories cc ON cc.customer_id = c.id" if "category" in dims else ""
    select = "".join(f"{_customer_key_sql(ctx.vendor, d)}, " for d in dims)
    base = (
        f"SELECT {bucket} AS bucket, {select}c.is_key_account, c.lifecycle AS state "  # noqa: S608
        f"FROM customers_customer c{join} WHERE c.merged_into_id IS NULL AND c.created_at < %s{scope}{where}"
    )
    return Grouped(
        name,
        base,
        [*bucket_params, ts(aware(bounds[-1])), *scope_params, *params],
        ("bucket", *dims),
        tuple(("bucket", *([d] if d else [])) for d in ("", *dims)),
        _opened_measures(),
    )


def customer_counters(ctx: Ctx, regions) -> Grouped:
    """The customer counters by opening month bucket (of `regions`, or all)."""
    bounds = customer_bounds(ctx)
    bucket, params = bucket_sql("r.month", bounds, dates=True)
    where = ""
    params.append(day(bounds[-1]))
    if regions is not None:
        where = f" AND r.region IN ({marks(regions)})"
        params += regions
    base = (
        f"SELECT {bucket} AS bucket, NULLIF(r.customer_class, 0) AS customer_class, NULLIF(r.region, 0) AS region, "  # noqa: S608
        "NULLIF(r.source, 0) AS source, r.lifecycle, r.n, r.key_accounts AS n_key, r.active, r.potential "
        f"FROM reports_customerrollup r WHERE r.month < %s{where}"
    )
    measures = tuple((n, f"SUM({n})") for n in CUSTOMER_PARTS)
    sets = tuple(("bucket", *([d] if d else [])) for d in ("", *CUSTOMER_DIMS))
    return Grouped("opened", base, params, ("bucket", *CUSTOMER_DIMS), sets, measures)


def customer_lost(ctx: Ctx, name: str, dims) -> Grouped:
    """The lost customers by the bucket of their loss (their last lifecycle change, or
    their creation) and each dimension of `dims`."""
    bounds = customer_bounds(ctx)
    bucket, bucket_params = bucket_sql("l.lost_at", bounds)
    scope, scope_params = customer_scope(ctx.user)
    join = " LEFT JOIN customers_customer_categories cc ON cc.customer_id = c.id" if "category" in dims else ""
    select = "".join(f"{_customer_key_sql(ctx.vendor, d)}, " for d in dims)
    lost_at = (
        "COALESCE((SELECT MAX(e.at) FROM customers_timelineentry e WHERE e.customer_id = c.id "
        f"AND e.kind = '{LOST_KIND}'), c.created_at)"
    )
    base = (
        f"SELECT {bucket} AS bucket, {', '.join(dims)} FROM (SELECT {select}{lost_at} AS lost_at "  # noqa: S608
        f"FROM customers_customer c{join} WHERE c.lifecycle = 'lost' AND c.merged_into_id IS NULL{scope}) l "
        "WHERE l.lost_at >= %s AND l.lost_at < %s"
    )
    return Grouped(
        name,
        base,
        [*bucket_params, *scope_params, ts(aware(bounds[0])), ts(aware(bounds[-1]))],
        ("bucket", *dims),
        tuple(("bucket", *([d] if d else [])) for d in ("", *dims)),
        (("n", "COUNT(*)"),),
    )


def customer_own_elsewhere(ctx: Ctx, regions) -> Grouped:
    """The viewer's own live archives outside their regions (the counters give those)."""
    where = f" AND c.owner_id = %s AND (c.region_id IS NULL OR c.region_id NOT IN ({marks(regions)}))"
    params = [ctx.user.pk, *regions]
    return customer_scan(ctx, "own elsewhere", CUSTOMER_DIMS, where=where, params=params, scoped=False)


def at_risk_part(ctx: Ctx) -> Plain:
    """The key accounts at risk today, the first 20: open complaints first, then the
    longest without a reached visit (none in 60 days)."""
    from kefu.reports.selectors.customers import RISK_DAYS

    tscope, tparams = ticket_scope(ctx.user, ctx.vendor)
    vscope, vparams = visit_scope(ctx.user)
    cscope, cparams = customer_scope(ctx.user)
    since = ts(aware(ctx.today - datetime.timedelta(days=RISK_DAYS)))
    sql = (
        "WITH complained AS (SELECT t.customer_id, COUNT(*) AS n FROM tickets_ticket t "  # noqa: S608
        f"WHERE t.is_open AND {group_key(ctx.vendor, 't.kind_id')} IN "
        "(SELECT id FROM tickets_ticketkind WHERE code = 'complaint') "
        f"AND t.customer_id IS NOT NULL{tscope} GROUP BY t.customer_id), "
        "accounts AS (SELECT c.id, c.name, c.archive_no, c.region_id, c.owner_id, m.n, "
        "(SELECT v.done_at FROM visits_visit v WHERE v.customer_id = c.id AND v.status = 'done'"
        f"{vscope} ORDER BY v.done_at DESC LIMIT 1) AS last_reached "
        "FROM customers_customer c LEFT JOIN complained m ON m.customer_id = c.id "
        f"WHERE c.is_key_account AND c.lifecycle <> 'lost' AND c.merged_into_id IS NULL{cscope}) "
        f"SELECT a.id, a.name, a.archive_no, a.n, {local_text(ctx.vendor, 'a.last_reached', 'date')} AS last_day, "
        "rg.name AS region_name, u.display_name, u.username FROM accounts a "
        "LEFT JOIN core_region rg ON rg.id = a.region_id LEFT JOIN core_user u ON u.id = a.owner_id "
        "WHERE a.n IS NOT NULL OR a.last_reached IS NULL OR a.last_reached < %s "
        "ORDER BY a.n DESC NULLS LAST, a.last_reached ASC NULLS FIRST, a.id LIMIT 20"
    )
    return Plain("at risk", sql, [*tparams, *vparams, *cparams, since])


def customers_scan_plan(ctx: Ctx) -> list:
    return [
        customer_scan(ctx, "opened", CUSTOMER_DIMS),
        customer_scan(ctx, "opened by category", ("category",)),
        customer_lost(ctx, "lost", CUSTOMER_DIMS),
        customer_lost(ctx, "lost by category", ("category",)),
        at_risk_part(ctx),
    ]


def customers_counter_plan(ctx: Ctx) -> list | None:
    from kefu.reports.rollup import maintain, schema

    regions = counter_regions(ctx.user, "customers.view_customer", None)
    if regions is False or not ctx.whole_months or not maintain.ready(schema.CUSTOMERS):
        return None
    parts: list = [customer_counters(ctx, regions)]
    if regions is not None:
        parts.append(customer_own_elsewhere(ctx, regions))
    return parts + customers_scan_plan(ctx)[1:]


def bucket_groups(found: list[dict], dims) -> dict:
    """{key: {bucket: {part: n}}} summed over the parts found (counters and own archives
    elsewhere), buckets with no archive dropped."""
    out: dict = {}
    for parsed in found:
        for key, row in parsed[("bucket", *dims)].items():
            bucket, *rest = key
            into = out.setdefault(tuple(rest), {}).setdefault(int(bucket), dict.fromkeys(CUSTOMER_PARTS, 0))
            for part in CUSTOMER_PARTS:
                into[part] += int(row.get(part) or 0)
    for buckets in out.values():
        for bucket in [b for b, parts in buckets.items() if parts["n"] <= 0]:
            del buckets[bucket]
    return {key: buckets for key, buckets in out.items() if buckets}


def lost_groups(parsed: dict, dims) -> dict:
    out: dict = {}
    for key, row in parsed[("bucket", *dims)].items():
        bucket, *rest = key
        out.setdefault(tuple(rest), {})[int(bucket)] = row["n"]
    return out


def customer_window(bounds, opened: dict, lost: dict, start, end) -> dict:
    """The figures of [start, end): the archive at its end (every bucket ending by then),
    opened and lost in it (the buckets inside it)."""
    upper = {0: bounds[0], **{i: bounds[i] for i in range(1, len(bounds))}}
    inside = [i for i in range(1, len(bounds)) if bounds[i - 1] >= start and bounds[i] <= end]
    existing = [parts for b, parts in opened.items() if upper[b] <= end]
    return {
        "total": sum(p["n"] for p in existing),
        "new": sum(opened.get(b, {}).get("n", 0) for b in inside),
        "lost": sum(lost.get(b, 0) for b in inside),
        "key_accounts": sum(p["n_key"] for p in existing),
        "active": sum(p["active"] for p in existing),
        "potential": sum(p["potential"] for p in existing),
    }


def customer_dimension(ctx: Ctx, opened: dict, lost: dict, totals) -> dict:
    from kefu.reports.builders.customers import customer_metrics

    bounds, p = customer_bounds(ctx), ctx.period
    rows = {}
    for key in set(opened) | set(lost):
        figures = customer_window(bounds, opened.get(key, {}), lost.get(key, {}), p.start, p.end)
        if key in opened or figures["lost"]:
            rows[key] = figures
    return dimension_rows(rows, lambda r: r, customer_metrics(), totals)


def customers_expected(ctx: Ctx, found: dict) -> dict:
    from kefu.reports.builders.customers import customer_metrics

    bounds = customer_bounds(ctx)
    opened_parts = [found["opened"], *([found["own elsewhere"]] if "own elsewhere" in found else [])]
    every = bucket_groups(opened_parts, ()).get((), {})
    lost_every = lost_groups(found["lost"], ()).get((), {})

    def window(p) -> dict:
        return customer_window(bounds, every, lost_every, p.start, p.end)

    current = window(ctx.period)
    tables = {
        "总体指标与同比、环比": comparison_rows(ctx, customer_metrics(), current, [window(p) for p in ctx.comparisons])
    }
    titles = {"customer_class": "按客户分类", "region": "按片区", "source": "按信息来源", "lifecycle": "按生命周期"}
    for dim, title in titles.items():
        opened, lost = bucket_groups(opened_parts, (dim,)), lost_groups(found["lost"], (dim,))
        tables[title] = customer_dimension(ctx, opened, lost, current)
    opened = bucket_groups([found["opened by category"]], ("category",))
    tables["按产品类别"] = customer_dimension(ctx, opened, lost_groups(found["lost by category"], ("category",)), None)
    if ctx.multi_month:
        windows = month_windows(ctx.period).items()
        trend = {(k,): customer_window(bounds, every, lost_every, a, b) for k, (a, b) in windows}
        tables["按月新增与流失"] = dimension_rows(trend, lambda r: r, customer_metrics(), None)
    tables["需关注的大客户（截至今日）"] = at_risk_rows(found["at risk"])
    return tables


def at_risk_rows(rows: list[dict]) -> dict:
    from kefu.reports.selectors.customers import _NONE_LABELS

    return {
        i: {
            "customer": r["id"], "name": r["name"], "archive_no": r["archive_no"], "open_complaints": r["n"] or 0,
            "last_reached_visit": r["last_day"],
            "region_label": r["region_name"] or str(_NONE_LABELS["region"]),
            "owner_label": (r["display_name"] or r["username"]) if r["username"] else "",
        }
        for i, r in enumerate(rows)
    }  # fmt: skip


# --- 员工统计 (staff) -----------------------------------------------------------------------


DONE_VISIT = "v.status = 'done'"


def staff_selects(ctx: Ctx) -> tuple[tuple[str, list], tuple[str, list]]:
    start, end = (ts(b) for b in ctx.period.bounds())
    tscope, tparams = ticket_scope(ctx.user, ctx.vendor)
    vscope, vparams = visit_scope(ctx.user)
    tickets = (
        f"SELECT {group_key(ctx.vendor, 't.resolved_by_id')} AS uid, COUNT(*) AS handled, "  # noqa: S608
        "AVG(t.response_minutes) AS response, AVG(t.resolution_minutes) AS resolution, AVG(t.satisfaction) AS score "
        "FROM tickets_ticket t WHERE t.resolved_at >= %s AND t.resolved_at < %s AND t.resolved_by_id IS NOT NULL"
        f"{tscope} GROUP BY {group_key(ctx.vendor, 't.resolved_by_id')}"
    )
    visits = (
        f"SELECT {group_key(ctx.vendor, 'v.done_by_id')} AS uid, COUNT(*) AS done, "  # noqa: S608
        f"{counted(DONE_VISIT)} AS reached FROM visits_visit v "
        "WHERE v.done_at >= %s AND v.done_at < %s AND v.done_by_id IS NOT NULL AND v.status IN ('done', 'failed')"
        f"{vscope} GROUP BY {group_key(ctx.vendor, 'v.done_by_id')}"
    )
    return (tickets, [start, end, *tparams]), (visits, [start, end, *vparams])


def staff_two_plan(ctx: Ctx) -> list:
    (tickets, tparams), (visits, vparams) = staff_selects(ctx)
    return [Plain("tickets", tickets, tparams), Plain("visits", visits, vparams)]


def staff_one_plan(ctx: Ctx) -> list:
    (tickets, tparams), (visits, vparams) = staff_selects(ctx)
    sql = (
        f"WITH t AS ({tickets}), v AS ({visits}) SELECT COALESCE(t.uid, v.uid) AS uid, t.handled, t.response, "
        "t.resolution, t.score, v.done, v.reached FROM t FULL JOIN v ON v.uid = t.uid"
    )
    return [Plain("people", sql, [*tparams, *vparams])]


def staff_expected(ctx: Ctx, found: dict) -> dict:
    from kefu.reports.builders.staff import staff_metrics
    from kefu.reports.selectors.common import hours, one_decimal

    people: dict = {}
    rows = found.get("people") or [*found["tickets"], *found["visits"]]
    for r in rows:
        entry = people.setdefault(r["uid"], {"tickets_handled": 0, "visits_done": 0, "visits_reached": 0})
        if r.get("handled") is not None:
            entry.update(
                tickets_handled=r["handled"], avg_response_hours=hours(r["response"]),
                avg_resolution_hours=hours(r["resolution"]), satisfaction_avg=one_decimal(r["score"]),
            )  # fmt: skip
        if r.get("done") is not None:
            entry.update(visits_done=r["done"], visits_reached=r["reached"])
    for entry in people.values():
        for m in staff_metrics():
            entry.setdefault(m.key, None)
    table = dict(people)
    if table:
        table[TOTALS] = {
            k: sum(e[k] for e in people.values()) for k in ("tickets_handled", "visits_done", "visits_reached")
        }
    return {"员工工作量与质量": table}


# --- 重要投诉报表 (important) -----------------------------------------------------------------


def important_plan(ctx: Ctx) -> list:
    from kefu.reports.builders.important import ROW_LIMIT
    from kefu.tickets.choices import OPEN_STATUSES

    start, end = (ts(b) for b in ctx.period.bounds())
    tscope, tparams = ticket_scope(ctx.user, ctx.vendor)
    where = f"WHERE t.is_important AND t.created_at >= %s AND t.created_at < %s{tscope}"
    params = [start, end, *tparams]
    by_department = (
        "SELECT t.responsible_department_id AS department_id, COUNT(*) AS n, "  # noqa: S608
        f"{counted(f't.status IN ({quoted(OPEN_STATUSES)})')} AS n_open, COUNT(t.resolved_at) AS n_resolved "
        f"FROM tickets_ticket t {where} GROUP BY t.responsible_department_id"
    )
    listing = (
        f"SELECT t.id, t.number, {local_text(ctx.vendor, 't.created_at', 'minute')} AS created, "  # noqa: S608
        "CASE WHEN t.customer_id IS NOT NULL THEN cu.name ELSE t.caller_name END AS customer, t.title, "
        "COALESCE(NULLIF(cat.path, ''), cat.name) AS category, t.severity, t.important_reason, t.status, "
        "d.name AS department, rg.name AS region, u.display_name, u.username, t.resolution_minutes, t.satisfaction "
        "FROM tickets_ticket t LEFT JOIN customers_customer cu ON cu.id = t.customer_id "
        "LEFT JOIN tickets_ticketcategory cat ON cat.id = t.category_id "
        "LEFT JOIN core_department d ON d.id = t.responsible_department_id "
        "LEFT JOIN core_region rg ON rg.id = t.region_id LEFT JOIN core_user u ON u.id = t.assignee_id "
        f"{where} ORDER BY t.created_at, t.id LIMIT {ROW_LIMIT + 1}"
    )
    return [Plain("by department", by_department, params), Plain("list", listing, params)]


def important_expected(ctx: Ctx, found: dict) -> dict:
    from kefu.reports.builders.important import ROW_LIMIT
    from kefu.tickets.choices import Severity, TicketStatus

    # One row per department id (two departments may share a name), as the report.
    departments = {
        r["department_id"]: {"count": r["n"], "open": r["n_open"], "resolved": r["n_resolved"]}
        for r in found["by department"]
    }
    if departments:
        departments[TOTALS] = {k: sum(d[k] for d in departments.values()) for k in ("count", "open", "resolved")}
    severity, status = dict(Severity.choices), dict(TicketStatus.choices)
    listing = {
        r["id"]: {
            "number": r["number"], "created_at": r["created"], "customer": r["customer"], "title": r["title"],
            "category": r["category"] or "", "severity": str(severity.get(r["severity"], r["severity"])),
            "reason": r["important_reason"], "status": str(status.get(r["status"], r["status"])),
            "department": r["department"] or "未指定部门", "region": r["region"] or "",
            "assignee": (r["display_name"] or r["username"]) if r["username"] else "",
            "resolution_hours": round(r["resolution_minutes"] / 60, 1) if r["resolution_minutes"] is not None else None,
            "satisfaction": r["satisfaction"], "id": r["id"],
        }
        for r in found["list"][:ROW_LIMIT]
    }  # fmt: skip
    return {"按责任部门": departments, "重要投诉清单": listing}


# --- 完工客户月报 (completed) ----------------------------------------------------------------

PROJECT_FIELDS = ("contract_date", "start_date", "finish_date", "designer", "foreman", "site_address")


def _extra(vendor: str, key: str) -> str:
    return f"c.extra ->> '{key}'" if vendor == "postgresql" else f"json_extract(c.extra, '$.{key}')"


def completed_plan(ctx: Ctx) -> list:
    """Decoration: the customers whose finish date (竣工日期) is in the period, their latest
    reached completion visit and their open tickets, over what the viewer sees."""
    from kefu.tickets.choices import OPEN_STATUSES

    vscope, vparams = visit_scope(ctx.user)
    tscope, tparams = ticket_scope(ctx.user, ctx.vendor)
    cscope, cparams = customer_scope(ctx.user)
    first, last = ctx.period.start.isoformat(), ctx.period.last_day.isoformat()
    fields = "".join(f"{_extra(ctx.vendor, k)} AS {k}, " for k in PROJECT_FIELDS)
    visits = (
        "FROM visits_visit v JOIN visits_visitrule vr ON vr.id = v.rule_id WHERE v.customer_id = c.id "
        f"AND v.status = 'done' AND vr.trigger = 'project_stage' AND vr.date_field = 'finish_date'{vscope} "
        "ORDER BY v.done_at DESC, v.id DESC LIMIT 1"
    )
    tickets = f"FROM tickets_ticket t WHERE t.customer_id = c.id AND t.status IN ({quoted(OPEN_STATUSES)}){tscope}"
    head = f"SELECT c.id, c.name, c.archive_no, rg.name AS region_name, u.display_name, u.username, {fields}"  # noqa: S608
    joins = "FROM customers_customer c LEFT JOIN core_region rg ON rg.id = c.region_id LEFT JOIN core_user u ON u.id = c.owner_id"
    if ctx.vendor == "postgresql":
        where = f"WHERE c.merged_into_id IS NULL{cscope} AND c.extra -> 'finish_date' >= %s::jsonb AND c.extra -> 'finish_date' <= %s::jsonb"
        sql = (
            f"{head}lv.satisfaction, {local_text(ctx.vendor, 'lv.done_at', 'date')} AS visit_day, ot.n AS open_tickets "
            f"{joins} LEFT JOIN LATERAL (SELECT v.satisfaction, v.done_at {visits}) lv ON TRUE "
            f"LEFT JOIN LATERAL (SELECT COUNT(*) AS n {tickets}) ot ON TRUE {where}"
        )
        return [Plain("completed", sql, [*vparams, *tparams, *cparams, json.dumps(first), json.dumps(last)])]
    where = f"WHERE c.merged_into_id IS NULL{cscope} AND json_extract(c.extra, '$.finish_date') BETWEEN %s AND %s"
    sql = (
        f"{head}(SELECT v.satisfaction {visits}) AS satisfaction, "
        f"(SELECT {local_text(ctx.vendor, 'v.done_at', 'date')} {visits}) AS visit_day, "
        f"(SELECT COUNT(*) {tickets}) AS open_tickets {joins} {where}"
    )
    return [Plain("completed", sql, [*vparams, *vparams, *tparams, *cparams, first, last])]


def completed_expected(ctx: Ctx, found: dict) -> dict:
    from kefu.reports.builders.completed import _summary

    rows = []
    for r in found["completed"]:
        row = {
            "customer": r["id"], "name": r["name"], "archive_no": r["archive_no"], "region_label": r["region_name"] or "",
            "owner_label": (r["display_name"] or r["username"]) if r["username"] else "",
        }  # fmt: skip
        for key in PROJECT_FIELDS:
            row[key] = str(r[key]) if r[key] not in (None, "") else None
        row.update(
            completion_date=row["finish_date"], completion_satisfaction=r["satisfaction"],
            completion_visit_date=r["visit_day"], open_tickets=r["open_tickets"] or 0,
        )  # fmt: skip
        rows.append(row)
    summary = _summary(rows)
    by_region = {row["label"]: {k: v for k, v in row.items() if k != "label"} for row in summary.rows}
    if summary.totals:
        by_region[TOTALS] = {k: v for k, v in summary.totals.items() if k != "label"}
    return {"按片区汇总": by_region, "完工客户清单": {r["customer"]: r for r in rows}}


def completed_applies() -> str:
    from kefu.customers.models import CustomField

    if CustomField.objects.filter(key="finish_date", is_active=True).exists():
        return ""
    return "the profile has no finish_date field: only the decoration branch is written by hand"


# --- the reports' rows, compared ----------------------------------------------------------

# How a table's rows are told apart (default: the dimension's key, else the position).
ROW_KEYS = {
    "回访频次达标（按客户分类）": lambda r, i: (r["customer_class"], r["month"]),
    "按责任部门": lambda r, i: r["key"],
    "重要投诉清单": lambda r, i: r["id"],
    "按片区汇总": lambda r, i: r["label"],
    "完工客户清单": lambda r, i: r["customer"],
    "需关注的大客户（截至今日）": lambda r, i: i,
}


def report_rows(report) -> dict:
    out = {}
    for table in report.tables:
        key = ROW_KEYS.get(table.title, lambda r, i: r.get("key", i))
        rows = {key(r, i): r for i, r in enumerate(table.rows)}
        if table.totals:
            rows[TOTALS] = table.totals
        out[table.title] = rows
    return out


def same(a, b) -> bool:
    numbers = (int, float, Decimal)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) < 1e-6
    return a == b


def compare(report, expected: dict) -> tuple[int, int, list[str]]:
    """(rows compared, rows that differ, examples) over every table of the report."""
    actual = report_rows(report)
    groups = differ = 0
    examples: list[str] = []
    for title in sorted(set(actual) | set(expected)):
        mine, theirs = actual.get(title), expected.get(title)
        if mine is None or theirs is None:
            differ += 1
            examples.append(f"table {title}: only in {'the hand SQL' if mine is None else 'the report'}")
            continue
        for key in set(mine) | set(theirs):
            groups += 1
            a, b = mine.get(key), theirs.get(key)
            if a is None or b is None:
                differ += 1
                examples.append(f"{title} {key!r}: only in {'the hand SQL' if a is None else 'the report'}")
                continue
            bad = [c for c in b if not same(a.get(c), b[c])]
            if bad:
                differ += 1
                examples.append(f"{title} {key!r}: " + ", ".join(f"{c} {a.get(c)!r} ≠ {b[c]!r}" for c in bad[:3]))
    return groups, differ, examples


# --- running ------------------------------------------------------------------------------

PLANS = {
    "visits": (("counters + scan", visits_counter_plan), ("scan", visits_scan_plan)),
    "customers": (("counters + scan", customers_counter_plan), ("scan", customers_scan_plan)),
    "staff": (("two statements", staff_two_plan), ("one statement (FULL JOIN)", staff_one_plan)),
    "important": (("aggregate + list", important_plan),),
    "completed": (("one statement", completed_plan),),
}
EXPECTED = {
    "visits": visits_expected,
    "customers": customers_expected,
    "staff": staff_expected,
    "important": important_expected,
    "completed": completed_expected,
}


@dataclass
class Variant:
    name: str
    ms: float
    statements: int
    groups: int
    differ: int
    examples: list
    sql: list


def run_variants(key: str, ctx: Ctx, report, repeat: int) -> list[Variant]:
    out = []
    if key == "visits":
        line = pick_cadence(ctx, repeat)
        if line:
            print(f"    {line}")
    for label, build in PLANS[key]:
        parts = build(ctx)
        if parts is None:
            continue
        styles = STYLES[ctx.vendor] if any(isinstance(p, Grouped) for p in parts) else STYLES[ctx.vendor][:1]
        for style in styles:
            ms, count, found = time_plan(parts, style, repeat)
            groups, differ, examples = compare(report, EXPECTED[key](ctx, found))
            name = f"{label}, {STYLE_NAMES[style]}" if len(styles) > 1 else label
            out.append(Variant(name, ms, count, groups, differ, examples, statements_of(parts, style)))
    return out


def run_one(args, key: str, period, who: str, user, rows: list) -> None:
    from django.db import connection
    from django.utils import timezone

    from kefu.reports.catalog import build_report

    figures = reports_bench.measure(
        lambda: build_report(key, user=reports_bench.fresh(user), period=period), args.repeat
    )
    user = reports_bench.fresh(user)
    report = build_report(key, user=user, period=period)
    ctx = Ctx(user=user, period=period, vendor=connection.vendor, today=timezone.localdate())
    print(
        f"\n  {key} {period.label} [{who}]: report p50 {figures['p50']:.1f} ms, "
        f"{figures['queries']} statements {figures['sql_ms']:.1f} ms",
        flush=True,
    )
    variants = run_variants(key, ctx, report, args.repeat)
    best = min(variants, key=lambda v: v.ms)
    for v in variants:
        mark = "  ← best" if v is best and len(variants) > 1 else ""
        print(f"    hand SQL, {v.name}: p50 {v.ms:.1f} ms ({v.statements} statements); "
              f"{v.groups} rows compared, {v.differ} differ{mark}")  # fmt: skip
        for example in v.examples[:4]:
            print(f"      ≠ {example}")
    if args.show_sql:
        for sql, params in best.sql:
            print(f"      SQL: {' '.join(sql.split())}\n      params {params}")
    rows.append((key, period.label, who, figures, best, max(v.differ for v in variants)))


def pad(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns (a Chinese character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def summary(vendor: str, rows: list) -> None:
    print(f"\n== {vendor}: report statements ÷ best hand-written SQL for the same figures (target ≤ {TARGET})")
    print(f"  {pad('report', 10)} {pad('period', 14)} {pad('viewer', 28)} {'report ms':>9}  {'statements / ms':>17}  "
          f"{'hand ms':>8}  {'ratio':>6}  ≤{TARGET}    differ")  # fmt: skip
    for key, label, who, figures, best, differ in rows:
        ratio = figures["sql_ms"] / best.ms if best.ms else float("inf")
        print(
            f"  {pad(key, 10)} {pad(label, 14)} {pad(who, 28)} {figures['p50']:9.1f}  "
            f"{figures['queries']:5} / {figures['sql_ms']:9.1f}  "
            f"{best.ms:8.1f}  {ratio:6.2f}  {'ok' if ratio <= TARGET else 'MISSED':<6}  {differ}"
        )
    print("  (hand ms: the fastest variant; differ: rows differing from the report, worst variant — must be 0)")


def main(argv=None) -> None:
    args = parse_args(argv)
    sqlite_file = Path(args.data_dir or "/nonexistent") / "kefu.sqlite3"
    if not args.database_url and not sqlite_file.exists():
        sys.exit(f"no database at {sqlite_file}: load one with reports_bench.py --keep first")
    setup_django(args)
    from django.db import connection

    reports_bench.install_fetch_timer()
    today = reports_bench.today_of(args)
    people = reports_bench.viewers()["reports"]
    keys = [k.strip() for k in args.reports.split(",") if k.strip()]
    unknown = [k for k in keys if k not in PLANS]
    if unknown:
        sys.exit(f"no hand SQL for {', '.join(unknown)} (have: {', '.join(PLANS)})")
    if "completed" in keys and completed_applies():
        print(f"  completed: {completed_applies()} — skipped")
        keys.remove("completed")
    print(f"data dir {args.data_dir}; database {connection.vendor}; periods of {today}", flush=True)
    started = time.perf_counter()
    rows: list = []
    for period in [reports_bench.period_of(p.strip(), today) for p in args.periods.split(",") if p.strip()]:
        for key in keys:
            for who, user in people.items():
                run_one(args, key, period, who, user, rows)
    summary(connection.vendor, rows)
    print(f"\ntotal time {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
