"""A report as a printable PDF: the company name, the report's title and the period at
the top of every page, each table with its figures formatted as on the page. HTML
(`reports/pdf/report.html`) laid out by WeasyPrint with the machine's Noto CJK fonts,
through the same fetcher as the complaint slips (only `data:` URLs, so nothing in a
report can make WeasyPrint read a file or a host)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kefu.reports.tables import Report, display
from kefu.tickets.pdf import PDF_CONTENT_TYPE, html_to_pdf

__all__ = ["PDF_CONTENT_TYPE", "report_pdf", "render_report_html"]

# Past this many columns a table is printed on a landscape page.
PORTRAIT_MAX_COLUMNS = 7


def _tables(report: Report) -> list[dict]:
    return [{**display(t), "wide": len(t.columns) > PORTRAIT_MAX_COLUMNS} for t in report.tables]


def render_report_html(report: Report) -> str:
    """The HTML WeasyPrint lays out (what the tests read beside the PDF's text)."""
    return render_to_string(
        "reports/pdf/report.html",
        {
            "report": report,
            "heading": _("%(company)s　%(title)s") % {"company": report.company, "title": report.title},
            "tables": _tables(report),
        },
    )


def report_pdf(report: Report) -> bytes:
    return html_to_pdf(render_report_html(report))
