"""Ticket kinds: name, number prefix, flow options and the extra form fields of each."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext as _

from kefu.core.audit import audit_record
from kefu.core.services.config_rows import clean_int, clean_name, invalid, lock_row, only_fields, save_row
from kefu.customers.choices import FieldType
from kefu.customers.services.config import KEY_RE
from kefu.tickets.fields import kind_fields
from kefu.tickets.models import Ticket, TicketKind
from kefu.tickets.services.config.base import MAX_SORT_ORDER, config_write, set_active

MAX_KIND_FIELDS = 30
MAX_FIELD_CHOICES = 100
PREFIX_RE = re.compile(r"^[A-Z]{1,6}$")
KIND_FLAGS = ("requires_customer", "requires_routing", "requires_confirmation", "allows_refund", "counts_against_staff")
KIND_FIELDS = ("name", "prefix", *KIND_FLAGS, "fields", "sort_order")
SPEC_KEYS = {"key", "label", "type", "choices", "required"}


def _choice_list(value: Any, where: str) -> list[str]:
    if value in (None, ""):
        return []
    items = re.split(r"[\n,，、]", value) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise invalid(_("%(where)s的可选值格式不正确。") % {"where": where}, "fields")
    result: list[str] = []
    for item in items:
        text = " ".join(str(item).split())
        if not text:
            continue
        if len(text) > 60:
            raise invalid(_("%(where)s的每个可选值不能超过 60 个字。") % {"where": where}, "fields")
        if text in result:
            raise invalid(_("%(where)s的可选值“%(value)s”重复。") % {"where": where, "value": text}, "fields")
        result.append(text)
    if len(result) > MAX_FIELD_CHOICES:
        raise invalid(_("%(where)s的可选值不能超过 %(n)s 个。") % {"where": where, "n": MAX_FIELD_CHOICES}, "fields")
    return result


def clean_kind_fields(specs: Any) -> list[dict[str, Any]]:
    """A kind's extra form fields, each {key, label, type, choices, required}: keys are
    slugs unique in the kind, the type one of the archive's field types, and a choice
    field lists its choices."""
    if specs in (None, ""):
        return []
    if not isinstance(specs, list | tuple) or not all(isinstance(s, Mapping) for s in specs):
        raise invalid(_("附加字段格式不正确。"), "fields")
    if len(specs) > MAX_KIND_FIELDS:
        raise invalid(_("附加字段不能超过 %(n)s 个。") % {"n": MAX_KIND_FIELDS}, "fields")
    cleaned: list[dict[str, Any]] = []
    for index, spec in enumerate(specs, start=1):
        where = _("第 %(n)s 个附加字段") % {"n": index}
        if set(spec) - SPEC_KEYS:
            raise invalid(_("%(where)s只能包含 key、label、type、choices、required。") % {"where": where}, "fields")
        key = str(spec.get("key") or "").strip()
        if not KEY_RE.fullmatch(key) or len(key) > 40:
            raise invalid(
                _("%(where)s的字段键只能由小写字母、数字和下划线组成，以字母开头，不超过 40 个字符。")
                % {"where": where},
                "fields",
            )
        if any(other["key"] == key for other in cleaned):
            raise invalid(_("附加字段键 %(key)s 重复。") % {"key": key}, "fields")
        label = " ".join(str(spec.get("label") or "").split())
        if not label or len(label) > 60:
            raise invalid(_("%(where)s请填写名称（不超过 60 个字）。") % {"where": where}, "fields")
        field_type = spec.get("type") or FieldType.TEXT
        if field_type not in FieldType.values:
            raise invalid(_("%(where)s的类型无效。") % {"where": where}, "fields")
        choices = _choice_list(spec.get("choices"), where)
        if field_type == FieldType.CHOICE and not choices:
            raise invalid(_("%(where)s是单选类型，请至少填写一个可选值。") % {"where": where}, "fields")
        cleaned.append(
            {
                "key": key,
                "label": label,
                "type": str(field_type),
                # Choices mean something only for a choice field; keep no stale list.
                "choices": choices if field_type == FieldType.CHOICE else [],
                "required": bool(spec.get("required")),
            }
        )
    return cleaned


def _clean_kind(values: Mapping[str, Any], *, kind: TicketKind | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            out[name] = clean_name(TicketKind, name, value)
            if TicketKind.objects.filter(name__iexact=out[name]).exclude(pk=getattr(kind, "pk", None)).exists():
                raise invalid(_("已有名为“%(name)s”的工单类型。") % {"name": out[name]}, name)
        elif name == "prefix":
            prefix = str(value or "").strip().upper()
            if not PREFIX_RE.fullmatch(prefix):
                raise invalid(_("编号前缀只能是 1–6 个大写字母。"), name)
            if TicketKind.objects.filter(prefix=prefix).exclude(pk=getattr(kind, "pk", None)).exists():
                raise invalid(_("编号前缀 %(prefix)s 已被其他类型使用。") % {"prefix": prefix}, name)
            out[name] = prefix
        elif name == "fields":
            out[name] = clean_kind_fields(value)
        elif name == "sort_order":
            out[name] = clean_int(TicketKind, name, value or 0, low=0, high=MAX_SORT_ORDER)
        else:
            out[name] = bool(value)
    return out


def kind_has_tickets(kind: TicketKind) -> bool:
    """Whether tickets of `kind` exist (then its number prefix is fixed)."""
    return Ticket.objects.filter(kind=kind).exists()


def _guard_kind_fields(kind: TicketKind, new_fields: list[dict[str, Any]]) -> None:
    """Values in `Ticket.extra` were validated for a field's type and choices: once
    tickets hold a value, the type stays and a choice in use cannot go."""
    before = {f.key: f for f in kind_fields(kind)}
    for spec in new_fields:
        old = before.get(spec["key"])
        if old is None:
            continue
        holding = Ticket.objects.filter(kind=kind, extra__has_key=old.key)
        if old.field_type != spec["type"] and holding.exists():
            raise invalid(_("已有工单填写了附加字段“%(label)s”，类型不能再修改。") % {"label": old.label}, "fields")
        if old.field_type != FieldType.CHOICE:
            continue
        gone = [c for c in old.choices if c not in spec["choices"]]
        # KeyTransform, not `extra__<key>`: a key may be spelt like a lookup ("exact").
        values = holding.alias(picked=KeyTransform(old.key, "extra"))
        used = [c for c in gone if values.filter(picked=c).exists()]
        if used:
            raise invalid(
                _("附加字段“%(label)s”的可选值“%(values)s”已被工单使用，不能删除。")
                % {"label": old.label, "values": "、".join(used)},
                "fields",
            )


def ticket_kind_create(
    *,
    actor,
    code: str,
    name: str,
    prefix: str,
    requires_customer: bool = True,
    requires_routing: bool = True,
    requires_confirmation: bool = True,
    allows_refund: bool = False,
    counts_against_staff: bool = False,
    fields: Any = (),
    sort_order: int = 0,
) -> TicketKind:
    """A new kind of ticket with its number prefix, flow options and extra fields. The
    `code` names it for profiles and integrations and never changes."""
    values = {
        "name": name,
        "prefix": prefix,
        "requires_customer": requires_customer,
        "requires_routing": requires_routing,
        "requires_confirmation": requires_confirmation,
        "allows_refund": allows_refund,
        "counts_against_staff": counts_against_staff,
        "fields": list(fields or []),
        "sort_order": sort_order,
    }
    with config_write(actor):
        code = str(code or "").strip().lower()
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,29}", code):
            raise invalid(_("代码只能由小写字母、数字、下划线和连字符组成，以字母开头，不超过 30 个字符。"), "code")
        if TicketKind.objects.filter(code=code).exists():
            raise invalid(_("代码 %(code)s 已存在。") % {"code": code}, "code")
        cleaned = _clean_kind(values, kind=None)
        kind = TicketKind.objects.create(code=code, **cleaned)
        audit_record(code="ticket_kind.created", obj=kind, actor=actor, data={"code": code, **cleaned})
    return kind


def ticket_kind_update(
    *, actor, kind: TicketKind, values: Mapping[str, Any], expected_updated_at: datetime.datetime | None = None
) -> dict[str, Any]:
    """Change a kind (any of KIND_FIELDS). Its prefix is fixed once tickets of the kind
    exist: numbers run per prefix, and the old ones must keep telling their kind."""
    with config_write(actor):
        only_fields(values, KIND_FIELDS)
        locked = lock_row(kind, expected_updated_at)
        cleaned = _clean_kind(values, kind=locked)
        if cleaned.get("prefix", locked.prefix) != locked.prefix and kind_has_tickets(locked):
            raise invalid(_("已有该类型的工单，编号前缀不能再修改。"), "prefix")
        if "fields" in cleaned:
            _guard_kind_fields(locked, cleaned["fields"])
        return save_row(kind, locked, cleaned, code="ticket_kind.updated", actor=actor)


def _keep_one_kind(kind: TicketKind) -> None:
    if kind.is_active and not TicketKind.objects.filter(is_active=True).exclude(pk=kind.pk).exists():
        raise invalid(_("至少要保留一个启用的工单类型。"))


def ticket_kind_set_active(*, actor, kind: TicketKind, active: bool) -> TicketKind:
    """Offer the kind for new tickets again (`active`) or no longer; its tickets stay."""
    return set_active(
        actor=actor, obj=kind, active=active, audit="ticket_kind", check=None if active else _keep_one_kind
    )
