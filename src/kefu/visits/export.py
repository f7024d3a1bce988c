"""The monthly archive of call records (seed 001: 整理每月追访电话…存档资料): the month's
done and failed visits the user may see, with their answers, as an .xlsx written in
constant memory (every cell a neutralised string — no formula, number or link), and
every export audited with its month and row count.

Answers get one column per question. A question is named by its questionnaire and key,
so the versions of one questionnaire share a column; its header is the newest wording."""

from __future__ import annotations

import datetime
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.customers.io.columns import Column, yes_no
from kefu.customers.io.exporting import XLSX_CONTENT_TYPE, write_cells, write_header
from kefu.visits.choices import VisitStatus
from kefu.visits.models import QuestionnaireVersion, Visit
from kefu.visits.oversight import month_bounds
from kefu.visits.selectors import visit_base

EXPORT = "visits.export_visit"
CHUNK_SIZE = 2000
AUDIT_CODE = "visit.exported"
__all__ = ["XLSX_CONTENT_TYPE", "ArchiveFile", "COLUMNS", "month_call_records", "visits_archive_export"]

# The headers are a file format, not interface text (as in the archive's export).
COLUMNS: tuple[Column, ...] = (
    Column("id", "回访编号", 10),
    Column("customer", "客户", 18),
    Column("archive_no", "档案编号", 18),
    Column("visit_type", "回访类型", 12),
    Column("rule", "回访规则", 16),
    Column("due_date", "计划日期", 12),
    Column("status", "状态", 10),
    Column("outcome", "结果", 10),
    Column("channel", "回访方式", 10),
    Column("attempts", "拨打次数", 8),
    Column("visitor", "回访人", 12),
    Column("done_at", "完成时间", 17),
    Column("region", "片区", 10),
    Column("ticket", "回访确认的工单", 18),
    Column("created_ticket", "由回访创建的工单", 18),
    Column("satisfaction", "满意度", 8),
    Column("nps", "推荐度", 8),
    Column("arrived", "已到院/到店", 10),
    Column("deal", "已成交", 8),
    Column("deal_amount", "成交金额", 12),
    Column("notes", "回访记录", 40),
    Column("next_action", "后续安排", 24),
)


@dataclass
class ArchiveFile:
    path: Path
    rows: int


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _answer_text(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return yes_no(value)
    return "" if value is None else str(value)


def visit_row(visit: Visit) -> list[str]:
    """One visit as the cells of its export row, in `COLUMNS` order."""
    visitor = visit.done_by or visit.assignee
    return [
        str(visit.pk),
        visit.customer.name,
        visit.customer.archive_no,
        visit.visit_type,
        visit.rule.name if visit.rule else "",
        visit.due_date.isoformat(),
        visit.get_status_display(),
        visit.get_outcome_display() if visit.outcome else "",
        visit.get_channel_display(),
        str(visit.attempts),
        (visitor.display_name or visitor.username) if visitor else "",
        _when(visit.done_at),
        visit.region.name if visit.region else "",
        visit.ticket.number if visit.ticket else "",
        visit.created_ticket.number if visit.created_ticket else "",
        "" if visit.satisfaction is None else str(visit.satisfaction),
        "" if visit.nps is None else str(visit.nps),
        yes_no(visit.arrived),
        yes_no(visit.deal),
        "" if visit.deal_amount is None else f"{visit.deal_amount:.2f}",
        visit.notes,
        visit.next_action,
    ]


def _question_columns(version_ids) -> tuple[list[Column], dict[int, dict[str, int]]]:
    """The answer columns and, per questionnaire version, its question key → column."""
    versions = (
        QuestionnaireVersion.objects.filter(pk__in=version_ids)
        .select_related("questionnaire")
        .order_by("questionnaire__name", "questionnaire_id", "-number")
    )
    positions: dict[tuple[int, str], int] = {}
    columns: list[Column] = []
    per_version: dict[int, dict[str, int]] = {}
    for version in versions:  # the newest version of each questionnaire comes first
        mapping = {}
        for question in version.questions:
            identity = (version.questionnaire_id, question["key"])
            if identity not in positions:
                positions[identity] = len(COLUMNS) + len(columns)
                columns.append(Column(f"q.{question['key']}", f"{version.questionnaire.name}：{question['text']}", 20))
            mapping[question["key"]] = positions[identity]
        per_version[version.pk] = mapping
    return columns, per_version


def _workbook(path: str):
    # Constant memory: rows go to disk as they are written, whatever the month's size.
    return xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )


def month_call_records(*, user, month: datetime.date) -> QuerySet[Visit]:
    """The month's call records `user` may see: done and failed visits by completion
    time (local month), in the order they were made. The Excel and the PDF archive read
    the same rows."""
    start, end = month_bounds(month.replace(day=1))
    return (
        visit_base(user)
        .filter(status__in=(VisitStatus.DONE, VisitStatus.FAILED), done_at__gte=start, done_at__lt=end)
        .order_by("done_at", "id")
    )


def visits_archive_export(*, actor, month) -> ArchiveFile:
    """Write the month's done and failed visits (by completion time) that `actor` may
    see to a new temporary .xlsx and return it (the caller deletes the file). Audited as
    `visit.exported` with the month and the row count, in the same transaction as the
    read, so the count is what was written."""
    access.require(actor, EXPORT)
    first = month.replace(day=1)
    queryset = month_call_records(user=actor, month=first).select_related(
        "customer", "rule", "assignee", "done_by", "region", "ticket", "created_ticket"
    )
    label = f"{first:%Y-%m}"
    fd, name = tempfile.mkstemp(prefix="kefu-visits-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    try:
        with transaction.atomic():
            question_columns, per_version = _question_columns(
                queryset.exclude(questionnaire_version__isnull=True).values("questionnaire_version").distinct()
            )
            workbook = _workbook(str(path))
            sheet = workbook.add_worksheet(f"{label} 回访记录")
            write_header(workbook, sheet, (*COLUMNS, *question_columns))
            rows = 0
            for visit in queryset.iterator(chunk_size=CHUNK_SIZE):
                rows += 1
                cells = visit_row(visit) + [""] * len(question_columns)
                mapping = per_version.get(visit.questionnaire_version_id, {})
                for key, value in (visit.answers or {}).items():
                    if key in mapping:
                        cells[mapping[key]] = _answer_text(value)
                write_cells(sheet, rows, cells)
            workbook.close()
            audit_record(
                code=AUDIT_CODE,
                actor=actor,
                object_type="visits.visit",
                object_repr=f"{label} 回访记录",
                data={"month": label, "rows": rows},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ArchiveFile(path=path, rows=rows)
