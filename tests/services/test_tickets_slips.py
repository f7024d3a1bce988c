"""The 投诉告知单 PDF: what one slip prints (checked in the HTML WeasyPrint lays out, and
in the PDF itself: bookmarks, pages, embedded CJK font), phone masking, department
scoping, and the monthly archive."""

import base64
import datetime
import re
import zlib

import pytest
from django.utils import timezone

from kefu.core.errors import AccessDenied, NotFound, ValidationFailed
from kefu.core.models import AuditEvent, SiteConfig
from kefu.tickets import pdf as slips
from kefu.tickets.choices import Severity
from kefu.tickets.selectors import routing_get
from kefu.tickets.services import flow
from tests.factories_tickets import category, make_ticket

pytestmark = pytest.mark.django_db

COMPANY = "宏达装饰工程有限公司"


def pdf_body(pdf: bytes) -> bytes:
    """The PDF with every compressed stream inflated after it: WeasyPrint packs page,
    outline and font dictionaries into Flate object streams."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def _dictionaries(pdf: bytes) -> list[bytes]:
    """The innermost `<< … >>` dictionaries (hex strings use single angle brackets)."""
    return re.findall(rb"<<((?:(?!<<|>>).)*)>>", pdf_body(pdf), re.S)


def _title(dictionary: bytes) -> str:
    (hex_title,) = re.findall(rb"/Title\s*<feff([0-9a-fA-F]*)>", dictionary)
    return bytes.fromhex(hex_title.decode()).decode("utf-16-be")


def bookmarks(pdf: bytes) -> list[str]:
    """The outline entries (one per slip, named after it), decoded from UTF-16."""
    return [_title(d) for d in _dictionaries(pdf) if b"/Title" in d and b"/Parent" in d]


def document_title(pdf: bytes) -> str:
    (title,) = [_title(d) for d in _dictionaries(pdf) if b"/Title" in d and b"/Producer" in d]
    return title


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf_body(pdf)))


def fonts(pdf: bytes) -> set[str]:
    return {f.decode() for f in re.findall(rb"/FontName\s*/([^\s/<>\[\]()]+)", pdf_body(pdf))}


@pytest.fixture
def world(ticket_world):
    SiteConfig.objects.create(company_name=COMPANY)
    return ticket_world


def _ticket(w, actor="agent", **fields):
    fields.setdefault("region", w["north"])
    fields.setdefault("category", category("墙面开裂"))
    fields.setdefault("severity", Severity.IMPORTANT)
    return make_ticket(w[actor], description="客厅墙面出现三条裂缝，业主要求上门查看。", **fields)


def _route(w, ticket, department="engineering", actor="agent", **kwargs):
    (routing,) = flow.ticket_route(
        actor=w[actor], ticket=ticket, departments=[w[department]], instructions="请两日内上门查看并回复", **kwargs
    )
    return routing


def _html(user, routing, *, reveal=False):
    routing = slips.slips_queryset(type(routing).objects.filter(pk=routing.pk)).get()
    slip = slips.build_slip(routing, reveal=reveal)
    return slips.render_slips_html(user=user, slips=[slip], title="t", reveal=reveal)


def test_the_slip_prints_everything_the_department_needs(world):
    w = world
    ticket = _ticket(w)
    routing = _route(w, ticket)

    html = _html(w["engineer"], routing)

    due = timezone.localtime(routing.due_at).strftime("%Y-%m-%d %H:%M")
    for text in (
        COMPANY,
        "投诉告知单",
        routing.slip_no,
        ticket.number,
        "工程部",
        ticket.customer.name,
        ticket.customer.archive_no,
        "138****5678",
        "客厅墙面出现三条裂缝",
        category("墙面开裂").path,
        "重要",
        "请两日内上门查看并回复",
        due,
        "部门回复",
        "责任部门负责人（签字）",
        "客服部确认（签字）",
    ):
        assert text in html, text
    assert "13812345678" not in html
    assert html.count('class="line"') == len(slips.REPLY_LINES)  # the empty reply section
    barcode, qr = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert b"<rect" in base64.b64decode(barcode) and b"<path" in base64.b64decode(qr)


def test_codes_encode_the_ticket_number():
    one, other = slips.barcode_svg("TS-20261123-0007"), slips.barcode_svg("TS-20261123-0008")
    assert one != other and one.count(b"<rect") > 20
    assert slips.qr_svg("TS-20261123-0007") != slips.qr_svg("TS-20261123-0008")


def test_whoever_may_reveal_sees_the_full_phone(world):
    routing = _route(world, _ticket(world))
    html = _html(world["manager"], routing, reveal=True)
    assert "13812345678" in html


def test_user_text_is_escaped_in_the_slip(world):
    ticket = make_ticket(world["agent"], region=world["north"], title='<img src="file:///etc/passwd">')
    html = _html(world["agent"], _route(world, ticket))
    assert '<img src="file:' not in html and "&lt;img" in html


def test_a_replied_slip_prints_the_reply_and_who_and_when(world):
    w = world
    routing = _route(w, _ticket(w))
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="已上门查看，裂缝为腻子层开裂，已修补")
    routing.refresh_from_db()

    html = _html(w["agent"], routing)

    assert "已上门查看，裂缝为腻子层开裂，已修补" in html
    assert str(w["engineer"]) in html
    assert timezone.localtime(routing.replied_at).strftime("%Y-%m-%d %H:%M") in html
    assert 'class="line"' not in html


def test_slip_pdf_is_a_pdf_with_the_slip_and_cjk_font_and_is_audited(world):
    w = world
    ticket = _ticket(w)
    routing = _route(w, ticket)

    pdf = slips.slip_pdf(user=w["engineer"], routing=routing_get(user=w["engineer"], pk=routing.pk))

    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 1
    assert bookmarks(pdf) == [f"投诉告知单 {routing.slip_no} 工程部"]
    assert document_title(pdf) == f"投诉告知单 {routing.slip_no}"
    assert any("NotoSansCJK" in name.replace("-", "") for name in fonts(pdf)), fonts(pdf)
    event = AuditEvent.objects.get(code="ticket.slip.printed")
    assert event.actor == w["engineer"] and event.object_id == str(routing.pk)
    assert event.data == {"slip": routing.slip_no, "ticket": ticket.number, "masked": True}


def test_another_department_cannot_print_the_slip(world):
    w = world
    routing = _route(w, _ticket(w))
    with pytest.raises(NotFound):
        routing_get(user=w["repairer"], pk=routing.pk)
    with pytest.raises(NotFound):
        slips.slip_pdf(user=w["repairer"], routing=routing)
    with pytest.raises(NotFound):
        slips.slip_pdf(user=w["agent_south"], routing=routing)
    assert not AuditEvent.objects.filter(code="ticket.slip.printed").exists()


@pytest.mark.parametrize("value", ["", "2026", "2026-13", "2026-00", "abc", "2026-1-1", "1999-12", "2026-11x", None])
def test_bad_months_are_refused_in_chinese(value):
    with pytest.raises(ValidationFailed) as err:
        slips.parse_month(value)
    assert "2026-11" in err.value.message


def test_month_parsing():
    assert slips.parse_month("2026-11") == datetime.date(2026, 11, 1)
    assert slips.parse_month(" 2026-02 ") == datetime.date(2026, 2, 1)
    assert slips.parse_month(datetime.date(2026, 11, 23)) == datetime.date(2026, 11, 1)


def _at(year, month, day, hour=10):
    return datetime.datetime(year, month, day, hour, tzinfo=timezone.get_current_timezone())


def test_the_monthly_archive_holds_the_months_visible_slips_with_replies(world):
    w = world
    early = _ticket(w)
    replied = _route(w, early, now=_at(2026, 11, 2))
    flow.routing_reply(actor=w["engineer"], routing=replied, reply="已修补完毕")
    open_slip = _route(w, _ticket(w), "repair", now=_at(2026, 11, 30, 23))
    october = _route(w, _ticket(w), now=_at(2026, 10, 31, 23))
    december = _route(w, _ticket(w), now=_at(2026, 12, 1, 0))
    withdrawn = _route(w, _ticket(w), now=_at(2026, 11, 5))
    flow.routing_cancel(actor=w["agent"], routing=withdrawn, reason="派错部门")
    south = _route(w, _ticket(w, "agent_south", region=w["south"]), actor="agent_south", now=_at(2026, 11, 6))

    pdf = slips.slips_month_pdf(user=w["supervisor"], month="2026-11")

    assert pdf.startswith(b"%PDF-")
    assert bookmarks(pdf) == [
        "投诉告知单月度存档 2026-11",
        f"投诉告知单 {replied.slip_no} 工程部",
        f"投诉告知单 {open_slip.slip_no} 维修部",
    ]
    assert page_count(pdf) == 3  # the index, then one page per slip
    for left_out in (october, december, withdrawn, south):
        assert left_out.slip_no not in " ".join(bookmarks(pdf))
    event = AuditEvent.objects.get(code="ticket.slips.exported")
    assert event.actor == w["supervisor"]
    assert event.data == {"month": "2026-11", "department": None, "slips": 2, "masked": False}

    # The manager sees every region; one department's slips alone on request.
    everything = slips.slips_month_pdf(user=w["manager"], month=datetime.date(2026, 11, 1))
    assert len(bookmarks(everything)) == 1 + 3
    engineering = slips.slips_month_pdf(user=w["manager"], month="2026-11", department=w["engineering"])
    assert [b.split()[1] for b in bookmarks(engineering)[1:]] == [replied.slip_no, south.slip_no]


def test_archive_html_has_the_index_and_the_replies(world):
    w = world
    routing = _route(w, _ticket(w), now=_at(2026, 11, 2))
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="已修补完毕")
    routings = list(slips.slips_queryset(slips.month_slips(user=w["supervisor"], month=datetime.date(2026, 11, 1))))
    html = slips.render_slips_html(
        user=w["supervisor"],
        slips=[slips.build_slip(r, reveal=False) for r in routings],
        title="存档",
        cover={"month": "2026-11", "department": None, "count": 1, "replied": 1},
        reveal=False,
    )
    assert 'data-testid="slip-archive-cover"' in html
    assert html.count(routing.slip_no) >= 2 and "已修补完毕" in html and "已回复" in html


def test_archive_needs_the_export_permission(world):
    with pytest.raises(AccessDenied):
        slips.slips_month_pdf(user=world["agent"], month="2026-11")
    with pytest.raises(AccessDenied):
        slips.slips_month_pdf(user=world["engineer"], month="2026-11")
    assert not AuditEvent.objects.filter(code="ticket.slips.exported").exists()


def test_an_empty_month_is_still_a_document(world):
    pdf = slips.slips_month_pdf(user=world["director"], month="2026-01")
    assert pdf.startswith(b"%PDF-") and page_count(pdf) == 1
    assert AuditEvent.objects.get(code="ticket.slips.exported").data["slips"] == 0


def test_weasyprint_reads_data_urls_only(tmp_path):
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    local = tmp_path / "secret.png"
    local.write_bytes(png)
    inline = "data:image/png;base64," + base64.b64encode(png).decode()

    def images(src: str) -> int:
        pdf = slips.html_to_pdf(f'<p>图</p><img src="{src}" style="width:10mm">')
        return len(re.findall(rb"/Subtype\s*/Image", pdf_body(pdf)))

    assert images(inline) >= 1
    assert images(local.as_uri()) == 0
    assert images("http://127.0.0.1:9/x.png") == 0
