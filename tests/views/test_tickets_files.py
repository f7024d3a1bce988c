"""Attachment upload and download, the slip PDF and the monthly archive over HTTP:
headers that keep a disguised file from running, department scoping (another
department gets 404), Chinese refusals with a 4xx."""

import base64
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kefu.core.models import AuditEvent
from kefu.tickets.models import Attachment
from kefu.tickets.services import flow
from kefu.tickets.services.attachments import attachment_add, attachments_root
from kefu.tickets.views.files import content_disposition
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def routed(ticket_world):
    """A north ticket routed to engineering (not to repair)."""
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    ticket.refresh_from_db()
    return ticket, routing


def _as(client, user):
    client.force_login(user)
    return client


def _upload(client, ticket, *files):
    return client.post(reverse("tickets:attachment_upload", args=[ticket.pk]), {"file": list(files)})


def _file(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_upload_then_download_an_image(client, ticket_world, routed):
    ticket, _ = routed
    response = _upload(
        _as(client, ticket_world["agent"]), ticket, _file("现场 照片.png", PNG), _file("记录.txt", b"ok")
    )

    assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    png = Attachment.objects.get(original_name="现场 照片.png")
    assert Attachment.objects.filter(ticket=ticket).count() == 2

    download = client.get(reverse("tickets:attachment", args=[png.pk]))

    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"] == (
        f"attachment; filename=\"__ __.png\"; filename*=UTF-8''{quote('现场 照片.png', safe='')}"
    )
    assert "sandbox" in download["Content-Security-Policy"]
    assert "private" in download["Cache-Control"]
    assert _body(download) == PNG
    # Who took a copy of the customer's evidence is on record.
    taken = AuditEvent.objects.get(code="ticket.attachment.downloaded")
    assert (taken.actor, taken.object_id, taken.data["attachment"], taken.data["name"]) == (
        ticket_world["agent"],
        str(ticket.pk),
        png.pk,
        "现场 照片.png",
    )


def test_a_png_that_is_really_html_is_refused(client, ticket_world, routed):
    ticket, _ = routed
    response = _upload(_as(client, ticket_world["agent"]), ticket, _file("photo.png", HTML, "image/png"))

    assert response.status_code == 422
    assert "内容与扩展名不符" in response.content.decode()
    assert not Attachment.objects.exists()
    assert not attachments_root().exists() or not any(p.is_file() for p in attachments_root().rglob("*"))


def test_html_in_a_text_file_is_served_as_bytes_to_download(client, ticket_world, routed):
    ticket, _ = routed
    attachment = attachment_add(
        actor=ticket_world["agent"], ticket=ticket, upload=_file("notes.txt", HTML, "text/html")
    )
    assert attachment.content_type == "text/plain"

    download = _as(client, ticket_world["agent"]).get(reverse("tickets:attachment", args=[attachment.pk]))

    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert _body(download) == HTML


def test_hostile_names_stay_harmless_in_the_header(client, ticket_world, routed):
    ticket, _ = routed
    upload = _file("x.pdf", b"%PDF-1.4\n")
    # As an API client could send it (Django's own parser already drops folders).
    upload._name = '../../\u200b报告"\r\nSet-Cookie: x=1;.pdf'
    attachment = attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=upload)
    _as(client, ticket_world["agent"])
    assert attachment.original_name == "报告_Set-Cookie_ x=1;.pdf"

    download = client.get(reverse("tickets:attachment", args=[attachment.pk]))

    header = download["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and ".." not in header
    assert header == (
        'attachment; filename="___Set-Cookie_ x=1_.pdf"; '
        f"filename*=UTF-8''{quote('报告_Set-Cookie_ x=1;.pdf', safe='')}"
    )
    assert download["Content-Type"] == "application/pdf"
    assert not download.cookies.get("x")


def test_content_disposition_ascii_fallback():
    assert content_disposition("inline", "a.pdf") == "inline; filename=\"a.pdf\"; filename*=UTF-8''a.pdf"
    assert content_disposition("attachment", "告知单.pdf").startswith('attachment; filename="___.pdf"; filename*=')


def test_another_department_gets_404_for_attachment_and_slip(client, ticket_world, routed):
    w = ticket_world
    ticket, routing = routed
    attachment = attachment_add(actor=w["agent"], ticket=ticket, upload=_file("a.png", PNG))
    urls = [
        reverse("tickets:attachment", args=[attachment.pk]),
        reverse("tickets:slip_pdf", args=[routing.pk]),
    ]
    for user in (w["repairer"], w["agent_south"]):
        _as(client, user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        response = _upload(client, ticket, _file("b.png", PNG))
        assert response.status_code == 404
    assert Attachment.objects.count() == 1

    _as(client, w["engineer"])
    assert client.get(urls[0]).status_code == 200
    assert client.get(urls[1]).status_code == 200
    assert _upload(client, ticket, _file("b.png", PNG)).status_code == 302


def test_a_withdrawn_slip_hides_the_ticket_from_its_department(client, ticket_world, routed):
    w = ticket_world
    ticket, routing = routed
    attachment = attachment_add(actor=w["engineer"], ticket=ticket, upload=_file("a.png", PNG))
    flow.routing_cancel(actor=w["agent"], routing=routing, reason="派错部门")

    _as(client, w["engineer"])
    assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 404
    assert client.get(reverse("tickets:slip_pdf", args=[routing.pk])).status_code == 404


def test_unknown_ids_and_missing_files_are_404(client, ticket_world, routed):
    w = ticket_world
    ticket, _ = routed
    attachment = attachment_add(actor=w["agent"], ticket=ticket, upload=_file("a.png", PNG))
    (attachments_root() / attachment.stored_name).unlink()
    _as(client, w["agent"])

    missing = client.get(reverse("tickets:attachment", args=[attachment.pk]))
    assert missing.status_code == 404 and "附件文件已丢失" in missing.content.decode()
    assert client.get(reverse("tickets:attachment", args=[attachment.pk + 99])).status_code == 404
    assert client.get(reverse("tickets:slip_pdf", args=[99999])).status_code == 404
    assert not AuditEvent.objects.filter(code="ticket.attachment.downloaded").exists()
    assert _upload(client, type(ticket)(pk=99999), _file("a.png", PNG)).status_code == 404


def test_upload_errors_are_chinese_4xx(client, ticket_world, routed):
    w = ticket_world
    ticket, _ = routed
    _as(client, w["agent"])

    nothing = client.post(reverse("tickets:attachment_upload", args=[ticket.pk]), {})
    assert nothing.status_code == 422 and "请选择要上传的文件" in nothing.content.decode()
    too_many = _upload(client, ticket, *[_file(f"{i}.png", PNG) for i in range(11)])
    assert too_many.status_code == 422 and "一次最多上传 10 个文件" in too_many.content.decode()
    assert not Attachment.objects.exists()

    partly = _upload(client, ticket, _file("good.png", PNG), _file("bad.png", HTML))
    assert partly.status_code == 422
    assert "此前的 1 个文件已上传" in partly.content.decode()
    assert list(Attachment.objects.values_list("original_name", flat=True)) == ["good.png"]

    assert client.get(reverse("tickets:attachment_upload", args=[ticket.pk])).status_code == 405


def test_closed_ticket_refuses_uploads_with_409(client, ticket_world, routed):
    w = ticket_world
    ticket, _ = routed
    flow.ticket_withdraw(actor=w["agent"], ticket=ticket, reason="客户撤诉")
    response = _upload(_as(client, w["agent"]), ticket, _file("a.png", PNG))
    assert response.status_code == 409 and "不能上传附件" in response.content.decode()
    assert not Attachment.objects.exists()


def test_roles_without_tickets_get_403_and_anonymous_the_login_page(client, ticket_world, routed):
    ticket, routing = routed
    url = reverse("tickets:slip_pdf", args=[routing.pk])
    assert client.get(url).status_code == 302
    _as(client, ticket_world["finance"])
    assert client.get(url).status_code == 403
    assert _upload(client, ticket, _file("a.png", PNG)).status_code == 403


def test_slip_pdf_is_inline_pdf_with_nosniff(client, ticket_world, routed):
    _, routing = routed
    response = _as(client, ticket_world["engineer"]).get(reverse("tickets:slip_pdf", args=[routing.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline; ")
    assert quote(f"投诉告知单_{routing.slip_no}.pdf", safe="") in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")
    assert AuditEvent.objects.filter(code="ticket.slip.printed", actor=ticket_world["engineer"]).count() == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "2026-13"}, "月份格式应为"),
        ({"month": "<script>"}, "月份格式应为"),
        ({"month": "2026-11", "department": "x"}, "所选部门不存在"),
        ({"month": "2026-11", "department": "99999"}, "所选部门不存在"),
    ],
)
def test_monthly_archive_bad_input_is_a_chinese_4xx(client, ticket_world, params, message):
    response = _as(client, ticket_world["supervisor"]).get(reverse("tickets:slip_archive"), params)
    assert response.status_code == 422 and message in response.content.decode()
    assert not AuditEvent.objects.filter(code="ticket.slips.exported").exists()


def test_monthly_archive_needs_export(client, ticket_world):
    for user in (ticket_world["agent"], ticket_world["engineer"]):
        response = _as(client, user).get(reverse("tickets:slip_archive"), {"month": "2026-11"})
        assert response.status_code == 403


def test_a_download_whose_audit_fails_sends_nothing_and_closes_the_file(ticket_world, routed, monkeypatch):
    from kefu.tickets.services import attachments

    ticket, _ = routed
    attachment = attachment_add(actor=ticket_world["agent"], ticket=ticket, upload=_file("a.png", PNG))
    opened = []
    real_open = attachments.Path.open

    def tracking_open(self, *args, **kwargs):
        handle = real_open(self, *args, **kwargs)
        opened.append(handle)
        return handle

    def failing_audit(**_kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(attachments.Path, "open", tracking_open)
    monkeypatch.setattr(attachments, "audit_record", failing_audit)
    with pytest.raises(RuntimeError):
        attachments.attachment_open(user=ticket_world["agent"], pk=attachment.pk)
    assert opened and all(h.closed for h in opened)
