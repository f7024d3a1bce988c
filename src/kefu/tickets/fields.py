"""The form fields a ticket kind declares (`TicketKind.fields`), validated with the same
rules as the archive's custom fields; values are kept in `Ticket.extra`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.customers.choices import FieldType
from kefu.customers.fields import clean_field_value
from kefu.tickets.models import TicketKind


@dataclass(frozen=True)
class KindField:
    key: str
    label: str
    field_type: str = FieldType.TEXT
    choices: list[str] = field(default_factory=list)
    required: bool = False


def kind_fields(kind: TicketKind) -> list[KindField]:
    result = []
    for spec in kind.fields or []:
        if not isinstance(spec, dict) or not spec.get("key"):
            continue
        result.append(
            KindField(
                key=str(spec["key"]),
                label=str(spec.get("label") or spec["key"]),
                field_type=spec.get("type") or FieldType.TEXT,
                choices=list(spec.get("choices") or []),
                required=bool(spec.get("required")),
            )
        )
    return result


def clean_ticket_extra(
    kind: TicketKind, values: dict[str, Any] | None, *, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`existing` updated with `values`; unknown keys refused, required ones enforced."""
    if values is not None and not isinstance(values, dict):
        raise ValidationFailed(_("附加字段格式不正确。"), details={"field": "extra"})
    fields = {f.key: f for f in kind_fields(kind)}
    result = dict(existing or {})
    for key, raw in (values or {}).items():
        spec = fields.get(key)
        if spec is None:
            raise ValidationFailed(
                _("“%(kind)s”没有附加字段 %(key)s。") % {"kind": kind.name, "key": key},
                details={"field": f"extra.{key}"},
            )
        value = clean_field_value(spec, raw)
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    for spec in fields.values():
        if spec.required and result.get(spec.key) in (None, ""):
            raise ValidationFailed(
                _("%(label)s 为必填项。") % {"label": spec.label}, details={"field": f"extra.{spec.key}"}
            )
    return result
