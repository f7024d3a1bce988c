"""What the return-visits API accepts. Unknown fields are refused, every string, list
and id is bounded, moments are made timezone-aware and control characters never reach
the database, so bad input is a 422 from here or from the services — never a 500."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from kefu.tickets.choices import Severity
from kefu.visits.choices import AssignTo, Outcome, RuleKind, Trigger, VisitChannel, VisitStatus

# Ids fit a signed 64-bit column: a larger number would be a database error, not a 404.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# The same bound as the HTML list's bulk reassignment: the service locks every row.
MAX_BULK = 200
VERSION_HELP = "读取时的版本号（可选）；回访已被他人处理时返回 409 conflict，不做任何修改"


def _aware(value: datetime.datetime) -> datetime.datetime:
    """A moment without a zone is read in the server's time zone (the one the UI shows);
    years far out are refused before they overflow a database column."""
    if not 2000 <= value.year <= 2999:
        raise ValueError("datetime out of range")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _sane_date(value: datetime.date) -> datetime.date:
    if not 2000 <= value.year <= 2999:
        raise ValueError("date out of range")
    return value


Moment = Annotated[datetime.datetime, AfterValidator(_aware)]
Day = Annotated[datetime.date, AfterValidator(_sane_date)]

# Control characters other than tab and line breaks: PostgreSQL refuses NUL in text,
# and the others are never meant (a paste from a terminal, a fuzzer).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_CONTROL.search(value))
    if isinstance(value, dict):
        return any(has_control(k) or has_control(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_control(v) for v in value)
    return False


class StrictIn(Schema):
    """Input: an unknown field is an error (a typo must not be silently ignored), and
    so is a control character anywhere in the body."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def refuse_control_characters(cls, data: Any) -> Any:
        if has_control(data):
            raise ValueError("control characters are not allowed")
        return data


class VersionIn(StrictIn):
    version: int | None = Field(None, ge=0, le=2**31, description=VERSION_HELP)


# --- the list's filters (query parameters) ----------------------------------------------


class VisitFilters(Schema):
    """The filters of the list and of its statistics. Lists of ids or statuses may be
    comma-separated (`region=1,2`)."""

    section: Literal["all", "due", "upcoming"] = Field(
        "all",
        description="all：可见范围内的全部回访；due：我的今日及逾期待回访（含本班组未指定人的）；"
        "upcoming：我的即将回访",
    )
    status: str = Field(
        "",
        max_length=200,
        description="状态，逗号分隔：" + " / ".join(VisitStatus.values) + "；finished = 已完成或未能联系（已回访）",
    )
    assignee: str = Field("", max_length=1000, description="回访人 id，逗号分隔；none = 未指定回访人（班组的）")
    outcome: str = Field("", max_length=200, description="结果，逗号分隔：" + " / ".join(Outcome.values))
    arrived: Literal["", "1", "0"] = Field("", description="已到院/到店：1 是，0 否")
    deal: Literal["", "1", "0"] = Field("", description="已成交：1 是，0 否")
    rule: str = Field("", max_length=1000, description="回访规则 id，逗号分隔")
    region: str = Field("", max_length=1000, description="片区 id，逗号分隔")
    customer: int | None = Field(None, ge=1, le=MAX_ID, description="客户档案 id")
    due_from: Day | None = Field(None, description="计划日期从（含）")
    due_to: Day | None = Field(None, description="计划日期至（含）")


# --- recording a visit -------------------------------------------------------------------

AnswerKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
AnswerText = Annotated[str, StringConstraints(max_length=2000)]
AnswerChoices = Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(max_length=50)]
# A single choice or text (str), a score / NPS (int, or its digits), several choices
# (list); the questionnaire version checks each against its question.
AnswerValue = AnswerText | int | AnswerChoices | None


class ProblemIn(StrictIn):
    kind: str = Field(max_length=30, description="工单类型代码（complaint、repair…），见 /ticket-settings")
    title: str = Field(max_length=120)
    description: str = Field(max_length=5000)
    severity: Severity = Severity.NORMAL


class RecordIn(VersionIn):
    outcome: Outcome = Field(
        description="reached 已接通（按问卷作答，回访完成）/ no_answer 无人接听（按规则改期，次数用尽则未能联系）"
        " / wrong_number 号码错误 / refused 拒绝回访 / call_back 约定回拨（须填 call_back_at）"
    )
    channel: VisitChannel | None = Field(None, description="回访方式；省略时为回访计划的方式")
    answers: dict[AnswerKey, AnswerValue] = Field(
        default_factory=dict, max_length=100, description="答卷：题目 key → 答案（已接通时按问卷版本校验）"
    )
    notes: str = Field("", max_length=5000)
    next_action: str = Field("", max_length=200)
    call_back_at: Moment | None = Field(None, description="约定回拨时间（outcome=call_back 时必填，须晚于现在）")
    satisfied: bool | None = Field(None, description="工单回访确认：true 确认结案，false 重新打开工单（已接通时必填）")
    arrived: bool = Field(False, description="已到院/到店")
    deal: bool = Field(False, description="已成交")
    deal_amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    problem: ProblemIn | None = Field(None, description="回访中发现的问题：同一步创建关联工单（需登记工单权限）")


class RescheduleIn(VersionIn):
    due_date: Day = Field(description="新的计划日期（不早于今天）")
    reason: str = Field("", max_length=200)


class ReassignIn(StrictIn):
    ids: list[Id] = Field(min_length=1, max_length=MAX_BULK, description=f"回访 id（至多 {MAX_BULK} 条）")
    assignee_id: Id = Field(description="改派给（须可回访的在职员工）")


class VisitIn(StrictIn):
    customer_id: Id
    visit_type: str = Field(max_length=40, description="如 跟踪回访、满意度回访")
    due_date: Day = Field(description="计划日期（不早于今天）")
    assignee_id: Id | None = Field(None, description="回访人，默认为自己；指定他人须有改派权限")
    channel: VisitChannel = VisitChannel.PHONE
    questionnaire_id: Id | None = Field(None, description="问卷（启用的），用其最新版本")


# --- configuration (visits.manage_visit_settings) ----------------------------------------

ChoiceText = Annotated[str, StringConstraints(max_length=100)]
UPDATED_AT_HELP = "读取时的 updated_at（可选）；规则已被他人修改时返回 409 conflict，不做任何修改"


class VisitRuleIn(StrictIn):
    name: str = Field(max_length=60)
    kind: RuleKind = Field(description="cadence 按客户分类定期跟踪 / event 事件触发")
    visit_type: str = Field(max_length=40, description="如 满意度回访、术后回访、大客户跟踪")
    customer_class_id: Id | None = Field(None, description="定期跟踪：客户分类（或勾选 key_accounts_only）")
    key_accounts_only: bool = False
    visits_per_month: int | None = Field(None, ge=0, le=1000, description="留空则按客户分类的每月跟踪次数")
    trigger: str = Field("", max_length=24, description="事件规则：" + " / ".join(Trigger.values))
    offsets_days: list[Annotated[int, Field(ge=-10000, le=10000)]] = Field(
        default_factory=list, max_length=50, description="事件后第几天回访，如 [1, 7, 30]"
    )
    date_field: str = Field("", max_length=40, description="工程阶段：从客户的哪个日期字段起算")
    assign_to: AssignTo = AssignTo.OWNER
    team_id: Id | None = Field(None, description="assign_to=team 时必填")
    assignee_id: Id | None = Field(None, description="assign_to=user 时必填")
    channel: VisitChannel = VisitChannel.PHONE
    questionnaire_id: Id | None = None
    max_attempts: int = Field(3, ge=0, le=1000, description="未接通时最多拨打次数（1–10）")
    retry_working_days: int = Field(1, ge=0, le=1000, description="未接通后间隔的工作日（0–30）")


class VisitRulePatch(StrictIn):
    """Only the fields sent change; the kind never does (a new rule instead)."""

    updated_at: Moment | None = Field(None, description=UPDATED_AT_HELP)
    name: str | None = Field(None, max_length=60)
    visit_type: str | None = Field(None, max_length=40)
    customer_class_id: Id | None = Field(None, description="null 表示不限分类")
    key_accounts_only: bool | None = None
    visits_per_month: int | None = Field(None, ge=0, le=1000, description="null 表示按客户分类")
    trigger: str | None = Field(None, max_length=24)
    offsets_days: list[Annotated[int, Field(ge=-10000, le=10000)]] | None = Field(None, max_length=50)
    date_field: str | None = Field(None, max_length=40)
    assign_to: AssignTo | None = None
    team_id: Id | None = None
    assignee_id: Id | None = None
    channel: VisitChannel | None = None
    questionnaire_id: Id | None = Field(None, description="null 表示不用问卷")
    max_attempts: int | None = Field(None, ge=0, le=1000)
    retry_working_days: int | None = Field(None, ge=0, le=1000)


class QuestionIn(StrictIn):
    key: str = Field(max_length=40, description="小写字母开头，字母数字下划线；同一问卷内唯一")
    text: str = Field(max_length=200)
    type: str = Field(max_length=20, description="single / multiple / score / nps / text")
    choices: list[ChoiceText] = Field(default_factory=list, max_length=50, description="单选、多选至少两个选项")
    required: bool = False


class QuestionnaireIn(StrictIn):
    code: str = Field(max_length=40, description="小写字母开头，字母数字、下划线、连字符")
    name: str = Field(max_length=60)
    questions: list[QuestionIn] = Field(default_factory=list, max_length=100, description="有题目时同时发布第 1 版")


class PublishIn(StrictIn):
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)


class ActiveIn(StrictIn):
    active: bool
