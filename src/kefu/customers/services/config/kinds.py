"""The kinds of archive setting rows (`ConfigKind`: classes, credit grades, sources,
product categories, custom fields) and how a value of each is checked before it is
saved. The checks are shared by the row services, the profile seed and the forms'
limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import ValidationFailed
from kefu.customers.choices import CustomerKind, FieldType
from kefu.customers.models import CreditGrade, Customer, CustomerClass, CustomerSource, CustomField, ProductCategory

MANAGE = "customers.manage_archive_settings"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
APPLIES_TO = {"", CustomerKind.PERSON.value, CustomerKind.ORGANISATION.value}
MAX_VISITS_PER_MONTH = 31
MAX_SORT_ORDER = 32767


@dataclass(frozen=True)
class ConfigKind:
    """One kind of setting row: its model, the field naming it uniquely, the fields a
    manager edits and its audit-code prefix."""

    slug: str
    model: type[models.Model]
    code_field: str
    fields: tuple[str, ...]
    audit: str


CLASS = ConfigKind(
    "classes",
    CustomerClass,
    "code",
    ("code", "name", "description", "visits_per_month", "sort_order"),
    "customer_class",
)
GRADE = ConfigKind("grades", CreditGrade, "code", ("code", "name", "description", "sort_order"), "credit_grade")
SOURCE = ConfigKind("sources", CustomerSource, "code", ("code", "name", "sort_order"), "customer_source")
CATEGORY = ConfigKind(
    "categories", ProductCategory, "code", ("code", "name", "description", "sort_order"), "product_category"
)
FIELD = ConfigKind(
    "fields",
    CustomField,
    "key",
    ("key", "label", "field_type", "choices", "required", "applies_to", "sort_order"),
    "custom_field",
)
KINDS: dict[str, ConfigKind] = {k.slug: k for k in (CLASS, GRADE, SOURCE, CATEGORY, FIELD)}


def max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _text(model, name: str, value: Any, *, required: bool) -> str:
    text = " ".join(str(value or "").split())
    label = str(model._meta.get_field(name).verbose_name)
    if required and not text:
        raise ValidationFailed(_("请填写%(label)s。") % {"label": label}, details={"field": name})
    limit = max_length(model, name)
    if len(text) > limit:
        raise ValidationFailed(
            _("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": limit}, details={"field": name}
        )
    return text


def _int(name: str, value: Any, *, low: int, high: int, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(label)s必须是整数。") % {"label": label}, details={"field": name}) from None
    if isinstance(value, float) and value != number:
        raise ValidationFailed(_("%(label)s必须是整数。") % {"label": label}, details={"field": name})
    if not low <= number <= high:
        raise ValidationFailed(
            _("%(label)s应在 %(low)s 到 %(high)s 之间。") % {"label": label, "low": low, "high": high},
            details={"field": name},
        )
    return number


def _code(kind: ConfigKind, value: Any, *, instance: models.Model | None) -> str:
    name = kind.code_field
    code = str(value or "").strip()
    if kind is FIELD:
        if not code:
            raise ValidationFailed(_("请填写字段键。"), details={"field": name})
        if not KEY_RE.fullmatch(code) or len(code) > max_length(CustomField, "key"):
            raise ValidationFailed(
                _("字段键只能由小写字母、数字和下划线组成，以字母开头，不超过 40 个字符，如 contract_date。"),
                details={"field": name},
            )
    else:
        if not code:
            raise ValidationFailed(_("请填写编码。"), details={"field": name})
        if any(ch.isspace() for ch in code):
            raise ValidationFailed(_("编码不能包含空格。"), details={"field": name})
        limit = max_length(kind.model, name)
        if len(code) > limit:
            raise ValidationFailed(_("编码不能超过 %(n)s 个字符。") % {"n": limit}, details={"field": name})
    taken = kind.model._default_manager.filter(**{f"{name}__iexact": code})
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise code_taken(kind, code)
    return code


def code_taken(kind: ConfigKind, code: str) -> ValidationFailed:
    message = _("字段键 %(code)s 已存在。") if kind is FIELD else _("编码 %(code)s 已存在。")
    return ValidationFailed(message % {"code": code}, details={"field": kind.code_field})


def _choices(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = re.split(r"[\n,，、]", value)
    cleaned: list[str] = []
    for item in value:
        text = " ".join(str(item).split())
        if not text:
            continue
        if len(text) > 60:
            raise ValidationFailed(_("每个可选值不能超过 60 个字。"), details={"field": "choices"})
        if text in cleaned:
            raise ValidationFailed(_("可选值“%(value)s”重复。") % {"value": text}, details={"field": "choices"})
        cleaned.append(text)
    return cleaned


def clean_values(
    kind: ConfigKind, values: Mapping[str, Any], *, instance: models.Model | None = None
) -> dict[str, Any]:
    """`values` validated for `kind` (only the fields given; a create passes them all)."""
    unknown = set(values) - set(kind.fields)
    if unknown:
        raise ValidationFailed(_("不能在此修改：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    model = kind.model
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == kind.code_field:
            out[name] = _code(kind, value, instance=instance)
        elif name in ("name", "label"):
            out[name] = _text(model, name, value, required=True)
        elif name == "description":
            out[name] = _text(model, name, value, required=False)
        elif name == "sort_order":
            out[name] = _int(name, value or 0, low=0, high=MAX_SORT_ORDER, label=_("排序"))
        elif name == "visits_per_month":
            out[name] = _int(name, value, low=0, high=MAX_VISITS_PER_MONTH, label=_("每月最少跟踪次数"))
        elif name == "field_type":
            if value not in FieldType.values:
                raise ValidationFailed(_("字段类型无效。"), details={"field": name})
            out[name] = value
        elif name == "choices":
            out[name] = _choices(value)
        elif name == "required":
            out[name] = bool(value)
        elif name == "applies_to":
            value = value or ""
            if value == "both":
                value = ""
            if value not in APPLIES_TO:
                raise ValidationFailed(_("适用范围无效。"), details={"field": name})
            out[name] = value
    if kind is FIELD:
        _check_field_choices(out, instance)
    return out


def _check_field_choices(out: dict[str, Any], instance: CustomField | None) -> None:
    field_type = out.get("field_type", instance.field_type if instance else FieldType.TEXT)
    choices = out.get("choices", instance.choices if instance else [])
    if field_type == FieldType.CHOICE:
        if not choices:
            raise ValidationFailed(_("单选类型的字段请至少填写一个可选值。"), details={"field": "choices"})
    elif choices:
        # Choices only mean something for a choice field; keep no stale list around.
        out["choices"] = []


def field_has_values(key: str) -> bool:
    """Whether any archive holds a value for custom field `key`."""
    return Customer.objects.filter(extra__has_key=key).exists()


def guard_field_change(field: CustomField, values: dict[str, Any]) -> None:
    """Once archives hold values, the key and the type are fixed (the values are stored
    under the key and were validated for the type), and a choice still used stays."""
    key_change = "key" in values and values["key"] != field.key
    type_change = "field_type" in values and values["field_type"] != field.field_type
    removed = set(field.choices or []) - set(values.get("choices", field.choices) or [])
    if not (key_change or type_change or (removed and field.field_type == FieldType.CHOICE)):
        return
    if not field_has_values(field.key):
        return
    if key_change:
        raise ValidationFailed(_("已有档案填写了该字段，字段键不能再修改。"), details={"field": "key"})
    if type_change:
        raise ValidationFailed(_("已有档案填写了该字段，字段类型不能再修改。"), details={"field": "field_type"})
    used = sorted(v for v in removed if Customer.objects.filter(**{f"extra__{field.key}": v}).exists())
    if used:
        raise ValidationFailed(
            _("可选值“%(values)s”已被档案使用，不能删除。") % {"values": "、".join(used)}, details={"field": "choices"}
        )


def require_manager(actor) -> None:
    access.require(actor, MANAGE)
