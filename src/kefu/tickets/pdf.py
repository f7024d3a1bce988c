"""The 投诉告知单 (notification slip) as a printable PDF: one per routed department, and
the monthly archive of every slip with its reply (整理每月追访电话及投诉告知单存档资料).

HTML templates (`tickets/pdf/`) rendered by WeasyPrint with the Noto CJK fonts of the
machine; the ticket number as a Code128 barcode and a QR code, both SVG. WeasyPrint
may only read `data:` URLs, so nothing a user typed can make it fetch a file or a
host."""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from typing import Any

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
# WeasyPrint lays out about five slips a second on a small server; past this a month
# is exported department by department so one request stays around half a minute.
ARCHIVE_MAX_SLIPS = 150
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


def render_slips_html(*, user, slips: list[Slip], title: str, cover: dict[str, Any] | None = None, reveal: bool) -> str:
    """The HTML WeasyPrint turns into the PDF (also what the tests read)."""
    return render_to_string(
        "tickets/pdf/slips.html",
        {
            "title": title,
            "company": str(SiteConfig.current()),
            "slips": slips,
            "cover": cover,
            "printed_at": timezone.now(),
            "printed_by": user,
            "phone_masked": not reveal,
            "reply_lines": REPLY_LINES,
        },
    )


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango and the fonts, which no other page needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Anything but our own data: URLs is skipped (with a warning), never fetched.
    fetcher = URLFetcher(allowed_protocols=("data",))
    return HTML(string=html, url_fetcher=fetcher, base_url="data:,").write_pdf()


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


def slips_month_pdf(*, user, month: str | datetime.date, department: Department | None = None) -> bytes:
    """One PDF of the month's slips with their replies, for the monthly archive: an
    index page, then each slip on its own page. Needs `tickets.export_ticket`; audited
    with the month and the number of slips."""
    access.require(user, EXPORT)
    first = parse_month(month)
    routings = list(slips_queryset(month_slips(user=user, month=first, department=department))[: ARCHIVE_MAX_SLIPS + 1])
    if len(routings) > ARCHIVE_MAX_SLIPS:
        raise ValidationFailed(
            _("本月告知单超过 %(n)s 张，请按责任部门分别导出。") % {"n": ARCHIVE_MAX_SLIPS},
            details={"field": "department"},
        )
    reveal = may_reveal(user)
    slips = [build_slip(r, reveal=reveal) for r in routings]
    label = f"{first:%Y-%m}"
    title = _("投诉告知单月度存档 %(month)s") % {"month": label}
    cover = {
        "month": label,
        "department": department,
        "count": len(slips),
        "replied": sum(1 for s in slips if s.routing.status == RoutingStatus.REPLIED),
    }
    pdf = html_to_pdf(render_slips_html(user=user, slips=slips, title=title, cover=cover, reveal=reveal))
    _audit(
        user=user,
        code="ticket.slips.exported",
        object_repr=title,
        data={
            "month": label,
            "department": department.pk if department else None,
            "slips": len(slips),
            "masked": not reveal,
        },
    )
    return pdf
