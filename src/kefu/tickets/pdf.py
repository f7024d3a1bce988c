"""The 投诉告知单 (notification slip) as a printable PDF: one per routed department, and
the monthly archive of every slip with its reply (整理每月追访电话及投诉告知单存档资料).

HTML templates (`tickets/pdf/`) rendered by WeasyPrint with the Noto CJK fonts of the
machine; the ticket number as a Code128 barcode and a QR code, both SVG. WeasyPrint
may only read `data:` URLs, so nothing a user typed can make it fetch a file or a
host.

A month can hold thousands of slips and WeasyPrint keeps every laid-out page of a
document in memory, so the archive is laid out in parts (`Part`) that
`pdf_parts_write` joins into one file with its bookmarks and running page numbers;
the archive is rendered by a background job (`kefu.tickets.archive`)."""

from __future__ import annotations

import base64
import datetime
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import barcode
import qrcode
import qrcode.image.svg
from barcode.writer import SVGWriter
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import ValidationFailed
from kefu.core.models import Department, SiteConfig
from kefu.core.pii import mask_phone, may_reveal
from kefu.customers.models import Contact
from kefu.tickets.choices import RoutingStatus
from kefu.tickets.models import TicketRouting
from kefu.tickets.selectors import ticket_base
from kefu.tickets.services.common import EXPORT, VIEW

PDF_CONTENT_TYPE = "application/pdf"
# Slips laid out per part of a monthly archive: WeasyPrint holds about 1.5 MB per laid-out
# slip until the part is written, and the job reports progress once per part.
ARCHIVE_PART_SLIPS = 100
# Rows of the archive's index per part (also bounds the ids in one `IN (…)`).
ARCHIVE_INDEX_ROWS = 500
REPLY_LINES = range(8)


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def barcode_svg(text: str) -> bytes:
    """Code128 of `text` (the number is printed beside it, not under the bars)."""
    code = barcode.get("code128", text, writer=SVGWriter())
    return code.render({"write_text": False, "module_height": 9.0, "module_width": 0.25, "quiet_zone": 1.0})


def qr_svg(text: str) -> bytes:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=1)
    return image.to_string()


@dataclass
class Slip:
    """What one printed slip shows, worked out once (phone masked or not)."""

    routing: TicketRouting
    customer_name: str
    archive_no: str
    phone: str
    address: str
    barcode: str
    qr: str

    @property
    def ticket(self):
        return self.routing.ticket

    @property
    def cancelled(self) -> bool:
        return self.routing.status == RoutingStatus.CANCELLED


def _contact_phone(ticket) -> str:
    if ticket.contact_id and ticket.contact.phone:
        return ticket.contact.phone
    if ticket.customer_id:
        # Prefetched, primary first (Contact's ordering).
        for contact in ticket.customer.contacts.all():
            if contact.phone:
                return contact.phone
    return ticket.caller_phone


def build_slip(routing: TicketRouting, *, reveal: bool) -> Slip:
    ticket = routing.ticket
    customer = ticket.customer
    phone = _contact_phone(ticket)
    return Slip(
        routing=routing,
        customer_name=customer.name if customer else (ticket.caller_name or _("（未留姓名）")),
        archive_no=customer.archive_no if customer else "",
        phone=phone if reveal else mask_phone(phone),
        address=customer.address if customer else "",
        barcode=_data_uri(barcode_svg(ticket.number)),
        qr=_data_uri(qr_svg(ticket.number)),
    )


def slips_queryset(qs: QuerySet[TicketRouting]) -> QuerySet[TicketRouting]:
    """Everything a slip prints, fetched with the slips (no per-slip queries)."""
    return qs.select_related(
        "ticket__kind",
        "ticket__category",
        "ticket__customer",
        "ticket__contact",
        "department",
        "routed_by",
        "accepted_by",
        "replied_by",
    ).prefetch_related(Prefetch("ticket__customer__contacts", queryset=Contact.objects.order_by("-is_primary", "id")))


def render_slips_html(
    *,
    user,
    slips: list[Slip],
    title: str,
    cover: dict[str, Any] | None = None,
    reveal: bool,
    index: list[TicketRouting] | None = None,
    first_page: int | None = None,
    company: str | None = None,
    printed_at: datetime.datetime | None = None,
) -> str:
    """The HTML WeasyPrint turns into the PDF (also what the tests read). `index`: the
    archive's index rows (the cover lists `slips` when not given); `first_page`: the
    number of this part's first page when the document is laid out in parts."""
    if index is None and cover is not None:
        index = [slip.routing for slip in slips]
    return render_to_string(
        "tickets/pdf/slips.html",
        {
            "title": title,
            "company": company if company is not None else str(SiteConfig.current()),
            "slips": slips,
            "cover": cover,
            "index": index,
            "first_page": first_page,
            "printed_at": printed_at or timezone.now(),
            "printed_by": user,
            "phone_masked": not reveal,
            "reply_lines": REPLY_LINES,
        },
    )


def _document(html: str):
    # Imported here: WeasyPrint loads Pango and the fonts, which no other page needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Anything but our own data: URLs is skipped (with a warning), never fetched.
    fetcher = URLFetcher(allowed_protocols=("data",))
    return HTML(string=html, url_fetcher=fetcher, base_url="data:,").render()


def html_to_pdf(html: str) -> bytes:
    return _document(html).write_pdf()


@dataclass(frozen=True)
class Part:
    """A piece of a long PDF laid out on its own. `html(first_page)` renders it: None
    when it is the whole document (then the footer counts "page x of y"), else the
    number its first page carries. `items` (slips, rows) feed the job's progress."""

    html: Callable[[int | None], str]
    items: int = 0


@dataclass
class ArchiveContent:
    """What a monthly archive will hold: `total` items laid out over `parts`, and the
    figures (`summary`) the job page and the download's audit event show."""

    total: int
    parts: list[Part]
    summary: dict[str, Any] = field(default_factory=dict)


def pdf_parts_write(
    parts: Sequence[Part],
    out: BinaryIO,
    *,
    title: str,
    author: str,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Lay `parts` out one at a time and write them as one PDF to `out`. A single part
    is WeasyPrint's document as it is; several are joined (bookmarks kept, document
    title and author set again) with pypdf, each part numbering its pages on from the
    last. `progress(items done)` is called after each part."""
    done = 0
    if len(parts) == 1:
        out.write(html_to_pdf(parts[0].html(None)))
        if progress:
            progress(parts[0].items)
        return
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    next_page = 1
    for part in parts:
        document = _document(part.html(next_page))
        next_page += len(document.pages)
        writer.append(PdfReader(io.BytesIO(document.write_pdf())))
        del document  # its layout is the memory we lay out in parts to bound
        done += part.items
        if progress:
            progress(done)
    writer.add_metadata({"/Title": title, "/Author": author})
    writer.write(out)


def _audit(*, user, code: str, obj=None, object_repr: str = "", data: dict) -> None:
    # A short transaction after rendering: on SQLite a transaction holds the write lock,
    # and rendering a month of slips must not keep everybody else waiting.
    with transaction.atomic():
        audit_record(
            code=code, obj=obj, actor=user, object_type="tickets.ticketrouting", object_repr=object_repr, data=data
        )


def slip_pdf(*, user, routing: TicketRouting) -> bytes:
    """The printable slip of `routing` for `user`, who must see its ticket. The phone is
    masked unless the user may reveal it; printing is recorded in the audit log (the
    paper leaves the system)."""
    access.require(user, VIEW, routing.ticket)
    routing = slips_queryset(TicketRouting.objects.filter(pk=routing.pk)).get()
    reveal = may_reveal(user)
    slip = build_slip(routing, reveal=reveal)
    title = _("投诉告知单 %(no)s") % {"no": routing.slip_no}
    pdf = html_to_pdf(render_slips_html(user=user, slips=[slip], title=title, reveal=reveal))
    _audit(
        user=user,
        code="ticket.slip.printed",
        obj=routing,
        data={"slip": routing.slip_no, "ticket": routing.ticket.number, "masked": not reveal},
    )
    return pdf


# ---------------------------------------------------------------------------- archive


def parse_month(value: str | datetime.date | None) -> datetime.date:
    """`2026-11` (or a date) → the first day of that month; anything else is a Chinese
    refusal."""
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    text = (value or "").strip()
    try:
        year, month = (int(part) for part in text.split("-"))
        if len(text) > 7 or not 2000 <= year <= 2999:
            raise ValueError(text)
        return datetime.date(year, month, 1)
    except ValueError:
        raise ValidationFailed(_("月份格式应为“2026-11”。"), details={"field": "month"}) from None


def _month_bounds(first: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return (
        datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(following, datetime.time.min, tzinfo=tz),
    )


def month_slips(*, user, month: datetime.date, department: Department | None = None) -> QuerySet[TicketRouting]:
    """The slips sent in `month` (local time) on tickets `user` may see, withdrawn ones
    left out, in the order they were sent."""
    start, end = _month_bounds(month)
    qs = TicketRouting.objects.filter(
        routed_at__gte=start, routed_at__lt=end, ticket__in=ticket_base(user).values("pk")
    ).exclude(status=RoutingStatus.CANCELLED)
    if department is not None:
        qs = qs.filter(department=department)
    return qs.order_by("routed_at", "id")


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def slips_archive_content(
    *, user, month: str | datetime.date, department: Department | None = None, reveal: bool
) -> ArchiveContent:
    """The month's slips that `user` may see as the parts of one PDF: an index (the
    cover, then as many index parts as needed), then each slip on its own page. No cap:
    only the slips' ids are read up front; each part reads its own slips (a fixed number
    of queries per part, through the scoped `month_slips`)."""
    access.require(user, EXPORT)
    first = parse_month(month)
    scoped = month_slips(user=user, month=first, department=department)
    rows = list(scoped.values_list("pk", "status"))
    ids = [pk for pk, _status in rows]
    label = f"{first:%Y-%m}"
    title = _("投诉告知单月度存档 %(month)s") % {"month": label}
    summary = {
        "month": label,
        "department": department.pk if department else None,
        "slips": len(ids),
        "replied": sum(1 for _pk, status in rows if status == RoutingStatus.REPLIED),
    }
    cover = {"month": label, "department": department, "count": len(ids), "replied": summary["replied"]}
    # Worked out once: every part prints the same company and time.
    common = {
        "user": user,
        "title": title,
        "reveal": reveal,
        "company": str(SiteConfig.current()),
        "printed_at": timezone.now(),
    }

    def slips_of(chunk: list[int]) -> list[Slip]:
        return [build_slip(r, reveal=reveal) for r in slips_queryset(scoped.filter(pk__in=chunk))]

    def index_of(chunk: list[int]) -> list[TicketRouting]:
        fields = ("slip_no", "status", "routed_at", "due_at", "replied_at", "ticket__number", "department__name")
        return list(scoped.filter(pk__in=chunk).select_related("ticket", "department").only(*fields))

    if len(ids) <= ARCHIVE_PART_SLIPS:
        # One document, cover and slips together.
        return ArchiveContent(
            total=len(ids),
            parts=[
                Part(lambda fp: render_slips_html(slips=slips_of(ids), cover=cover, first_page=fp, **common), len(ids))
            ],
            summary=summary,
        )
    parts = [
        Part(
            lambda fp, chunk=chunk, head=(n == 0): render_slips_html(
                slips=[], cover=cover if head else None, index=index_of(chunk), first_page=fp, **common
            )
        )
        for n, chunk in enumerate(_chunks(ids, ARCHIVE_INDEX_ROWS))
    ]
    parts += [
        Part(lambda fp, chunk=chunk: render_slips_html(slips=slips_of(chunk), first_page=fp, **common), len(chunk))
        for chunk in _chunks(ids, ARCHIVE_PART_SLIPS)
    ]
    return ArchiveContent(total=len(ids), parts=parts, summary=summary)


def slips_month_pdf(*, user, month: str | datetime.date, department: Department | None = None) -> bytes:
    """One PDF of the month's slips with their replies, in hand (the pages ask the
    background job in `kefu.tickets.archive` for it instead): an index page, then each
    slip on its own page. Needs `tickets.export_ticket`; audited with the month and the
    number of slips."""
    reveal = may_reveal(user)
    content = slips_archive_content(user=user, month=month, department=department, reveal=reveal)
    title = _("投诉告知单月度存档 %(month)s") % {"month": content.summary["month"]}
    out = io.BytesIO()
    pdf_parts_write(content.parts, out, title=title, author=str(SiteConfig.current()))
    _audit(
        user=user,
        code="ticket.slips.exported",
        object_repr=title,
        data={
            "month": content.summary["month"],
            "department": content.summary["department"],
            "slips": content.summary["slips"],
            "masked": not reveal,
        },
    )
    return out.getvalue()
