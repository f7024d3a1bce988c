"""A small, fully known data set for the report pages, files and API: complaints and a
repair in two regions in October 2026, one complaint in the month before and one a year
before, two of them important (one with a reason that looks like an Excel formula).

Tickets are registered through the services; their outcome (resolved, working minutes,
satisfaction, SLA state) is then written directly, because those figures are what the
reports read and the services that compute them are tested in the ticket suites."""

from __future__ import annotations

import datetime

from django.utils import timezone

from kefu.core.models import SiteConfig
from kefu.tickets.models import Ticket
from kefu.tickets.services.tickets import ticket_mark_important
from tests.factories_customers import make_customer
from tests.factories_tickets import category, make_ticket

COMPANY = "宏达装饰工程有限公司"
PERIOD = "2026-10"
FORMULA_REASON = '=HYPERLINK("http://evil.example","点我")'


def at(year: int, month: int, day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, tzinfo=timezone.get_current_timezone())


def _outcome(ticket: Ticket, **fields) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


def build_report_world(w: dict, make_user) -> dict:
    """`w` is the ticket world (tests/factories_tickets.py); adds an account manager of
    the south region and the tickets, and returns `w`."""
    SiteConfig.objects.create(company_name=COMPANY)
    north, south = w["north"], w["south"]
    w["am_south"] = make_user("account_manager", username="am_s", region=south)
    w["quality"] = make_user("quality_officer", username="qo_n", region=north)
    manager = w["manager"]
    c_north = make_customer(manager, name="张三", region=north)
    c_south = make_customer(manager, name="=1+2 李四", phone="13900000000", region=south)

    def complaint(customer, region, cat, when, **kw):
        return make_ticket(manager, customer=customer, region=region, category=category(cat), now=when, **kw)

    t1 = complaint(c_north, north, "墙面开裂", at(2026, 10, 5))
    t2 = complaint(c_north, north, "墙面开裂", at(2026, 10, 12), title="墙面再次开裂")
    t3 = complaint(c_north, north, "防水渗漏", at(2026, 10, 20), channel="web")
    t4 = complaint(c_south, south, "墙面开裂", at(2026, 10, 8))
    t5 = complaint(c_south, south, "水电问题", at(2026, 10, 25), severity="major")
    repair = make_ticket(manager, customer=c_north, kind_code="repair", region=north, now=at(2026, 10, 9))
    before = complaint(c_north, north, "墙面开裂", at(2026, 9, 15))
    last_year = complaint(c_south, south, "防水渗漏", at(2025, 10, 3))

    engineering = w["engineering"]
    _outcome(
        t1,
        status="resolved",
        resolved_at=at(2026, 10, 6),
        resolution_minutes=300,
        response_minutes=30,
        responsible_department=engineering,
        satisfaction=5,
        sla_state="on_track",
    )
    _outcome(
        t3,
        status="resolved",
        resolved_at=at(2026, 10, 24),
        resolution_minutes=900,
        response_minutes=90,
        responsible_department=engineering,
        satisfaction=2,
        sla_state="breached",
        reopen_count=1,
    )
    _outcome(
        t4,
        status="resolved",
        resolved_at=at(2026, 10, 9),
        resolution_minutes=120,
        response_minutes=10,
        responsible_department=engineering,
        satisfaction=4,
        sla_state="on_track",
    )
    _outcome(before, status="resolved", resolved_at=at(2026, 9, 16), resolution_minutes=60, satisfaction=5)
    _outcome(last_year, status="resolved", resolved_at=at(2025, 10, 4), resolution_minutes=240, satisfaction=3)
    ticket_mark_important(actor=manager, ticket=t2, important=True, reason=FORMULA_REASON)
    ticket_mark_important(actor=manager, ticket=t5, important=True, reason="业主扬言向媒体曝光")
    w.update(
        tickets={"t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5, "repair": repair, "before": before},
        customers={"north": c_north, "south": c_south},
    )
    return w


# ---------------------------------------------------------------------------- reading files back


def xlsx_sheets(content: bytes) -> list[list[tuple]]:
    """Every sheet of the workbook as its rows of cell values (openpyxl, as Excel reads it)."""
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content), read_only=False)
    return [[tuple(cell.value for cell in row) for row in sheet.iter_rows()] for sheet in book.worksheets]


def xlsx_cell_types(content: bytes) -> set[str]:
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content))
    return {cell.data_type for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}


def _expected_cell(value, kind: str):
    if value is None or value == "":
        return None
    if kind == "text":
        text = str(value)
        return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text
    return value


def assert_xlsx_matches_json(content: bytes, data: dict) -> None:
    """Each table of the API's JSON is one sheet: the header under the title lines, then
    the rows and the totals, cell for cell, numbers as numbers."""
    from kefu.reports.exporters.xlsx import HEADER_ROW

    sheets = xlsx_sheets(content)
    assert len(sheets) == len(data["tables"])
    for sheet, table in zip(sheets, data["tables"], strict=True):
        assert data["company"] in sheet[0][0] and data["title"] in sheet[0][0]
        assert data["period"]["label"] in sheet[1][0]
        kinds = [c["kind"] for c in table["columns"]]
        header = [c for c in sheet[HEADER_ROW] if c is not None]
        assert header == [c["label"] for c in table["columns"]], table["title"]
        expected = [table_row for table_row in table["rows"]]
        if table["totals"] is not None:
            expected.append(table["totals"])
        body = sheet[HEADER_ROW + 1 : HEADER_ROW + 1 + len(expected)]
        assert len(body) == len(expected), table["title"]
        for got, want in zip(body, expected, strict=True):
            cells = list(got[: len(kinds)]) + [None] * (len(kinds) - len(got))
            wanted = [_expected_cell(want[c["key"]], k) for c, k in zip(table["columns"], kinds, strict=True)]
            assert cells == wanted, (table["title"], cells, wanted)


def pdf_pages_text(content: bytes) -> list[str]:
    """The text of each page (pypdf), whitespace removed: CJK has none between words and
    the layout breaks lines anywhere."""
    import io
    import re

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in reader.pages]


def assert_pdf_matches_json(content: bytes, data: dict) -> None:
    """Every page carries the company and the period; every table's title and every row
    (its cells formatted as printed, in order) is in the text."""
    import re

    from kefu.reports.tables import format_value

    pages = pdf_pages_text(content)
    company, label = data["company"], re.sub(r"\s+", "", data["period"]["label"])
    for page in pages:
        assert company in page and label in page
    text = "".join(pages)
    for table in data["tables"]:
        assert re.sub(r"\s+", "", table["title"]) in text
        rows = list(table["rows"]) + ([table["totals"]] if table["totals"] is not None else [])
        for row in rows:
            cells = [format_value(row[c["key"]], c["kind"]) for c in table["columns"]]
            assert re.sub(r"\s+", "", "".join(cells)) in text, (table["title"], cells)
