"""Reports as files: Excel (`report_xlsx`) and PDF (`report_pdf`), both drawn from the
same `Report` as the page and the API; `report_export` is the audited download a viewer
asks for."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import ValidationFailed
from kefu.reports.catalog import EXPORT, build_report
from kefu.reports.exporters.pdf import PDF_CONTENT_TYPE, report_pdf
from kefu.reports.exporters.xlsx import XLSX_CONTENT_TYPE, report_xlsx
from kefu.reports.periods import Period
from kefu.reports.tables import Report

__all__ = ["report_xlsx", "report_pdf", "report_export", "report_file_name", "ExportedReport", "FORMATS"]

FORMATS = {"xlsx": (report_xlsx, XLSX_CONTENT_TYPE), "pdf": (report_pdf, PDF_CONTENT_TYPE)}
AUDIT_CODE = "report.exported"


@dataclass(frozen=True)
class ExportedReport:
    content: bytes
    content_type: str
    file_name: str
    report: Report


def report_file_name(report: Report, fmt: str) -> str:
    """报表名_期间.xlsx — the period key has no character a file system refuses."""
    return f"{report.title}_{report.period.key().replace('..', '至')}.{fmt}"


def report_export(*, user, key: str, period: Period, fmt: str, cross: tuple[str, str] | None = None) -> ExportedReport:
    """The report `key` for `user` over `period` (with the cross table of `cross`, see
    `catalog.build_report`) as an Excel or PDF file. Needs
    `reports.export_reports` (besides viewing); recorded in the audit log with the report,
    the period, the format and the rows per table (the figures leave the system)."""
    if fmt not in FORMATS:
        raise ValidationFailed(_("不支持的导出格式：%(f)s") % {"f": str(fmt)[:10]}, details={"field": "format"})
    access.require(user, EXPORT)
    report = build_report(key, user=user, period=period, cross=cross)
    render, content_type = FORMATS[fmt]
    content = render(report)
    # A short transaction after rendering: on SQLite it holds the write lock, and laying
    # out a PDF must not keep everybody else waiting.
    with transaction.atomic():
        audit_record(
            code=AUDIT_CODE,
            actor=user,
            object_type="reports.report",
            object_id=report.key,
            object_repr=f"{report.title} {report.period.label}",
            data={
                "report": report.key,
                "period": report.period.key(),
                "format": fmt,
                **({"cross": list(cross)} if cross else {}),
                "rows": {t.title: len(t.rows) for t in report.tables},
            },
        )
    return ExportedReport(content, content_type, report_file_name(report, fmt), report)
