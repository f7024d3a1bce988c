#!/usr/bin/env python
"""Return-visits benchmark: plan generation and an agent's call list at scale (issue 5).

    python bench/visits_bench.py
    python bench/visits_bench.py --database-url postgres://postgres@127.0.0.1:5432/kefu_vbench

Creates a fresh database (SQLite in a temporary data dir unless --data-dir/--database-url
say otherwise), loads the profile with its demo logins, and then:

1. Plans: grows the archive to --small-customers and then --customers customers (the
   customers bench's loader, in a child process), and at each size runs `plan_all` twice,
   each run in its own child process that prints its time, what it created and cancelled,
   its slowest statements and its peak memory (`getrusage` and VmHWM). Five rules are
   active: the cadence rules of classes A, B and C (1, 2 and 3 visits a month), the key
   accounts' cadence and a birthday rule.
2. Call list: empties the visits, adds --agents agents, bulk-inserts --small-visits and
   then --visits visits over two years (raw multi-row inserts, COPY on PostgreSQL; most
   of them done, a few overdue) and prints the p50/p95 of one agent's first page of
   today's and overdue visits (`call_list` + `keyset_page`, rows with their customer),
   the whole HTML page, the ratio between the sizes and the query plan.
Not a test: it prints figures."""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from customers_bench import analyze, peak_memory_mb, recreate_postgres, setup_django, timed  # noqa: E402

BATCH = 10_000
SPAN_DAYS = 730  # visits over two years: the last 700 days and the coming 30
AHEAD_DAYS = 30
AGENT_PREFIX = "vbench_agent_"
BIRTHDAY_RULE = "bench 生日关怀"
KEY_ACCOUNT_RULE = "bench 大客户定期跟踪"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to plan for (default 1000000)")
    parser.add_argument("--small-customers", type=int, default=10_000, help="the small size first (default 10000)")
    parser.add_argument("--visits", type=int, default=5_000_000, help="visits for the call list (default 5000000)")
    parser.add_argument("--small-visits", type=int, default=50_000, help="the small size first (default 50000)")
    parser.add_argument("--agents", type=int, default=200, help="agents the visits are spread over (default 200)")
    parser.add_argument("--database-url", default="", help="e.g. postgres://postgres@127.0.0.1:5432/kefu_vbench")
    parser.add_argument("--data-dir", default="", help="KEFU_DATA_DIR (default: a new temporary directory)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per call-list figure (default 30)")
    parser.add_argument("--profile", default="manufacturing")
    parser.add_argument("--today", default="", help="plan and list as of this ISO date (default: today)")
    parser.add_argument("--skip-plan", action="store_true", help="no plan generation figures")
    parser.add_argument("--skip-calls", action="store_true", help="no call-list figures")
    parser.add_argument("--no-analyze", action="store_true", help="measure without running ANALYZE first")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the rows already in the database (PostgreSQL: do not recreate it)"
    )
    parser.add_argument(
        "--plan-timeout", type=float, default=900, help="PostgreSQL: cancel a planner statement after N s (default 900)"
    )
    parser.add_argument("--plans", action="store_true", help="print the plans of the slowest planner statements")
    parser.add_argument("--child", choices=["load", "plan"], help=argparse.SUPPRESS)
    parser.add_argument("--target", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def today_of(args) -> datetime.date:
    from django.utils import timezone

    return datetime.date.fromisoformat(args.today) if args.today else timezone.localdate()


# --- setup -----------------------------------------------------------------------------


def configure_rules() -> list[str]:
    """Exactly five active rules: the profile's cadence rules of classes A, B and C
    (following the class's 1, 2, 3 visits a month), a key-account cadence and a birthday
    rule (created when the profile has none); every other rule is paused."""
    from kefu.customers.models import CustomerClass
    from kefu.visits.choices import RuleKind, Trigger
    from kefu.visits.models import Questionnaire, VisitRule

    follow_up = Questionnaire.objects.filter(code="follow-up").first()
    satisfaction = Questionnaire.objects.filter(code="satisfaction").first()
    keep = []
    for code, per_month in (("A", 1), ("B", 2), ("C", 3)):
        klass = CustomerClass.objects.get(code=code)
        if klass.visits_per_month != per_month:
            sys.exit(f"class {code} asks {klass.visits_per_month} visits a month, the bench expects {per_month}")
        rule = VisitRule.objects.filter(kind=RuleKind.CADENCE, customer_class=klass, key_accounts_only=False).first()
        rule = rule or VisitRule.objects.create(
            name=f"bench {code} 类跟踪", kind=RuleKind.CADENCE, visit_type="定期跟踪", customer_class=klass,
            questionnaire=follow_up,
        )  # fmt: skip
        keep.append(rule)
    keep.append(
        VisitRule.objects.filter(kind=RuleKind.CADENCE, key_accounts_only=True, customer_class=None).first()
        or VisitRule.objects.create(
            name=KEY_ACCOUNT_RULE, kind=RuleKind.CADENCE, visit_type="大用户跟踪", key_accounts_only=True,
            questionnaire=follow_up,
        )
    )  # fmt: skip
    keep.append(
        VisitRule.objects.filter(trigger=Trigger.BIRTHDAY).first()
        or VisitRule.objects.create(
            name=BIRTHDAY_RULE, kind=RuleKind.EVENT, visit_type="生日关怀", trigger=Trigger.BIRTHDAY,
            questionnaire=satisfaction,
        )
    )  # fmt: skip
    VisitRule.objects.filter(pk__in=[r.pk for r in keep]).update(is_active=True, visits_per_month=None)
    VisitRule.objects.exclude(pk__in=[r.pk for r in keep]).update(is_active=False)
    return [r.name for r in keep]


def clear_visits() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE visits_visit" if connection.vendor == "postgresql" else "DELETE FROM visits_visit")


def ensure_agents(count: int) -> list:
    """`count` agents like the demo `agent` (role, department), spread over the regions."""
    from django.contrib.auth.hashers import make_password

    from kefu.core.models import Region, User

    model = User.objects.get(username="agent")
    regions = list(Region.objects.order_by("pk").values_list("pk", flat=True))
    have = set(User.objects.filter(username__startswith=AGENT_PREFIX).values_list("username", flat=True))
    password = make_password(None)
    new = [
        User(
            username=f"{AGENT_PREFIX}{n:03d}", display_name=f"回访专员{n:03d}", password=password,
            department_id=model.department_id, region_id=regions[n % len(regions)],
        )
        for n in range(1, count + 1)
        if f"{AGENT_PREFIX}{n:03d}" not in have
    ]  # fmt: skip
    User.objects.bulk_create(new)
    agents = list(User.objects.filter(username__startswith=AGENT_PREFIX).order_by("username")[:count])
    for agent in agents:
        agent.groups.set(model.groups.all())
    return agents


# --- child processes (their own peak memory) ------------------------------------------


def child_main(args) -> None:
    setup_django(args)
    result = child_load(args) if args.child == "load" else child_plan(args)
    print("RESULT " + json.dumps(result, ensure_ascii=False, default=str))


def child_load(args) -> dict:
    """Grow the archive to --target customers with the customers bench's loader."""
    from customers_bench import Inserter, prepare

    ctx = prepare(args)
    inserter = Inserter(args, ctx)
    # The generator starts again at its first row in every process: skip what an
    # earlier size inserted, so the rows do not repeat.
    for _ in range(ctx["count"]):
        next(inserter.rows)
    rate = inserter.grow_to(args.target)
    if not args.no_analyze:
        analyze()
    return {"customers": max(ctx["count"], args.target), "rows_per_s": round(rate)}


def child_plan(args) -> dict:
    """One `plan_all`, timed, with its slowest statements (and their plans) and peak
    memory. On PostgreSQL a statement running past --plan-timeout is cancelled, so a
    plan that has gone quadratic reports itself instead of running for hours."""
    from django.db import DatabaseError, connection

    from kefu.visits.models import Visit
    from kefu.visits.services.planning import plan_all

    statements: list[tuple[float, str, str, object]] = []

    def clock(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            text = " ".join(sql.split())
            where = text.find(" WHERE ")
            label = text[:60] + (" … " + text[where : where + 90] if where > 0 else "")
            if text.startswith("INSERT INTO visits_visit") and params and len(params) > 3:
                label += f" [rule {params[2]}, {params[3]}]"  # the planner's INSERT … SELECT of one slot
            statements.append((time.perf_counter() - started, label, sql, params))

    before = Visit.objects.count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(args.plan_timeout * 1000)}")
    error, result = "", None
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(clock):
            result = plan_all(today=today_of(args))
    except DatabaseError as exc:
        error = f"{type(exc).__name__}: {exc}".strip()
    seconds = time.perf_counter() - started
    cancelled_statement = statements[-1] if error else None
    statements.sort(key=lambda s: s[0], reverse=True)
    worst = [cancelled_statement] if cancelled_statement else []
    worst += [
        s for s in statements if s is not cancelled_statement and s[2].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ][:2]
    return {
        "seconds": round(seconds, 2),
        "error": error,
        "created": result.created if result else None,
        "cancelled": result.cancelled if result else None,
        "by_rule": result.by_rule if result else {},
        "visits_before": before,
        "visits_after": Visit.objects.count(),
        "statements": len(statements),
        "in_statements": round(sum(s[0] for s in statements), 2),
        "slowest": [f"{s:7.2f} s  {label}" for s, label, _sql, _p in statements[:6]],
        "plans": [f"{s:.2f} s  {label}\n" + explain_sql(sql, params) for s, label, sql, params in worst],
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "vmhwm_mb": round(peak_memory_mb(), 1),
    }


def explain_sql(sql: str, params) -> str:
    """The plan of a statement, without running it."""
    from django.db import connection

    prefix = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    return "\n".join("      " + " ".join(str(c) for c in row) for row in rows)


# Linux carries a process's peak RSS over fork/vfork + exec into `getrusage`'s
# `ru_maxrss`: a child started by the parent (Django, the profile, the agents' rows…)
# would report the parent's high-water mark. So the children are started by this small
# process, launched before the parent loads anything; it runs one command per line of
# its stdin and answers with a sentinel line when the child has exited.
SPAWNER = """
import subprocess, sys, json
for line in sys.stdin:
    rc = subprocess.call(json.loads(line), stderr=subprocess.STDOUT)
    print(f"\\0spawned {rc}", flush=True)
"""
_spawner: subprocess.Popen | None = None


def start_spawner() -> None:
    global _spawner
    _spawner = subprocess.Popen(
        [sys.executable, "-c", SPAWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )


def spawn(kind: str, args, **extra) -> dict:
    from django.db import connection

    connection.close()  # no open read transaction on the SQLite file while a child writes
    command = [sys.executable, __file__, "--child", kind, "--data-dir", args.data_dir, "--profile", args.profile]
    command += [f"--{k.replace('_', '-')}" + ("" if v is True else f"={v}") for k, v in extra.items()]
    if args.database_url:
        command += ["--database-url", args.database_url]
    if args.today:
        command += ["--today", args.today]
    if args.no_analyze:
        command.append("--no-analyze")
    _spawner.stdin.write(json.dumps(command) + "\n")
    # The child's progress lines are passed on as they come (a load takes minutes).
    result, tail = None, []
    for line in _spawner.stdout:
        if line.startswith("\0spawned "):
            break
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
        else:
            print("  " + line.rstrip(), flush=True)
            tail = [*tail[-30:], line]
    return result or {"error": "".join(tail)}


def run_plans(args, rules: list[str]) -> dict:
    figures = {}
    print(f"\n== plan generation, active rules: {', '.join(rules)}")
    for size in sorted({min(args.small_customers, args.customers), args.customers}):
        print(f"\n-- growing the archive to {size:,} customers (child process)", flush=True)
        print("  " + json.dumps(spawn("load", args, target=size)), flush=True)
        from django.db import connection

        clear_visits()
        connection.close()
        runs = []
        for run in (1, 2):
            extra = {"plan_timeout": args.plan_timeout}
            outcome = spawn("plan", args, **extra)
            runs.append(outcome)
            if "seconds" not in outcome:
                print(f"  run {run}: FAILED\n{outcome['error']}")
                break
            if outcome["error"]:
                print(f"  run {run}: STOPPED after {outcome['seconds']:.0f} s: {outcome['error']}")
                for plan in outcome["plans"]:
                    print("         " + plan)
                break
            print(
                f"  run {run}: {outcome['seconds']:8.2f} s   created {outcome['created']:>10,}   cancelled "
                f"{outcome['cancelled']:>8,}   visits {outcome['visits_before']:,} → {outcome['visits_after']:,}   "
                f"peak RSS getrusage {outcome['ru_maxrss_mb']:.0f} MB / VmHWM {outcome['vmhwm_mb']:.0f} MB"
            )
            print(f"         by rule {json.dumps(outcome['by_rule'], ensure_ascii=False)}")
            print(f"         {outcome['statements']} statements ({outcome['in_statements']:.1f} s), the slowest:")
            for line in outcome["slowest"]:
                print(f"           {line}")
            if args.plans:
                for plan in outcome["plans"]:
                    print("         plan of " + plan)
        figures[size] = runs
    return figures


# --- bulk visits -----------------------------------------------------------------------


class VisitInserter:
    """Visits of the last 700 days and the coming 30 for `agents`: the past ones mostly
    done (reached, with answers) or failed, 10 % of the last two weeks' and 0.2 % of
    older ones still planned (overdue), today's partly worked, the coming ones planned;
    1 % assigned to the agents' team instead. Raw multi-row inserts (COPY on PostgreSQL)."""

    def __init__(self, agents: list, today: datetime.date):
        from django.db import connection
        from django.db.models import Max, Min

        from kefu.customers.models import Customer
        from kefu.visits.models import Questionnaire, Visit, VisitRule

        self.connection, self.vendor = connection, connection.vendor
        self.rng = random.Random(5)
        self.today = today
        self.agents = [(a.pk, a.region_id) for a in agents]
        self.team = agents[0].department_id
        ids = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
        self.customer_range = (ids["low"], ids["high"])
        self.rules = [(r.pk, r.visit_type) for r in VisitRule.objects.filter(is_active=True)] + [(None, "电话回访")]
        version = Questionnaire.objects.get(code="follow-up").current_version()
        self.version_id = version.pk if version else None
        self.columns = [f.column for f in Visit._meta.concrete_fields]
        self.start = today - datetime.timedelta(days=SPAN_DAYS - AHEAD_DAYS - 1)

    def _dt(self, day: datetime.date, minutes: int):
        moment = datetime.datetime.combine(day, datetime.time(1, 0)) + datetime.timedelta(minutes=minutes)  # 09:00 CST
        return str(moment) if self.vendor == "sqlite" else moment.replace(tzinfo=datetime.UTC)

    def _row(self, pk: int) -> tuple:
        rng, today = self.rng, self.today
        due = self.start + datetime.timedelta(days=rng.randrange(SPAN_DAYS))
        assignee, region = rng.choice(self.agents)
        team = None
        if rng.random() < 0.01:
            assignee, team = None, self.team
        rule_id, visit_type = rng.choice(self.rules)
        age, roll = (today - due).days, rng.random()
        status = "planned"
        if age > 14:
            status = "done" if roll < 0.85 else "failed" if roll < 0.97 else "cancelled" if roll < 0.998 else "planned"
        elif age > 0:
            status = "done" if roll < 0.8 else "failed" if roll < 0.88 else "cancelled" if roll < 0.9 else "planned"
        elif age == 0 and roll < 0.4:
            status = "done"
        created = self._dt(due - datetime.timedelta(days=20), rng.randrange(600))
        row = dict.fromkeys(self.columns)
        row.update(
            id=pk, created_at=created, updated_at=created, version=1, rule_id=rule_id, visit_type=visit_type,
            customer_id=rng.randint(*self.customer_range), period_key=f"{due:%Y-%m}#v{pk}",
            due_date=due.isoformat() if self.vendor == "sqlite" else due, assignee_id=assignee, team_id=team,
            region_id=region, status=status, channel=rng.choices(("phone", "onsite", "messaging"), (80, 12, 8))[0],
            attempts=0, max_attempts=3, retry_working_days=1, outcome="", questionnaire_version_id=self.version_id,
            answers="{}", notes="", next_action="", arrived=False, deal=False,
        )  # fmt: skip
        if status in ("done", "failed") or (status == "planned" and age > 0 and roll < 0.5):
            done = self._dt(due, rng.randrange(540))
            row.update(updated_at=done, attempts=rng.choice((1, 1, 2)), outcome="no_answer")
            if status == "done":
                score, nps = rng.choices((5, 4, 3, 2, 1), (45, 35, 12, 5, 3))[0], rng.randrange(11)
                row.update(outcome="reached", done_at=done, done_by_id=assignee, satisfaction=score, nps=nps)
                row.update(answers=json.dumps({"overall": score, "needs": ["暂无"]}), notes="客户对服务满意")
                if rng.random() < 0.05:
                    row.update(arrived=True, deal=True, deal_amount=str(rng.randrange(800, 30000, 100)))
            elif status == "failed":
                row.update(attempts=3, done_at=done, done_by_id=assignee)
        return tuple(row[c] for c in self.columns)

    def grow_to(self, target: int) -> float:
        from django.db import transaction

        from kefu.visits.models import Visit

        have = Visit.objects.count()
        next_id = (Visit.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        self._pragma_cache(512 * 1024)
        started, inserted = time.perf_counter(), 0
        try:
            while have < target:
                size = min(BATCH, target - have)
                with transaction.atomic():
                    self._write([self._row(next_id + n) for n in range(size)])
                next_id, have, inserted = next_id + size, have + size, inserted + size
                if inserted % 500_000 < BATCH:
                    print(f"  … {have:,} visits ({inserted / (time.perf_counter() - started):,.0f} rows/s)", flush=True)
            if self.vendor == "postgresql":
                with self.connection.cursor() as cursor:
                    cursor.execute("SELECT setval(pg_get_serial_sequence('visits_visit', 'id'), %s)", [next_id])
        finally:
            self._pragma_cache(2000)
        return inserted / (time.perf_counter() - started) if inserted else 0.0

    def _pragma_cache(self, kib: int) -> None:
        if self.vendor == "sqlite":  # a big page cache while loading, the default again to measure
            with self.connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size=-{kib}")

    def _write(self, rows) -> None:
        names = ", ".join(self.columns)
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY visits_visit ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO visits_visit ({names}) VALUES ({marks})", rows)


# --- call list -------------------------------------------------------------------------


def fresh(user):
    """The user as a new request sees it: permissions, regions and departments not yet
    cached on the object (each costs its query again, as in a request)."""
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_kefu_region_ids", "_kefu_department_ids"):
        user.__dict__.pop(attr, None)
    return user


def call_list_page(user, today):
    """The agent's first page of today's and overdue visits, rows with their customer."""
    from kefu.core.pagination import keyset_page
    from kefu.visits.selectors import call_list

    queryset = call_list(user=fresh(user), today=today, section="due")
    page = keyset_page(queryset, order=("due_date", "id"), cursor=None, size=50)
    for visit in page.items:
        _ = (visit.customer.name, visit.customer.customer_class_id, visit.rule, visit.ticket)
    return page


def explain(user, today) -> str:
    """The plan of the page query (PostgreSQL: with ANALYZE, actual rows and timings)."""
    from django.db import connection

    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        call_list_page(user, today)
    sql, params = next(c for c in reversed(captured) if "LIMIT" in c[0])
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    query = sql if connection.vendor == "postgresql" else sql.replace("%s", "?")
    return f"    {query}\n    params {params}\n" + "\n".join("    " + " ".join(str(c) for c in row) for row in rows)


def run_calls(label: str, args, agents: list, today: datetime.date, results: dict) -> None:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from kefu.visits.models import Visit
    from kefu.visits.selectors import call_list

    total = Visit.objects.count()
    print(f"\n== {label}: {total:,} visits ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})")
    # Twenty agents taken in turn, so no figure is one agent's cached pages.
    chosen = agents[:: max(1, len(agents) // 20)][:20]
    due = sorted(call_list(user=fresh(a), today=today, section="due").count() for a in chosen)
    print(
        f"  due today + overdue per agent (of {len(chosen)}): min {due[0]}, median {due[len(due) // 2]}, max {due[-1]}"
    )
    rows = {}
    turn = itertools.cycle(chosen)
    rows["call list p1, due (selector + keyset_page)"] = timed(lambda: call_list_page(next(turn), today), args.repeat)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    clients = []
    for agent in chosen:
        client = Client()
        client.force_login(agent)
        clients.append(client)
    url = reverse("visits:list")
    pages = itertools.cycle(clients)

    def html_page():
        response = next(pages).get(url, {"tab": "due"})
        assert response.status_code == 200, response.status_code

    rows["HTML page, due tab (test client, whole page)"] = timed(html_page, args.repeat)
    for name, (p50, p95) in rows.items():
        print(f"  {name:<50} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms")
    print("  plan of the page query:\n" + explain(fresh(chosen[0]), today))
    results[label] = {"total": total, "rows": rows}


def print_ratio(results: dict, small: str, large: str) -> None:
    print(f"\n== ratio p50 at {large} / p50 at {small} visits")
    a, b = results[small]["rows"], results[large]["rows"]
    for name, (p50, _p95) in b.items():
        ratio = p50 / a[name][0] if a[name][0] else float("inf")
        print(f"  {name:<50} {a[name][0]:8.1f} → {p50:8.1f} ms   ×{ratio:4.2f}")


# --- main ------------------------------------------------------------------------------


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return
    start_spawner()
    if args.database_url.startswith("postgres") and not args.keep:
        recreate_postgres(args.database_url)
    sqlite_file = Path(args.data_dir or "/nonexistent") / "kefu.sqlite3"
    if not args.database_url and sqlite_file.exists() and not args.keep:
        sys.exit(f"{sqlite_file} exists: pass --keep to reuse its rows, or an empty --data-dir")
    setup_django(args)
    from customers_bench import prepare

    print(f"data dir: {args.data_dir}")
    started = time.perf_counter()
    prepare(args)
    rules = configure_rules()
    if not args.skip_plan:
        run_plans(args, rules)
    if args.skip_calls:
        print(f"\ntotal time {time.perf_counter() - started:,.0f} s; data dir {args.data_dir}")
        return
    if args.skip_plan:  # the visits need customers
        print(f"\n-- growing the archive to {args.customers:,} customers (child process)", flush=True)
        print("  " + json.dumps(spawn("load", args, target=args.customers)), flush=True)
    clear_visits()
    today = today_of(args)
    agents = ensure_agents(args.agents)
    inserter = VisitInserter(agents, today)
    results: dict = {}
    sizes = sorted({min(args.small_visits, args.visits), args.visits})
    for size in sizes:
        print(f"\n== inserting up to {size:,} visits over {len(agents)} agents", flush=True)
        rate = inserter.grow_to(size)
        print(f"  {rate:,.0f} rows/s")
        if not args.no_analyze:
            analyze()
        run_calls(f"{size:,}", args, agents, today, results)
    if len(sizes) == 2:
        print_ratio(results, f"{sizes[0]:,}", f"{sizes[1]:,}")
    print(f"\ntotal time {time.perf_counter() - started:,.0f} s; data dir {args.data_dir}")


if __name__ == "__main__":
    main()
