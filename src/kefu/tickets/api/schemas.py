"""What the tickets API answers. Phone numbers (the caller's, the contact's) are
already masked for whoever may not see them; ids come with what people call them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from kefu.tickets.choices import (
    Channel,
    ExtensionStatus,
    PenaltyStatus,
    RefundKind,
    RefundStatus,
    RoutingStatus,
    Severity,
    SlaState,
    TicketStatus,
)

MASKED = "无「查看完整号码」权限（core.reveal_pii）时脱敏"


class Ref(Schema):
    """A related object: its id and what people call it."""

    id: int
    name: str


class KindRef(Schema):
    id: int
    code: str
    name: str


class TicketRef(Schema):
    id: int
    number: str


class CustomerRef(Schema):
    id: int
    archive_no: str
    name: str


class ContactOut(Schema):
    id: int
    name: str
    phone: str = Field(description=MASKED)


class SlipRef(Schema):
    id: int
    slip_no: str


# --- tickets ------------------------------------------------------------------------


class TicketListItem(Schema):
    id: int
    number: str = Field(description="工单编号，如 TS-20261123-0007")
    kind: KindRef
    status: TicketStatus
    status_name: str
    title: str
    customer: CustomerRef | None
    caller_name: str
    caller_phone: str = Field(description=MASKED)
    channel: Channel
    severity: Severity
    category: Ref | None = Field(description="name 为完整路径，如 施工质量 › 墙面开裂")
    region: Ref | None
    assignee: Ref | None
    sla_state: SlaState
    response_due_at: datetime.datetime | None
    resolve_due_at: datetime.datetime | None
    escalation_level: int
    is_important: bool
    version: int = Field(description="修改或流转时回传；已被他人修改时返回 409")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TicketPage(Schema):
    items: list[TicketListItem]
    next_cursor: str | None


class TicketOut(TicketListItem):
    description: str
    extra: dict[str, Any] = Field(description="工单类型的附加字段，键见 /ticket-settings")
    contact: ContactOut | None
    agency_name: str
    agency_ref: str
    agency_deadline: datetime.date | None
    created_by: Ref | None
    against_staff: Ref | None
    related: list[TicketRef] = Field(description="相关工单（只列出您可见的）")
    merged_into: TicketRef | None = Field(description="重复/合并到的工单（您可见时）")
    sla_paused_at: datetime.datetime | None
    first_response_at: datetime.datetime | None
    failed_attempts: int
    cycle: int = Field(description="处理轮次：每次重开加 1")
    resolution: str
    cause_analysis: str
    responsible_party: str
    responsible_department: Ref | None
    resolved_at: datetime.datetime | None
    resolved_by: Ref | None
    satisfaction: int | None
    confirmed_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    reopen_count: int
    important_reason: str
    important_at: datetime.datetime | None
    available_actions: list[str] = Field(
        description="当前状态允许的操作（route、resolve、confirm…）；是否有权限仍由各接口判断"
    )


# --- history, slips, files ----------------------------------------------------------


class EventOut(Schema):
    id: int
    code: str = Field(description="如 ticket.routed、ticket.comment")
    at: datetime.datetime
    actor: Ref | None
    slip: SlipRef | None
    note: str
    data: dict[str, Any]


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class ExtensionOut(Schema):
    id: int
    status: ExtensionStatus
    until: datetime.datetime
    reason: str
    requested_by: Ref | None
    requested_at: datetime.datetime
    decided_by: Ref | None
    decided_at: datetime.datetime | None
    decision_note: str


class SlipOut(Schema):
    id: int
    slip_no: str
    department: Ref
    status: RoutingStatus
    status_name: str
    instructions: str
    due_at: datetime.datetime
    routed_by: Ref | None
    routed_at: datetime.datetime
    accepted_by: Ref | None
    accepted_at: datetime.datetime | None
    reply: str
    replied_by: Ref | None
    replied_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    pdf_url: str = Field(description="可打印的告知单（网页路径）")
    extensions: list[ExtensionOut] = Field(description="延期申请，最新的在前")


class AttachmentOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: Ref | None
    uploaded_at: datetime.datetime
    event_id: int | None
    url: str = Field(description="下载地址（网页路径，以附件形式下载，需登录且可见该工单）")


# --- money --------------------------------------------------------------------------


class RefundOut(Schema):
    id: int
    ticket: TicketRef
    kind: RefundKind
    amount: Decimal
    reason: str
    status: RefundStatus
    approval_id: int | None = Field(description="审批单 id，见 /approvals/{id}")
    requested_by: Ref | None
    requested_at: datetime.datetime
    decided_at: datetime.datetime | None
    customer_told_at: datetime.datetime | None


class PenaltyOut(Schema):
    id: int
    ticket: TicketRef | None
    staff: Ref | None
    responsible_party: str
    amount: Decimal | None
    reason: str
    status: PenaltyStatus
    approval_id: int | None
    created_at: datetime.datetime


# --- configuration ------------------------------------------------------------------


class KindFieldOut(Schema):
    key: str
    label: str
    type: str = Field(description="text / number / date / choice / boolean / staff")
    choices: list[str]
    required: bool


class KindOut(Schema):
    id: int
    code: str
    name: str
    prefix: str
    requires_customer: bool
    requires_routing: bool
    requires_confirmation: bool
    allows_refund: bool
    counts_against_staff: bool
    fields: list[KindFieldOut]
    is_active: bool


class CategoryOut(Schema):
    id: int
    parent_id: int | None
    kind_id: int | None = Field(description="适用的工单类型；null 表示所有类型")
    name: str
    path: str
    is_active: bool


class TicketSettingsOut(Schema):
    kinds: list[KindOut]
    categories: list[CategoryOut]
