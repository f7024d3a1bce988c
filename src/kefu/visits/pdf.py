"""The monthly archive of call records as a PDF (seed 001: 整理每月追访电话及投诉告知单存档资料):
the month's call records — the same rows as the Excel (`export.month_call_records`) —
and the month's 投诉告知单 summary, with the company and the month at the top of every
page. Laid out by WeasyPrint through the slips' safe helpers (`kefu.tickets.pdf`: only
`data:` URLs, Noto CJK, autoescaped templates) in parts, so a month of any size is
rendered by the background job in `kefu.tickets.archive` within bounded memory."""

from __future__ import annotations

import datetime

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.models import SiteConfig
from kefu.tickets.pdf import ArchiveContent, Part, month_slips
from kefu.visits.export import EXPORT, month_call_records

# Call records per part (a landscape page holds about 15 with their notes).
PART_VISITS = 300
# Slip summary rows per part.
PART_SLIPS = 500


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def render_visits_archive_html(
    *,
    title: str,
    company: str,
    summary: dict,
    printed_by,
    printed_at: datetime.datetime,
    visits=None,
    slips=None,
    head: bool = False,
    visits_head: bool = False,
    slips_head: bool = False,
    first_page: int | None = None,
) -> str:
    """One part (or the whole) of the archive: `head` the title block; `visits`/`slips`
    the rows this part prints, `*_head` whether their section starts here."""
    return render_to_string(
        "visits/pdf/archive.html",
        {
            "title": title,
            "company": company,
            "summary": summary,
            "visits": visits,
            "slips": slips,
            "head": head,
            "visits_head": visits_head,
            "slips_head": slips_head,
            "first_page": first_page,
            "printed_by": printed_by,
            "printed_at": printed_at,
        },
    )


def visits_archive_content(*, user, month: datetime.date, department=None, reveal: bool = False) -> ArchiveContent:
    """The month's call records and slips summary `user` may see, as the parts of one
    PDF. Needs `visits.export_visit` (as the Excel); the slips are those of the tickets
    the user may see. Only ids are read up front; each part reads its own rows through
    the same scoped selectors. `department` and `reveal` are not used (no phone is
    printed; the archive is not per department) but keep the archives' one signature."""
    access.require(user, EXPORT)
    first = month.replace(day=1)
    records = month_call_records(user=user, month=first)
    slips = month_slips(user=user, month=first)
    visit_ids = list(records.values_list("pk", flat=True))
    slip_ids = list(slips.values_list("pk", flat=True))
    label = f"{first:%Y-%m}"
    summary = {"month": label, "rows": len(visit_ids), "slips": len(slip_ids)}
    common = {
        "title": _("回访记录月度存档 %(month)s") % {"month": label},
        "company": str(SiteConfig.current()),
        "summary": summary,
        "printed_by": user,
        "printed_at": timezone.now(),
    }

    def visits_of(chunk: list[int]):
        return list(records.filter(pk__in=chunk).select_related("customer", "assignee", "done_by"))

    def slips_of(chunk: list[int]):
        fields = ("slip_no", "status", "routed_at", "replied_at", "ticket__number", "department__name")
        return list(slips.filter(pk__in=chunk).select_related("ticket", "department").only(*fields))

    total = len(visit_ids) + len(slip_ids)
    if len(visit_ids) <= PART_VISITS and len(slip_ids) <= PART_SLIPS:
        whole = Part(
            lambda fp: render_visits_archive_html(
                visits=visits_of(visit_ids),
                slips=slips_of(slip_ids),
                head=True,
                visits_head=True,
                slips_head=True,
                first_page=fp,
                **common,
            ),
            total,
        )
        return ArchiveContent(total=total, parts=[whole], summary=summary)
    visit_chunks = _chunks(visit_ids, PART_VISITS) or [[]]
    slip_chunks = _chunks(slip_ids, PART_SLIPS) or [[]]
    parts = [
        Part(
            lambda fp, chunk=chunk, n=n: render_visits_archive_html(
                visits=visits_of(chunk), head=n == 0, visits_head=n == 0, first_page=fp, **common
            ),
            len(chunk),
        )
        for n, chunk in enumerate(visit_chunks)
    ]
    parts += [
        Part(
            lambda fp, chunk=chunk, n=n: render_visits_archive_html(
                slips=slips_of(chunk), slips_head=n == 0, first_page=fp, **common
            ),
            len(chunk),
        )
        for n, chunk in enumerate(slip_chunks)
    ]
    return ArchiveContent(total=total, parts=parts, summary=summary)
