#!/usr/bin/env python
"""Tickets benchmark: the queue list, the supervision job and ticket creation at scale
(issue 4).

    python bench/tickets_bench.py --rows 1000000
    python bench/tickets_bench.py --rows 1000000 --database-url postgres://postgres@127.0.0.1:5432/kefu_bench

Creates a fresh database (SQLite in a temporary data dir unless --data-dir/--database-url
say otherwise), loads the profile with its demo logins, customers and tickets, then
bulk-inserts tickets with 3 events each and 投诉告知单 slips for a share of them (raw
multi-row inserts, COPY on PostgreSQL). At --small and at --rows tickets it prints, in
process: the queue list (department + status, sorted by due time, page 1 and page 1,000)
p50/p95 with the query plans, the supervision job (`supervision_run`), and `ticket_create`
throughput in a loop. At the end, on PostgreSQL, create throughput over HTTP: `kefu serve`
in a child process and 8 concurrent clients posting to `POST /api/v1/tickets`.
Not a test: it prints figures."""

from __future__ import annotations

import argparse
import collections
import datetime
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from customers_bench import analyze, recreate_postgres, setup_django, timed  # noqa: E402

BATCH = 5000
RECENT_DAYS = 14  # open tickets were registered in the last two weeks
SPAN_DAYS = 730  # the rest over two years


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="tickets at the large size (default 1000000)")
    parser.add_argument("--small", type=int, default=10_000, help="tickets at the small size (default 10000)")
    parser.add_argument("--database-url", default="", help="e.g. postgres://postgres@127.0.0.1:5432/kefu_bench")
    parser.add_argument("--data-dir", default="", help="KEFU_DATA_DIR (default: a new temporary directory)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per list figure (default 30)")
    parser.add_argument("--profile", default="decoration")
    parser.add_argument("--slip-share", type=float, default=0.8, help="share of routed-kind tickets with slips")
    parser.add_argument("--creates", type=int, default=2000, help="ticket_create calls per size (default 2000)")
    parser.add_argument("--http-requests", type=int, default=4000, help="POSTs over HTTP (default 4000)")
    parser.add_argument("--http-clients", type=int, default=8)
    parser.add_argument(
        "--http", choices=["auto", "yes", "no"], default="auto", help="HTTP figure (auto: on PostgreSQL only)"
    )
    parser.add_argument("--skip-list", action="store_true")
    parser.add_argument("--skip-supervision", action="store_true")
    parser.add_argument("--skip-create", action="store_true")
    parser.add_argument("--no-analyze", action="store_true", help="measure without running ANALYZE first")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the rows already in the database (PostgreSQL: do not recreate it)"
    )
    return parser.parse_args(argv)


# --- setup -----------------------------------------------------------------------------


def prepare(args) -> dict:
    """A migrated database with the profile loaded: configuration, demo logins, demo
    customers (the bulk tickets' customers) and the demo tickets."""
    from django.core.management import call_command

    from kefu.core.models import User
    from kefu.customers.models import Customer
    from kefu.profiles.services import profile_load
    from kefu.tickets.models import Ticket

    call_command("migrate", verbosity=0, interactive=False)
    if not User.objects.filter(username="manager").exists():
        started = time.perf_counter()
        profile_load(code=args.profile, demo=True)
        print(f"  profile {args.profile} with demo data loaded in {time.perf_counter() - started:.1f} s")
    users = {u.username: u for u in User.objects.all()}
    return {
        "users": users,
        "customers": list(Customer.objects.filter(merged_into__isnull=True).values_list("pk", "region_id")),
        "count": Ticket.objects.count(),
    }


# --- fast inserts ----------------------------------------------------------------------

OLD_STATUSES = (
    ("closed", 930), ("withdrawn", 30), ("duplicate", 15), ("merged", 10), ("confirmed", 8), ("resolved", 7),
)  # fmt: skip
RECENT_STATUSES = (
    ("registered", 8), ("routed", 15), ("in_progress", 30), ("resolved", 20), ("confirmed", 7), ("closed", 20),
)  # fmt: skip
KIND_WEIGHTS = {"complaint": 40, "repair": 30, "inquiry": 18, "return": 3, "suggestion": 9}
OPEN = ("registered", "routed", "in_progress")


class TicketInserter:
    """Generates tickets like the demo's (kinds, categories, severities, channels, the
    SLA policy each would match, deadlines, outcomes) and writes them with raw
    multi-row inserts (COPY on PostgreSQL): the ticket, 3 events, and a slip (two for
    one in ten) for `--slip-share` of the routed kinds, to the department the profile
    names for the category."""

    def __init__(self, args, ctx):
        from django.db import connection

        from kefu.core.models import Department
        from kefu.tickets import sla
        from kefu.tickets.models import Ticket as TicketModel
        from kefu.tickets.models import (
            TicketCategory,
            TicketEvent,
            TicketKind,
            TicketRouting,
            TicketSettings,
        )
        from kefu.tickets.profile_data import PROFILES

        self.connection, self.vendor = connection, connection.vendor
        self.rng = random.Random(4)
        self.args = args
        users = ctx["users"]
        self.agents = {u.region_id: u.pk for u in (users["agent2"], users["agent"]) if u.region_id}
        self.manager = users["manager"].pk
        self.customers = ctx["customers"]
        self.kinds = {k.code: k for k in TicketKind.objects.all()}
        self.kind_codes = [c for c in KIND_WEIGHTS if c in self.kinds]
        self.kind_weights = [KIND_WEIGHTS[c] for c in self.kind_codes]
        departments = {d.code: d.pk for d in Department.objects.all()}
        worker = users["dept"].department_id
        mapping = PROFILES[args.profile].departments_for
        self.categories: dict[str, list[tuple[int, list[int]]]] = {}
        for node in TicketCategory.objects.select_related("parent").filter(is_active=True):
            top = node.parent.name if node.parent else node.name
            targets = [departments[c] for c in mapping.get(top, []) if c in departments] or [worker]
            for code, kind in self.kinds.items():
                if node.kind_id in (None, kind.pk):
                    self.categories.setdefault(code, []).append((node.pk, targets))
        self.settings = TicketSettings.current()
        self._policies: dict = {}
        self._match = sla.match_policy
        self.counters: dict = {}
        self.columns = {
            "tickets_ticket": self._columns(TicketModel),
            "tickets_ticketevent": self._columns(TicketEvent),
            "tickets_ticketrouting": self._columns(TicketRouting),
        }
        self.now = time.time()

    @staticmethod
    def _columns(model) -> tuple[list[str], dict]:
        """Every column and its default (the database holds no defaults: Django sets them)."""
        names, defaults = [], {}
        for field in model._meta.concrete_fields:
            if field.generated:  # computed by the database (Ticket.is_open)
                continue
            names.append(field.column)
            default = field.get_default() if field.has_default() else (None if field.null else "")
            defaults[field.column] = json.dumps(default) if field.get_internal_type() == "JSONField" else default
        return names, defaults

    def policy(self, kind_id: int, severity: str, category_id: int):
        key = (kind_id, severity, category_id)
        if key not in self._policies:
            from kefu.tickets.models import TicketCategory

            category = TicketCategory.objects.get(pk=category_id) if category_id else None
            policy = self._match(kind_id=kind_id, severity=severity, category=category)
            minutes = policy.resolve_minutes if policy else self.settings.default_resolve_minutes
            self._policies[key] = (policy.pk if policy else None, minutes)
        return self._policies[key]

    def _dt(self, seconds: float):
        moment = datetime.datetime.fromtimestamp(int(seconds), datetime.UTC)
        return str(moment.replace(tzinfo=None)) if self.vendor == "sqlite" else moment

    def _number(self, prefix: str, seconds: float) -> str:
        day = datetime.datetime.fromtimestamp(seconds).date()  # the server's local day, as the service numbers
        seq = self.counters.get((prefix, day), 0) + 1
        self.counters[(prefix, day)] = seq
        self.touched.add((prefix, day))
        return f"{prefix}-{day:%Y%m%d}-{seq:04d}"

    def grow_to(self, target: int) -> float:
        from kefu.tickets.models import Ticket, TicketNumberCounter

        have = Ticket.objects.count()
        # The services may have numbered tickets since (the create figures): go on from there.
        self.counters = {(c.prefix, c.day): c.last_seq for c in TicketNumberCounter.objects.all()}
        self._pragma_cache(512 * 1024)
        started, inserted = time.perf_counter(), 0
        try:
            while have < target:
                size = min(BATCH, target - have)
                self._batch(size)
                have += size
                inserted += size
                if inserted % 100_000 < BATCH:
                    rate = inserted / (time.perf_counter() - started)
                    print(f"  … {have:,} tickets ({rate:,.0f} tickets/s with their events and slips)", flush=True)
        finally:
            self._pragma_cache(2000)
        elapsed = time.perf_counter() - started
        return inserted / elapsed if inserted else 0.0

    def _pragma_cache(self, kib: int) -> None:
        if self.vendor == "sqlite":  # a big page cache while loading, the default again to measure
            with self.connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size=-{kib}")

    def _next_ids(self, table: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            return cursor.fetchone()[0] + 1

    def _batch(self, size: int) -> None:
        from django.db import transaction

        with transaction.atomic():
            self.touched: set = set()
            ticket_id = self._next_ids("tickets_ticket")
            event_id = self._next_ids("tickets_ticketevent")
            routing_id = self._next_ids("tickets_ticketrouting")
            tickets, events, routings = [], [], []
            for offset in range(size):
                t, e, r = self._ticket(ticket_id + offset, event_id, routing_id)
                tickets.append(t)
                events += e
                routings += r
                event_id += len(e)
                routing_id += len(r)
            self._write("tickets_ticket", tickets)
            self._write("tickets_ticketrouting", routings)
            self._write("tickets_ticketevent", events)
            self._save_counters()
            if self.vendor == "postgresql":
                with self.connection.cursor() as cursor:
                    for table in ("tickets_ticket", "tickets_ticketevent", "tickets_ticketrouting"):
                        cursor.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                        )

    def _save_counters(self) -> None:
        from kefu.tickets.models import TicketNumberCounter

        TicketNumberCounter.objects.bulk_create(
            [TicketNumberCounter(prefix=p, day=d, last_seq=self.counters[(p, d)]) for p, d in self.touched],
            update_conflicts=True,
            unique_fields=["prefix", "day"],
            update_fields=["last_seq"],
        )

    def _ticket(self, pk: int, event_id: int, routing_id: int):
        rng, H = self.rng, 3600.0
        code = rng.choices(self.kind_codes, self.kind_weights)[0]
        kind = self.kinds[code]
        category_id, targets = rng.choice(self.categories[code])
        severity = rng.choices(("normal", "important", "major", "urgent"), (80, 15, 4, 1))[0]
        policy_id, minutes = self.policy(kind.pk, severity, category_id)
        recent = rng.random() < RECENT_DAYS / SPAN_DAYS * 1.2
        created = self.now - (rng.uniform(0, RECENT_DAYS) if recent else rng.uniform(RECENT_DAYS, SPAN_DAYS)) * 86400
        status = rng.choices(*zip(*(RECENT_STATUSES if recent else OLD_STATUSES), strict=True))[0]
        customer_id, region_id = (
            rng.choice(self.customers) if kind.requires_customer or rng.random() < 0.6 else (None, None)
        )
        agent = self.agents.get(region_id, self.manager)
        allowance = minutes / 450 * 1.4 * 86400  # working minutes → calendar time, roughly
        due = created + allowance
        t = {
            "id": pk, "created_at": self._dt(created), "version": 3, "number": self._number(kind.prefix, created),
            "kind_id": kind.pk, "status": status, "customer_id": customer_id, "channel": "phone",
            "category_id": category_id, "severity": severity, "title": f"压测工单 {pk}",
            "description": "业主来电反映：卫生间地面渗水到楼下，要求尽快处理。", "region_id": region_id,
            "assignee_id": agent, "created_by_id": agent, "sla_policy_id": policy_id,
            "response_due_at": self._dt(created + allowance / 10), "resolve_due_at": self._dt(due),
            "first_response_at": self._dt(created + 600), "sla_state": "on_track",
        }  # fmt: skip
        last = created + rng.uniform(0.2, 1.3) * allowance
        if status in OPEN:
            self._open_sla(t, created, due, allowance)
            last = created + 1200
        elif status in ("withdrawn", "duplicate", "merged"):
            t["closed_at"] = self._dt(created + 3 * H)
            if status != "withdrawn" and pk > 1:
                t["merged_into_id"] = pk - 1
        else:
            t.update(resolved_at=self._dt(last), resolution="已上门维修，业主确认问题解决。", resolved_by_id=agent)
            t["sla_state"] = "breached" if last > due else "on_track"
            if status in ("confirmed", "closed"):
                t.update(confirmed_at=self._dt(last + 86400), satisfaction=rng.choice((3, 4, 4, 5, 5, 5)))
            if status == "closed":
                t["closed_at"] = self._dt(last + 2 * 86400)
        t["updated_at"] = t.get("closed_at") or self._dt(last)
        events = [(event_id, pk, "ticket.registered", agent, t["created_at"], None, "", "{}")]
        routings = []
        if kind.requires_routing and status != "registered" and rng.random() < self.args.slip_share:
            count = 2 if rng.random() < 0.1 and len(targets) > 1 else 1
            for number, department_id in enumerate(rng.sample(targets, count) if count > 1 else targets[:1], 1):
                routings.append(self._slip(routing_id + number - 1, t, number, department_id, status, created, agent))
            events.append((event_id + 1, pk, "ticket.routed", agent, self._dt(created + 900), routing_id, "", "{}"))
        else:
            events.append(
                (event_id + 1, pk, "ticket.comment", agent, self._dt(created + 900), None, "已联系客户", "{}")
            )
        closing = {"closed": "ticket.closed", "withdrawn": "ticket.withdrawn", "duplicate": "ticket.duplicate"}
        code3 = closing.get(status, "ticket.merged" if status == "merged" else "ticket.handling")
        events.append((event_id + 2, pk, code3, agent, t["updated_at"], None, "", "{}"))
        names, defaults = self.columns["tickets_ticket"]
        return tuple(t.get(n, defaults[n]) for n in names), events, routings

    def _open_sla(self, t: dict, created: float, due: float, allowance: float) -> None:
        """Deadlines as the supervision job leaves them: overdue ones marked and
        escalated with their next level due later; the others with their warning
        (80 % of the allowance) and first escalation still ahead — a few of each due
        within the last minutes, what a job running every few minutes finds."""
        rng, now = self.rng, self.now
        warn = created + allowance * self.settings.warn_percent / 100
        if rng.random() < 0.004:
            t["warn_at"] = self._dt(now - rng.uniform(0, 600))
            t["next_escalation_at"] = self._dt(due)
        elif rng.random() < 0.004:
            t.update(sla_state="warning", next_escalation_at=self._dt(now - rng.uniform(0, 600)))
        elif due <= now:
            level = rng.choice((1, 1, 2, 3))
            t.update(sla_state="breached", escalation_level=level)
            t["next_escalation_at"] = None if level == 3 else self._dt(now + rng.uniform(1, 48) * 3600)
        elif warn <= now:
            t.update(sla_state="warning", next_escalation_at=self._dt(due))
        else:
            t.update(warn_at=self._dt(warn), next_escalation_at=self._dt(due))
        if t["status"] == "registered":
            t["first_response_at"] = None

    def _slip(self, pk, t, number, department_id, status, created, agent):
        names, defaults = self.columns["tickets_ticketrouting"]
        state = {"routed": "sent", "in_progress": "accepted", "withdrawn": "cancelled"}.get(status, "replied")
        row = {
            "id": pk, "ticket_id": t["id"], "department_id": department_id, "slip_no": f"{t['number']}-{number:02d}",
            "status": state, "due_at": self._dt(created + 2 * 86400), "routed_by_id": agent,
            "routed_at": self._dt(created + 900),
        }  # fmt: skip
        if state in ("accepted", "replied"):
            row.update(accepted_at=self._dt(created + 3600))
        if state == "replied":
            row.update(reply="已处理完毕", replied_at=self._dt(created + 7200))
        if state == "cancelled":
            row.update(cancelled_at=self._dt(created + 3 * 3600))
        return tuple(row.get(n, defaults[n]) for n in names)

    def _write(self, table: str, rows) -> None:
        if not rows:
            return
        names = self.columns[table][0]
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(names))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)


# --- measurements ----------------------------------------------------------------------


def queue_page(user, filters, cursor=None):
    """What the desk's queue asks the database: scoped, filtered, one keyset page of 50
    sorted by due time, with the related rows a list row shows."""
    from kefu.core.pagination import keyset_page
    from kefu.tickets.selectors import SORTS, ticket_list, with_list_related

    qs = with_list_related(ticket_list(user=user, filters=filters))
    page = keyset_page(qs, order=SORTS["due"], cursor=cursor, ids_first=True)
    for ticket in page.items:
        _ = (ticket.kind, ticket.customer, ticket.category, ticket.assignee, ticket.region)
    return page


def cursor_for_page(user, filters, number: int) -> tuple[str | None, int]:
    """The cursor of page `number`, walking the pages as a reader would (or of the last)."""
    from kefu.core.pagination import keyset_page
    from kefu.tickets.selectors import SORTS, ticket_list

    cursor, reached = None, 1
    qs = ticket_list(user=user, filters=filters).only("id", "resolve_due_at")
    while reached < number:
        page = keyset_page(qs, order=SORTS["due"], cursor=cursor, size=50)
        if not page.next_cursor:
            break
        cursor, reached = page.next_cursor, reached + 1
    return cursor, reached


def explain(user, filters, cursor) -> str:
    """The plan of the page query (PostgreSQL: with ANALYZE, actual rows and timings)."""
    from django.db import connection

    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        queue_page(user, filters, cursor)
    sql, params = captured[-1]
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor_:
        cursor_.execute(prefix + sql, params)
        rows = cursor_.fetchall()
    return "\n".join("    " + " ".join(str(c) for c in row) for row in rows)


def run_lists(label: str, args, results: dict) -> None:
    from kefu.core.models import User
    from kefu.tickets.choices import OPEN_STATUSES
    from kefu.tickets.selectors import TicketFilters

    manager, dept = User.objects.get(username="manager"), User.objects.get(username="dept")
    department = dept.department_id
    cases = {
        "dept + closed [manager]": (manager, TicketFilters(department=[department], status=["closed"])),
        "dept + open [manager]": (manager, TicketFilters(department=[department], status=list(OPEN_STATUSES))),
        "department queue + routed/in progress [dept]": (
            dept,
            TicketFilters(queue="department", status=["routed", "in_progress"]),
        ),
    }
    rows, plans = {}, {}
    for name, (user, filters) in cases.items():
        deep, reached = cursor_for_page(user, filters, 1000)
        rows[f"queue p1 {name}"] = timed(lambda u=user, f=filters: queue_page(u, f), args.repeat)
        rows[f"queue p1000 {name}"] = timed(lambda u=user, f=filters, c=deep: queue_page(u, f, c), args.repeat)
        results.setdefault("deep", {})[f"{label} {name}"] = reached
        print(f"  {name}: page 1000 → reached page {reached}")
        plans[name] = (explain(user, filters, None), explain(user, filters, deep))
    for name, (p50, p95) in rows.items():
        print(f"  {name:<62} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms")
    for name, (first, deep) in plans.items():
        print(f"  plan, {name}, page 1:\n{first}\n  plan, page 1000:\n{deep}")
    results[label] = {"rows": rows}


def run_supervision(label: str) -> None:
    """The job as it runs every few minutes: first whatever has come due since the load
    (warnings, escalations — per-ticket work), then at once again (nothing due: the
    set-based scan alone)."""
    from django.db.models import Count

    from kefu.tickets.choices import OPEN_STATUSES
    from kefu.tickets.models import Ticket
    from kefu.tickets.services.escalation import supervision_run

    open_count = Ticket.objects.filter(status__in=OPEN_STATUSES).count()
    print(f"  {open_count:,} open tickets; by SLA state: ", end="")
    print(dict(Ticket.objects.filter(status__in=OPEN_STATUSES).values_list("sla_state").annotate(n=Count("id"))))
    for run in ("catch-up run", "steady run (nothing due)"):
        started = time.perf_counter()
        result = supervision_run()
        elapsed = time.perf_counter() - started
        print(
            f"  supervision_run, {run:<26} {elapsed:7.2f} s  marked breached {result.marked_breached:,}, "
            f"warned {result.warned:,}, escalations {result.escalations:,}"
        )


def run_creates(label: str, args) -> None:
    """`ticket_create` in a loop, one transaction each as in a request: tickets/s, and
    what each create asks the database (the evidence for where the time goes)."""
    from django.db import connection

    from kefu.core.models import User
    from kefu.customers.models import Customer
    from kefu.tickets.models import TicketCategory, TicketKind
    from kefu.tickets.services.tickets import TicketInput, ticket_create

    agent = User.objects.get(username="agent")
    customers = list(Customer.objects.filter(region=agent.region, merged_into__isnull=True)[:100])
    kinds = {k.code: k for k in TicketKind.objects.all()}
    categories = list(TicketCategory.objects.filter(kind=kinds["complaint"], parent__isnull=False))
    inputs = [
        TicketInput(
            kind=kinds["complaint"],
            title="卫生间漏水到楼下",
            description="业主来电反映：主卫地面渗水，楼下天花板出现水渍。",
            customer=customers[i % len(customers)],
            category=categories[i % len(categories)],
            severity=("normal", "important")[i % 2],
        )
        for i in range(args.creates + 20)
    ]
    for data in inputs[:20]:
        ticket_create(actor=agent, data=data)
    statements: collections.Counter = collections.Counter()

    def count(execute, sql, params, many, context):
        statements[" ".join(sql.split()[:6])[:90]] += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    for data in inputs[20:]:
        ticket_create(actor=agent, data=data)
    elapsed = time.perf_counter() - started
    with connection.execute_wrapper(count):
        ticket_create(actor=agent, data=inputs[0])
    print(
        f"  ticket_create ×{args.creates:,}: {args.creates / elapsed:,.0f} tickets/s "
        f"({elapsed * 1000 / args.creates:.2f} ms each; {sum(statements.values())} statements per create)"
    )
    for sql, n in statements.most_common():
        print(f"    {n:3} × {sql}")


# --- over HTTP -------------------------------------------------------------------------


def run_http(args) -> None:
    """`kefu serve` (waitress, 8 threads, with its job consumer) in a child process; 8
    client threads posting tickets with their own Idempotency-Key, keep-alive."""
    from kefu.core.models import User
    from kefu.core.tokens import token_create
    from kefu.customers.models import Customer
    from kefu.tickets.models import TicketCategory, TicketKind

    agent = User.objects.get(username="agent")
    _token, raw = token_create(user=agent, name="bench")
    customers = list(
        Customer.objects.filter(region=agent.region, merged_into__isnull=True).values_list("pk", flat=True)
    )
    kind = TicketKind.objects.get(code="complaint")
    categories = list(TicketCategory.objects.filter(kind=kind, parent__isnull=False).values_list("pk", flat=True))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    log = open(Path(args.data_dir) / "bench-serve.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(  # noqa: S603 (our own module)
        [sys.executable, "-m", "kefu", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(port)
        samples, statuses, first_error = _post_many(args, port, raw, customers, categories)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    wall = samples.pop("wall")
    latencies = sorted(samples["latencies"])
    errors = sum(n for status, n in statuses.items() if status != 201)
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
    print(
        f"  POST /api/v1/tickets, {args.http_clients} clients, {len(latencies):,} requests: "
        f"{len(latencies) / wall:,.0f} requests/s, p50 {statistics.median(latencies):.0f} ms, p99 {p99:.0f} ms, "
        f"errors {errors} (statuses {dict(statuses)})"
    )
    if first_error:
        print(f"  first error: {first_error[:500]}")


def _wait_for(port: int) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("kefu serve did not start: see bench-serve.log")


def _post_many(args, port, token, customers, categories):
    total, lock = args.http_requests, threading.Lock()
    state = {"sent": 0, "latencies": [], "first_error": ""}
    statuses: collections.Counter = collections.Counter()

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if state["sent"] >= total:
                    break
                state["sent"] += 1
                index = state["sent"]
            body = json.dumps(
                {
                    "kind": "complaint",
                    "title": "卫生间漏水到楼下",
                    "description": "业主来电反映：主卫地面渗水，楼下天花板出现水渍。",
                    "customer_id": customers[index % len(customers)],
                    "category_id": categories[index % len(categories)],
                }
            )
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            }
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/tickets", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, payload = 0, str(exc).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[status] += 1
                state["latencies"].append(elapsed)
                if status != 201 and not state["first_error"]:
                    state["first_error"] = f"{status} {payload.decode(errors='replace')}"
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.http_clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"latencies": state["latencies"], "wall": wall}, statuses, state["first_error"]


# --- main ------------------------------------------------------------------------------


def print_ratio(results: dict, small: str, large: str) -> None:
    print(f"\n== ratio p50 at {large} / p50 at {small} (flat ≤ 1.5)")
    a, b = results[small]["rows"], results[large]["rows"]
    for name, (p50, _p95) in b.items():
        if name in a:
            ratio = p50 / a[name][0] if a[name][0] else float("inf")
            flag = "" if ratio <= 1.5 else "   > 1.5"
            print(f"  {name:<62} {a[name][0]:8.1f} → {p50:8.1f} ms   ×{ratio:4.2f}{flag}")
    print("  pages reached (page 1000 asked): " + json.dumps(results.get("deep", {}), ensure_ascii=False))


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.database_url.startswith("postgres") and not args.keep:
        recreate_postgres(args.database_url)
    sqlite_file = Path(args.data_dir or "/nonexistent") / "kefu.sqlite3"
    if not args.database_url and sqlite_file.exists() and not args.keep:
        sys.exit(f"{sqlite_file} exists: pass --keep to reuse its rows, or an empty --data-dir")
    setup_django(args)
    from django.db import connection

    print(f"data dir: {args.data_dir}; database: {connection.vendor}")
    started = time.perf_counter()
    ctx = prepare(args)
    inserter = TicketInserter(args, ctx)
    results: dict = {}
    sizes = [s for s in sorted({min(args.small, args.rows), args.rows}) if s >= ctx["count"]] or [ctx["count"]]
    for size in sizes:
        print(f"\n== inserting up to {size:,} tickets")
        rate = inserter.grow_to(size)
        if rate:
            print(f"  {rate:,.0f} tickets/s (each with 3 events; slips for {args.slip_share:.0%} of routed kinds)")
        if not args.no_analyze:
            analyze()
        label = f"{size:,}"
        print(f"\n== {label} tickets ({connection.vendor})")
        if not args.skip_list:
            run_lists(label, args, results)
        if not args.skip_supervision:
            run_supervision(label)
        if not args.skip_create:
            run_creates(label, args)
    if len(sizes) == 2 and not args.skip_list:
        print_ratio(results, f"{sizes[0]:,}", f"{sizes[1]:,}")
    if args.http == "yes" or (args.http == "auto" and connection.vendor == "postgresql"):
        print(f"\n== create over HTTP against `kefu serve` ({connection.vendor})")
        run_http(args)
    print(f"\ntotal time {time.perf_counter() - started:,.0f} s; data dir {args.data_dir}")


if __name__ == "__main__":
    main()
