"""The archive pages over HTTP: the slips archive form (last month by default, Chinese
4xx for bad input), asking creates one job and goes to its page, asking again while it
runs goes to the same job, the job page polls and then offers the download, the file
is a PDF attachment for the requester only, and the visits' PDF archive uses the same
job pages."""

import datetime
import io
from urllib.parse import quote

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.tickets.models import ArchiveJob
from kefu.tickets.models.archive import ArchiveKind, ArchiveStatus
from kefu.tickets.services import flow
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db

ARCHIVE = reverse("tickets:slip_archive")


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def _as(client, user):
    client.force_login(user)
    return client


def _routed(w):
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    return routing


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_page_offers_last_month_and_lists_recent_archives(client, ticket_world):
    response = _as(client, ticket_world["supervisor"]).get(ARCHIVE)
    assert response.status_code == 200
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
    assert response.context["form"]["month"].value() == last_month
    assert "还没有生成过存档" in response.content.decode()
    assert not ArchiveJob.objects.exists()  # a GET asks for nothing


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "2026-13"}, "月份格式应为"),
        ({"month": "<script>"}, "月份格式应为"),
        ({"month": "2026-11", "department": "x"}, "所选部门不存在"),
        ({"month": "2026-11", "department": "99999"}, "所选部门不存在"),
    ],
)
def test_bad_input_is_a_chinese_422_and_asks_for_nothing(client, ticket_world, params, message):
    c = _as(client, ticket_world["supervisor"])
    assert message in c.get(ARCHIVE, params).content.decode()
    response = c.post(ARCHIVE, params)
    assert response.status_code == 422 and message in response.content.decode()
    assert "<script>" not in response.content.decode()
    assert not ArchiveJob.objects.exists()


def test_the_archive_needs_export(client, ticket_world):
    for user in (ticket_world["agent"], ticket_world["engineer"]):
        c = _as(client, user)
        assert c.get(ARCHIVE).status_code == 403
        assert c.post(ARCHIVE, {"month": "2026-11"}).status_code == 403
    assert not ArchiveJob.objects.exists()


def test_ask_follow_and_download(client, ticket_world, django_capture_on_commit_callbacks):
    w = ticket_world
    routing = _routed(w)
    month = timezone.localtime(routing.routed_at).strftime("%Y-%m")
    c = _as(client, w["supervisor"])

    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(ARCHIVE, {"month": month, "department": w["engineering"].pk})

    job = ArchiveJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("tickets:archive_job", args=[job.pk])
    assert job.status == ArchiveStatus.DONE and job.department == w["engineering"]
    page = c.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert f"投诉告知单月度存档 {month} · 工程部" in html and 'data-testid="archive-download"' in html
    status = c.get(reverse("tickets:archive_job_status", args=[job.pk]))
    assert status["HX-Refresh"] == "true"

    download = c.get(reverse("tickets:archive_job_file", args=[job.pk]))

    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff" and "no-store" in download["Cache-Control"]
    assert download["Content-Disposition"].startswith("attachment; ")
    assert quote(f"投诉告知单存档_{month}_工程部.pdf", safe="") in download["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(_body(download)))
    assert routing.slip_no in reader.pages[1].extract_text()
    event = AuditEvent.objects.get(code="ticket.slips.exported")
    assert event.data["slips"] == 1 and event.data["department"] == w["engineering"].pk
    assert event.actor == w["supervisor"]
    # The archive page lists it.
    assert reverse("tickets:archive_job", args=[job.pk]) in c.get(ARCHIVE).content.decode()


def test_asking_twice_while_it_runs_goes_to_the_same_job(client, ticket_world):
    c = _as(client, ticket_world["supervisor"])
    first = c.post(ARCHIVE, {"month": "2026-11"})  # on_commit not run: the job stays queued
    second = c.post(ARCHIVE, {"month": "2026-11"})
    job = ArchiveJob.objects.get()
    assert first["Location"] == second["Location"] == reverse("tickets:archive_job", args=[job.pk])
    page = c.get(first["Location"])
    assert 'hx-trigger="every 2s"' in page.content.decode() and "排队等待" in page.content.decode()
    assert "HX-Refresh" not in c.get(reverse("tickets:archive_job_status", args=[job.pk]))
    # Not finished: no file yet, a Chinese 409.
    response = c.get(reverse("tickets:archive_job_file", args=[job.pk]))
    assert response.status_code == 409 and "尚未生成完成" in response.content.decode()


def test_another_persons_job_is_a_404(client, ticket_world, make_user, django_capture_on_commit_callbacks):
    w = ticket_world
    _routed(w)
    with django_capture_on_commit_callbacks(execute=True):
        _as(client, w["supervisor"]).post(ARCHIVE, {"month": f"{timezone.localdate():%Y-%m}"})
    job = ArchiveJob.objects.get()
    other = make_user("supervisor", username="sup2", department=w["service"], region=w["south"])
    for user in (other, w["agent"], w["engineer"]):
        c = _as(client, user)
        for name in ("tickets:archive_job", "tickets:archive_job_status", "tickets:archive_job_file"):
            assert c.get(reverse(name, args=[job.pk])).status_code == 404
    assert not AuditEvent.objects.filter(code="ticket.slips.exported").exists()
    client.logout()
    response = client.get(reverse("tickets:archive_job_file", args=[job.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_failed_job_shows_its_chinese_message(client, ticket_world, monkeypatch, django_capture_on_commit_callbacks):
    from kefu.tickets import pdf

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pdf, "pdf_parts_write", broken)
    c = _as(client, ticket_world["supervisor"])
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(ARCHIVE, {"month": "2026-11"})
    html = c.get(response["Location"]).content.decode()
    assert 'data-testid="archive-error"' in html and "生成失败" in html
    assert 'data-testid="archive-download"' not in html


def test_visits_pdf_archive_uses_the_same_job_pages(client, ticket_world, django_capture_on_commit_callbacks):
    w = ticket_world
    c = _as(client, w["supervisor"])
    month = f"{timezone.localdate():%Y-%m}"
    oversight = c.get(reverse("visits:oversight"), {"month": month}).content.decode()
    assert 'data-testid="visit-archive-pdf"' in oversight

    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("visits:archive"), {"month": month})

    job = ArchiveJob.objects.get()
    assert job.kind == ArchiveKind.VISITS and job.status == ArchiveStatus.DONE
    assert response["Location"] == reverse("tickets:archive_job", args=[job.pk])
    assert "回访记录月度存档" in c.get(response["Location"]).content.decode()
    download = c.get(reverse("tickets:archive_job_file", args=[job.pk]))
    assert download.status_code == 200
    assert quote(f"回访记录存档_{month}.pdf", safe="") in download["Content-Disposition"]
    assert pypdf.PdfReader(io.BytesIO(_body(download))).pages[0].extract_text()
    event = AuditEvent.objects.get(code="visit.exported")
    assert event.data["format"] == "pdf" and event.data["month"] == month
    # A bad month is a Chinese 422 and asks for nothing; an agent may not export.
    assert c.post(reverse("visits:archive"), {"month": "2026-99"}).status_code == 422
    assert _as(client, w["agent"]).post(reverse("visits:archive"), {"month": month}).status_code == 403
    assert ArchiveJob.objects.count() == 1
