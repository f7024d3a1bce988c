#!/usr/bin/env python
"""Customer archive benchmark: list, search, import and export at scale (issue 3).

    python bench/customers_bench.py --rows 1000000
    python bench/customers_bench.py --rows 1000000 --database-url postgres://postgres@127.0.0.1:5432/kefu_bench

Creates a fresh database (SQLite in a temporary data dir unless --data-dir/--database-url
say otherwise), loads the manufacturing profile, bulk-inserts generated customers with
`kefu.customers.demo.generate_customers`, and prints p50/p95 latencies measured in
process at --small rows (10,000) and at --rows, with their ratio. Then, when the modules
exist, the import of --import-rows rows and the export of every row, each in a child
process so that its peak memory (VmHWM) is its own. Not a test: it prints figures."""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BATCH = 5000


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="customers at the large size (default 200000)")
    parser.add_argument("--small", type=int, default=10_000, help="customers at the small size (default 10000)")
    parser.add_argument("--database-url", default="", help="e.g. postgres://postgres@127.0.0.1:5432/kefu_bench")
    parser.add_argument("--data-dir", default="", help="KEFU_DATA_DIR (default: a new temporary directory)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per measurement (default 30)")
    parser.add_argument("--profile", default="manufacturing")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--skip-list", action="store_true", help="no list/search measurements")
    parser.add_argument("--no-analyze", action="store_true", help="measure without running ANALYZE first")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the rows already in the database (PostgreSQL: do not recreate it)"
    )
    parser.add_argument("--import-format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument(
        "--import-start", type=int, default=9_000_000, help="phone/card range of the imported rows (a new one per run)"
    )
    parser.add_argument(
        "--import-no-spool",
        action="store_true",
        help="delete the check's spool before the commit, so the commit reads the file again (the path before spools)",
    )
    parser.add_argument("--file", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["import", "export", "write-import"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- setup -----------------------------------------------------------------------------


def setup_django(args) -> None:
    if not args.data_dir:
        args.data_dir = tempfile.mkdtemp(prefix="kefu-bench-")
    os.environ["KEFU_DATA_DIR"] = args.data_dir
    if args.database_url:
        os.environ["KEFU_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("KEFU_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


def recreate_postgres(url: str) -> None:
    """Drop and create the benchmark's own database (its name must contain "bench")."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    name = cfg["NAME"]
    if "bench" not in name:
        sys.exit(f"refusing to recreate database {name!r}: use a database whose name contains 'bench'")
    admin = psycopg.connect(
        dbname="postgres",
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")


def prepare(args) -> dict:
    """A migrated database with the profile loaded (configuration and demo logins)."""
    from django.core.management import call_command

    from kefu.core.models import Region, User
    from kefu.customers.demo import demo_owners
    from kefu.customers.models import Customer
    from kefu.customers.profile_data import ARCHIVE_PROFILES
    from kefu.customers.profile_step import archive_config_load
    from kefu.profiles.definitions import PROFILES
    from kefu.profiles.services import profile_load

    call_command("migrate", verbosity=0, interactive=False)
    if not User.objects.filter(username="manager").exists():
        profile_load(code=args.profile, demo=True)
        from django.db import transaction

        with transaction.atomic():
            archive_config_load(ARCHIVE_PROFILES[args.profile])
    region_codes = [c for c, _n in PROFILES[args.profile].regions]
    return {
        "regions": region_codes,
        "owners": demo_owners(region_codes),
        "region_ids": dict(Region.objects.values_list("code", "pk")),
        "count": Customer.objects.count(),
    }


# --- fast inserts ----------------------------------------------------------------------

CUSTOMER_COLUMNS = (
    "id", "created_at", "updated_at", "version", "kind", "archive_no", "name", "name_initials", "id_number",
    "gender", "birthday", "address", "region_id", "owner_id", "customer_class_id", "is_key_account",
    "credit_grade_id", "source_id", "lifecycle", "marketing_consent", "consent_at", "consent_channel",
    "points_balance", "notes", "extra", "search_text", "created_by_id", "merged_into_id",
)  # fmt: skip
CONTACT_COLUMNS = (
    "customer_id",
    "name",
    "role",
    "phone",
    "phone_digits",
    "wechat",
    "email",
    "is_primary",
    "created_at",
)


class Inserter:
    """Writes generated customers with raw multi-row inserts (COPY on PostgreSQL), the
    archive numbers taken in one go per batch, the search text built like the services
    build it (FTS5 triggers on SQLite index each row as it lands)."""

    def __init__(self, args, ctx):
        from django.db import connection

        from kefu.core.models import User
        from kefu.customers import demo, search
        from kefu.customers.demo import generate_customers
        from kefu.customers.models import CreditGrade, CustomerClass, CustomerSource, ProductCategory, Tag
        from kefu.customers.pinyin import name_initials

        # Names repeat a lot at this scale: compute each one's pinyin once (the search
        # text is still built by `build_search_text`, which looks `name_initials` up).
        cached = functools.lru_cache(maxsize=500_000)(
            lambda name, person=True: tuple(name_initials(name, person=person))
        )
        self.initials = search.name_initials = demo.name_initials = lambda name, person=True: list(cached(name, person))

        self.connection = connection
        self.vendor = connection.vendor
        self.regions = ctx["region_ids"]
        self.users = dict(User.objects.values_list("username", "pk"))
        self.classes = dict(CustomerClass.objects.values_list("code", "pk"))
        self.grades = dict(CreditGrade.objects.values_list("code", "pk"))
        self.sources = dict(CustomerSource.objects.values_list("code", "pk"))
        self.categories = dict(ProductCategory.objects.values_list("code", "pk"))
        self.tags = dict(Tag.objects.values_list("name", "pk"))
        self.rows = generate_customers(
            args.profile, 50_000_000, regions=ctx["regions"], owners=ctx["owners"], seed=7, unique=False
        )

    def _dt(self, value):
        return self.connection.ops.adapt_datetimefield_value(value) if self.vendor == "sqlite" else value

    def _pragma_cache(self, kib: int) -> None:
        if self.vendor == "sqlite":  # a big page cache while loading, the default again to measure
            with self.connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size=-{kib}")

    def grow_to(self, target: int) -> float:
        """Insert until the archive holds `target` customers; returns rows/s."""
        from kefu.customers.models import Customer

        self._pragma_cache(512 * 1024)
        try:
            return self._grow_to(target, Customer.objects.count())
        finally:
            self._pragma_cache(2000)

    def _grow_to(self, target: int, have: int) -> float:
        started, inserted = time.perf_counter(), 0
        while have < target:
            size = min(BATCH, target - have)
            self._batch([next(self.rows) for _ in range(size)])
            have += size
            inserted += size
            if inserted % 100_000 < BATCH:
                rate = inserted / (time.perf_counter() - started)
                print(f"  … {have:,} customers ({rate:,.0f} rows/s)", flush=True)
        elapsed = time.perf_counter() - started
        return inserted / elapsed if inserted else 0.0

    def _batch(self, rows) -> None:
        from django.db import transaction

        from kefu.customers.models import Customer
        from kefu.customers.numbering import take_archive_numbers
        from kefu.customers.search import build_search_text
        from kefu.customers.validation import phone_digits

        with transaction.atomic():
            numbers = take_archive_numbers(len(rows))
            first_id = (Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
            customers, contacts, categories, tags = [], [], [], []
            for offset, (row, number) in enumerate(zip(rows, numbers, strict=True)):
                pk = first_id + offset
                person = row.kind == "person"
                customers.append(
                    (
                        pk, self._dt(row.created_at), self._dt(row.updated_at), 1, row.kind, number, row.name,
                        " ".join(self.initials(row.name, person=person))[:200], row.id_number, row.gender,
                        row.birthday, row.address, self.regions.get(row.region_code), self.users.get(row.owner_username),
                        self.classes.get(row.class_code), row.is_key_account, self.grades.get(row.grade_code),
                        self.sources.get(row.source_code), row.lifecycle, row.marketing_consent,
                        self._dt(row.created_at) if row.marketing_consent else None, row.consent_channel, row.points,
                        row.notes, json.dumps(row.extra), build_search_text(
                            name=row.name, person=person, archive_no=number, phones=row.phones
                        ), None, None,
                    )
                )  # fmt: skip
                created = self._dt(row.created_at)
                for c in row.contacts:
                    contacts.append(
                        (pk, c.name, c.role, c.phone, phone_digits(c.phone), c.wechat, c.email, c.is_primary, created)
                    )
                categories += [(pk, self.categories[code]) for code in row.category_codes if code in self.categories]
                tags += [(pk, self.tags[name]) for name in row.tag_names if name in self.tags]
            self._write("customers_customer", CUSTOMER_COLUMNS, customers)
            self._write("customers_contact", CONTACT_COLUMNS, contacts)
            self._write("customers_customer_categories", ("customer_id", "productcategory_id"), categories)
            self._write("customers_customer_tags", ("customer_id", "tag_id"), tags)
            if self.vendor == "postgresql":
                with self.connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), "
                        "(SELECT MAX(id) FROM customers_customer))"
                    )

    def _write(self, table: str, columns, rows) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def analyze() -> None:
    """Planner statistics, as a running installation has them (PostgreSQL's autovacuum;
    SQLite's `PRAGMA optimize`)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- measurements ----------------------------------------------------------------------


def timed(fn, repeat: int) -> tuple[float, float]:
    for _ in range(2):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]


def list_page(user, filters, cursor=None):
    """What the list page does with the database: scoped, filtered, one keyset page of
    50 with the related rows a list row shows."""
    from kefu.core.pagination import keyset_page
    from kefu.customers.selectors import SORTS, customer_list, with_list_related

    page = keyset_page(
        with_list_related(customer_list(user=user, filters=filters)), order=SORTS["-id"], cursor=cursor, size=50
    )
    for customer in page.items:
        _ = (customer.primary_contacts, list(customer.tags.all()), customer.region, customer.owner)
    return page


def cursor_for_page(user, filters, number: int) -> tuple[str | None, int]:
    """The cursor that opens page `number` (walking the pages as a reader would), or the
    last page's when there are fewer."""
    from kefu.core.pagination import keyset_page
    from kefu.customers.selectors import SORTS, customer_list

    cursor, reached = None, 1
    qs = customer_list(user=user, filters=filters).only("id")
    while reached < number:
        page = keyset_page(qs, order=SORTS["-id"], cursor=cursor, size=50)
        if not page.next_cursor:
            break
        cursor, reached = page.next_cursor, reached + 1
    return cursor, reached


def pick_queries(manager) -> dict[str, str]:
    """Search terms taken from the data: a common 2-character name, a full 3-character
    name, pinyin initials (2 and 3 letters), 4 phone digits, a whole mobile number, an
    archive number, and a 2-character term matching nothing (the worst case: a scan)."""
    from kefu.customers.models import Contact, Customer

    sample = Customer.objects.filter(kind="person").order_by("id")[1000:1001].first() or Customer.objects.first()
    phone = Contact.objects.filter(customer=sample, is_primary=True).values_list("phone", flat=True).first() or "1380"
    full_name = next(
        (c.name for c in Customer.objects.filter(kind="person").order_by("-id")[:200] if len(c.name) == 3), "曾国强"
    )
    return {
        "name 2 chars (张伟)": "张伟",
        f"name 3 chars ({full_name})": full_name,
        "initials zs": "zs",
        "initials zgq": "zgq",
        "phone 4 digits": phone[-4:],
        "phone 11 digits": phone,
        "archive number": sample.archive_no,
        "no match, 2 chars (worst case)": "龘齉",
    }


def page_via_client(client, params: dict, cursor: str | None):
    from django.urls import reverse

    query = dict(params)
    if cursor:
        query["cursor"] = cursor
    response = client.get(reverse("customers:list"), query)
    assert response.status_code == 200, response.status_code


def run_suite(label: str, args, results: dict) -> None:
    from django.conf import settings
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from kefu.core.models import Region, User
    from kefu.customers.models import Customer, CustomerClass
    from kefu.customers.selectors import CustomerFilters

    manager = User.objects.get(username="manager")
    account = User.objects.get(username="account")
    region = Region.objects.get(code=next(iter(account.scope_regions.values_list("code", flat=True)), "northwest"))
    klass = CustomerClass.objects.get(code="B")
    filters = CustomerFilters(region=[region.pk], customer_class=[klass.pk])
    rows = {}
    total = Customer.objects.count()
    print(f"\n== {label}: {total:,} customers ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})")

    deep_cursor, deep_page = cursor_for_page(manager, filters, 1000)
    print(f"  region {region.name} + class {klass.name}: page 1000 → reached page {deep_page}")
    for who, user in (("manager", manager), ("account manager", account)):
        rows[f"list p1 region+class [{who}]"] = timed(lambda u=user: list_page(u, filters), args.repeat)
    rows["list p1000 region+class [manager]"] = timed(lambda: list_page(manager, filters, deep_cursor), args.repeat)
    try:
        reverse("customers:list")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        client.force_login(manager)
        params = {"region": region.pk, "customer_class": klass.pk}
        rows["HTML page p1 region+class [manager]"] = timed(lambda: page_via_client(client, params, None), args.repeat)
        rows["HTML page p1000 region+class [manager]"] = timed(
            lambda: page_via_client(client, params, deep_cursor), args.repeat
        )
        rows["HTML search zs [manager]"] = timed(lambda: page_via_client(client, {"q": "zs"}, None), args.repeat)
    except NoReverseMatch:
        print("  (customers:list is not routed: HTML page not measured)")
    # A search's page holds as many rows as it matched, up to 50: a page of 2 rows at
    # 10,000 and of 50 at 1,000,000 differ by what the page shows, not by the search.
    counts = {}
    for name, q in pick_queries(manager).items():
        for who, user in (("manager", manager), ("account manager", account)):
            key = f"search {name} [{who}]"
            rows[key] = timed(lambda q=q, u=user: list_page(u, CustomerFilters(q=q)), args.repeat)
            counts[key] = len(list_page(user, CustomerFilters(q=q)).items)
    for name, (p50, p95) in rows.items():
        shown = f"   {counts[name]:2} rows" if name in counts else ""
        print(f"  {name:<58} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms{shown}")
    results[label] = {"total": total, "rows": rows, "deep_page": deep_page, "counts": counts}


def print_ratio(results: dict, small: str, large: str) -> None:
    print(f"\n== ratio p50 at {large} / p50 at {small} (flat ≤ 1.5)")
    a, b = results[small]["rows"], results[large]["rows"]
    for name, (p50, _p95) in b.items():
        if name in a:
            ratio = p50 / a[name][0] if a[name][0] else float("inf")
            flag = "" if ratio <= 1.5 else "   > 1.5"
            counts = (results[small].get("counts", {}).get(name), results[large].get("counts", {}).get(name))
            shown = f"   (rows {counts[0]} → {counts[1]})" if None not in counts else ""
            print(f"  {name:<58} {a[name][0]:8.1f} → {p50:8.1f} ms   ×{ratio:4.2f}{flag}{shown}")
    print(f'  ("p1000" is page {results[small]["deep_page"]} at {small}: the filter has no more pages there)')


# --- import / export (child processes: their own peak memory) -------------------------


def child_main(args) -> None:
    setup_django(args)
    from django.db import connection

    if args.child == "write-import":
        print("RESULT " + json.dumps(write_import_file(args)))
        return
    started = time.perf_counter()
    outcome = run_import(args) if args.child == "import" else run_export(args)
    outcome.setdefault("seconds", round(time.perf_counter() - started, 2))
    outcome.update(peak_mb=round(peak_memory_mb(), 1), vendor=connection.vendor)
    print("RESULT " + json.dumps(outcome, ensure_ascii=False))


def peak_memory_mb() -> float:
    """This process's peak resident memory. Linux's `ru_maxrss` of a child started
    with fork/vfork + exec carries the parent's high-water mark over the exec (here:
    hundreds of MB of generator state), so the memory map's own `VmHWM` is read first."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_import_file(args) -> dict:
    """A file of `--import-rows` new customers with the export's Chinese headers and
    value conventions (个人/单位, names of region, class, grade…, 姓名（账号） owners),
    generated with another seed and phone range than the archive's rows."""
    from kefu.core.models import Region, User
    from kefu.customers.demo import demo_owners, generate_customers
    from kefu.customers.fields import active_fields
    from kefu.customers.io.columns import KIND_TEXT, LIFECYCLE_TEXT, all_columns, join_list, owner_text, yes_no
    from kefu.customers.models import CreditGrade, CustomerClass, CustomerSource, ProductCategory
    from kefu.profiles.definitions import PROFILES

    fields = active_fields()
    header = [c.header for c in all_columns(fields)]
    region_codes = [c for c, _n in PROFILES[args.profile].regions]
    regions = dict(Region.objects.values_list("code", "name"))
    owners = {u.username: owner_text(u) for u in User.objects.all()}
    names = {
        "class": dict(CustomerClass.objects.values_list("code", "name")),
        "grade": dict(CreditGrade.objects.values_list("code", "name")),
        "source": dict(CustomerSource.objects.values_list("code", "name")),
        "category": dict(ProductCategory.objects.values_list("code", "name")),
    }
    rows = generate_customers(
        args.profile, args.import_rows, regions=region_codes, owners=demo_owners(region_codes),
        seed=args.import_start, unique=False, start=args.import_start,
    )  # fmt: skip

    def cells(c) -> list[str]:
        contact = c.contacts[0] if c.contacts else None
        return [
            "", KIND_TEXT[c.kind], c.name, c.id_number, c.gender, c.birthday.isoformat() if c.birthday else "",
            c.address, regions.get(c.region_code, ""), owners.get(c.owner_username, ""),
            names["class"].get(c.class_code, ""), yes_no(c.is_key_account), names["grade"].get(c.grade_code, ""),
            names["source"].get(c.source_code, ""), join_list(names["category"].get(k, "") for k in c.category_codes),
            LIFECYCLE_TEXT[c.lifecycle], join_list(c.tag_names), contact.name if contact else "",
            contact.phone if contact else "", contact.wechat if contact else "", contact.email if contact else "",
            yes_no(c.marketing_consent), c.notes, *[str(c.extra.get(f.key, "")) for f in fields],
        ]  # fmt: skip

    path = args.file
    if path.endswith(".csv"):
        import csv

        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for customer in rows:
                writer.writerow(cells(customer))
    else:
        import xlsxwriter

        workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
        sheet = workbook.add_worksheet("客户档案")
        sheet.write_row(0, 0, header)
        for number, customer in enumerate(rows, start=1):
            sheet.write_row(number, 0, cells(customer))
        workbook.close()
    return {"file": path, "bytes": os.path.getsize(path)}


def run_import(args) -> dict:
    """Import the file through the archive's import (dry-run check, then commit of the
    valid rows), as the manager; the file is written first by another process."""
    try:
        from kefu.customers.io import importing
    except ImportError:
        return {"skipped": "kefu.customers.io.importing does not exist"}
    from django.core.files import File

    from kefu.core.models import User
    from kefu.customers.models import Customer
    from kefu.customers.models.imports import ImportMode

    if not args.file:
        args.file = os.path.join(args.data_dir, f"bench-import-{args.import_rows}-{args.import_start}.xlsx")
    if not os.path.exists(args.file):
        written = spawn("write-import", args)
        if "error" in written:
            return written
    manager = User.objects.get(username="manager")
    before = Customer.objects.count()
    started = time.perf_counter()
    cpu_started = time.process_time()
    with open(args.file, "rb") as handle:
        job = importing.import_job_create(
            actor=manager, upload=File(handle, name=os.path.basename(args.file)), max_bytes=None
        )
    job = importing.import_check(job=job)
    checked = time.perf_counter()
    spool_bytes = None
    try:
        from kefu.customers.io import spool
    except ImportError:
        spool = None
    if spool is not None:
        path = spool.spool_path(job.file.name, job.file.storage)
        if path and os.path.exists(path):
            spool_bytes = os.path.getsize(path)
        if args.import_no_spool:
            spool.discard_spool(job.file.name, job.file.storage)
            spool_bytes = None
        checked = time.perf_counter()  # the size and the deletion are not the commit's time
    # CPU time of this process (SQLite: all the work; PostgreSQL: the Python side only):
    # on a busy machine it compares runs better than the wall clock.
    cpu_checked = time.process_time()
    job = importing.import_commit(job=job, mode=ImportMode.VALID_ONLY)
    done = time.perf_counter()
    cpu_done = time.process_time()
    created = Customer.objects.count() - before
    return {
        "format": os.path.splitext(args.file)[1],
        "rows": job.total_rows,
        "created": created,
        "rejected": job.rejected_rows,
        "status": job.status,
        "error": job.error,
        "spool_mb": round(spool_bytes / 2**20, 1) if spool_bytes is not None else None,
        "check_s": round(checked - started, 2),
        "commit_s": round(done - checked, 2),
        "check_cpu_s": round(cpu_checked - cpu_started, 2),
        "commit_cpu_s": round(cpu_done - cpu_checked, 2),
        "commit_rows_per_s": round(job.total_rows / (done - checked)) if done > checked else None,
        "check_and_commit_rows_per_s": round(job.total_rows / (done - started)) if done > started else None,
        "seconds": round(done - started, 2),
    }


def run_export(args) -> dict:
    """Export every customer the manager sees through the archive's streaming export."""
    try:
        from kefu.customers.io.exporting import customers_export
    except ImportError:
        return {"skipped": "kefu.customers.io.exporting does not exist"}
    from kefu.core.models import User
    from kefu.customers.models import Customer
    from kefu.customers.selectors import CustomerFilters

    manager = User.objects.get(username="manager")
    rows = Customer.objects.filter(merged_into__isnull=True).count()
    started = time.perf_counter()
    path = customers_export(actor=manager, filters=CustomerFilters())
    elapsed = time.perf_counter() - started
    size = path.stat().st_size
    path.unlink()
    return {
        "rows": rows,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "xlsx_mb": round(size / 2**20, 1),
    }


def spawn(kind: str, args, **extra) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--data-dir", args.data_dir, "--profile", args.profile]
    command += ["--import-rows", str(args.import_rows), "--import-start", str(args.import_start)]
    if getattr(args, "file", ""):
        command += ["--file", args.file]
    if getattr(args, "import_no_spool", False):
        command.append("--import-no-spool")
    if args.database_url:
        command += ["--database-url", args.database_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    return {"error": (done.stderr or done.stdout)[-2000:]}


# --- main ------------------------------------------------------------------------------


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return
    if args.database_url.startswith("postgres") and not args.keep:
        recreate_postgres(args.database_url)
    sqlite_file = Path(args.data_dir or "/nonexistent") / "kefu.sqlite3"
    if not args.database_url and sqlite_file.exists() and not args.keep:
        sys.exit(f"{sqlite_file} exists: pass --keep to reuse its rows, or an empty --data-dir")
    setup_django(args)
    print(f"data dir: {args.data_dir}")
    started = time.perf_counter()
    ctx = prepare(args)
    inserter = Inserter(args, ctx)
    results: dict = {}
    # With --keep the archive may already be bigger than a size: measure it as it is.
    sizes = [s for s in sorted({min(args.small, args.rows), args.rows}) if s >= ctx["count"]] or [ctx["count"]]
    for size in sizes:
        print(f"\n== inserting up to {size:,} customers")
        rate = inserter.grow_to(size)
        if rate:
            print(f"  {rate:,.0f} rows/s (customers with contacts, categories and tags)")
        if not args.no_analyze:
            analyze()
        if not args.skip_list:
            run_suite(f"{size:,}", args, results)
        if not args.skip_export:
            print(f"\n== export of all {size:,} customers (child process)")
            print("  " + json.dumps(spawn("export", args), ensure_ascii=False))
    if len(sizes) == 2 and not args.skip_list:
        print_ratio(results, f"{sizes[0]:,}", f"{sizes[1]:,}")
    if not args.skip_import:
        args.file = os.path.join(
            args.data_dir, f"bench-import-{args.import_rows}-{args.import_start}.{args.import_format}"
        )
        print(f"\n== import of {args.import_rows:,} new rows from .{args.import_format} (child process)")
        print("  writing the file: " + json.dumps(spawn("write-import", args), ensure_ascii=False))
        print("  " + json.dumps(spawn("import", args), ensure_ascii=False))
    print(f"\ntotal time {time.perf_counter() - started:,.0f} s; data dir {args.data_dir}")


if __name__ == "__main__":
    main()
