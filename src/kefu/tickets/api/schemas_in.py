"""What the tickets API accepts. Unknown fields are refused, every string and id is
bounded and every moment is made timezone-aware, so bad input is a 422 from here or
from the services — never a database error."""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from kefu.tickets.choices import Channel, HandlingOutcome, RefundKind, Severity

# Ids fit a signed 64-bit column: a larger number would be a database error, not a 404.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ExtraKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
# Kind fields hold scalars; `kefu.tickets.fields` validates them against the kind.
ExtraValue = Annotated[str, StringConstraints(max_length=500)] | int | float | bool | None
VERSION_HELP = "读取时的版本号（可选）；工单已被他人修改时返回 409 conflict，不做任何修改"


def _aware(value: datetime.datetime) -> datetime.datetime:
    """A moment without a zone is read in the server's time zone (the one the UI shows);
    years far out are refused before they overflow a database column."""
    if not 2000 <= value.year <= 2999:
        raise ValueError("datetime out of range")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


Moment = Annotated[datetime.datetime, AfterValidator(_aware)]


# Control characters other than tab and line breaks: PostgreSQL refuses NUL in text,
# and the others are never meant (a paste from a terminal, a fuzzer).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_CONTROL.search(value))
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_control(v) for v in value)
    return False


class StrictIn(Schema):
    """Input: an unknown field is an error (a typo must not be silently ignored), and
    so is a control character anywhere in the body."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def refuse_control_characters(cls, data: Any) -> Any:
        if _has_control(data):
            raise ValueError("control characters are not allowed")
        return data


class VersionIn(StrictIn):
    version: int | None = Field(None, ge=0, le=2**31, description=VERSION_HELP)


def _check_extra(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return value
    if len(value) > 100:
        raise ValueError("too many fields")
    for item in value.values():
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > 10**15:
            raise ValueError("number out of range")
    return value


# --- create and update --------------------------------------------------------------


class TicketIn(StrictIn):
    kind: str = Field(max_length=30, description="工单类型代码（complaint、repair…），见 /ticket-settings")
    title: str = Field(max_length=120)
    description: str = Field(max_length=20000)
    customer_id: Id | None = Field(None, description="客户档案；投诉、报修等类型必填")
    contact_id: Id | None = Field(None, description="所用的联系方式（须属于该客户）")
    caller_name: str = Field("", max_length=60)
    caller_phone: str = Field("", max_length=32)
    channel: Channel = Channel.PHONE
    agency_name: str = Field("", max_length=60, description="外部机构转交（channel=agency）时必填，如 消协")
    agency_ref: str = Field("", max_length=60)
    agency_deadline: datetime.date | None = None
    category_id: Id | None = None
    severity: Severity = Severity.NORMAL
    extra: dict[ExtraKey, ExtraValue] = Field(default_factory=dict, description="附加字段，键见 /ticket-settings")
    assignee_id: Id | None = Field(None, description="负责人，默认为自己；指定他人须有督办权限")
    against_staff_id: Id | None = Field(None, description="被投诉员工")
    region_id: Id | None = Field(None, description="无客户时的片区，默认为自己的片区；有客户时取客户的片区")

    @field_validator("extra")
    @classmethod
    def check_extra(cls, value):
        return _check_extra(value)


class TicketPatch(StrictIn):
    version: int = Field(ge=0, le=2**31, description="读取时的版本号；已被他人修改时返回 409 conflict")
    title: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=20000)
    category_id: Id | None = Field(None, description="null 表示取消分类")
    severity: Severity | None = None
    contact_id: Id | None = Field(None, description="null 表示不指定联系方式")
    channel: Channel | None = None
    agency_name: str | None = Field(None, max_length=60)
    agency_ref: str | None = Field(None, max_length=60)
    agency_deadline: datetime.date | None = None
    caller_name: str | None = Field(None, max_length=60)
    caller_phone: str | None = Field(None, max_length=32)
    extra: dict[ExtraKey, ExtraValue] | None = Field(None, description="附加字段（逐键更新；null 值清除该键）")
    against_staff_id: Id | None = Field(None, description="null 表示清除")

    @field_validator("extra")
    @classmethod
    def check_extra(cls, value):
        return _check_extra(value)


# --- routing and slips --------------------------------------------------------------


class RouteIn(VersionIn):
    departments: list[Id] = Field(min_length=1, max_length=20, description="责任部门 id，每个部门一张告知单")
    instructions: str = Field("", max_length=5000)
    due_at: Moment | None = Field(None, description="回复期限；省略时按设置的工作时长计算")


class HandlingIn(VersionIn):
    note: str = Field(max_length=5000)
    outcome: HandlingOutcome = Field(
        HandlingOutcome.PROGRESS, description="failed 计为一次未解决；达到次数上限（默认 3）自动升级"
    )


class ReplyIn(VersionIn):
    reply: str = Field(max_length=5000)


class ExtensionIn(VersionIn):
    until: Moment = Field(description="延期至（须晚于当前期限）")
    reason: str = Field(max_length=2000)


class DecideIn(VersionIn):
    grant: bool
    note: str = Field("", max_length=2000, description="拒绝时必填")


# --- outcome ------------------------------------------------------------------------


class ResolveIn(VersionIn):
    resolution: str = Field(max_length=10000)
    cause_analysis: str = Field("", max_length=10000)
    responsible_party: str = Field("", max_length=120)
    responsible_department_id: Id | None = None


class ConfirmIn(VersionIn):
    satisfied: bool = Field(description="false：客户不满意，工单重新打开（note 必填）")
    score: int | None = Field(None, ge=1, le=5, description="满意度 1–5，满意时必填")
    note: str = Field("", max_length=5000)


class ReasonIn(VersionIn):
    reason: str = Field(max_length=5000)


class NoteIn(VersionIn):
    note: str = Field("", max_length=5000)


class DuplicateIn(VersionIn):
    original_id: Id = Field(description="继续处理的工单")
    merge: bool = Field(False, description="true：内容与附件并入原工单（已合并）；false：仅标记为重复")


class AssignIn(VersionIn):
    assignee_id: Id


class ImportantIn(VersionIn):
    important: bool = True
    reason: str = Field("", max_length=200, description="列为重要投诉时必填")


# --- money and notes ----------------------------------------------------------------

Money = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]


class RefundIn(VersionIn):
    kind: RefundKind = RefundKind.REFUND
    amount: Money = Field(gt=0)
    reason: str = Field(max_length=2000)


class PenaltyIn(VersionIn):
    reason: str = Field(max_length=2000)
    staff_id: Id | None = Field(None, description="责任人；省略时须填写 responsible_party")
    responsible_party: str = Field("", max_length=120)
    amount: Money | None = Field(None, ge=0)


class CommentIn(StrictIn):
    body: str = Field(max_length=5000)
