"""Ticket attachments: the allow-list by extension AND content, names made harmless,
generated storage names, the size limit, scope, and nothing left behind on failure."""

import base64
import datetime
import hashlib
import io
import os
import re
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.core.errors import AccessDenied, InvalidState, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.tickets.models import Attachment, TicketEvent, TicketSettings
from kefu.tickets.services import attachments, flow
from kefu.tickets.services.attachments import (
    DOCX,
    XLSX,
    attachment_add,
    attachment_files_sweep,
    attachment_get,
    attachment_path,
    attachments_root,
    display_name,
)
from kefu.tickets.services.tickets import ticket_comment
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def zip_bytes(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


def stored_files() -> list:
    root = attachments_root()
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def ticket(ticket_world):
    return make_ticket(ticket_world["agent"], region=ticket_world["north"])


def test_a_real_png_is_stored_under_a_generated_name_with_its_history(ticket_world, ticket):
    agent = ticket_world["agent"]

    attachment = attachment_add(actor=agent, ticket=ticket, upload=upload("漏水照片.png", PNG, "text/html"))

    assert attachment.original_name == "漏水照片.png"
    assert attachment.content_type == "image/png"  # from the bytes, not from the client
    assert re.fullmatch(r"\d{4}/\d{2}/[0-9a-f]{32}", attachment.stored_name)
    assert attachment.size == len(PNG) and attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    path = attachment_path(attachment)
    assert path.read_bytes() == PNG and path.is_relative_to(attachments_root())
    assert "漏水" not in str(path)
    event = TicketEvent.objects.get(ticket=ticket, code="ticket.attachment.added")
    assert attachment.event == event and event.actor == agent
    assert event.data["attachment"] == attachment.pk and event.data["sha256"] == attachment.sha256
    assert AuditEvent.objects.filter(code="ticket.attachment.added", object_id=str(ticket.pk)).count() == 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        ("a.JPEG", b"\xff\xd8\xff\xe1\x00\x10Exif", "image/jpeg"),
        ("a.gif", b"GIF89a\x01\x00\x01\x00", "image/gif"),
        ("a.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("a.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        ("a.docx", zip_bytes("[Content_Types].xml", "word/document.xml"), DOCX),
        ("a.xlsx", zip_bytes("[Content_Types].xml", "xl/workbook.xml"), XLSX),
        ("a.txt", "业主来电记录：卫生间漏水。\n".encode(), "text/plain"),
        ("a.txt", "业主来电记录：卫生间漏水。\n".encode("gb18030"), "text/plain"),
        ("call.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        ("call.mp3", b"\xff\xfb\x90\x64\x00\x00", "audio/mpeg"),
        ("call.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        ("call.amr", b"#!AMR\n\x3c\x00", "audio/amr"),
        ("video.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video/mp4"),
    ],
)
def test_allowed_kinds_are_typed_from_their_bytes(ticket_world, ticket, name, content, expected):
    attachment = attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=upload(name, content))
    assert attachment.content_type == expected


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", HTML),  # HTML dressed as an image
        ("photo.jpg", PNG),  # an image, but not the one the name says
        ("report.pdf", HTML),
        ("report.docx", zip_bytes("[Content_Types].xml", "xl/workbook.xml")),  # an xlsx
        ("report.docx", zip_bytes("evil.sh")),
        ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00"),  # a Windows program
        ("notes.txt", PNG),
        ("page.html", HTML),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("setup.exe", b"MZ\x90\x00"),
        ("noextension", b"hello"),
        ("call.amr", b"hello"),
    ],
)
def test_refused_kinds_leave_nothing_behind(ticket_world, ticket, name, content):
    with pytest.raises(ValidationFailed) as err:
        attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=upload(name, content, "image/png"))

    assert err.value.code == "ticket_attachment_rejected"
    assert err.value.message  # a Chinese sentence for the page
    assert not Attachment.objects.exists()
    assert not TicketEvent.objects.filter(code="ticket.attachment.added").exists()
    assert stored_files() == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ("..", "附件"),
        ("../", "附件"),
        ("", "附件"),
        ("  .hidden.png", "hidden.png"),
        ("报\u200b告\u200d.pdf", "报告.pdf"),  # zero-width characters
        ("\ufeff发票.pdf", "发票.pdf"),
        ("invoice\u202egnp.exe.pdf", "invoicegnp.exe.pdf"),  # right-to-left override
        ("a\x00b\x1fc\x7f.txt", "abc.txt"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ('a"b<c>d|e?f*g:h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("现场　照片  1.jpg", "现场 照片 1.jpg"),
        ("CON.txt", "_CON.txt"),
        ("." * 300 + "png", "png"),
    ],
)
def test_display_names_are_harmless(raw, expected):
    assert display_name(raw) == expected


def test_long_names_are_cut_keeping_the_extension():
    name = display_name("装修合同" * 100 + ".pdf")
    assert len(name) == 120 and name.endswith(".pdf") and name.startswith("装修合同")


def test_hostile_upload_name_is_stored_cleaned_and_only_inside_the_data_dir(ticket_world, ticket):
    attachment = attachment_add(
        actor=ticket_world["agent"], ticket=ticket, upload=upload("../../\u200b业主\u2060签字.pdf", b"%PDF-1.4\n")
    )
    assert attachment.original_name == "业主签字.pdf"
    (path,) = stored_files()
    assert path == attachment_path(attachment) and path.is_relative_to(attachments_root())


def test_size_limit_comes_from_the_settings(ticket_world, ticket):
    TicketSettings.objects.update_or_create(pk=1, defaults={"attachment_max_mb": 1})
    big = b"a" * (1024 * 1024 + 1)
    with pytest.raises(ValidationFailed) as err:
        attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=upload("big.txt", big))
    assert "1 MB" in err.value.message
    assert not Attachment.objects.exists() and stored_files() == []

    attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=upload("ok.txt", big[:-1]))
    assert Attachment.objects.count() == 1


def test_the_size_is_counted_not_trusted(ticket_world, ticket):
    TicketSettings.objects.update_or_create(pk=1, defaults={"attachment_max_mb": 1})
    lying = upload("big.txt", b"a" * (1024 * 1024 + 10))
    lying.size = 10
    with pytest.raises(ValidationFailed):
        attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=lying)
    assert not Attachment.objects.exists() and stored_files() == []


def test_empty_file_is_refused(ticket_world, ticket):
    with pytest.raises(ValidationFailed):
        attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=upload("empty.txt", b""))
    assert not Attachment.objects.exists()


def test_department_attaches_only_once_routed_to_it(ticket_world, ticket):
    w = ticket_world
    with pytest.raises(NotFound):
        attachment_add(actor=w["engineer"], ticket=ticket, upload=upload("a.png", PNG))
    flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])

    attachment = attachment_add(actor=w["engineer"], ticket=ticket, upload=upload("a.png", PNG))

    assert attachment.uploaded_by == w["engineer"]
    assert attachment_get(user=w["engineer"], pk=attachment.pk) == attachment
    with pytest.raises(NotFound):
        attachment_get(user=w["repairer"], pk=attachment.pk)
    with pytest.raises(NotFound):
        attachment_get(user=w["agent_south"], pk=attachment.pk)
    with pytest.raises(NotFound):
        attachment_get(user=w["agent"], pk="x")


def test_without_the_role_nothing_is_stored(ticket_world, ticket):
    with pytest.raises(AccessDenied):
        attachment_add(actor=ticket_world["finance"], ticket=ticket, upload=upload("a.png", PNG))
    assert not Attachment.objects.exists() and stored_files() == []


def test_finished_ticket_takes_no_attachment(ticket_world, ticket):
    w = ticket_world
    flow.ticket_withdraw(actor=w["agent"], ticket=ticket, reason="客户撤诉")
    ticket.refresh_from_db()
    with pytest.raises(InvalidState):
        attachment_add(actor=w["agent"], ticket=ticket, upload=upload("a.png", PNG))
    assert not Attachment.objects.exists() and stored_files() == []


def test_the_file_goes_when_the_database_write_fails(ticket_world, ticket, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(attachments, "ticket_event", broken)
    with pytest.raises(RuntimeError):
        attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=upload("a.png", PNG))
    assert not Attachment.objects.exists()
    assert stored_files() == []


def test_attached_to_an_event_of_the_same_ticket_only(ticket_world, ticket):
    w = ticket_world
    note = ticket_comment(actor=w["agent"], ticket=ticket, body="业主提供了现场照片")
    other = make_ticket(w["agent"], region=w["north"], customer=ticket.customer)
    other_note = ticket_comment(actor=w["agent"], ticket=other, body="另一张工单")

    with pytest.raises(ValidationFailed):
        attachment_add(actor=w["agent"], ticket=ticket, upload=upload("a.png", PNG), event=other_note)
    attachment = attachment_add(actor=w["agent"], ticket=ticket, upload=upload("a.png", PNG), event=note)

    assert attachment.event == note
    assert Attachment.objects.count() == 1


def test_sweep_removes_only_old_files_no_row_refers_to(ticket_world, ticket):
    kept = attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=upload("a.png", PNG))
    month = attachment_path(kept).parent
    orphan_old = month / ("0" * 32)
    orphan_new = month / ("1" * 32)
    stranger = month / "README"
    for path in (orphan_old, orphan_new, stranger):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    for path in (orphan_old, attachment_path(kept), stranger):
        os.utime(path, (two_days_ago, two_days_ago))

    removed = attachment_files_sweep(older_than=datetime.timedelta(days=1))

    assert removed == 1
    assert not orphan_old.exists()
    assert orphan_new.exists() and stranger.exists() and attachment_path(kept).exists()
