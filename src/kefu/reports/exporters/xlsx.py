"""A report as an Excel workbook: one sheet per table, headed by the company, the
report's title and the period. Written by xlsxwriter in constant memory (rows go to
disk as they are written); figures are real numbers in the same units as the API
(a rate of 93.5 % is the number 93.5, shown with a % format), and every text cell is
neutralised so nothing a user typed runs as a formula, number or link."""

from __future__ import annotations

import io
import re

import xlsxwriter
from django.utils.translation import gettext as _

from kefu.customers.io.columns import neutralise
from kefu.customers.io.exporting import MAX_CELL, XLSX_CONTENT_TYPE
from kefu.reports.tables import Report, Table

__all__ = ["XLSX_CONTENT_TYPE", "report_xlsx", "sheet_names", "HEADER_ROW"]

# Rows above a table's header: company + title, period + time of making, a blank line.
HEADER_ROW = 3
NUMBER_FORMATS = {"int": "#,##0", "float": "0.0", "hours": "0.0", "percent": '0.0"%"', "money": "#,##0.00"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_names(report: Report) -> list[str]:
    """Unique sheet names (Excel: at most 31 characters, none of []:*?/\\)."""
    names: list[str] = []
    for index, table in enumerate(report.tables, start=1):
        names.append(f"{index}.{_SHEET_FORBIDDEN.sub('_', table.title)}"[:31])
    return names


def _width(column, rows) -> int:
    longest = max([len(str(column.label))] + [len(str(r.get(column.key) or "")) for r in rows[:200]])
    return min(max(8, longest * 2 if not column.numeric else longest + 4), 50)


def _text(sheet, row: int, col: int, value, fmt=None) -> None:
    text = neutralise(str(value))[:MAX_CELL]
    if fmt is None:
        sheet.write_string(row, col, text)
    else:
        sheet.write_string(row, col, text, fmt)


def _write_table(workbook, sheet, report: Report, table: Table, formats: dict) -> None:
    for index, column in enumerate(table.columns):
        sheet.set_column(index, index, _width(column, table.rows))
    _text(sheet, 0, 0, f"{report.company}　{report.title}", formats["title"])
    _text(
        sheet,
        1,
        0,
        _("统计期间：%(p)s　制表时间：%(t)s")
        % {
            "p": report.period.label,
            "t": f"{report.generated_at:%Y-%m-%d %H:%M}",
        },
    )
    for index, column in enumerate(table.columns):
        _text(sheet, HEADER_ROW, index, column.label, formats["head"])
    row_no = HEADER_ROW
    rows = list(table.rows) + ([table.totals] if table.totals is not None else [])
    for position, row in enumerate(rows):
        row_no += 1
        bold = table.totals is not None and position == len(rows) - 1
        for index, column in enumerate(table.columns):
            value = row.get(column.key)
            if value is None or value == "":
                continue
            if column.numeric and isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(row_no, index, value, formats[(column.kind, bold)])
            else:
                _text(sheet, row_no, index, value, formats[("text", True)] if bold else None)
    if not table.rows:
        row_no += 1
        _text(sheet, row_no, 0, _("本期没有数据"))
    if table.note:
        _text(sheet, row_no + 2, 0, table.note)
    sheet.freeze_panes(HEADER_ROW + 1, 0)


def report_xlsx(report: Report) -> bytes:
    """The workbook as bytes (a report is a few hundred rows; the list tables are capped)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": False,
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    formats = {
        "title": workbook.add_format({"bold": True, "font_size": 13}),
        "head": workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1}),
        ("text", True): workbook.add_format({"bold": True}),
    }
    for kind, pattern in NUMBER_FORMATS.items():
        formats[(kind, False)] = workbook.add_format({"num_format": pattern})
        formats[(kind, True)] = workbook.add_format({"num_format": pattern, "bold": True})
    workbook.set_properties({"title": f"{report.title} {report.period.label}", "company": report.company})
    for name, table in zip(sheet_names(report), report.tables, strict=True):
        _write_table(workbook, workbook.add_worksheet(name), report, table, formats)
    workbook.close()
    return buffer.getvalue()
