"""The call-records archive as a PDF, read back with pypdf: the month's call records
(date, customer, visit type, channel, outcome, satisfaction, notes, agent) and the
month's slips (number, department, status, reply date), the company and the month at
the top of every page; the same scope and permission as the Excel; laid out in parts
for a month of any size; made by the archive job and audited on download."""

import datetime
import io

import pypdf
import pytest
from django.utils import timezone

from kefu.core.errors import AccessDenied
from kefu.core.models import AuditEvent, SiteConfig
from kefu.tickets import archive
from kefu.tickets.models.archive import ArchiveKind, ArchiveStatus
from kefu.tickets.pdf import pdf_parts_write
from kefu.tickets.services import flow
from kefu.visits import pdf as visits_pdf
from kefu.visits.choices import Outcome, VisitChannel
from tests.factories_tickets import make_ticket
from tests.views.visits_support import finish, make_survey, plan

pytestmark = pytest.mark.django_db

COMPANY = "宏达装饰工程有限公司"


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def month_of_calls(ticket_world):
    """This month: two north calls (one reached on site, one wrong number), one south
    call, one call last month; one slip routed and replied."""
    w = ticket_world
    SiteConfig.objects.create(company_name=COMPANY)
    survey = make_survey()
    reached = finish(
        plan(w, survey=survey, name="甲客户"),
        satisfaction=4,
        channel=VisitChannel.ONSITE,
        notes="客户对墙面修补表示满意",
    )
    wrong = finish(plan(w, survey=survey, name="乙客户"), outcome=Outcome.WRONG_NUMBER, notes="空号")
    south = finish(plan(w, survey=survey, name="南区客户", assignee=w["agent_south"], region=w["south"]))
    earlier = finish(plan(w, survey=survey, name="上月客户"), done_at=timezone.now() - datetime.timedelta(days=40))
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="已处理")
    routing.refresh_from_db()
    return {"reached": reached, "wrong": wrong, "south": south, "earlier": earlier, "routing": routing}


def _pdf(user, month=None) -> tuple[pypdf.PdfReader, object]:
    content = visits_pdf.visits_archive_content(user=user, month=month or timezone.localdate())
    out = io.BytesIO()
    pdf_parts_write(content.parts, out, title="t", author=COMPANY)
    return pypdf.PdfReader(out), content


def _text(reader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_holds_the_months_call_records_and_slips(ticket_world, month_of_calls):
    w, m = ticket_world, month_of_calls
    reader, content = _pdf(w["supervisor"])
    text = _text(reader)
    flat = text.replace("\n", "").replace(" ", "")

    label = f"{timezone.localdate():%Y-%m}"
    assert content.summary == {"month": label, "rows": 2, "slips": 1}
    assert COMPANY in text and f"回访记录月度存档 {label}" in text
    reached, wrong, routing = m["reached"], m["wrong"], m["routing"]
    for value in (
        timezone.localtime(reached.done_at).strftime("%Y-%m-%d %H:%M"),
        "甲客户",
        reached.customer.archive_no,
        "满意度回访",
        "上门/面对面",
        "已接通",
        "客户对墙面修补表示满意",
        str(w["agent"]),
        "乙客户",
        timezone.localtime(wrong.done_at).strftime("%Y-%m-%d %H:%M"),
        "号码错误",
        "空号",
        routing.slip_no,
        "工程部",
        "已回复",
        timezone.localtime(routing.replied_at).strftime("%Y-%m-%d %H:%M"),
    ):
        assert value.replace(" ", "") in flat, value
    assert "4" in flat
    # Same scope as the Excel: not the south region, not last month.
    assert "南区客户" not in text and "上月客户" not in text
    assert [item.title for item in reader.outline] == [f"回访记录月度存档 {label}", "回访电话记录", "投诉告知单汇总"]


def test_a_large_month_is_laid_out_in_parts_with_the_header_on_every_page(ticket_world, month_of_calls, monkeypatch):
    w = ticket_world
    monkeypatch.setattr(visits_pdf, "PART_VISITS", 1)
    monkeypatch.setattr(visits_pdf, "PART_SLIPS", 1)
    reader, content = _pdf(w["manager"])  # everything: three calls this month, one slip
    assert content.total == 4 and len(content.parts) == 4
    assert len(reader.pages) == 4
    label = f"{timezone.localdate():%Y-%m}"
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert COMPANY in text and f"回访记录月度存档 {label}" in text
        assert f"第 {number} 页" in text
    text = _text(reader)
    for name in ("甲客户", "乙客户", "南区客户", month_of_calls["routing"].slip_no):
        assert name in text


def test_an_empty_month_says_so(ticket_world):
    SiteConfig.objects.create(company_name=COMPANY)
    reader, content = _pdf(ticket_world["manager"], datetime.date(2001, 1, 1))
    text = _text(reader)
    assert content.total == 0 and "本月没有回访记录" in text and "本月没有投诉告知单" in text


def test_same_permission_as_the_excel(ticket_world):
    for user in ("agent", "engineer"):
        with pytest.raises(AccessDenied):
            visits_pdf.visits_archive_content(user=ticket_world[user], month=timezone.localdate())
        with pytest.raises(AccessDenied):
            archive.archive_request(actor=ticket_world[user], kind=ArchiveKind.VISITS, month=timezone.localdate())


def test_the_job_makes_it_and_the_download_is_audited(ticket_world, month_of_calls, django_capture_on_commit_callbacks):
    w = ticket_world
    with django_capture_on_commit_callbacks(execute=True):
        job, created = archive.archive_request(
            actor=w["supervisor"], kind=ArchiveKind.VISITS, month=timezone.localdate()
        )
    job.refresh_from_db()
    assert created and job.status == ArchiveStatus.DONE and (job.total, job.processed) == (3, 3)

    path = archive.archive_file(user=w["supervisor"], job=job)

    reader = pypdf.PdfReader(path)
    assert "甲客户" in _text(reader) and reader.metadata.title.startswith("回访记录月度存档")
    event = AuditEvent.objects.get(code="visit.exported")
    label = f"{timezone.localdate():%Y-%m}"
    assert event.data == {"month": label, "rows": 2, "slips": 1, "masked": False, "format": "pdf", "job": job.pk}
    assert AuditEvent.objects.filter(code="visit.archive_requested", actor=w["supervisor"]).count() == 1


def test_no_per_row_queries(ticket_world, month_of_calls, django_assert_max_num_queries):
    w = ticket_world
    for _ in range(5):
        finish(plan(w, name="加量客户"), satisfaction=5)
    content = visits_pdf.visits_archive_content(user=w["manager"], month=timezone.localdate())
    with django_assert_max_num_queries(8):
        for part in content.parts:
            part.html(None)
