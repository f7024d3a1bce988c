"""The ticket counters (`kefu.reports.rollup`): every write path counts (services,
bulk UPDATEs, deletes, raw SQL), a rolled-back write counts nothing, the fold changes
no figure, months are the site's months, and the figures read from the counters are
the scan's figures — checked against the plans of the generated data set — without a
single query on the tickets. Where the counters cannot answer (a scoped viewer, part
of a month, a dimension they do not hold) the scan answers, with the same figures."""

import datetime
import io
import re
import threading
from collections import defaultdict

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kefu.reports.models import TicketRollup
from kefu.reports.periods import parse_period
from kefu.reports.rollup import maintain, schema
from kefu.reports.selectors.tickets import TICKET_FIGURES, ticket_figures, ticket_totals, top_causes
from kefu.tickets.choices import SlaState, TicketStatus
from kefu.tickets.models import Ticket
from tests.factories_reports import PERIOD, build_report_world, in_period
from tests.factories_tickets import build_ticket_world, make_ticket
from tests.services.test_reports_tickets_figures import OCTOBER, expected

pytestmark = pytest.mark.django_db

TICKETS_TABLE = re.compile(r'"tickets_ticket"')


def _without_p90(figures: dict) -> dict:
    return {**figures, "p90_resolution_hours": None}


def _ticket_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if TICKETS_TABLE.search(q["sql"])]


def _scanned(**kwargs) -> list[dict]:
    """`ticket_figures` from a scan of the tickets, the counters kept out (on SQLite a p90
    figure takes its sums from them otherwise)."""
    from kefu.reports.rollup import tickets as counters

    original = counters.answers
    counters.answers = lambda **_kw: False
    try:
        return ticket_figures(**kwargs)
    finally:
        counters.answers = original


def assert_counted():
    result = maintain.check()
    assert result.ok, result.differing[:5]


@pytest.fixture
def world(make_user):
    return build_report_world(make_user)


# --------------------------------------------------------------------------- figures


def test_counters_give_the_plans_figures_without_reading_a_ticket(world):
    period = parse_period(PERIOD)
    with CaptureQueriesContext(connection) as captured:
        totals = ticket_totals(user=world["manager"], period=period, p90=False)
    assert _ticket_queries(captured) == []
    assert totals == _without_p90(expected(in_period(world["tickets"], *OCTOBER)))
    assert set(TICKET_FIGURES) <= set(totals)


@pytest.mark.parametrize(
    "group_by",
    [
        ("kind",),
        ("category",),
        ("department",),
        ("region",),
        ("month",),
        ("month", "category"),
        ("department", "region"),
        ("channel",),
        ("severity",),
        ("category", "channel", "severity"),
    ],
)
@pytest.mark.parametrize("period_key", [PERIOD, "2026-Q3", "2026-Q4", "2026"])
def test_counters_equal_the_scan_for_every_grouping(world, group_by, period_key):
    period = parse_period(period_key)
    scanned = [_without_p90(r) for r in _scanned(user=world["manager"], period=period, group_by=group_by)]
    with CaptureQueriesContext(connection) as captured:
        counted = ticket_figures(user=world["manager"], period=period, group_by=group_by, p90=False)
    assert _ticket_queries(captured) == []
    assert counted == scanned
    if period_key in (PERIOD, "2026-Q4", "2026"):
        assert counted  # the data set has tickets there: not a comparison of two empty lists


def test_counters_filter_by_kind_and_dimension(world):
    period = parse_period("2026-Q4")
    by_place = {"region": [world["north"].pk], "department": [world["engineering"].pk]}
    by_channel = {"channel": ["phone", "agency"], "severity": ["major", "urgent", "normal"]}
    compared = 0
    for kinds, filters in ((["complaint"], by_place), (["repair"], by_place), (None, by_place), (None, by_channel)):
        scanned = _scanned(user=world["manager"], period=period, kinds=kinds, filters=filters, group_by=["month"])
        with CaptureQueriesContext(connection) as captured:
            counted = ticket_figures(
                user=world["manager"], period=period, kinds=kinds, filters=filters, group_by=["month"], p90=False
            )
        assert _ticket_queries(captured) == []
        assert counted == [_without_p90(r) for r in scanned]
        compared += sum(r["count"] for r in counted)
    assert compared  # not only empty lists


def test_top_causes_from_the_counters(world):
    period = parse_period(PERIOD)
    complaints = [t for t in in_period(world["tickets"], *OCTOBER) if t.plan.kind == "complaint"]
    counts = defaultdict(int)
    for ticket in complaints:
        if ticket.plan.category:
            counts[ticket.plan.category] += 1
    with CaptureQueriesContext(connection) as captured:
        rows = top_causes(user=world["manager"], period=period)
    assert _ticket_queries(captured) == []
    assert {r["category_label"].split("›")[-1].strip(): r["count"] for r in rows} == dict(counts)
    assert [r["share"] for r in rows] == [round(100 * r["count"] / len(complaints), 1) for r in rows]


@pytest.mark.parametrize(
    ("who", "period_key", "group_by", "filters"),
    [
        ("repairer", PERIOD, (), None),  # department staff: their slips, single tickets
        ("manager", "2026-10-01..2026-10-15", (), None),  # part of a month
        ("manager", "2026-W41", ("kind",), None),
        ("manager", PERIOD, ("assignee",), None),  # a dimension the counters do not hold
        ("manager", PERIOD, (), {"assignee": [1]}),  # a filter the counters do not hold
    ],
)
def test_the_scan_answers_what_the_counters_cannot(world, who, period_key, group_by, filters):
    period = parse_period(period_key)
    with CaptureQueriesContext(connection) as captured:
        rows = ticket_figures(user=world[who], period=period, group_by=group_by, filters=filters, p90=False)
    assert _ticket_queries(captured), "expected a scan of the tickets"
    full = ticket_figures(user=world[who], period=period, group_by=group_by, filters=filters)
    assert rows == [_without_p90(r) for r in full]


@pytest.mark.parametrize("who", ["am_north", "supervisor", "supervisor_south", "agent"])
@pytest.mark.parametrize(
    ("period_key", "group_by"),
    [(PERIOD, ()), (PERIOD, ("kind",)), ("2026-Q4", ("month", "category")), ("2026", ("region",))],
)
def test_region_scopes_get_their_regions_counters_and_the_rest_from_the_tickets(
    world, monkeypatch, who, period_key, group_by
):
    from kefu.reports.rollup import tickets as counters
    from kefu.tickets.models import TicketRouting

    viewer = world[who]
    # Seen outside the viewer's regions: a ticket assigned to them, and one routed to
    # their department (both in the other region).
    other = world["south"] if viewer.region_id == world["north"].pk else world["north"]
    outside = list(Ticket.objects.filter(region=other, created_at__year=2026).order_by("pk")[:2])
    Ticket.objects.filter(pk=outside[0].pk).update(assignee=viewer)
    if viewer.department_id:
        TicketRouting.objects.create(
            ticket=outside[1],
            department_id=viewer.department_id,
            slip_no=f"TEST-{who}",
            due_at=outside[1].created_at,
            routed_at=outside[1].created_at,
        )
    period = parse_period(period_key)
    with monkeypatch.context() as patch:
        patch.setattr(counters, "answers", lambda **_kw: False)
        scanned = ticket_figures(user=viewer, period=period, group_by=group_by, p90=False)
    assert counters.counted_regions(viewer) not in (False, None)
    counted = ticket_figures(user=viewer, period=period, group_by=group_by, p90=False)
    assert counted == scanned
    assert counted and counted[0]["count"] > 0


def test_a_viewer_without_the_ticket_permission_gets_nothing(world):
    totals = ticket_totals(user=world["finance"], period=parse_period(PERIOD), p90=False)
    assert totals["count"] == 0


def test_counters_built_for_another_time_zone_do_not_answer(world, settings):
    from kefu.core import configcache

    period = parse_period(PERIOD)
    assert maintain.ready(schema.TICKETS)
    from kefu.reports.models import RollupState

    RollupState.objects.filter(name=maintain.TICKETS).update(time_zone="Asia/Tokyo")
    configcache.clear()
    try:
        with CaptureQueriesContext(connection) as captured:
            ticket_totals(user=world["manager"], period=period, p90=False)
        assert _ticket_queries(captured)
    finally:
        configcache.clear()


# --------------------------------------------------------------------------- counting


@pytest.fixture
def tw(make_user):
    return build_ticket_world(make_user)


def test_every_write_path_counts(tw):
    first = make_ticket(tw["agent"], region=tw["north"])
    second = make_ticket(tw["agent"], region=tw["north"], kind_code="repair")
    assert_counted()
    # A bulk UPDATE (the supervision job's way), touching counted columns.
    Ticket.objects.filter(pk=first.pk).update(
        status=TicketStatus.RESOLVED,
        resolved_at=first.created_at + datetime.timedelta(hours=5),
        resolution_minutes=300,
        sla_state=SlaState.BREACHED,
        satisfaction=4,
        escalation_level=2,
        reopen_count=1,
        response_minutes=12,
    )
    assert_counted()
    # Moved to another region, category and department, and to another month.
    Ticket.objects.filter(pk=second.pk).update(
        region=tw["south"],
        category=None,
        responsible_department=tw["service"],
        created_at=second.created_at - datetime.timedelta(days=62),
    )
    assert_counted()
    # Another channel and severity (a corrected registration).
    from kefu.tickets.choices import Channel, Severity

    Ticket.objects.filter(pk=first.pk).update(channel=Channel.EMAIL, severity=Severity.MAJOR)
    assert_counted()
    moved = TicketRollup.objects.filter(channel=Channel.EMAIL, severity=Severity.MAJOR)
    assert sum(moved.values_list("n_count", flat=True)) == 1
    # An update of columns the counters do not read writes no delta.
    before = TicketRollup.objects.count()
    Ticket.objects.filter(pk=first.pk).update(title="改了标题", description="改了描述")
    assert TicketRollup.objects.count() == before
    # Raw SQL and a delete.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticket SET satisfaction = 2 WHERE id = %s", [first.pk])
    assert_counted()
    Ticket.objects.filter(pk=second.pk).delete()
    assert_counted()


def test_a_rolled_back_write_counts_nothing(tw):
    make_ticket(tw["agent"], region=tw["north"])
    rows = TicketRollup.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_ticket(tw["agent"], region=tw["north"])
        raise RuntimeError("rolled back")
    assert TicketRollup.objects.count() == rows
    assert_counted()


def test_the_fold_changes_no_figure_and_drops_empty_keys(tw):
    tickets = [make_ticket(tw["agent"], region=tw["north"]) for _ in range(4)]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[:2]]).update(satisfaction=5)
    period = parse_period(f"{tickets[0].created_at:%Y-%m}")
    before = ticket_totals(user=tw["manager"], period=period, p90=False)
    assert TicketRollup.objects.filter(fresh=True).count() > 1
    maintain.fold()
    assert not TicketRollup.objects.filter(fresh=True).exists()
    assert ticket_totals(user=tw["manager"], period=period, p90=False) == before
    assert_counted()
    # Every ticket of a key gone: the key's rows net to zero and the fold drops them.
    keys = TicketRollup.objects.count()
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).delete()
    maintain.fold()
    assert TicketRollup.objects.count() < keys
    assert not TicketRollup.objects.filter(n_count=0).exists()
    assert_counted()
    maintain.fold()  # nothing fresh: nothing changes
    assert_counted()


def test_months_are_the_sites_months(tw):
    """00:30 on 1 November in Beijing is 16:30 on 31 October in UTC."""
    ticket = make_ticket(tw["agent"], region=tw["north"])
    local_midnight = datetime.datetime(2026, 11, 1, 0, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    Ticket.objects.filter(pk=ticket.pk).update(created_at=local_midnight)
    months = set(TicketRollup.objects.filter(n_count__gt=0).values_list("month", flat=True))
    assert datetime.date(2026, 11, 1) in months
    november = ticket_totals(user=tw["manager"], period=parse_period("2026-11"), p90=False)
    october = ticket_totals(user=tw["manager"], period=parse_period("2026-10"), p90=False)
    assert november["count"] == ticket_totals(user=tw["manager"], period=parse_period("2026-11"))["count"]
    assert october["count"] == ticket_totals(user=tw["manager"], period=parse_period("2026-10"))["count"]
    assert november["count"] >= 1
    assert_counted()


def test_a_zone_with_daylight_saving_has_no_fixed_offset():
    assert schema.fixed_offset_minutes("Asia/Shanghai") == 480
    assert schema.fixed_offset_minutes("UTC") == 0
    with pytest.raises(schema.ZoneUnsupported):
        schema.fixed_offset_minutes("Europe/Berlin")
    with pytest.raises(schema.ZoneUnsupported):
        schema.month_sql("postgresql", "Asia/Shanghai'; DROP TABLE x; --", "created_at")


def test_lost_triggers_are_put_back_and_everything_counted_again(tw):
    make_ticket(tw["agent"], region=tw["north"])
    with connection.cursor() as cursor:
        for statement in schema.drop_triggers_sql(schema.TICKETS, connection.vendor):
            cursor.execute(statement)
    assert maintain.installed_zone() is None
    make_ticket(tw["agent"], region=tw["north"])  # not counted: no triggers
    assert not maintain.check().ok
    assert maintain.ensure_installed() is True
    assert maintain.installed_zone() == "Asia/Shanghai"
    assert_counted()
    make_ticket(tw["agent"], region=tw["north"])
    assert_counted()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_folds_lose_nothing(make_user):
    world = build_ticket_world(make_user)
    tickets = [make_ticket(world["agent"], region=world["north"]) for _ in range(12)]
    errors: list[BaseException] = []

    def writer(chunk):
        try:
            for n, ticket in enumerate(chunk):
                with transaction.atomic():
                    Ticket.objects.filter(pk=ticket.pk).update(satisfaction=1 + n % 5, escalation_level=n % 2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def folder():
        try:
            for _ in range(5):
                maintain.fold()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(tickets[i::3],)) for i in range(3)]
    threads.append(threading.Thread(target=folder))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    maintain.fold()
    assert_counted()


def test_the_command_checks_folds_and_rebuilds(tw):
    from django.core.management import CommandError, call_command

    make_ticket(tw["agent"], region=tw["north"])
    out = io.StringIO()
    call_command("rollups", check=True, stdout=out)
    assert "一致" in out.getvalue()
    call_command("rollups", fold=True, stdout=out)
    TicketRollup.objects.all().delete()  # counters lost
    with pytest.raises(CommandError, match="不一致"):
        call_command("rollups", check=True, stdout=io.StringIO())
    call_command("rollups", rebuild=True, stdout=out)
    assert_counted()
    call_command("rollups", stdout=out)
    assert "已启用（时区 Asia/Shanghai）" in out.getvalue()


def test_the_fold_is_a_periodic_job():
    from huey.contrib.djhuey import HUEY

    from kefu import schedule  # noqa: F401 - registers the periodic jobs

    folds = [task for task in HUEY._registry.periodic_tasks if task.name == "report_rollups_fold"]
    assert len(folds) == 1


@pytest.mark.django_db(transaction=True)
def test_a_big_fold_vacuums_the_counters_on_postgresql(make_user, monkeypatch):
    world = build_ticket_world(make_user)
    for _ in range(3):
        make_ticket(world["agent"], region=world["north"])
    monkeypatch.setattr(maintain, "VACUUM_AFTER", 1)
    vacuums = []

    def spy(execute, sql, params, many, context):
        if sql.startswith("VACUUM"):
            vacuums.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        maintain.fold(specs=[schema.TICKETS])
    assert vacuums == (["VACUUM (FULL, ANALYZE) reports_ticketrollup"] if connection.vendor == "postgresql" else [])
    assert_counted()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's VACUUM FULL")
@pytest.mark.django_db(transaction=True)
def test_a_reader_holding_the_counters_gets_a_plain_vacuum_instead_of_a_wait(make_user, monkeypatch):
    import psycopg

    world = build_ticket_world(make_user)
    make_ticket(world["agent"], region=world["north"])
    monkeypatch.setattr(maintain, "VACUUM_AFTER", 0)
    monkeypatch.setattr(maintain, "COMPACT_LOCK_TIMEOUT", "200ms")
    vacuums = []

    def spy(execute, sql, params, many, context):
        if sql.startswith("VACUUM"):
            vacuums.append(sql)
        return execute(sql, params, many, context)

    cfg = connection.settings_dict
    reader = psycopg.connect(
        dbname=cfg["NAME"], user=cfg["USER"], host=cfg["HOST"], port=cfg["PORT"] or 5432, password=cfg["PASSWORD"]
    )
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM reports_ticketrollup").fetchone()  # a report reading, unfinished
        with connection.execute_wrapper(spy):
            maintain.fold(specs=[schema.TICKETS])
    finally:
        reader.rollback()
        reader.close()
    assert vacuums == ["VACUUM (FULL, ANALYZE) reports_ticketrollup", "VACUUM (ANALYZE) reports_ticketrollup"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "0"  # the session is as it was
    assert_counted()


@pytest.mark.parametrize("who", ["manager", "am_north"])
@pytest.mark.parametrize("period_key", [PERIOD, "2026"])
def test_counted_sums_with_the_p90_equal_the_scan(world, who, period_key):
    """A report's breakdowns with p90: the sums from the counters, the p90s from the
    resolution minutes (PostgreSQL: a GROUPING SETS statement over them; SQLite: read
    and sorted here) — the rows of a scan of the tickets, p90 included."""
    from kefu.reports.selectors.tickets import ticket_breakdowns

    groupings = [(), ("category",), ("department", "severity"), ("channel",), ("month",), ("category", "department")]
    period = parse_period(period_key)
    viewer = world[who]
    if viewer.region_id:
        # Seen outside the viewer's regions: complaints of the other region assigned to
        # them (read from the tickets once, added into every grouping).
        other = Ticket.objects.filter(kind__code="complaint", created_at__year=2026).exclude(region=viewer.region)
        Ticket.objects.filter(pk__in=list(other.order_by("pk").values_list("pk", flat=True)[:3])).update(
            assignee=viewer
        )
    together = ticket_breakdowns(user=world[who], period=period, kinds=["complaint"], groupings=groupings)
    scanned = [_scanned(user=world[who], period=period, kinds=["complaint"], group_by=g) for g in groupings]
    assert together == scanned
    assert any(row["p90_resolution_hours"] is not None for rows in together for row in rows)


def test_migrating_back_installs_no_counters_whose_table_lacks_a_key_column(monkeypatch):
    """After `migrate reports 0004` (before the ticket counters' channel and severity
    columns) the post-migrate check must leave the ticket triggers out: they would write
    columns the table does not have yet (the migrate command failed with
    "no column named channel")."""
    from django.db.migrations.loader import MigrationLoader

    from kefu.reports import apps as reports_apps

    installed = []
    monkeypatch.setattr(maintain, "ensure_installed", lambda *, using, specs: installed.append(list(specs)))
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for target, counted in (
        ("0004_customer_rollup", [schema.VISITS, schema.CUSTOMERS]),
        ("0005_ticket_rollup_channel_severity", list(schema.SPECS)),
        ("0001_initial", []),
    ):
        state = loader.project_state(("reports", target))
        reports_apps._ensure_rollups(sender=None, using="default", apps=state.apps)
        assert installed.pop() == counted, target
