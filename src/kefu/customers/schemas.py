"""API schemas of the customer archive. Inputs refuse unknown fields and bound every
string and id, so bad input is a 422, never a database error; outputs carry phone and
ID numbers already masked for whoever may not see them (see `kefu.customers.api`)."""

from __future__ import annotations

import datetime
import math
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, field_validator

from kefu.customers.choices import ConsentChannel, CustomerKind, Lifecycle

# Ids fit a signed 64-bit column: a larger number would be a database error, not a 404.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
TagName = Annotated[str, StringConstraints(min_length=1, max_length=40)]
ExtraKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
# Custom-field values are scalars; the field definitions validate them further.
ExtraValue = Annotated[str, StringConstraints(max_length=500)] | int | float | bool | None


class StrictIn(Schema):
    """Input: an unknown field is an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


def _check_extra(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return value
    if len(value) > 100:
        raise ValueError("too many custom fields")
    for item in value.values():
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("custom field numbers must be finite")
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > 10**15:
            raise ValueError("custom field number out of range")
    return value


def _check_email(value: str | None) -> str | None:
    if value:
        try:
            validate_email(value.strip())
        except DjangoValidationError as exc:
            raise ValueError("invalid email address") from exc
    return value


# --- output -------------------------------------------------------------------------


class Ref(Schema):
    """A related object: its id and what people call it."""

    id: int
    name: str


class ContactOut(Schema):
    id: int
    name: str
    role: str
    phone: str = Field(description="无「查看完整号码」权限（core.reveal_pii）时脱敏；完整号码见 reveal")
    wechat: str
    email: str
    is_primary: bool


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class CustomerListItem(Schema):
    id: int
    archive_no: str
    kind: CustomerKind
    name: str
    id_number: str = Field(description="证件号码，无权限时脱敏")
    primary_phone: str = Field(description="主要联系电话，无权限时脱敏")
    region: Ref | None
    owner: Ref | None
    customer_class: Ref | None
    credit_grade: Ref | None
    source: Ref | None
    category_ids: list[int]
    tags: list[str]
    lifecycle: Lifecycle
    is_key_account: bool
    extra: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CustomerPage(Schema):
    items: list[CustomerListItem]
    next_cursor: str | None


class CustomerOut(Schema):
    id: int
    archive_no: str
    kind: CustomerKind
    name: str
    name_initials: str
    id_number: str = Field(description="证件号码，无权限时脱敏")
    gender: str
    birthday: datetime.date | None
    address: str
    region: Ref | None
    owner: Ref | None
    customer_class: Ref | None
    is_key_account: bool
    credit_grade: Ref | None
    source: Ref | None
    category_ids: list[int]
    tags: list[str]
    lifecycle: Lifecycle
    marketing_consent: bool
    consent_at: datetime.datetime | None
    consent_channel: str
    points_balance: int
    notes: str
    extra: dict[str, Any]
    contacts: list[ContactOut]
    merged_into: Ref | None = Field(description="已合并时指向保留的档案（name 为其档案编号）")
    version: int = Field(description="修改时回传；已被他人修改时返回 409")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TimelineOut(Schema):
    id: int
    at: datetime.datetime
    kind: str
    title: str
    body: str
    actor: Ref | None
    ref_type: str
    ref_id: str
    data: dict[str, Any]


class TimelinePage(Schema):
    items: list[TimelineOut]
    next_cursor: str | None


class RevealOut(Schema):
    field: str
    contact_id: int | None
    value: str


class ClassOut(Schema):
    id: int
    code: str
    name: str
    description: str
    visits_per_month: int
    sort_order: int
    is_active: bool


class GradeOut(Schema):
    id: int
    code: str
    name: str
    description: str
    sort_order: int
    is_active: bool


class SourceOut(Schema):
    id: int
    code: str
    name: str
    sort_order: int
    is_active: bool


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    description: str
    sort_order: int
    is_active: bool


class CustomFieldOut(Schema):
    key: str
    label: str
    field_type: str
    choices: list[Any]
    required: bool
    applies_to: str = Field(description="person / organisation；空表示都适用")
    sort_order: int


class CustomerSettingsOut(Schema):
    classes: list[ClassOut]
    credit_grades: list[GradeOut]
    sources: list[SourceOut]
    categories: list[CategoryOut]
    custom_fields: list[CustomFieldOut] = Field(description="启用的自定义字段（extra 的键）")


# --- input --------------------------------------------------------------------------


class ContactIn(StrictIn):
    name: str = Field("", max_length=60)
    role: str = Field("", max_length=60)
    phone: str = Field("", max_length=32, description="手机 11 位，座机带区号，可写“转分机”")
    wechat: str = Field("", max_length=60)
    email: str = Field("", max_length=254)
    is_primary: bool = False

    @field_validator("email")
    @classmethod
    def check_email(cls, value):
        return _check_email(value)


class ContactPatch(StrictIn):
    version: int | None = Field(None, description="客户档案的版本号（可选）；已被他人修改时返回 409")
    name: str | None = Field(None, max_length=60)
    role: str | None = Field(None, max_length=60)
    phone: str | None = Field(None, max_length=32)
    wechat: str | None = Field(None, max_length=60)
    email: str | None = Field(None, max_length=254)

    @field_validator("email")
    @classmethod
    def check_email(cls, value):
        return _check_email(value)


class CustomerIn(StrictIn):
    name: str = Field(max_length=120)
    kind: CustomerKind = CustomerKind.PERSON
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    id_number: str = Field("", max_length=40, description="个人：身份证号；单位：统一社会信用代码")
    gender: str = Field("", max_length=8)
    birthday: datetime.date | None = None
    address: str = Field("", max_length=200)
    region_id: Id | None = Field(None, description="省略时为当前用户的片区")
    owner_id: Id | None = None
    customer_class_id: Id | None = None
    is_key_account: bool = False
    credit_grade_id: Id | None = None
    source_id: Id | None = None
    category_ids: list[Id] = Field(default_factory=list, max_length=50)
    tags: list[TagName] = Field(default_factory=list, max_length=50)
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    marketing_consent: bool = False
    consent_channel: ConsentChannel | Literal[""] = ""
    notes: str = Field("", max_length=5000)
    extra: dict[ExtraKey, ExtraValue] = Field(default_factory=dict, description="自定义字段，键见 /customer-settings")
    allow_duplicate: bool = Field(False, description="确认不是重复客户：跳过疑似重复检查（否则返回 409)")

    @field_validator("extra")
    @classmethod
    def check_extra(cls, value):
        return _check_extra(value)


class CustomerPatch(StrictIn):
    version: int = Field(description="读取时的版本号；已被他人修改时返回 409 conflict")
    name: str | None = Field(None, max_length=120)
    id_number: str | None = Field(None, max_length=40)
    gender: str | None = Field(None, max_length=8)
    birthday: datetime.date | None = None
    address: str | None = Field(None, max_length=200)
    region_id: Id | None = None
    owner_id: Id | None = None
    is_key_account: bool | None = None
    source_id: Id | None = None
    lifecycle: Lifecycle | None = None
    marketing_consent: bool | None = None
    consent_channel: ConsentChannel | Literal[""] | None = None
    notes: str | None = Field(None, max_length=5000)
    categories: list[Id] | None = Field(None, max_length=50, description="产品类别 id（整体替换）")
    tags: list[TagName] | None = Field(None, max_length=50, description="标签名（整体替换）")
    extra: dict[ExtraKey, ExtraValue] | None = Field(None, description="自定义字段（逐键更新；null 值清除该键）")

    @field_validator("extra")
    @classmethod
    def check_extra(cls, value):
        return _check_extra(value)


class ClassChangeIn(StrictIn):
    customer_class_id: Id | None = Field(description="新的客户分类；null 表示取消分类")
    reason: str = Field("", max_length=1000)


class CreditChangeIn(StrictIn):
    credit_grade_id: Id | None = Field(description="新的信用等级；null 表示取消评级")
    reason: str = Field(max_length=1000)
    effective_on: datetime.date | None = Field(None, description="生效日期，默认今天")


class RevealIn(StrictIn):
    field: Literal["phone", "id_number"]
    contact_id: Id | None = Field(None, description="phone：哪个联系方式，省略时为主要联系方式")


class MergeIn(StrictIn):
    source_id: Id = Field(description="被合并（并入本档案后停用）的档案")
    version: int | None = Field(None, description="本档案（保留方）的版本号，可选")
    source_version: int | None = Field(None, description="被合并档案的版本号，可选")
