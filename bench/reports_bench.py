#!/usr/bin/env python
"""Reports and dashboards benchmark: every named report and every role dashboard at scale
(issue 6).

    python bench/reports_bench.py
    python bench/reports_bench.py --database-url postgres://postgres@127.0.0.1:5432/kefu_rbench

Creates a fresh database (SQLite in a temporary data dir unless --data-dir/--database-url
say otherwise; a PostgreSQL database whose name contains "bench" is dropped and
recreated), loads the profile (default decoration: it has the 完工客户月报's project
dates) with its demo logins, and fills it with the other benchmarks' loaders:

1. customers: the customers bench's `Inserter`, in a child process (visits_bench's
   `spawn("load")`: the generator's memory stays there);
2. tickets: the tickets bench's `TicketInserter`, with the columns the reports read that
   it leaves at their defaults filled in per row (`ReportTicketInserter` below: working
   minutes to first response and to resolution, the responsible department, channel,
   reopen count, important complaints);
3. visits: the visits bench's `VisitInserter` over --agents agents.

Then the report counters' delta rows folded (the periodic job's work), ANALYZE
(PostgreSQL: VACUUM ANALYZE, which autovacuum does after a bulk load) and, as
the manager (scope: everything) and as a region-scoped user: every named report of
`catalog.REPORTS` built with `build_report` for the year and for the month, and every
role dashboard (`build_dashboard`) — time to compute (p50 of --repeat runs after a warm-up),
the number of statements and their time (fetching included). For the complaint and repair
statistics of the year, the best hand-written SQL for the same figures on this database,
its time, the ratio, and a check that every variant gives the same numbers. The variants:
aggregating the tickets table (PostgreSQL: one GROUPING SETS scan; SQLite: one statement
or one per grouping), and "counters + minutes" — the schema's best, what the code does
since the ticket counters: every sum from `reports_ticketrollup` (a region-scoped
viewer: the counter rows of their regions plus the tickets they see outside them —
assigned to them, or routed to their departments by a live slip — aggregated from the
tickets with the same additive measures; a key whose sums net to zero is no group) and
the p90s from the tickets' resolution minutes alone (PostgreSQL: one GROUPING SETS
statement with percentile_disc; SQLite: nearest-rank ROW_NUMBER() / COUNT() windows, one
statement over a materialised CTE or one per grouping), the comparison periods' totals
the same way. Every figure is computed in SQL: Python only divides the sums into averages
(and pairs each group with its p90). The plans of the slowest statements. With --proposed, the same again with the changes proposed in bench/README.md
applied to this benchmark's database only (NOT the code), and then removed.
Not a test: it prints figures."""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from customers_bench import analyze, recreate_postgres, setup_django  # noqa: E402

REGION_USER_PREFIX = "rbench_"
# Roles whose dashboard is measured, most senior first (kefu.reports.dashboards.SPECS).
ROLES = ("agent", "supervisor", "manager", "director")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets (default 1000000)")
    parser.add_argument("--visits", type=int, default=5_000_000, help="visits (default 5000000)")
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers (default 1000000)")
    parser.add_argument("--agents", type=int, default=200, help="agents the visits are spread over (default 200)")
    parser.add_argument("--database-url", default="", help="e.g. postgres://postgres@127.0.0.1:5432/kefu_rbench")
    parser.add_argument("--data-dir", default="", help="KEFU_DATA_DIR (default: a new temporary directory)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure, after one warm-up (default 3)")
    parser.add_argument("--profile", default="decoration")
    parser.add_argument("--slip-share", type=float, default=0.8, help="share of routed-kind tickets with slips")
    parser.add_argument("--today", default="", help="measure as of this ISO date (default: today)")
    parser.add_argument("--reports", default="", help="comma-separated report keys (default: every one)")
    parser.add_argument(
        "--periods", default="year,month", help="periods of the named reports: year, month or keys (default year,month)"
    )
    parser.add_argument("--plans", type=int, default=6, help="print the plans of the N slowest statements (default 6)")
    parser.add_argument("--skip-load", action="store_true", help="measure the rows already there (with --keep)")
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--skip-dashboards", action="store_true")
    parser.add_argument("--skip-hand", action="store_true", help="no hand-written SQL")
    parser.add_argument(
        "--proposed", action="store_true", help="measure again with the proposal of bench/README.md (NOT the code)"
    )
    parser.add_argument(
        "--only-proposed",
        action="store_true",
        help="with --proposed: measure the code only on what the proposals concern, then the proposals",
    )
    parser.add_argument("--no-analyze", action="store_true", help="measure without running ANALYZE first")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the rows already in the database (PostgreSQL: do not recreate it)"
    )
    return parser.parse_args(argv)


def today_of(args) -> datetime.date:
    from django.utils import timezone

    return datetime.date.fromisoformat(args.today) if args.today else timezone.localdate()


# --- loading: the other benchmarks' loaders -------------------------------------------


def make_ticket_inserter(args, ctx):
    """The tickets bench's TicketInserter, and per row the report columns it leaves at
    their defaults. A subclass, defined here so that importing this module does not
    import Django before setup."""
    from tickets_bench import TicketInserter

    class ReportTicketInserter(TicketInserter):
        """Fills what the reports group and aggregate on: `response_minutes` and
        `resolution_minutes` (working minutes, as the services store them: the loader's
        deadlines assume 450 working minutes per 1.4 calendar days, so the same ratio
        turns its calendar durations back into working minutes), the responsible
        department (the first slip's department, or the category's department as
        `ticket_route` sets it), a channel mix, reopened tickets (4 % of the resolved)
        and important complaints (major/urgent ones and 1 % of the rest)."""

        CHANNELS = (("phone", 58), ("onsite", 12), ("messaging", 15), ("web", 8), ("email", 4), ("agency", 3))

        def __init__(self, args, ctx):
            super().__init__(args, ctx)
            self.extra = random.Random(6)
            self.targets = {cat: targets for pairs in self.categories.values() for cat, targets in pairs}
            self.names = self.columns["tickets_ticket"][0]
            self.slip_department = self.columns["tickets_ticketrouting"][0].index("department_id")
            self.codes = {kind.pk: code for code, kind in self.kinds.items()}
            self.routed = {kind.pk for kind in self.kinds.values() if kind.requires_routing}

        def _seconds(self, value) -> float:
            if isinstance(value, str):  # SQLite: naive UTC text
                value = datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
            return value.timestamp()

        def _ticket(self, pk, event_id, routing_id):
            ticket, events, routings = super()._ticket(pk, event_id, routing_id)
            rng, t = self.extra, dict(zip(self.names, ticket, strict=True))
            t["channel"] = rng.choices(*zip(*self.CHANNELS, strict=True))[0]
            created = self._seconds(t["created_at"])
            if t["first_response_at"] is not None:
                t["response_minutes"] = rng.randint(2, 120)
            if t["resolved_at"] is not None:
                days = (self._seconds(t["resolved_at"]) - created) / 86400
                t["resolution_minutes"] = max(1, round(days / 1.4 * 450))
                if rng.random() < 0.04:
                    t["reopen_count"] = rng.choice((1, 1, 1, 2))
            if routings:
                t["responsible_department_id"] = routings[0][self.slip_department]
            elif t["kind_id"] in self.routed and t["status"] != "registered":
                t["responsible_department_id"] = self.targets[t["category_id"]][0]
            if self.codes[t["kind_id"]] == "complaint" and (
                t["severity"] in ("major", "urgent") or rng.random() < 0.01
            ):
                t["is_important"] = True
                t["important_reason"] = rng.choice(("涉及安全隐患", "媒体关注", "多次投诉", "涉及赔偿"))
            return tuple(t[n] for n in self.names), events, routings

    return ReportTicketInserter(args, ctx)


def load(args) -> None:
    """Customers (child process), tickets and visits up to the sizes asked."""
    import visits_bench
    from customers_bench import prepare
    from django.db import connection

    from kefu.core.models import User
    from kefu.customers.models import Customer
    from kefu.tickets.models import Ticket

    started = time.perf_counter()
    prepare(args)
    print(f"\n-- growing the archive to {args.customers:,} customers (child process)", flush=True)
    print("  " + str(visits_bench.spawn("load", args, target=args.customers)), flush=True)
    print(f"  customers: {time.perf_counter() - started:,.0f} s", flush=True)

    have = Ticket.objects.count()
    if have < args.tickets:
        print(f"\n-- inserting up to {args.tickets:,} tickets", flush=True)
        # The tickets' customers: every 10th archive (the tickets bench takes the demo's
        # 200), with their regions — a ticket's region is its customer's.
        customers = [
            row
            for n, row in enumerate(
                Customer.objects.filter(merged_into__isnull=True).order_by("pk").values_list("pk", "region_id")
            )
            if n % 10 == 0
        ]
        ctx = {"users": {u.username: u for u in User.objects.all()}, "customers": customers, "count": have}
        rate = make_ticket_inserter(args, ctx).grow_to(args.tickets)
        print(f"  {rate:,.0f} tickets/s (each with 3 events and its slips)", flush=True)

    from kefu.visits.models import Visit

    if Visit.objects.count() < args.visits:
        print(f"\n-- inserting up to {args.visits:,} visits over {args.agents} agents", flush=True)
        # The demo agents work visits too, so their dashboards show some.
        demo = list(User.objects.filter(username__in=("agent", "agent2")).order_by("username"))
        agents = [*visits_bench.ensure_agents(max(1, args.agents - len(demo))), *demo]
        rate = visits_bench.VisitInserter(agents, today_of(args)).grow_to(args.visits)
        print(f"  {rate:,.0f} visits/s", flush=True)
    fold_counters()
    if not args.no_analyze:
        tidy()
    print(f"  loaded in {time.perf_counter() - started:,.0f} s ({connection.vendor})", flush=True)


def fold_counters() -> None:
    """Fold the report counters' delta rows, as the periodic job (every 10 minutes) does
    after a bulk load: the loaders' raw inserts went through the triggers."""
    from kefu.reports.rollup.maintain import fold

    started = time.perf_counter()
    rows = fold()
    print(f"  counters folded in {time.perf_counter() - started:,.1f} s: {rows}", flush=True)


def tidy() -> None:
    """Planner statistics as a running installation has them; on PostgreSQL also the
    visibility map that autovacuum sets after a bulk insert (index-only scans need it)."""
    from django.db import connection

    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        analyze()
    print(f"  {'VACUUM ANALYZE' if connection.vendor == 'postgresql' else 'ANALYZE'}: "
          f"{time.perf_counter() - started:,.0f} s", flush=True)  # fmt: skip


# --- the viewers ------------------------------------------------------------------------


def viewers() -> dict:
    """Per role, a viewer who sees everything and one scoped to the first region (the
    demo supervisor's): the demo logins where they are such a viewer, copies with the
    other scope where not (agents: the two demo agents). Reports: the manager and the demo account manager (客户经理,
    scoped to their region — the issue's example)."""
    from kefu.core.models import User

    demo = {u.username: u for u in User.objects.filter(username__in=[*ROLES, "agent2", "account"])}
    region = demo["supervisor"].region
    department = demo["manager"].department
    out: dict = {"reports": {"manager (all)": demo["manager"], f"account manager ({region.name})": demo["account"]}}
    # An agent's dashboard is their own work: the two demo agents (each region's tickets
    # are assigned to its agent by the tickets loader).
    out["agent"] = {demo["agent"].region.name: demo["agent"], demo["agent2"].region.name: demo["agent2"]}
    for role in ROLES[1:]:
        login = demo[role]
        pair = {}
        for scope_all in (True, False):
            if login.scope_all == scope_all and (scope_all or login.region_id == region.pk):
                user = login
            else:
                name = f"{REGION_USER_PREFIX}{role}_{'all' if scope_all else 'region'}"
                user, _created = User.objects.update_or_create(
                    username=name,
                    defaults={
                        "display_name": f"压测{role}",
                        "scope_all": scope_all,
                        "region": None if scope_all else region,
                        "department": login.department or department,
                    },
                )
                user.groups.set(login.groups.all())
            pair["all" if scope_all else region.name] = user
        out[role] = pair
    return out


def fresh(user):
    """The user as a new request sees it: permissions, regions, departments and roles
    not yet cached on the object."""
    import visits_bench

    user.__dict__.pop("_kefu_role_codes", None)
    return visits_bench.fresh(user)


# --- measuring --------------------------------------------------------------------------


class Recorder:
    """Every statement one computation sends: its time including fetching the rows (on
    SQLite `execute` only steps to the first row; the rest is computed while fetching),
    its SQL and parameters."""

    def __init__(self):
        self.statements: list[list] = []  # [seconds, sql, params]
        self._last: dict[int, list] = {}

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            record = [time.perf_counter() - started, sql, params]
            self.statements.append(record)
            self._last[id(context["cursor"])] = record

    def fetched(self, cursor, seconds: float) -> None:
        record = self._last.get(id(cursor))
        if record is not None:
            record[0] += seconds


_recorder: Recorder | None = None


def install_fetch_timer() -> None:
    """Add the time of fetch* calls to the statement of their cursor (see Recorder)."""
    from django.db.backends.utils import CursorWrapper

    original = CursorWrapper.__getattr__

    def getattr_(self, attr):
        value = original(self, attr)
        if attr in ("fetchone", "fetchmany", "fetchall") and _recorder is not None:
            recorder = _recorder

            def timed(*a, **k):
                started = time.perf_counter()
                try:
                    return value(*a, **k)
                finally:
                    recorder.fetched(self, time.perf_counter() - started)

            return timed
        return value

    CursorWrapper.__getattr__ = getattr_


SLOW_SECONDS = 5.0


def measure(fn, repeat: int) -> dict:
    """p50 wall time of `fn()` over `repeat` runs after a warm-up, and the statements of
    the last run (count, time in them, the records)."""
    global _recorder
    from django.db import connection

    started = time.perf_counter()
    fn()
    if time.perf_counter() - started > SLOW_SECONDS:
        repeat = 1  # a figure this slow is far off target either way: one timed run is enough
    samples, recorder = [], None
    for _ in range(max(1, repeat)):
        recorder = Recorder()
        _recorder = recorder
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(recorder):
                fn()
        finally:
            _recorder = None
        samples.append((time.perf_counter() - started) * 1000)
    in_sql = sum(s[0] for s in recorder.statements) * 1000
    return {"p50": statistics.median(samples), "max": max(samples), "runs": len(samples),
            "queries": len(recorder.statements),
            "sql_ms": in_sql, "statements": recorder.statements}  # fmt: skip


def period_of(key: str, today: datetime.date):
    from kefu.reports.periods import parse_period, period_for

    if key in ("year", "month", "quarter", "week"):
        return period_for(key, today)
    return parse_period(key, today=today)


def flag(ms: float, target: float = 1000) -> str:
    return "ok" if ms <= target else "MISSED"


def run_reports(args, people: dict, today: datetime.date, results: dict, slow: list) -> None:
    from kefu.reports.catalog import REPORTS, build_report

    keys = [k for k in (args.reports.split(",") if args.reports else REPORTS) if k]
    periods = [period_of(p.strip(), today) for p in args.periods.split(",") if p.strip()]
    print("\n== named reports (build_report): p50 of the wall time, statements and their time in the last run")
    for period in periods:
        for key in keys:
            for who, user in people["reports"].items():
                figures = measure(lambda k=key, u=user, p=period: build_report(k, user=fresh(u), period=p), args.repeat)
                name = f"report {key} {period.label} [{who}]"
                results[name] = figures
                slow += [(s[0], name, s[1], s[2]) for s in figures["statements"]]
                print(
                    f"  {key:<11} {period.label:<10} {who:<24} p50 {figures['p50']:8.0f} ms"
                    f"  ({figures['runs']}× max {figures['max']:6.0f})"
                    f"   {figures['queries']:4} statements {figures['sql_ms']:8.0f} ms   ≤ 1 s: {flag(figures['p50'])}",
                    flush=True,
                )


def run_dashboards(args, people: dict, today: datetime.date, results: dict, slow: list) -> None:
    run_dashboards_of(args, people, today, results, slow, roles=ROLES)


def run_dashboards_of(args, people: dict, today: datetime.date, results: dict, slow: list, *, roles) -> None:
    from kefu.reports.dashboards import SPECS_BY_CODE, build_dashboard

    print("\n== role dashboards (build_dashboard, the current month): p50, statements and their time")
    for role in roles:
        spec = SPECS_BY_CODE[role]
        for who, user in people[role].items():
            figures = measure(lambda s=spec, u=user: build_dashboard(s, user=fresh(u), today=today), args.repeat)
            name = f"dashboard {role} [{who}: {user.username}]"
            results[name] = figures
            slow += [(s[0], name, s[1], s[2]) for s in figures["statements"]]
            print(
                f"  {role:<11} {who + ': ' + user.username:<34} p50 {figures['p50']:8.0f} ms"
                f"  ({figures['runs']}× max {figures['max']:6.0f})"
                f"   {figures['queries']:4} statements {figures['sql_ms']:8.0f} ms   ≤ 1 s: {flag(figures['p50'])}",
                flush=True,
            )


# --- the hand-written SQL ---------------------------------------------------------------

# The figures of the complaint statistics, per group (the same as the selectors'
# TICKET_FIGURES before rounding). Our own SQL snippets; every value is a parameter.
MEASURES = (
    ("n_count", "COUNT(*)"),
    ("n_resolved", "COUNT(resolved_at)"),
    ("n_open", "SUM(CASE WHEN status IN ({open}) THEN 1 ELSE 0 END)"),
    ("avg_resolution", "AVG(resolution_minutes)"),
    ("avg_response", "AVG(response_minutes)"),
    ("n_sla_breached", "SUM(CASE WHEN resolved_at IS NOT NULL AND sla_state = 'breached' THEN 1 ELSE 0 END)"),
    ("n_reopened", "SUM(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END)"),
    ("avg_satisfaction", "AVG(satisfaction)"),
    ("n_satisfaction", "COUNT(satisfaction)"),
    ("n_escalated", "SUM(CASE WHEN escalation_level > 0 THEN 1 ELSE 0 END)"),
)
# The groupings of the report's tables: totals, the five dimensions, category ×
# department and the months (the trend of a multi-month period).
GROUPINGS = (
    (),
    ("category",),
    ("department",),
    ("region",),
    ("channel",),
    ("severity",),
    ("category", "department"),
    ("month",),
)
COLUMN = {
    "category": "category_id",
    "department": "responsible_department_id",
    "region": "region_id",
    "channel": "channel",
    "severity": "severity",
    "month": "month",
}
ROW_COLUMNS = (
    "category_id, responsible_department_id, region_id, channel, severity, status, resolved_at, resolution_minutes, "
    "response_minutes, sla_state, reopen_count, satisfaction, escalation_level"
)


def _open_list() -> str:
    from kefu.tickets.choices import OPEN_STATUSES

    return ", ".join(f"'{s}'" for s in OPEN_STATUSES)  # constants of our code


def _scope_sql(user, vendor: str) -> tuple[str, list]:
    """The ticket scope (Ticket.scope_fields) written by hand: nothing for a viewer who
    sees everything; else their regions (with the region permission), their own
    tickets, and tickets routed to their departments (a live slip)."""
    from kefu.core import access

    if access.sees_everything(user):
        return "", []
    parts, params = ["t.assignee_id = %s"], [user.pk]
    regions = sorted(access.user_region_ids(user)) if user.has_perm("tickets.view_region_tickets") else []
    if regions:
        parts.append(f"t.region_id IN ({', '.join(['%s'] * len(regions))})")
        params += regions
    departments = sorted(access.user_department_ids(user))
    if departments:
        marks = ", ".join(["%s"] * len(departments))
        parts.append(
            "EXISTS (SELECT 1 FROM tickets_ticketrouting r WHERE r.ticket_id = t.id "
            f"AND r.department_id IN ({marks}) AND r.status <> 'cancelled')"
        )
        params += departments
    return " AND (" + " OR ".join(parts) + ")", params


def _bounds(period, vendor: str):
    from django.db import connection

    start, end = period.bounds()
    if vendor == "sqlite":
        return connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datetimefield_value(end)
    return start, end


def _month_sql(vendor: str) -> str:
    """The local month of created_at. PostgreSQL converts in the site's time zone;
    SQLite stores UTC text and has no zone rules: the zone's fixed offset (Asia/Shanghai
    has no daylight saving)."""
    from django.utils import timezone

    if vendor == "postgresql":
        return f"to_char(t.created_at AT TIME ZONE '{timezone.get_current_timezone_name()}', 'YYYY-MM')"
    offset = int(timezone.localtime().utcoffset().total_seconds() // 60)
    return f"strftime('%%Y-%%m', t.created_at, '{offset:+d} minutes')"


def hand_postgresql(user, period, kind_id: int, previous: list) -> list[tuple[str, list]]:
    """PostgreSQL: ONE scan of the period's tickets of the kind, every grouping of the
    report at once (GROUP BY GROUPING SETS, the p90 by percentile_disc per set), plus one
    totals statement per comparison period."""
    scope, scope_params = _scope_sql(user, "postgresql")
    measures = ", ".join(f"{sql.format(open=_open_list())} AS {name}" for name, sql in MEASURES)
    p90 = "percentile_disc(0.9) WITHIN GROUP (ORDER BY resolution_minutes) AS p90_resolution"
    keys = ", ".join(COLUMN[d] for d in ("category", "department", "region", "channel", "severity", "month"))
    sets = ", ".join("(" + ", ".join(COLUMN[d] for d in g) + ")" for g in GROUPINGS)
    start, end = _bounds(period, "postgresql")
    main = (
        f"SELECT {keys}, GROUPING({keys}) AS g, {measures}, {p90} FROM ("  # noqa: S608 (our own SQL)
        f"SELECT {ROW_COLUMNS}, {_month_sql('postgresql')} AS month FROM tickets_ticket t "
        f"WHERE t.kind_id = %s AND t.created_at >= %s AND t.created_at < %s{scope}) period_rows "
        f"GROUP BY GROUPING SETS ({sets})"
    )
    statements = [(main, [kind_id, start, end, *scope_params])]
    for other in previous:
        start, end = _bounds(other, "postgresql")
        statements.append(
            (
                f"SELECT {measures}, {p90} FROM tickets_ticket t "  # noqa: S608
                f"WHERE t.kind_id = %s AND t.created_at >= %s AND t.created_at < %s{scope}",
                [kind_id, start, end, *scope_params],
            )
        )
    return statements


def hand_sqlite_one(user, period, kind_id: int, previous: list) -> list[tuple[str, list]]:
    """SQLite, one statement: the period's rows read once into a materialised CTE, each
    grouping aggregated from it (UNION ALL), the nearest-rank p90 picked by ROW_NUMBER()
    / COUNT() windows over (grouping, key) — SQLite has neither grouping sets nor
    percentile_disc. Plus one totals statement (the same shape) per comparison period."""
    scope, scope_params = _scope_sql(user, "sqlite")

    def statement(groupings, bounds) -> tuple[str, list]:
        start, end = bounds
        measures = ", ".join(f"{sql.format(open=_open_list())} AS {name}" for name, sql in MEASURES)
        unions = " UNION ALL ".join(
            f"SELECT {i} AS g, {COLUMN[grp[0]] if grp else 'NULL'} AS k1, "
            f"{COLUMN[grp[1]] if len(grp) > 1 else 'NULL'} AS k2, * FROM base"
            for i, grp in enumerate(groupings)
        )
        sql = (
            f"WITH base AS MATERIALIZED (SELECT {ROW_COLUMNS}, {_month_sql('sqlite')} AS month "  # noqa: S608
            f"FROM tickets_ticket t WHERE t.kind_id = %s AND t.created_at >= %s AND t.created_at < %s{scope}), "
            f"u AS MATERIALIZED ({unions}), "
            "ranked AS (SELECT g, k1, k2, resolution_minutes, ROW_NUMBER() OVER (PARTITION BY g, k1, k2 "
            "ORDER BY resolution_minutes) AS rn, COUNT(*) OVER (PARTITION BY g, k1, k2) AS n "
            "FROM u WHERE resolution_minutes IS NOT NULL), "
            "p90 AS (SELECT g, k1, k2, resolution_minutes AS p90_resolution FROM ranked WHERE rn = (n * 9 + 9) / 10), "
            f"agg AS (SELECT g, k1, k2, {measures} FROM u GROUP BY g, k1, k2) "
            "SELECT agg.*, p90.p90_resolution FROM agg LEFT JOIN p90 "
            "ON p90.g = agg.g AND p90.k1 IS agg.k1 AND p90.k2 IS agg.k2"
        )
        return sql, [kind_id, start, end, *scope_params]

    out = [statement(GROUPINGS, _bounds(period, "sqlite"))]
    out += [statement(((),), _bounds(other, "sqlite")) for other in previous]
    return out


def hand_sqlite_each(user, period, kind_id: int, previous: list) -> list[tuple[str, list]]:
    """SQLite, one aggregate and one p90 statement per grouping, each straight on the
    table through the (kind, created_at) index."""
    scope, scope_params = _scope_sql(user, "sqlite")
    measures = ", ".join(f"{sql.format(open=_open_list())} AS {name}" for name, sql in MEASURES)
    out = []
    for groupings, bounds in [(GROUPINGS, _bounds(period, "sqlite"))] + [
        (((),), _bounds(p, "sqlite")) for p in previous
    ]:
        start, end = bounds
        where = f"WHERE t.kind_id = %s AND t.created_at >= %s AND t.created_at < %s{scope}"
        params = [kind_id, start, end, *scope_params]
        for grp in groupings:
            # `+ 0` keeps SQLite on the (kind, created_at) range instead of a (column, …) index.
            keys = [f"{COLUMN[d]} + 0" if d in ("category", "department", "region") else COLUMN[d] for d in grp]
            keys = [_month_sql("sqlite") if k == "month" else k for k in keys]
            select = "".join(f"{k} AS k{i}, " for i, k in enumerate(keys))
            group = f" GROUP BY {', '.join(keys)}" if keys else ""
            out.append((f"SELECT {select}{measures} FROM tickets_ticket t {where}{group}", params))  # noqa: S608
            partition = f"PARTITION BY {', '.join(keys)} " if keys else ""
            out.append(
                (
                    f"SELECT * FROM (SELECT {select}resolution_minutes, ROW_NUMBER() OVER ({partition}"  # noqa: S608
                    f"ORDER BY resolution_minutes) AS rn, COUNT(*) OVER ({partition.strip()}) AS n FROM tickets_ticket "
                    f"t {where} AND resolution_minutes IS NOT NULL) WHERE rn = (n * 9 + 9) / 10",
                    params,
                )
            )
    return out


def run_sql(statements) -> tuple[float, list[list]]:
    from django.db import connection

    started = time.perf_counter()
    results = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            columns = [c[0] for c in cursor.description]
            results.append([dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])
    return (time.perf_counter() - started) * 1000, results


def hand_figures_pg(results, groupings) -> dict:
    """{grouping: {key tuple: raw figures}} from the GROUPING SETS rows."""
    every = ["category", "department", "region", "channel", "severity", "month"]
    out: dict = {g: {} for g in groupings}
    for row in results[0]:
        for grp in groupings:
            mask = sum(1 << (len(every) - 1 - i) for i, d in enumerate(every) if d not in grp)
            if row["g"] == mask:
                out[grp][tuple(row[COLUMN[d]] for d in grp)] = row
    return out


def hand_figures_sqlite_one(results, groupings) -> dict:
    out: dict = {g: {} for g in groupings}
    for row in results[0]:
        grp = groupings[row["g"]]
        out[grp][tuple((row["k1"], row["k2"])[: len(grp)])] = row
    return out


def hand_figures_sqlite_each(results, groupings) -> dict:
    out: dict = {}
    for i, grp in enumerate(groupings):
        aggregated, p90 = results[2 * i], results[2 * i + 1]
        picked = {tuple(r[f"k{j}"] for j in range(len(grp))): r["resolution_minutes"] for r in p90}
        out[grp] = {}
        for row in aggregated:
            key = tuple(row[f"k{j}"] for j in range(len(grp)))
            out[grp][key] = {**row, "p90_resolution": picked.get(key)}
    return out


# The counters (reports_ticketrollup, one row per key and month — or several delta rows:
# always SUM per key) and what one ticket adds to each of their measures: our own SQL
# snippets, the same figures as MEASURES as sums and counts.
COUNTED = (
    ("n_count", "1"),
    ("n_resolved", "CASE WHEN t.resolved_at IS NOT NULL THEN 1 ELSE 0 END"),
    ("n_open", "CASE WHEN t.status IN ({open}) THEN 1 ELSE 0 END"),
    ("sum_resolution", "COALESCE(t.resolution_minutes, 0)"),
    ("n_resolution", "CASE WHEN t.resolution_minutes IS NOT NULL THEN 1 ELSE 0 END"),
    ("sum_response", "COALESCE(t.response_minutes, 0)"),
    ("n_response", "CASE WHEN t.response_minutes IS NOT NULL THEN 1 ELSE 0 END"),
    ("n_sla_breached", "CASE WHEN t.resolved_at IS NOT NULL AND t.sla_state = 'breached' THEN 1 ELSE 0 END"),
    ("n_reopened", "CASE WHEN t.reopen_count > 0 THEN 1 ELSE 0 END"),
    ("sum_satisfaction", "COALESCE(t.satisfaction, 0)"),
    ("n_satisfaction", "CASE WHEN t.satisfaction IS NOT NULL THEN 1 ELSE 0 END"),
    ("n_escalated", "CASE WHEN t.escalation_level > 0 THEN 1 ELSE 0 END"),
)
# The counters' key columns (0 = none for the ids) and the tickets' columns they count.
COUNTER_KEYS = (
    ("category", "COALESCE(t.category_id, 0)"),
    ("department", "COALESCE(t.responsible_department_id, 0)"),
    ("region", "COALESCE(t.region_id, 0)"),
    ("channel", "t.channel"),
    ("severity", "t.severity"),
)
DIMENSION_ORDER = ("category", "department", "region", "channel", "severity", "month")
ID_DIMENSIONS = ("category", "department", "region")


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _counted_scope(user) -> tuple[list[int] | None, list[tuple[str, list]]]:
    """The viewer's scope as the counters can give it, written by hand: (None, []) for
    one who sees everything — every counter row; else (their regions — the counter rows
    of those regions, with the region permission —, the tickets they see outside them:
    [(condition on `t`, params)]): assigned to them; routed to one of their departments
    by a live (not cancelled) slip and not assigned to them — disjoint, so they add up.
    Each part reaches its few tickets through an index of its own (the assignee's, the
    slips' department) rather than the period's range of the kind."""
    from kefu.core import access

    if access.sees_everything(user):
        return None, []
    regions = sorted(access.user_region_ids(user)) if user.has_perm("tickets.view_region_tickets") else []
    outside = f"(t.region_id IS NULL OR t.region_id NOT IN ({_marks(regions)}))" if regions else "1 = 1"
    parts = [
        (
            f"{outside} AND t.id IN (SELECT a.id FROM tickets_ticket a WHERE a.assignee_id = %s)",
            [*regions, user.pk],
        )
    ]
    departments = sorted(access.user_department_ids(user))
    if departments:
        parts.append(
            (
                f"{outside} AND (t.assignee_id IS NULL OR t.assignee_id <> %s) AND t.id IN (SELECT r.ticket_id "
                f"FROM tickets_ticketrouting r WHERE r.department_id IN ({_marks(departments)}) "
                "AND r.status <> 'cancelled')",
                [*regions, user.pk, *departments],
            )
        )
    return regions, parts


def _counted_rows_sql(user, period, kind_id: int, vendor: str) -> tuple[str, list]:
    """The rows whose sums per key are the viewer's figures of the period: the counter
    rows of the period's months (of their regions), and one row per ticket they see
    outside those regions with what it adds to each measure — keyed alike (ids 0 = none,
    the month as "YYYY-MM")."""
    regions, parts = _counted_scope(user)
    keys = ", ".join(name for name, _sql in COUNTER_KEYS)
    measures = ", ".join(name for name, _sql in COUNTED)
    month = "to_char(month, 'YYYY-MM')" if vendor == "postgresql" else "substr(month, 1, 7)"
    first, end = (
        (period.start, period.end) if vendor == "postgresql" else (period.start.isoformat(), period.end.isoformat())
    )
    branches, params = [], []
    if regions is None or regions:
        where = "" if regions is None else f" AND region IN ({_marks(regions)})"
        branches.append(
            f"SELECT {keys}, {month} AS month, {measures} FROM reports_ticketrollup "  # noqa: S608 (our own SQL)
            f"WHERE kind = %s AND month >= %s AND month < %s{where}"
        )
        params += [kind_id, first, end, *(regions or [])]
    start, stop = _bounds(period, vendor)
    ticket_keys = ", ".join(f"{sql} AS {name}" for name, sql in COUNTER_KEYS)
    ticket_measures = ", ".join(f"{sql.format(open=_open_list())} AS {name}" for name, sql in COUNTED)
    for condition, condition_params in parts:
        # SQLite: `+` keeps it on the part's index (the ids) instead of the period's range.
        plus = "+" if vendor == "sqlite" else ""
        branches.append(
            f"SELECT {ticket_keys}, {_month_sql(vendor)} AS month, {ticket_measures} "  # noqa: S608
            f"FROM tickets_ticket t WHERE {plus}t.kind_id = %s AND {plus}t.created_at >= %s "
            f"AND {plus}t.created_at < %s AND {condition}"
        )
        params += [kind_id, start, stop, *condition_params]
    return " UNION ALL ".join(branches), params


def _sums_sql(name: str) -> str:
    return f"CAST(SUM({name}) AS BIGINT) AS {name}"


def _minutes_sql(user, period, kind_id: int, vendor: str) -> tuple[str, list]:
    """The resolution minutes of the tickets the viewer sees in the period, with the
    dimensions: what the (kind, created_at, id, resolution_minutes, dimensions,
    assignee) index holds."""
    scope, scope_params = _scope_sql(user, vendor)
    start, end = _bounds(period, vendor)
    return (
        f"SELECT t.category_id AS category, t.responsible_department_id AS department, t.region_id AS region, "  # noqa: S608
        f"t.channel AS channel, t.severity AS severity, {_month_sql(vendor)} AS month, "
        f"t.resolution_minutes AS minutes FROM tickets_ticket t WHERE t.kind_id = %s AND t.created_at >= %s "
        f"AND t.created_at < %s AND t.resolution_minutes IS NOT NULL{scope}",
        [kind_id, start, end, *scope_params],
    )


def hand_postgresql_counted(user, period, kind_id: int, previous: list) -> list[tuple[str, list]]:
    """PostgreSQL, counters + minutes: every grouping's sums in ONE statement over the
    counter rows (and the tickets seen outside the viewer's regions), GROUP BY GROUPING
    SETS, a key whose sums net to nothing being no group; every grouping's p90 in ONE
    GROUPING SETS statement over the resolution minutes and the dimensions only
    (percentile_disc); per comparison period one statement with both totals."""
    every = ", ".join(DIMENSION_ORDER)
    p90 = "percentile_disc(0.9) WITHIN GROUP (ORDER BY minutes) AS p90_resolution"
    sums = ", ".join(_sums_sql(name) for name, _sql in COUNTED)
    rows, rows_params = _counted_rows_sql(user, period, kind_id, "postgresql")
    sets = ", ".join("(" + ", ".join(g) + ")" for g in GROUPINGS)
    dims = ", ".join(f"NULLIF({d}, 0) AS {d}" if d in ID_DIMENSIONS else d for d in DIMENSION_ORDER)
    minutes, minutes_params = _minutes_sql(user, period, kind_id, "postgresql")
    statements = [
        (
            f"SELECT {dims}, GROUPING({every}) AS g, {sums} FROM ({rows}) counted "  # noqa: S608
            f"GROUP BY GROUPING SETS ({sets}) "
            f"HAVING SUM(n_count) > 0 OR GROUPING({every}) = {2 ** len(DIMENSION_ORDER) - 1}",
            rows_params,
        ),
        (
            f"SELECT {every}, GROUPING({every}) AS g, {p90} FROM ({minutes}) m GROUP BY GROUPING SETS ({sets})",  # noqa: S608
            minutes_params,
        ),
    ]
    for other in previous:
        rows, rows_params = _counted_rows_sql(user, other, kind_id, "postgresql")
        minutes, minutes_params = _minutes_sql(user, other, kind_id, "postgresql")
        statements.append(
            (
                f"SELECT {sums}, (SELECT {p90} FROM ({minutes}) m) AS p90_resolution FROM ({rows}) counted",  # noqa: S608
                [*minutes_params, *rows_params],
            )
        )
    return statements


def _sqlite_sums(user, period, kind_id: int, groupings) -> tuple[str, list]:
    """SQLite: the counter (and outside) rows once into a materialised CTE, each
    grouping summed from it (UNION ALL); a key whose sums net to nothing is no group."""
    rows, params = _counted_rows_sql(user, period, kind_id, "sqlite")
    sums = ", ".join(_sums_sql(name) for name, _sql in COUNTED)

    def key(grp, i: int) -> str:
        if len(grp) <= i:
            return "NULL"
        return f"NULLIF({grp[i]}, 0)" if grp[i] in ID_DIMENSIONS else grp[i]

    selects = []
    for i, grp in enumerate(groupings):
        group = f" GROUP BY {', '.join(grp)} HAVING SUM(n_count) > 0" if grp else ""
        selects.append(f"SELECT {i} AS g, {key(grp, 0)} AS k1, {key(grp, 1)} AS k2, {sums} FROM counted{group}")  # noqa: S608
    return f"WITH counted AS MATERIALIZED ({rows}) " + " UNION ALL ".join(selects), params


def _sqlite_p90_one(user, period, kind_id: int, groupings) -> tuple[str, list]:
    """SQLite: the period's (dimensions, minutes) read once into a materialised CTE,
    each grouping's nearest-rank p90 — the ceil(0.9·n)-th value — picked from it by
    ROW_NUMBER() / COUNT() windows partitioned by the grouping's keys."""
    minutes, params = _minutes_sql(user, period, kind_id, "sqlite")
    selects = []
    for i, grp in enumerate(groupings):
        partition = f"PARTITION BY {', '.join(grp)} " if grp else ""
        k1, k2 = (list(grp) + ["NULL", "NULL"])[:2]
        selects.append(
            f"SELECT {i} AS g, {k1} AS k1, {k2} AS k2, minutes, ROW_NUMBER() OVER ({partition}ORDER BY minutes) AS rn, "  # noqa: S608
            f"COUNT(*) OVER ({partition.strip()}) AS n FROM m"
        )
    sql = (
        f"WITH m AS MATERIALIZED ({minutes}) SELECT g, k1, k2, minutes AS p90_resolution "  # noqa: S608
        f"FROM ({' UNION ALL '.join(selects)}) WHERE rn = (n * 9 + 9) / 10"
    )
    return sql, params


def _sqlite_p90_each(user, period, kind_id: int, grp, i: int) -> tuple[str, list]:
    """SQLite: one grouping's nearest-rank p90 straight from the index."""
    minutes, params = _minutes_sql(user, period, kind_id, "sqlite")
    partition = f"PARTITION BY {', '.join(grp)} " if grp else ""
    k1, k2 = (list(grp) + ["NULL", "NULL"])[:2]
    return (
        f"SELECT {i} AS g, k1, k2, minutes AS p90_resolution FROM (SELECT {k1} AS k1, {k2} AS k2, minutes, "  # noqa: S608
        f"ROW_NUMBER() OVER ({partition}ORDER BY minutes) AS rn, COUNT(*) OVER ({partition.strip()}) AS n "
        f"FROM ({minutes})) WHERE rn = (n * 9 + 9) / 10",
        params,
    )


def hand_sqlite_counted(user, period, kind_id: int, previous: list) -> list[tuple[str, list]]:
    """SQLite, counters + minutes: every grouping's sums in one statement (`_sqlite_sums`),
    every grouping's p90 in one statement (`_sqlite_p90_one`); the same two, of the
    totals only, per comparison period."""
    out = [_sqlite_sums(user, period, kind_id, GROUPINGS), _sqlite_p90_one(user, period, kind_id, GROUPINGS)]
    for other in previous:
        out += [_sqlite_sums(user, other, kind_id, ((),)), _sqlite_p90_one(user, other, kind_id, ((),))]
    return out


def hand_sqlite_counted_each(user, period, kind_id: int, previous: list) -> list[tuple[str, list]]:
    """SQLite, counters + minutes: every grouping's sums in one statement, then a p90
    statement per grouping, each reading the minutes from the index (no materialised
    copy); the same, of the totals only, per comparison period."""
    out = [_sqlite_sums(user, period, kind_id, GROUPINGS)]
    out += [_sqlite_p90_each(user, period, kind_id, grp, i) for i, grp in enumerate(GROUPINGS)]
    for other in previous:
        out += [_sqlite_sums(user, other, kind_id, ((),)), _sqlite_p90_each(user, other, kind_id, (), 0)]
    return out


def _averaged_figures(sums: dict, p90) -> dict:
    """The raw figures `check_same` reads, from a group's sums: the only arithmetic done
    in Python — the averages as sum / count."""

    def average(total: str, n: str):
        return float(sums[total]) / float(sums[n]) if sums.get(n) else None

    return {
        **{name: sums.get(name) or 0 for name in ("n_count", "n_resolved", "n_open", "n_sla_breached")},
        **{name: sums.get(name) or 0 for name in ("n_reopened", "n_satisfaction", "n_escalated")},
        "avg_resolution": average("sum_resolution", "n_resolution"),
        "avg_response": average("sum_response", "n_response"),
        "avg_satisfaction": average("sum_satisfaction", "n_satisfaction"),
        "p90_resolution": p90,
    }


def _grouping_mask(grp) -> int:
    return sum(1 << (len(DIMENSION_ORDER) - 1 - i) for i, d in enumerate(DIMENSION_ORDER) if d not in grp)


def hand_figures_pg_counted(results, groupings) -> dict:
    """{grouping: {key: raw figures}}: the sums' GROUPING SETS rows, each with the p90
    of the same set and key."""
    masks = {_grouping_mask(g): g for g in groupings}
    p90 = {(row["g"], *(row[d] for d in masks[row["g"]])): row["p90_resolution"] for row in results[1]}
    out: dict = {g: {} for g in groupings}
    for row in results[0]:
        grp = masks[row["g"]]
        key = tuple(row[d] for d in grp)
        out[grp][key] = _averaged_figures(row, p90.get((row["g"], *key)))
    return out


def _sqlite_counted_figures(sums_rows, p90_rows, groupings) -> dict:
    """{grouping: {key: raw figures}}: the sums' rows, each with the p90 of the same
    grouping and key."""
    p90 = {(row["g"], row["k1"], row["k2"]): row["p90_resolution"] for row in p90_rows}
    out: dict = {g: {} for g in groupings}
    for row in sums_rows:
        grp = groupings[row["g"]]
        key = (row["k1"], row["k2"])[: len(grp)]
        out[grp][key] = _averaged_figures(row, p90.get((row["g"], row["k1"], row["k2"])))
    return out


def hand_figures_sqlite_counted(results, groupings) -> dict:
    return _sqlite_counted_figures(results[0], results[1], groupings)


def hand_figures_sqlite_counted_each(results, groupings) -> dict:
    return _sqlite_counted_figures(results[0], [r for rows in results[1 : 1 + len(groupings)] for r in rows], groupings)


def selector_figures(user, period, kind_code: str) -> dict:
    """{grouping: {key: figure row}} as the selector (the report) gives them."""
    from kefu.reports.selectors.tickets import ticket_figures

    return {
        grp: {tuple(r[d] for d in grp): r for r in ticket_figures(user=user, period=period, kinds=[kind_code],
                                                                  group_by=grp)}
        for grp in GROUPINGS
        if grp != ("month",) or len(period.months()) >= 2
    }  # fmt: skip


def check_same(user, period, kind_code: str, hand: dict, selector: dict | None = None) -> str:
    """Compare the hand-written SQL's figures with the selector's (the report's) for
    every grouping: the number of groups and of figures that differ. `selector`: its
    figures already computed (`selector_figures`)."""
    from kefu.reports.selectors.tickets import _figures

    selector = selector if selector is not None else selector_figures(user, period, kind_code)
    groups = differ = 0
    examples = []
    for grp in GROUPINGS:
        if grp not in selector:
            continue
        mine = selector[grp]
        theirs = {k: _figures(raw, raw["p90_resolution"]) for k, raw in hand[grp].items()}
        if not grp and not theirs:  # no rows at all: the selector's totals row of zeros
            continue
        for key in set(mine) | set(theirs):
            groups += 1
            a, b = mine.get(key), theirs.get(key)
            if a is None or b is None:
                differ += 1
                examples.append(f"{grp} {key}: only in {'the SQL' if a is None else 'the selector'}")
                continue
            bad = [f for f in b if a.get(f) != b[f]]
            if bad:
                differ += 1
                examples.append(f"{grp} {key}: " + ", ".join(f"{f} {a.get(f)} ≠ {b[f]}" for f in bad[:3]))
    verdict = f"{groups} groups compared, {differ} differ"
    return verdict + ("" if not examples else " — e.g. " + "; ".join(examples[:3]))


def run_hand(args, people: dict, today: datetime.date, results: dict, label: str = "") -> None:
    """The complaint (and repair) statistics of the year: the report's statements vs the
    best hand-written SQL for the same figures."""
    from django.db import connection

    from kefu.tickets.models import TicketKind

    vendor = connection.vendor
    period = period_of("year", today)
    previous = list({p.key(): p for p in (period.previous(), period.same_last_year())}.values())
    kinds = dict(TicketKind.objects.values_list("code", "pk"))
    variants = (
        {
            "one statement, GROUPING SETS": (hand_postgresql, hand_figures_pg),
            "counters + minutes (GROUPING SETS)": (hand_postgresql_counted, hand_figures_pg_counted),
        }
        if vendor == "postgresql"
        else {
            "one statement (materialised CTE, UNION ALL, windows)": (hand_sqlite_one, hand_figures_sqlite_one),
            "a statement per grouping": (hand_sqlite_each, hand_figures_sqlite_each),
            "counters + minutes (materialised CTEs)": (hand_sqlite_counted, hand_figures_sqlite_counted),
            "counters + minutes, a p90 statement per grouping": (
                hand_sqlite_counted_each,
                hand_figures_sqlite_counted_each,
            ),
        }
    )
    print(
        f"\n== hand-written SQL for the statistics of {period.label}{label} ({vendor}): the same figures as the report"
    )
    print("   (totals, by category / department / region / channel / severity, category × department, by month,")
    print(
        f"    and the totals of {' / '.join(p.label for p in previous)} for the comparisons; top causes = by category)"
    )
    for kind_code, report_key in (("complaint", "complaints"), ("repair", "repairs")):
        for who, user in people["reports"].items():
            user = fresh(user)
            timings = {}
            for name, (build, parse) in variants.items():
                statements = build(user, period, kinds[kind_code], previous)
                run_sql(statements)  # warm-up
                samples, outcome = [], None
                for _ in range(max(1, args.repeat)):
                    elapsed, outcome = run_sql(statements)
                    samples.append(elapsed)
                timings[name] = (statistics.median(samples), len(statements), parse(outcome, GROUPINGS))
            best = min(timings, key=lambda n: timings[n][0])
            report = results.get(f"report {report_key} {period.label} [{who}]")
            for name, (ms, count, _figures) in timings.items():
                mark = "  ← best" if name == best and len(timings) > 1 else ""
                print(f"  {kind_code:<9} [{who}] hand SQL, {name}: p50 {ms:7.0f} ms ({count} statements){mark}")
            best_ms = timings[best][0]
            results[f"hand {kind_code} [{who}]{label}"] = best_ms
            if report:
                ratio = report["sql_ms"] / best_ms if best_ms else float("inf")
                print(
                    f"  {kind_code:<9} [{who}] report `{report_key}`: {report['sql_ms']:7.0f} ms in "
                    f"{report['queries']} statements (wall p50 {report['p50']:.0f} ms) → ×{ratio:4.2f} the best hand SQL"
                    f"   ≤ 1.5: {'ok' if ratio <= 1.5 else 'MISSED'}"
                )
            # Every variant's figures against the selector's (computed once).
            selector = selector_figures(user, period, kind_code)
            for name, (_ms, _count, figures) in timings.items():
                verdict = check_same(user, period, kind_code, figures, selector)
                print(f"  {kind_code:<9} [{who}] same figures, {name}: {verdict}", flush=True)


# --- plans ------------------------------------------------------------------------------


def explain(sql: str, params) -> str:
    from django.db import connection

    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    lines = ["      " + " ".join(str(c) for c in row)[:220] for row in rows]
    if len(lines) > PLAN_LINES:
        lines = [*lines[: PLAN_LINES - 8], f"      … {len(lines) - PLAN_LINES + 1} lines …", *lines[-7:]]
    return "\n".join(lines)


PLAN_LINES = 60


def print_plans(slow: list, count: int) -> None:
    """The plans of the `count` slowest statements (one per SQL text)."""
    if count <= 0 or not slow:
        return
    print(f"\n== plans of the {count} slowest statements (distinct SQL), from any report or dashboard above")
    seen, shown = set(), 0
    for seconds, where, sql, params in sorted(slow, key=lambda s: s[0], reverse=True):
        if sql in seen:
            continue
        seen.add(sql)
        shown += 1
        text = " ".join(sql.split())
        print(f"\n  {seconds * 1000:,.0f} ms in {where}:\n    {text[:1500]}{' …' if len(text) > 1500 else ''}")
        print(f"    params {str(params)[:300]}")
        print(explain(sql, params))
        if shown >= count:
            break


# --- the proposals (NOT the code) --------------------------------------------------------

# NOT the code: the covering index proposed in bench/README.md for the ticket statistics,
# created in this benchmark's database only and dropped after measuring. The key is the
# (kind, created_at) range every ticket figure reads; the other columns are what the
# figures group and aggregate, so the scan never visits the table (PostgreSQL: an
# index-only scan once the visibility map is set; SQLite: a covering index).
PROPOSED_INCLUDE = (
    "category_id", "responsible_department_id", "region_id", "channel", "severity", "status", "resolved_at",
    "resolution_minutes", "response_minutes", "sla_state", "reopen_count", "satisfaction", "escalation_level",
    "assignee_id", "is_important",
)  # fmt: skip
PROPOSED_INDEX = "rbench_ticket_stats"


def apply_index() -> str:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE INDEX {PROPOSED_INDEX} ON tickets_ticket (kind_id, created_at) "
                f"INCLUDE ({', '.join(PROPOSED_INCLUDE)})"
            )
            cursor.execute("VACUUM ANALYZE tickets_ticket")
            cursor.execute("SELECT pg_size_pretty(pg_relation_size(%s))", [PROPOSED_INDEX])
            size = cursor.fetchone()[0]
        else:
            cursor.execute(
                f"CREATE INDEX {PROPOSED_INDEX} ON tickets_ticket (kind_id, created_at, {', '.join(PROPOSED_INCLUDE)})"
            )
            cursor.execute("ANALYZE tickets_ticket")
            size = ""
    return (
        f"created index {PROPOSED_INDEX} in {time.perf_counter() - started:.0f} s{f' ({size})' if size else ''}: "
        f"(kind_id, created_at) + {', '.join(PROPOSED_INCLUDE)}"
    )


def drop_index() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {PROPOSED_INDEX}")


class ProposedBreakdowns:
    """NOT the code: the complaint / repair report builder (which takes its breakdowns
    from one `ticket_breakdowns` call since commit 758094a) also computing each
    comparison period's totals once — a year's previous period IS the same period last
    year, asked twice — and the top causes from the by-category rows it already has
    (the same figures: count desc, share of all the period's tickets of the kind)
    instead of another scan. Applied by replacing the builder module's names while
    measuring."""

    def __init__(self):
        from kefu.reports.builders import tickets as builder

        self.builder = builder
        self.saved = {n: getattr(builder, n) for n in ("ticket_breakdowns", "ticket_totals", "top_causes")}
        self.saved_build = builder.build_ticket_report
        self.breakdowns: dict = {}
        self.totals: dict = {}

    def __enter__(self):
        from kefu.reports.selectors.common import percent, sort_rows

        real_breakdowns, real_totals = self.saved["ticket_breakdowns"], self.saved["ticket_totals"]

        def breakdowns(*, user, period, groupings, kinds=None, filters=None):
            found = real_breakdowns(user=user, period=period, groupings=groupings, kinds=kinds, filters=filters)
            for grouping, rows in zip(groupings, found, strict=True):
                self.breakdowns[(period.key(), tuple(kinds or ()), tuple(grouping))] = rows
            return found

        def totals(*, user, period, kinds=None, filters=None):
            key = (period.key(), tuple(kinds or ()), ())
            if key not in self.breakdowns:
                self.breakdowns[key] = [real_totals(user=user, period=period, kinds=kinds, filters=filters)]
            return self.breakdowns[key][0]

        def causes(*, user, period, kinds=("complaint",), limit=10):
            key = (period.key(), tuple(kinds or ()), ("category",))
            if key not in self.breakdowns:
                return self.saved["top_causes"](user=user, period=period, kinds=kinds, limit=limit)
            by_category = self.breakdowns[key]
            total = sum(r["count"] for r in by_category)
            rows = [
                {"category": r["category"], "category_label": r["category_label"], "count": r["count"],
                 "share": percent(r["count"], total)}
                for r in by_category if r["category"] is not None
            ]  # fmt: skip
            return sort_rows(rows, ["category"], "count")[:limit]

        def build(*, key, title, kind, user, period):
            self.breakdowns = {}
            return self.saved_build(key=key, title=title, kind=kind, user=user, period=period)

        self.builder.ticket_breakdowns, self.builder.ticket_totals, self.builder.top_causes = breakdowns, totals, causes
        self.builder.build_ticket_report = build
        return self

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            setattr(self.builder, name, value)
        self.builder.build_ticket_report = self.saved_build


def same_report(user, period) -> str:
    """The complaint and repair reports built by the code and with ProposedBreakdowns:
    every table's rows and totals compared."""
    from kefu.reports.catalog import build_report

    out = []
    for key in ("complaints", "repairs"):
        code = build_report(key, user=user, period=period)
        with ProposedBreakdowns():
            proposed = build_report(key, user=user, period=period)
        a = [(t.title, t.rows, t.totals) for t in code.tables]
        b = [(t.title, t.rows, t.totals) for t in proposed.tables]
        differ = [x[0] for x, y in zip(a, b, strict=False) if x != y] + (
            ["(number of tables)"] if len(a) != len(b) else []
        )
        out.append(f"{key}: {len(a)} tables, " + ("identical" if not differ else f"DIFFER: {', '.join(differ)}"))
    return "; ".join(out)


class JitOff:
    """NOT the code (PostgreSQL): `SET jit = off` for the session. With the default
    jit_above_cost a statement over a year of a million tickets is compiled first, which
    costs tens of milliseconds per statement (see the plans' JIT lines)."""

    def __enter__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        return self

    def __exit__(self, *exc):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def run_proposals(args, people: dict, today: datetime.date, results: dict) -> None:
    """Each proposal measured on its own and together, on the figures it concerns: the
    complaint and repair reports of the year, the management dashboards, and the hand
    SQL (which uses the index too)."""
    import contextlib

    from django.db import connection

    narrowed = argparse.Namespace(**{**vars(args), "reports": "complaints,repairs", "periods": "year"})
    postgres = connection.vendor == "postgresql"
    steps = []
    if postgres:
        steps.append(("builder: comparison totals once, top causes from its rows", [ProposedBreakdowns], False))
    steps.append(("covering index", [], True))
    if postgres:
        steps.append(("covering index + builder", [ProposedBreakdowns], True))
        steps.append(("covering index + builder + jit off", [ProposedBreakdowns, JitOff], True))
    indexed = False
    hand_indexed: dict = {}
    if postgres:
        print("\n== NOT the code: does the proposed builder give the same report?")
        for who, user in people["reports"].items():
            print(f"  [{who}] {same_report(fresh(user), period_of('year', today))}", flush=True)
    for title, patches, index in steps:
        print(f"\n== NOT the code: {title} (this benchmark's database and process only)", flush=True)
        if index and not indexed:
            print("  " + apply_index(), flush=True)
            indexed = True
        after: dict = {}
        slow: list = []
        with contextlib.ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch())
            run_reports(narrowed, people, today, after, slow)
            if not args.skip_dashboards:
                run_dashboards_of(narrowed, people, today, after, slow, roles=("manager", "director"))
            if not args.skip_hand and not patches:
                run_hand(narrowed, people, today, after, label=f", NOT the code: {title}")
                hand_indexed = {n.split(", NOT the code")[0]: v for n, v in after.items() if n.startswith("hand ")}
        print(f"\n  before → {title} (NOT the code)")
        for name, figures in after.items():
            if isinstance(figures, dict) and name in results:
                before = results[name]
                print(
                    f"  {name:<66} p50 {before['p50']:7.0f} → {figures['p50']:7.0f} ms   statements "
                    f"{before['queries']:3} → {figures['queries']:3}, {before['sql_ms']:7.0f} → {figures['sql_ms']:7.0f} ms"
                )
        for name in after:
            if name.startswith("report ") and "hand" not in name:
                hand = results.get(
                    f"hand {'complaint' if ' complaints ' in name else 'repair'} [{name.split('[', 1)[1]}"
                )
                if hand:
                    ratio = after[name]["sql_ms"] / hand
                    line = f"  {name:<66} statements ×{ratio:4.2f} the best hand SQL without the index ({hand:.0f} ms)"
                    key = f"hand {'complaint' if ' complaints ' in name else 'repair'} [{name.split('[', 1)[1]}"
                    if index and key in hand_indexed:
                        ratio = after[name]["sql_ms"] / hand_indexed[key]
                        line += f", ×{ratio:4.2f} the one with it ({hand_indexed[key]:.0f} ms)"
                    print(line)
        print_plans(slow, 2)
    drop_index()


# --- main ---------------------------------------------------------------------------------


def describe(today: datetime.date) -> None:
    from django.db import connection
    from django.db.models import Count

    from kefu.customers.models import Customer
    from kefu.tickets.models import Ticket
    from kefu.visits.models import Visit

    year = period_of("year", today)
    start, end = year.bounds()
    by_kind = dict(
        Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("kind__code")
        .annotate(n=Count("pk"))
    )
    print(
        f"\n== data ({connection.vendor}): {Customer.objects.count():,} customers, {Ticket.objects.count():,} tickets, "
        f"{Visit.objects.count():,} visits; tickets registered in {year.label}: {by_kind}; today {today}"
    )


def summary(results: dict) -> None:
    print("\n== summary: the issue's targets (≤ 1 s to compute; report statements ≤ 1.5× the hand-written SQL)")
    for name, figures in results.items():
        if isinstance(figures, dict):
            print(f"  {name:<66} p50 {figures['p50']:8.0f} ms  {figures['queries']:4} q {figures['sql_ms']:8.0f} ms"
                  f"  {flag(figures['p50'])}")  # fmt: skip


def measure_all(args, people, today, label: str = "") -> tuple[dict, list]:
    results: dict = {}
    slow: list = []
    if not args.skip_reports:
        run_reports(args, people, today, results, slow)
    if not args.skip_dashboards:
        run_dashboards(args, people, today, results, slow)
    if not args.skip_hand:
        run_hand(args, people, today, results, label)
    return results, slow


def measure_proposal_base(args, people, today) -> tuple[dict, list]:
    """The code, on what the proposals concern only (see run_proposals)."""
    narrowed = argparse.Namespace(**{**vars(args), "reports": "complaints,repairs", "periods": "year"})
    results: dict = {}
    slow: list = []
    run_reports(narrowed, people, today, results, slow)
    if not args.skip_dashboards:
        run_dashboards_of(narrowed, people, today, results, slow, roles=("manager", "director"))
    if not args.skip_hand:
        run_hand(narrowed, people, today, results)
    return results, slow


def main(argv=None) -> None:
    args = parse_args(argv)
    import visits_bench

    visits_bench.start_spawner()  # before Django: the children's peak memory is their own
    if args.database_url.startswith("postgres") and not args.keep:
        recreate_postgres(args.database_url)
    sqlite_file = Path(args.data_dir or "/nonexistent") / "kefu.sqlite3"
    if not args.database_url and sqlite_file.exists() and not args.keep:
        sys.exit(f"{sqlite_file} exists: pass --keep to reuse its rows, or an empty --data-dir")
    setup_django(args)
    from django.db import connection

    print(f"data dir: {args.data_dir}; database: {connection.vendor}", flush=True)
    started = time.perf_counter()
    if not args.skip_load:
        load(args)
    install_fetch_timer()
    today = today_of(args)
    describe(today)
    people = viewers()
    drop_index()  # a run stopped half-way must not measure the proposal as the code
    if args.only_proposed:
        results, slow = measure_proposal_base(args, people, today)
    else:
        results, slow = measure_all(args, people, today)
    print_plans(slow, args.plans)
    summary(results)
    if args.proposed:
        try:
            run_proposals(args, people, today, results)
        finally:
            drop_index()
    print(f"\ntotal time {time.perf_counter() - started:,.0f} s; data dir {args.data_dir}")


if __name__ == "__main__":
    main()
