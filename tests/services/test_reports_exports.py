"""The named reports as files: the Excel workbook and the PDF hold exactly the figures
of the report's JSON (read back with openpyxl and pypdf), the company name and the
period are on every PDF page, nothing a user typed becomes a formula, an export needs
`reports.export_reports` and is audited — and building a report costs a fixed number
of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.core.errors import AccessDenied, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.reports.catalog import REPORTS, build_report
from kefu.reports.exporters import report_export, report_pdf, report_xlsx
from kefu.reports.periods import parse_period
from kefu.reports.tables import Column, Report, Table
from kefu.tickets.services.tickets import ticket_mark_important
from tests.factories_tickets import category, make_ticket
from tests.report_world import (
    COMPANY,
    FORMULA_REASON,
    PERIOD,
    assert_pdf_matches_json,
    assert_xlsx_matches_json,
    at,
    build_report_world,
    pdf_pages_text,
    xlsx_cell_types,
    xlsx_sheets,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(ticket_world, make_user):
    return build_report_world(ticket_world, make_user)


@pytest.fixture
def period():
    return parse_period(PERIOD)


def _complaints_totals(report: Report) -> dict:
    comparison = report.tables[0]
    return comparison.rows[0]


def test_catalogue_names_every_report_the_issue_asks_for():
    assert {"complaints", "repairs", "visits", "customers", "staff", "completed", "important"} <= set(REPORTS)
    assert str(REPORTS["complaints"].title) == "投诉统计报表"
    assert str(REPORTS["completed"].title) == "完工客户月报"


def test_unknown_report_is_not_found(w, period):
    with pytest.raises(NotFound):
        build_report("nope", user=w["manager"], period=period)


def test_a_viewer_without_the_report_permission_gets_nothing(w, period):
    with pytest.raises(AccessDenied):
        build_report("complaints", user=w["agent"], period=period)


@pytest.mark.parametrize("key", sorted(REPORTS))
def test_excel_holds_exactly_the_figures_of_the_json(w, period, key):
    report = build_report(key, user=w["manager"], period=period)
    assert_xlsx_matches_json(report_xlsx(report), report.as_json())


def test_complaints_figures_in_the_excel_are_numbers_in_the_json_units(w, period):
    report = build_report("complaints", user=w["manager"], period=period)
    sheets = xlsx_sheets(report_xlsx(report))
    data = report.as_json()
    comparison = data["tables"][0]
    keys = [c["key"] for c in comparison["columns"]]
    current = dict(zip(keys, sheets[0][4], strict=False))
    # Oct 2026: five complaints, three resolved (300, 900, 120 working minutes), one late.
    assert current["count"] == 5 and current["resolved"] == 3
    assert current["avg_resolution_hours"] == 7.3  # 440 min
    assert current["p90_resolution_hours"] == 15.0
    assert current["sla_rate"] == pytest.approx(66.7)
    assert current["reopen_rate"] == 20.0
    previous = dict(zip(keys, sheets[0][5], strict=False))
    assert previous["count"] == 1
    assert dict(zip(keys, sheets[0][6], strict=False))["count"] == 4  # 环比增减
    assert dict(zip(keys, sheets[0][7], strict=False))["count"] == 1  # 去年同期
    assert comparison["rows"][0]["count"] == 5


def test_excel_neutralises_what_users_typed(w, period):
    report = build_report("important", user=w["manager"], period=period)
    content = report_xlsx(report)
    cells = [c for sheet in xlsx_sheets(content) for row in sheet for c in row if isinstance(c, str)]
    assert "'" + FORMULA_REASON in cells
    assert "'=1+2 李四" in cells
    assert "f" not in xlsx_cell_types(content)  # not one formula cell


def test_pdf_holds_the_figures_with_company_and_period_on_every_page(w, period):
    report = build_report("complaints", user=w["manager"], period=period)
    content = report_pdf(report)
    assert content.startswith(b"%PDF")
    pages = pdf_pages_text(content)
    assert len(pages) >= 2
    for page in pages:
        assert COMPANY in page and "2026年10月" in page
    assert_pdf_matches_json(content, report.as_json())


def test_pdf_of_the_important_complaints_lists_them(w, period):
    report = build_report("important", user=w["manager"], period=period)
    text = "".join(pdf_pages_text(report_pdf(report)))
    assert w["tickets"]["t2"].number in text and w["tickets"]["t5"].number in text
    assert "业主扬言向媒体曝光" in text
    assert w["tickets"]["t1"].number not in text  # not important


def test_export_needs_the_export_permission_and_writes_nothing_when_refused(w, period, make_user):
    viewer_only = make_user("manager", username="viewer")
    viewer_only.groups.clear()
    from django.contrib.auth.models import Permission

    viewer_only.user_permissions.add(Permission.objects.get(codename="view_reports"))
    with pytest.raises(AccessDenied):
        report_export(user=viewer_only, key="complaints", period=period, fmt="xlsx")
    with pytest.raises(AccessDenied):
        report_export(user=w["agent"], key="complaints", period=period, fmt="pdf")
    assert not AuditEvent.objects.filter(code="report.exported").exists()


def test_export_is_audited_with_report_period_and_format(w, period):
    exported = report_export(user=w["supervisor"], key="complaints", period=period, fmt="xlsx")
    assert exported.file_name == "投诉统计报表_2026-10.xlsx"
    assert exported.content_type.endswith("spreadsheetml.sheet")
    event = AuditEvent.objects.get(code="report.exported")
    assert event.actor == w["supervisor"]
    assert event.data["report"] == "complaints" and event.data["period"] == "2026-10"
    assert event.data["format"] == "xlsx"
    assert event.data["rows"]["按片区"] == 1  # the supervisor sees the north only


def test_no_file_leaves_without_its_audit_event(w, period, monkeypatch):
    # An export is a read: the audit event is the only trace, so a failure to write it
    # must stop the file rather than serve it unrecorded.
    from kefu.reports import exporters

    def broken(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(exporters, "audit_record", broken)
    with pytest.raises(RuntimeError):
        report_export(user=w["manager"], key="complaints", period=period, fmt="xlsx")
    assert not AuditEvent.objects.filter(code="report.exported").exists()


def test_unknown_format_is_refused_before_anything_is_built(w, period):
    with pytest.raises(ValidationFailed):
        report_export(user=w["manager"], key="complaints", period=period, fmt="csv")
    assert not AuditEvent.objects.filter(code="report.exported").exists()


def test_range_period_file_name_has_no_dots(w):
    exported = report_export(
        user=w["manager"], key="important", period=parse_period("2026-10-01..2026-10-15"), fmt="xlsx"
    )
    assert exported.file_name == "重要投诉报表_2026-10-01至2026-10-15.xlsx"


def test_an_empty_table_and_a_note_still_make_a_readable_workbook(period):
    report = Report(
        key="x",
        title="测试",
        period=period,
        company=COMPANY,
        generated_at=timezone.now(),
        tables=[Table(title="空表[1]:*?", columns=[Column("a", "甲"), Column("n", "数", "int")], rows=[], note="说明")],
    )
    (sheet,) = xlsx_sheets(report_xlsx(report))
    assert tuple(c for c in sheet[4] if c is not None) == ("本期没有数据",)
    assert "说明" in [c for row in sheet for c in row]


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("key", sorted(REPORTS))
def test_building_a_report_costs_the_same_queries_however_many_rows(w, period, key):
    # Figures are GROUP BY queries and lists are fetched with their relations: more
    # tickets in more groups must not mean more queries.
    def build():
        return build_report(key, user=w["manager"], period=period)

    before = _queries(build)
    manager = w["manager"]
    for index, (region, cat) in enumerate([(w["north"], "材料质量"), (w["south"], "开工延误"), (None, "增项费用")]):
        ticket = make_ticket(
            manager,
            customer=w["customers"]["north"],
            region=region,
            category=category(cat),
            now=at(2026, 10, 10 + index),
            channel="email",
        )
        ticket_mark_important(actor=manager, ticket=ticket, important=True, reason=f"原因{index}")
    assert _queries(build) == before
    assert before <= 60
