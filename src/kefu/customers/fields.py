"""Profile custom fields: validating and normalising the values kept in `Customer.extra`."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.customers.choices import FieldType
from kefu.customers.models import CustomField


def active_fields(kind: str | None = None) -> list[CustomField]:
    fields = CustomField.objects.filter(is_active=True).order_by("sort_order", "key")
    return [f for f in fields if not f.applies_to or kind is None or f.applies_to == kind]


def _clean_value(field: CustomField, raw: Any) -> Any:
    if raw in (None, ""):
        return None
    label = field.label
    if field.field_type == FieldType.TEXT:
        return str(raw).strip()[:500]
    if field.field_type == FieldType.NUMBER:
        text = str(raw).strip()
        try:
            # Length first: Decimal("1e999999") parses, but using it costs seconds.
            number = Decimal(text) if len(text) <= 40 else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValidationFailed(
                _("%(label)s 必须是数字。") % {"label": label}, details={"field": f"extra.{field.key}"}
            )
        return int(number) if number == number.to_integral_value() else float(number)
    if field.field_type == FieldType.DATE:
        if isinstance(raw, datetime.datetime):
            return raw.date().isoformat()
        if isinstance(raw, datetime.date):
            return raw.isoformat()
        try:
            return datetime.date.fromisoformat(str(raw).strip().replace("/", "-")).isoformat()
        except ValueError:
            raise ValidationFailed(
                _("%(label)s 日期格式不正确（应为 2026-01-31）。") % {"label": label},
                details={"field": f"extra.{field.key}"},
            )
    if field.field_type == FieldType.CHOICE:
        value = str(raw).strip()
        if value not in field.choices:
            raise ValidationFailed(
                _("%(label)s 只能是：%(choices)s") % {"label": label, "choices": "、".join(field.choices)},
                details={"field": f"extra.{field.key}"},
            )
        return value
    if field.field_type == FieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "是", "y"}:
            return True
        if text in {"0", "false", "no", "否", "n"}:
            return False
        raise ValidationFailed(
            _("%(label)s 只能填“是”或“否”。") % {"label": label}, details={"field": f"extra.{field.key}"}
        )
    if field.field_type == FieldType.STAFF:
        from kefu.core.models import User

        user = User.objects.filter(is_active=True).filter(username=str(raw).strip()).first()
        if user is None and str(raw).strip().isdigit():
            user = User.objects.filter(is_active=True, pk=int(str(raw).strip())).first()
        if user is None:
            raise ValidationFailed(
                _("%(label)s：找不到员工 %(value)s") % {"label": label, "value": raw},
                details={"field": f"extra.{field.key}"},
            )
        return user.username
    return raw


def clean_field_value(field: CustomField, raw: Any) -> Any:
    """One value of `field` as it is stored (also what filters compare against)."""
    return _clean_value(field, raw)


def clean_extra(values: dict[str, Any] | None, *, kind: str, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """`existing` updated with `values`, every value validated against its field; keys
    no active field declares are refused; required fields must end up filled."""
    result = dict(existing or {})
    fields = {f.key: f for f in active_fields(kind)}
    for key, raw in (values or {}).items():
        field = fields.get(key)
        if field is None:
            raise ValidationFailed(_("未知的自定义字段：%(key)s") % {"key": key}, details={"field": f"extra.{key}"})
        value = _clean_value(field, raw)
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    for field in fields.values():
        if field.required and result.get(field.key) in (None, ""):
            raise ValidationFailed(
                _("%(label)s 为必填项。") % {"label": field.label}, details={"field": f"extra.{field.key}"}
            )
    return result
