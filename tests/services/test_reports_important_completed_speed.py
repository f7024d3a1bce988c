"""重要投诉报表 and 完工客户月报 read only the columns they show, in a fixed number of
statements (issue 6: within 1.5× of hand-written SQL, see bench/reports_hand.py): the
figures are pinned here row by row — against the ticket models' own display for the
list — so a leaner query cannot change one; and two departments of the same name are
two rows of the important complaints by department."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.models import Department
from kefu.reports.builders import important
from kefu.reports.catalog import build_report
from kefu.reports.periods import parse_period
from kefu.tickets.models import Ticket
from kefu.tickets.services.tickets import ticket_mark_important
from kefu.visits.choices import Outcome, VisitStatus
from kefu.visits.models import Visit, VisitRule
from tests.factories_reports import TZ
from tests.factories_reports import build_report_world as customers_world
from tests.factories_tickets import make_ticket
from tests.report_world import PERIOD, at
from tests.report_world import build_report_world as tickets_world

pytestmark = pytest.mark.django_db


def _table(report, title: str):
    return next(t for t in report.tables if t.title == title)


def _statements(fn, table: str) -> tuple[object, int, int]:
    """fn()'s result, its statements, and how many of them read `table`."""
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    reading = [q for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]
    return result, len(ctx.captured_queries), len(reading)


# --- 重要投诉报表 -------------------------------------------------------------------------


@pytest.fixture
def w(ticket_world, make_user):
    """The report world's two important complaints (t2 north, t5 south) plus t1, resolved
    by 工程部 — and t2 and t5 answered for by two departments both called 工程部."""
    w = tickets_world(ticket_world, make_user)
    t1, t2, t5 = (w["tickets"][k] for k in ("t1", "t2", "t5"))
    w["engineering_south"] = Department.objects.create(code="engineering-south", name="工程部")
    Ticket.objects.filter(pk=t2.pk).update(responsible_department=w["engineering"])
    Ticket.objects.filter(pk=t5.pk).update(responsible_department=w["engineering_south"])
    ticket_mark_important(actor=w["manager"], ticket=t1, important=True, reason="反复投诉")
    return w


def _important(w, user=None):
    return build_report("important", user=user or w["manager"], period=parse_period(PERIOD))


def test_important_by_department_groups_departments_that_share_a_name(w):
    table = _table(_important(w), "按责任部门")
    rows = [(r["label"], r["count"], r["resolved"], r["open"]) for r in table.rows]
    # Grouped by name the two 工程部 were one row of 3 (1 resolved, 2 open).
    assert rows == [("工程部", 2, 1, 1), ("工程部", 1, 0, 1)]  # t1 resolved and t2 registered; t5
    assert [r["key"] for r in table.rows] == [w["engineering"].pk, w["engineering_south"].pk]
    assert table.totals == {"label": "合计", "count": 3, "open": 2, "resolved": 1}


def _model_row(ticket: Ticket) -> dict:
    """A list row as the builder made it from the ticket models (before issue 6)."""
    t = Ticket.objects.select_related("customer", "category", "region", "responsible_department", "assignee").get(
        pk=ticket.pk
    )
    return {
        "number": t.number,
        "created_at": important._when(t.created_at),
        "customer": t.customer.name if t.customer else t.caller_name,
        "title": t.title,
        "category": str(t.category) if t.category else "",
        "severity": t.get_severity_display(),
        "reason": t.important_reason,
        "status": t.get_status_display(),
        "department": t.responsible_department.name if t.responsible_department else "未指定部门",
        "region": t.region.name if t.region else "",
        "assignee": str(t.assignee) if t.assignee else "",
        "resolution_hours": round(t.resolution_minutes / 60, 1) if t.resolution_minutes is not None else None,
        "satisfaction": t.satisfaction,
        "id": t.pk,
    }


def test_important_list_shows_what_the_ticket_models_show(w):
    t1, t2, t5 = (w["tickets"][k] for k in ("t1", "t2", "t5"))
    # t5: a caller without an archive, no category, region nor assignee, no department.
    Ticket.objects.filter(pk=t5.pk).update(
        customer=None, caller_name="王先生", category=None, region=None, assignee=None, responsible_department=None
    )
    rows = _table(_important(w), "重要投诉清单").rows
    assert [r["id"] for r in rows] == [t1.pk, t2.pk, t5.pk]  # by registration time
    assert rows == [_model_row(t) for t in (t1, t2, t5)]
    first = rows[0]
    assert (first["created_at"], first["customer"], first["category"]) == (
        "2026-10-05 10:00",
        "张三",
        "施工质量 › 墙面开裂",
    )
    assert (first["status"], first["department"], first["region"]) == ("已处理", "工程部", "城北")
    assert (first["resolution_hours"], first["satisfaction"], first["reason"]) == (5.0, 5, "反复投诉")
    assert (rows[2]["customer"], rows[2]["category"], rows[2]["region"], rows[2]["assignee"]) == ("王先生", "", "", "")
    assert rows[2]["department"] == "未指定部门" and rows[2]["severity"] == "重大"


def test_important_reads_the_tickets_once_and_the_same_statements_however_many(w):
    _, before, reading = _statements(lambda: _important(w), "tickets_ticket")
    assert reading == 1  # the list; the counts per department are added up from it
    more = make_ticket(w["manager"], customer=w["customers"]["south"], region=w["south"], now=at(2026, 10, 28))
    ticket_mark_important(actor=w["manager"], ticket=more, important=True, reason="再次投诉")
    report, after, reading = _statements(lambda: _important(w), "tickets_ticket")
    assert (after, reading) == (before, 1)
    assert _table(report, "按责任部门").totals["count"] == 4


def test_a_list_cut_at_the_row_limit_counts_every_ticket_in_sql(w, monkeypatch):
    whole = _important(w)
    monkeypatch.setattr(important, "ROW_LIMIT", 2)
    cut, _, reading = _statements(lambda: _important(w), "tickets_ticket")
    assert reading == 2  # the list, then the grouped counts
    assert _table(cut, "按责任部门").rows == _table(whole, "按责任部门").rows
    assert _table(cut, "按责任部门").totals["count"] == 3
    listed = _table(cut, "重要投诉清单")
    assert listed.rows == _table(whole, "重要投诉清单").rows[:2] and "2 条" in listed.note
    assert _table(whole, "重要投诉清单").note == ""


def test_important_for_a_region_counts_only_its_tickets(w):
    south = _important(w, w["am_south"])
    assert [r["id"] for r in _table(south, "重要投诉清单").rows] == [w["tickets"]["t5"].pk]
    assert [(r["key"], r["count"]) for r in _table(south, "按责任部门").rows] == [(w["engineering_south"].pk, 1)]


# --- 完工客户月报 -------------------------------------------------------------------------

COMPLETED = "2026-10"


@pytest.fixture
def world(make_user):
    return customers_world(make_user, tickets_in_period=4)


def _visit(world, name: str, rule: str, *, key: str, done_at: datetime.datetime, satisfaction: int) -> Visit:
    customer = world["customers"][name]
    rule_ = VisitRule.objects.get(name=rule)
    return Visit.objects.create(
        customer=customer,
        rule=rule_,
        period_key=key,
        visit_type=rule_.visit_type,
        due_date=done_at.date(),
        region=customer.region,
        status=VisitStatus.DONE,
        outcome=Outcome.REACHED,
        attempts=1,
        satisfaction=satisfaction,
        done_at=done_at,
    )


def _completed(world, user=None):
    return build_report("completed", user=user or world["manager"], period=parse_period(COMPLETED))


def test_completed_figures_row_by_row(world):
    customers = world["customers"]
    _visit(world, "北一", "完工回访", key="finish_date:2026-10-12:+3", done_at=datetime.datetime(2026, 10, 15, 11, tzinfo=TZ), satisfaction=3)  # fmt: skip
    # The latest completion visit counts; its day is the local one (16 Oct 00:30 is 15 Oct in UTC).
    _visit(world, "北一", "完工回访", key="finish_date:2026-10-12:+30", done_at=datetime.datetime(2026, 10, 16, 0, 30, tzinfo=TZ), satisfaction=5)  # fmt: skip
    # A later visit of another project stage is not the completion visit.
    _visit(world, "北一", "开工追访", key="start_date:2026-06-01:+7", done_at=datetime.datetime(2026, 10, 20, 9, tzinfo=TZ), satisfaction=1)  # fmt: skip
    make_ticket(world["agent"], customer=customers["北一"], now=datetime.datetime(2026, 10, 20, 10, tzinfo=TZ))
    closed = make_ticket(world["agent"], customer=customers["北二"], now=datetime.datetime(2026, 10, 21, 10, tzinfo=TZ))
    Ticket.objects.filter(pk=closed.pk).update(status="closed", is_open=False)

    report = _completed(world)
    summary = _table(report, "按片区汇总")
    assert [(r["label"], r["customers"], r["visited"], r["satisfaction_avg"], r["with_open_tickets"]) for r in summary.rows] == [
        ("城北", 2, 1, 5.0, 1),
        ("城南", 1, 0, None, 0),
    ]  # fmt: skip
    assert summary.totals == {
        "label": "合计",
        "customers": 3,
        "visited": 1,
        "satisfaction_avg": 5.0,
        "with_open_tickets": 1,
    }

    def row(name, finish, owner, **visit):
        c = customers[name]
        return {
            "customer": c.pk, "name": f"客户{name}", "archive_no": c.archive_no, "region_label": c.region.name,
            "owner_label": str(world[owner]), "contract_date": "2026-05-01", "start_date": "2026-06-01",
            "finish_date": finish, "designer": f"{name}设计师", "foreman": "王工长", "site_address": None,
            "completion_date": finish, "completion_satisfaction": None, "completion_visit_date": None,
            "open_tickets": 0, **visit,
        }  # fmt: skip

    assert _table(report, "完工客户清单").rows == [
        row("南一", "2026-10-01", "am_south"),
        row(
            "北一",
            "2026-10-12",
            "am_north",
            completion_satisfaction=5,
            completion_visit_date="2026-10-16",
            open_tickets=1,
        ),  # fmt: skip
        row("北二", "2026-10-31", "am_north"),
    ]


def test_completed_reads_the_customers_once_and_the_same_statements_however_many(world):
    _, before, reading = _statements(lambda: _completed(world), "customers_customer")
    assert reading == 1
    customers = world["customers"]
    for name in ("南三", "北五"):  # into October, with a completion visit and an open ticket
        extra = {**customers[name].extra, "finish_date": "2026-10-20"}
        type(customers[name]).objects.filter(pk=customers[name].pk).update(extra=extra)
        _visit(world, name, "完工回访", key="finish_date:2026-10-20:+3", done_at=datetime.datetime(2026, 10, 23, 11, tzinfo=TZ), satisfaction=4)  # fmt: skip
        make_ticket(world["manager"], customer=customers[name], now=datetime.datetime(2026, 10, 24, 10, tzinfo=TZ))
    report, after, reading = _statements(lambda: _completed(world), "customers_customer")
    assert (after, reading) == (before, 1)
    assert _table(report, "按片区汇总").totals == {
        "label": "合计", "customers": 5, "visited": 2, "satisfaction_avg": 4.0, "with_open_tickets": 2,
    }  # fmt: skip


def test_completed_without_a_finish_date_takes_the_date_field_of_the_latest_stage_visit(world):
    from kefu.customers.models import CustomField

    CustomField.objects.filter(key="finish_date").update(is_active=False)
    _visit(world, "南三", "开工追访", key="start_date:2026-06-01:+7", done_at=datetime.datetime(2026, 10, 9, 11, tzinfo=TZ), satisfaction=5)  # fmt: skip
    _visit(world, "南三", "完工回访", key="finish_date:2026-09-30:+3", done_at=datetime.datetime(2026, 10, 20, 11, tzinfo=TZ), satisfaction=2)  # fmt: skip
    report, _, reading = _statements(lambda: _completed(world), "customers_customer")
    assert reading == 1
    rows = _table(report, "完工客户清单").rows
    assert [(r["name"], r["completion_date"], r["completion_satisfaction"], r["completion_visit_date"]) for r in rows] == [
        ("客户南三", "2026-09-30", 2, "2026-10-20")  # 完工回访 is the later: its date field, 竣工日期
    ]  # fmt: skip
    assert rows[0]["start_date"] == "2026-06-01" and rows[0]["finish_date"] == "2026-09-30"
