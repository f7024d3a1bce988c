"""The monthly slips archive made by a background job: every slip of the month is
rendered (no cap; laid out in parts and joined), one job per requester, month and
department while it runs, failures kept as a Chinese message, the file only for those
who may see what it holds, each download audited, the requester told in the inbox."""

import datetime
import io
import re

import pypdf
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core.errors import AccessDenied, InvalidState, NotFound, ValidationFailed
from kefu.core.models import AuditEvent, SiteConfig
from kefu.notify.models import Notification
from kefu.tickets import archive
from kefu.tickets import pdf as slips
from kefu.tickets.models import ArchiveJob
from kefu.tickets.models.archive import ArchiveKind, ArchiveStatus
from kefu.tickets.services import flow
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db

COMPANY = "宏达装饰工程有限公司"
NOVEMBER = datetime.date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def world(ticket_world):
    SiteConfig.objects.create(company_name=COMPANY)
    return ticket_world


def _at(day, hour=10):
    return datetime.datetime(2026, 11, day, hour, tzinfo=timezone.get_current_timezone())


def _slip(w, day, department="engineering", region="north", actor="agent"):
    ticket = make_ticket(w[actor], region=w[region])
    (routing,) = flow.ticket_route(actor=w[actor], ticket=ticket, departments=[w[department]], now=_at(day))
    return routing


def _request(w, user="supervisor", **kwargs):
    kwargs.setdefault("kind", ArchiveKind.SLIPS)
    kwargs.setdefault("month", NOVEMBER)
    kwargs.setdefault("actor", w[user] if user else None)
    return archive.archive_request(**kwargs)


def _run(w, django_capture_on_commit_callbacks, user="supervisor", **kwargs):
    """Ask for the archive and let the enqueued task run (huey is immediate in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        job, created = _request(w, user, **kwargs)
    assert created
    job.refresh_from_db()
    return job


def _reader(job) -> pypdf.PdfReader:
    return pypdf.PdfReader(archive.archives_root() / job.file_name)


def test_the_job_renders_every_slip_of_the_month_in_parts(world, django_capture_on_commit_callbacks, monkeypatch):
    w = world
    routings = [_slip(w, day) for day in (2, 3, 5, 8, 13)]
    _slip(w, 14, region="south", actor="agent_south")  # another region: not the supervisor's
    replied = routings[1]
    flow.routing_reply(actor=w["engineer"], routing=replied, reply="已上门修补")
    # Tiny parts, so five slips take three index parts and three slip parts joined.
    monkeypatch.setattr(slips, "ARCHIVE_PART_SLIPS", 2)
    monkeypatch.setattr(slips, "ARCHIVE_INDEX_ROWS", 2)

    job = _run(w, django_capture_on_commit_callbacks)

    assert job.status == ArchiveStatus.DONE and job.error == ""
    assert (job.total, job.processed) == (5, 5)
    assert job.summary == {"month": "2026-11", "department": None, "slips": 5, "replied": 1}
    # The supervisor may reveal phones, so the file has them in full.
    assert job.masked is False and job.file_size > 0 and job.finished_at is not None
    reader = _reader(job)
    assert [item.title for item in reader.outline] == ["投诉告知单月度存档 2026-11"] + [
        f"投诉告知单 {r.slip_no} 工程部" for r in routings
    ]
    assert len(reader.pages) == 3 + 5  # three index pages, then one page per slip
    text = [page.extract_text() for page in reader.pages]
    # Page numbers run on across the joined parts.
    assert [int(re.search(r"第 (\d+) 页", t).group(1)) for t in text] == list(range(1, 9))
    assert COMPANY in text[0] and "告知单：5" in text[0].replace(" ", "")
    for routing, page in zip(routings, text[3:], strict=True):
        assert routing.slip_no in page and routing.ticket.number in page
    assert "已上门修补" in text[4]
    assert reader.metadata.title == "投诉告知单月度存档 2026-11" and reader.metadata.author == COMPANY
    # The requester is told in the inbox, with a link to the job page.
    (note,) = Notification.objects.filter(recipient=w["supervisor"])
    assert "已生成" in note.title and note.link == f"/tickets/archives/{job.pk}/"


def test_no_cap_the_whole_month_is_one_document(world, django_capture_on_commit_callbacks):
    w = world
    assert not hasattr(slips, "ARCHIVE_MAX_SLIPS")
    routings = [_slip(w, 2 + n % 20) for n in range(12)]
    job = _run(w, django_capture_on_commit_callbacks, user="manager")
    reader = _reader(job)
    assert job.total == 12 and len(reader.outline) == 1 + 12
    assert {r.slip_no for r in routings} <= {item.title.split()[1] for item in reader.outline[1:]}


def test_one_department(world, django_capture_on_commit_callbacks):
    w = world
    engineering = _slip(w, 2)
    _slip(w, 3, department="repair")
    job = _run(w, django_capture_on_commit_callbacks, department=w["engineering"])
    assert [item.title for item in _reader(job).outline][1:] == [f"投诉告知单 {engineering.slip_no} 工程部"]
    assert archive.archive_title(job) == "投诉告知单月度存档 2026-11 · 工程部"
    assert archive.archive_filename(job) == "投诉告知单存档_2026-11_工程部.pdf"


def test_asking_again_while_it_runs_returns_the_running_job(world):
    w = world
    _slip(w, 2)
    first, created = _request(w)  # on_commit not run: the job stays queued
    assert created and first.status == ArchiveStatus.QUEUED
    ArchiveJob.objects.filter(pk=first.pk).update(status=ArchiveStatus.RUNNING)

    again, created_again = _request(w)

    assert again.pk == first.pk and not created_again
    assert ArchiveJob.objects.count() == 1
    assert AuditEvent.objects.filter(code="ticket.slips.archive_requested").count() == 1
    # Another department, another month or another person is another archive.
    assert _request(w, department=w["engineering"])[1]
    assert _request(w, month=datetime.date(2026, 10, 1))[1]
    assert _request(w, "manager")[1]
    assert ArchiveJob.objects.count() == 4


def test_the_database_refuses_a_second_active_job_for_the_same_archive(world):
    w = world
    job, _ = _request(w)
    with pytest.raises(IntegrityError), transaction.atomic():
        ArchiveJob.objects.create(
            kind=job.kind, month=job.month, requested_by=job.requested_by, scope_key=job.scope_key
        )


def test_a_finished_job_is_not_returned_a_new_one_starts(world, django_capture_on_commit_callbacks):
    w = world
    done = _run(w, django_capture_on_commit_callbacks)
    again = _run(w, django_capture_on_commit_callbacks)
    assert again.pk != done.pk and again.status == ArchiveStatus.DONE


def test_running_the_task_twice_renders_once(world, django_capture_on_commit_callbacks):
    w = world
    _slip(w, 2)
    job = _run(w, django_capture_on_commit_callbacks)
    assert archive.archive_render(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == ArchiveStatus.DONE
    assert Notification.objects.filter(recipient=w["supervisor"]).count() == 1
    assert len(list(archive.archives_root().iterdir())) == 1


def test_asking_needs_the_export_permission(world):
    w = world
    for user in ("agent", "engineer"):
        with pytest.raises(AccessDenied):
            _request(w, user)
    with pytest.raises(ValidationFailed):
        _request(w, kind="nonsense")
    assert not ArchiveJob.objects.exists()
    assert not AuditEvent.objects.filter(code="ticket.slips.archive_requested").exists()


def test_a_failure_is_marked_failed_with_a_chinese_message(world, django_capture_on_commit_callbacks, monkeypatch):
    w = world
    _slip(w, 2)

    def broken(*args, **kwargs):
        raise RuntimeError("pango exploded")

    monkeypatch.setattr(slips, "pdf_parts_write", broken)
    job = _run(w, django_capture_on_commit_callbacks)

    assert job.status == ArchiveStatus.FAILED and job.file_name == ""
    assert job.error == "生成失败：系统内部错误，请稍后重新生成或联系管理员。"
    (note,) = Notification.objects.filter(recipient=w["supervisor"])
    assert "生成失败" in note.title and note.body == job.error
    assert list(archive.archives_root().iterdir()) == []  # no half-written file left
    with pytest.raises(InvalidState):
        archive.archive_file(user=w["supervisor"], job=job)


def test_losing_the_permission_before_the_job_runs_fails_it(world, django_capture_on_commit_callbacks):
    w = world
    job, _ = _request(w)
    w["supervisor"].groups.clear()
    archive.archive_render(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ArchiveStatus.FAILED and job.error == "生成失败：您没有执行此操作的权限。"


def test_a_job_whose_worker_died_is_failed_when_looked_at(world):
    w = world
    job, _ = _request(w)
    old = timezone.now() - archive.STALE_AFTER - datetime.timedelta(minutes=1)
    ArchiveJob.objects.filter(pk=job.pk).update(status=ArchiveStatus.RUNNING, heartbeat_at=old)

    seen = archive.archive_job_get(user=w["supervisor"], pk=job.pk)

    assert seen.status == ArchiveStatus.FAILED and "长时间没有进展" in seen.error
    # Asking again now starts a new job instead of returning the dead one.
    assert _request(w)[1]


def test_a_job_left_queued_too_long_is_failed(world):
    w = world
    job, _ = _request(w)
    ArchiveJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - archive.QUEUED_STALE_AFTER * 2)
    again, created = _request(w)
    assert created and again.pk != job.pk
    job.refresh_from_db()
    assert job.status == ArchiveStatus.FAILED and "长时间未开始" in job.error


def test_the_file_goes_only_to_those_who_may_see_it_and_each_download_is_audited(
    world, django_capture_on_commit_callbacks, make_user
):
    w = world
    _slip(w, 2)
    job = _run(w, django_capture_on_commit_callbacks)  # the supervisor's: north only

    path = archive.archive_file(user=w["supervisor"], job=archive.archive_job_get(user=w["supervisor"], pk=job.pk))

    assert path.read_bytes().startswith(b"%PDF-")
    event = AuditEvent.objects.get(code="ticket.slips.exported")
    assert event.actor == w["supervisor"] and event.object_id == str(job.pk)
    assert event.data == {
        "month": "2026-11",
        "department": None,
        "slips": 1,
        "replied": 0,
        "masked": False,
        "format": "pdf",
        "job": job.pk,
    }
    # Another supervisor (own region only), an agent and a department: not theirs.
    other = make_user("supervisor", username="sup2", department=w["service"], region=w["south"])
    for user in (other, w["agent"], w["engineer"]):
        with pytest.raises(NotFound):
            archive.archive_job_get(user=user, pk=job.pk)
    # Who sees everything may have the masked file.
    assert archive.archive_job_get(user=w["director"], pk=job.pk) == job


def _exporter_who_may_not_reveal(make_user):
    from django.contrib.auth.models import Permission

    user = make_user(username="auditor", scope_all=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="tickets", codename__in=["view_ticket", "export_ticket"])
    )
    return type(user).objects.get(pk=user.pk)  # permissions are cached per instance


def test_a_file_with_full_phones_is_not_for_someone_who_may_not_reveal(
    world, django_capture_on_commit_callbacks, make_user
):
    w = world
    _slip(w, 2)
    full = _run(w, django_capture_on_commit_callbacks, user="manager")
    assert full.masked is False
    assert "13812345678" in "".join(p.extract_text() for p in _reader(full).pages)
    auditor = _exporter_who_may_not_reveal(make_user)
    with pytest.raises(NotFound):
        archive.archive_job_get(user=auditor, pk=full.pk)
    # Their own archive is masked, and theirs to download.
    own = _run(w, django_capture_on_commit_callbacks, user=None, actor=auditor)
    assert own.masked is True and archive.archive_job_get(user=auditor, pk=own.pk) == own
    text = "".join(p.extract_text() for p in _reader(own).pages)
    assert "13812345678" not in text and "138****5678" in text


def test_a_lost_file_is_a_chinese_404(world, django_capture_on_commit_callbacks):
    w = world
    job = _run(w, django_capture_on_commit_callbacks)
    (archive.archives_root() / job.file_name).unlink()
    with pytest.raises(NotFound) as err:
        archive.archive_file(user=w["supervisor"], job=job)
    assert "重新生成" in err.value.message
    ArchiveJob.objects.filter(pk=job.pk).update(file_name="../../secret_key")
    job.refresh_from_db()
    with pytest.raises(NotFound):
        archive.archive_file(user=w["supervisor"], job=job)
    assert not AuditEvent.objects.filter(code="ticket.slips.exported").exists()


def test_the_index_part_lists_slips_without_their_pages(world):
    w = world
    routing = _slip(w, 2)
    content = slips.slips_archive_content(user=w["manager"], month=NOVEMBER, reveal=False)
    assert content.total == 1 and len(content.parts) == 1
    out = io.BytesIO()
    slips.pdf_parts_write(content.parts, out, title="t", author=COMPANY)
    assert routing.slip_no in pypdf.PdfReader(out).pages[0].extract_text()


def test_each_part_reads_its_slips_in_a_fixed_number_of_queries(world, monkeypatch, django_assert_max_num_queries):
    w = world
    for day in range(2, 12):
        _slip(w, day)
    monkeypatch.setattr(slips, "ARCHIVE_PART_SLIPS", 5)
    monkeypatch.setattr(slips, "ARCHIVE_INDEX_ROWS", 5)
    content = slips.slips_archive_content(user=w["manager"], month=NOVEMBER, reveal=True)
    assert len(content.parts) == 2 + 2
    for part in content.parts:
        with django_assert_max_num_queries(6):
            part.html(1)
