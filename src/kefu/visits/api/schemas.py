"""What the return-visits API answers. The customer's phone is already masked for
whoever may not see it; ids come with what people call them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from kefu.visits.choices import AssignTo, RuleKind, VisitChannel, VisitStatus

MASKED = "无「查看完整号码」权限（core.reveal_pii）时脱敏"


class Ref(Schema):
    """A related object: its id and what people call it."""

    id: int
    name: str


class TicketRef(Schema):
    id: int
    number: str


class CustomerRef(Schema):
    id: int
    archive_no: str
    name: str
    phone: str = Field(description="主要联系方式的电话；" + MASKED)


class QuestionOut(Schema):
    key: str
    text: str
    type: str = Field(description="single 单选 / multiple 多选 / score 1–5 分 / nps 推荐度 0–10 / text 文字")
    choices: list[str] = []
    required: bool = False


class AskedOut(Schema):
    """The questionnaire version a visit asks (answers keep the meaning of this version)."""

    questionnaire: Ref
    version_id: int
    version: int
    questions: list[QuestionOut]


# --- visits ----------------------------------------------------------------------------


class VisitListItem(Schema):
    id: int
    customer: CustomerRef
    visit_type: str
    status: VisitStatus
    status_name: str
    due_date: datetime.date
    overdue_days: int = Field(description="待回访且已过计划日期的天数，否则为 0")
    call_back_at: datetime.datetime | None
    channel: VisitChannel
    attempts: int
    max_attempts: int
    outcome: str = Field(description="最近一次的结果；未拨打时为空")
    assignee: Ref | None
    team: Ref | None
    region: Ref | None
    rule: Ref | None
    ticket: TicketRef | None = Field(description="工单回访确认：所确认的工单")
    satisfaction: int | None
    nps: int | None
    done_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class VisitPage(Schema):
    items: list[VisitListItem]
    next_cursor: str | None


class VisitOut(VisitListItem):
    period_key: str = Field(description="所覆盖的周期或事件，如 2026-11#2、ticket:17:c1")
    campaign: Ref | None
    retry_working_days: int
    asked: AskedOut | None = Field(description="问卷版本及其题目；无问卷时为 null")
    answers: dict[str, Any]
    notes: str
    next_action: str
    arrived: bool
    deal: bool
    deal_amount: Decimal | None
    done_by: Ref | None
    created_ticket: TicketRef | None = Field(description="回访中发现问题而创建的工单")


class ReassignOut(Schema):
    count: int
    assignee: Ref
    items: list[VisitListItem]


class VisitStatsOut(Schema):
    planned: int = Field(description="回访总数（筛选范围内）")
    done: int
    attempted: int = Field(description="至少拨打过一次的回访数")
    reached: int
    reach_rate: float | None = Field(description="接通率 reached / attempted")
    satisfaction: float | None = Field(description="平均满意度（1–5）")
    nps: float | None = Field(description="NPS：推荐者比例 − 贬损者比例（×100）")
    promoters: int
    detractors: int
    arrived: int
    deals: int


# --- configuration ---------------------------------------------------------------------


class VisitRuleOut(Schema):
    id: int
    name: str
    kind: RuleKind
    kind_name: str
    visit_type: str
    is_active: bool = Field(description="false：已暂停（不再生成新的回访）")
    customer_class: Ref | None
    key_accounts_only: bool
    visits_per_month: int | None = Field(description="留空则按客户分类的每月跟踪次数")
    trigger: str = Field(description="事件规则的触发事件：ticket_resolved / service_done / …")
    offsets_days: list[int]
    date_field: str
    assign_to: AssignTo
    team: Ref | None
    assignee: Ref | None
    channel: VisitChannel
    questionnaire: Ref | None
    max_attempts: int
    retry_working_days: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class VisitRulePage(Schema):
    items: list[VisitRuleOut]
    next_cursor: str | None


class QuestionnaireVersionOut(Schema):
    id: int
    number: int
    questions: list[QuestionOut]
    created_at: datetime.datetime
    created_by: Ref | None


class QuestionnaireOut(Schema):
    id: int
    code: str
    name: str
    is_active: bool
    current_version: int | None = Field(description="新回访使用的版本号")
    versions: list[QuestionnaireVersionOut] = Field(description="全部版本，最新的在前")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class QuestionnairePage(Schema):
    items: list[QuestionnaireOut]
    next_cursor: str | None


class VisitRuleSwitchOut(Schema):
    rule: VisitRuleOut
    visits: int = Field(description="暂停：取消的待回访数；恢复：重新启用的回访数")
