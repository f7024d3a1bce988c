"""Excel export of a ticket queue or of the important complaints archive: exactly the
tickets the page shows for the same query string (scope included), streamed to a
temporary .xlsx in constant memory, every cell a neutralised string (no formula, number
or link), the caller's phone masked unless the user may see it, and every export audited
with its filter and row count."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xlsxwriter
from django.db import transaction
from django.utils import timezone

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.pii import mask_phone, may_reveal
from kefu.customers.io.columns import Column, yes_no
from kefu.customers.io.exporting import XLSX_CONTENT_TYPE, write_cells, write_header
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import TicketFilters, ticket_list

EXPORT = "tickets.export_ticket"
CHUNK_SIZE = 2000
AUDIT_CODE = "ticket.exported"
__all__ = ["XLSX_CONTENT_TYPE", "tickets_export", "COLUMNS", "ticket_row"]

# The headers are a file format, not interface text (as in the archive's export).
COLUMNS: tuple[Column, ...] = (
    Column("number", "工单编号", 20),
    Column("kind", "类型", 8),
    Column("status", "状态", 10),
    Column("severity", "严重程度", 8),
    Column("title", "标题", 30),
    Column("customer", "客户", 16),
    Column("archive_no", "档案编号", 16),
    Column("caller_name", "来电人", 10),
    Column("caller_phone", "来电号码", 16),
    Column("channel", "受理渠道", 10),
    Column("agency", "转交机构", 12),
    Column("agency_ref", "机构编号", 14),
    Column("agency_deadline", "机构要求答复日期", 14),
    Column("category", "分类", 20),
    Column("region", "片区", 10),
    Column("assignee", "负责人", 12),
    Column("created_at", "登记时间", 17),
    Column("response_due_at", "响应期限", 17),
    Column("resolve_due_at", "解决期限", 17),
    Column("sla_state", "时限状态", 10),
    Column("escalation_level", "升级级别", 8),
    Column("description", "问题描述", 40),
    Column("resolution", "处理结果", 40),
    Column("cause_analysis", "原因分析", 30),
    Column("responsible_party", "责任方", 14),
    Column("resolved_at", "处理完成", 17),
    Column("satisfaction", "满意度", 8),
    Column("closed_at", "关闭时间", 17),
    Column("is_important", "重要投诉", 8),
    Column("important_reason", "列为重要投诉的原因", 30),
)


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def ticket_row(ticket: Ticket, *, reveal: bool) -> list[str]:
    """One ticket as the cells of its export row, in `COLUMNS` order."""
    phone = ticket.caller_phone if reveal else mask_phone(ticket.caller_phone)
    return [
        ticket.number,
        ticket.kind.name,
        ticket.get_status_display(),
        ticket.get_severity_display(),
        ticket.title,
        ticket.customer.name if ticket.customer else "",
        ticket.customer.archive_no if ticket.customer else "",
        ticket.caller_name,
        phone,
        ticket.get_channel_display(),
        ticket.agency_name,
        ticket.agency_ref,
        ticket.agency_deadline.isoformat() if ticket.agency_deadline else "",
        str(ticket.category) if ticket.category else "",
        ticket.region.name if ticket.region else "",
        str(ticket.assignee) if ticket.assignee else "",
        _when(ticket.created_at),
        _when(ticket.response_due_at),
        _when(ticket.resolve_due_at),
        ticket.get_sla_state_display(),
        str(ticket.escalation_level) if ticket.escalation_level else "",
        ticket.description,
        ticket.resolution,
        ticket.cause_analysis,
        ticket.responsible_party,
        _when(ticket.resolved_at),
        str(ticket.satisfaction) if ticket.satisfaction else "",
        _when(ticket.closed_at),
        yes_no(ticket.is_important),
        ticket.important_reason,
    ]


def _workbook(path: str):
    # Constant memory: rows go to disk as they are written, whatever the queue's size.
    return xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )


def _filter_summary(filters: TicketFilters) -> dict[str, Any]:
    """The filters that were set (empty ones left out, so the log stays readable)."""
    return {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in dataclasses.asdict(filters).items()
        if v not in ("", [], {}, None)
    }


def tickets_export(
    *,
    actor,
    filters: TicketFilters,
    order: tuple[str, ...] = ("-id",),
    params: Mapping[str, Any] | None = None,
    sheet_name: str = "工单",
) -> Path:
    """Write the tickets `ticket_list(user=actor, filters=filters)` selects to a new
    temporary .xlsx and return its path (the caller deletes it). Audited as
    `ticket.exported` with the filters and the row count, in the same transaction as
    the read, so the count is what was written."""
    access.require(actor, EXPORT)
    reveal = may_reveal(actor)
    fd, name = tempfile.mkstemp(prefix="kefu-tickets-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    queryset = (
        ticket_list(user=actor, filters=filters)
        .order_by(*order)
        .select_related("kind", "customer", "category", "assignee", "region")
    )
    try:
        with transaction.atomic():
            workbook = _workbook(str(path))
            sheet = workbook.add_worksheet(sheet_name[:31])
            write_header(workbook, sheet, COLUMNS)
            rows = 0
            for ticket in queryset.iterator(chunk_size=CHUNK_SIZE):
                rows += 1
                write_cells(sheet, rows, ticket_row(ticket, reveal=reveal))
            workbook.close()
            audit_record(
                code=AUDIT_CODE,
                actor=actor,
                object_type="tickets.ticket",
                object_repr=sheet_name,
                data={
                    "rows": rows,
                    "filters": _filter_summary(filters),
                    "params": dict(params or {}),
                    "order": list(order),
                    "masked": not reveal,
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
