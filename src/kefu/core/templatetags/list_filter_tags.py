"""Active list filters the filter panels cannot show, as removable chips.

A dashboard or report segment opens a list with filters its panel has no field for
(`responsible_department`, `resolved`, the deadline dates) or with values a select
cannot show (`none` — 未分类 / 未分配 …, or several ids at once). Without a chip the
panel would read “全部” while the list is narrowed. Each chip names the filter and its
values, carries a hidden input so the panel's own submit keeps it, and links to the
same list without it. One name query per filter with ids, whatever the number of rows.

In core because every list module uses it (the ticket queues and the customer archive):
values are read exactly as their lists' parsers read them (`kefu.core.params`), and the
models are named by label, so core imports none of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from kefu.core.params import NONE, is_id, tokens

register = template.Library()


@dataclass(frozen=True)
class _Spec:
    key: str
    label: Any
    none_label: Any = ""
    # "model": ids named from `model` (app_label.Model, `name_field`); "flag": 1/0;
    # "date": shown as typed.
    kind: str = "model"
    model: str = ""
    name_field: str = "name"
    # The panel has a select for it: a chip only for what the select cannot show.
    in_form: bool = False


_YES_NO = {"1": _("是"), "true": _("是"), "yes": _("是"), "0": _("否"), "false": _("否"), "no": _("否")}

SPECS: dict[str, tuple[_Spec, ...]] = {
    "tickets": (
        _Spec("responsible_department", _("责任部门"), _("未指定部门"), model="core.Department"),
        _Spec("category", _("分类"), _("未分类"), model="tickets.TicketCategory", name_field="path", in_form=True),
        _Spec("region", _("片区"), _("未指定片区"), model="core.Region", in_form=True),
        _Spec("assignee", _("负责人"), _("未分配"), model="core.User", name_field="user", in_form=True),
        _Spec("resolved", _("已处理（含处理后关闭、撤销）"), kind="flag"),
        _Spec("due_from", _("解决期限从"), kind="date"),
        _Spec("due_to", _("解决期限至"), kind="date"),
    ),
    "customers": (
        _Spec("customer_class", _("客户分类"), _("未分类"), model="customers.CustomerClass", in_form=True),
        _Spec("region", _("片区"), _("未指定片区"), model="core.Region", in_form=True),
        _Spec("source", _("信息来源"), _("未知来源"), model="customers.CustomerSource", in_form=True),
    ),
}


def _names(spec: _Spec, ids: list[int]) -> dict[int, str]:
    from django.apps import apps

    if not ids:
        return {}
    model = apps.get_model(spec.model)
    if spec.name_field == "user":
        return {
            pk: display or username
            for pk, display, username in model.objects.filter(pk__in=ids).values_list("pk", "display_name", "username")
        }
    return dict(model.objects.filter(pk__in=ids).values_list("pk", spec.name_field))


def _text(spec: _Spec, values: list[str]) -> str:
    if spec.kind == "flag":
        return str(_YES_NO.get(values[-1].lower(), values[-1]))
    if spec.kind == "date":
        return values[-1]
    names = _names(spec, [int(t) for t in values if is_id(t)])
    parts = []
    for token in values:
        if token.lower() == NONE:
            parts.append(str(spec.none_label))
        elif is_id(token):
            parts.append(str(names.get(int(token), token)))
        else:
            parts.append(token)
    return "、".join(parts)


@register.simple_tag(takes_context=True)
def list_filter_chips(context, list_name: str) -> list[dict[str, str]]:
    """[{key, label, text, raw, remove_url}] of the list's active filters its panel
    cannot show (SPECS[list_name])."""
    request = context.get("request")
    if request is None:
        return []
    query = request.GET
    chips = []
    for spec in SPECS[list_name]:
        values = tokens(query, spec.key)
        if not values:
            continue
        if spec.in_form and len(values) == 1 and values[0].lower() != NONE:
            continue  # the panel's select shows it
        rest = query.copy()
        rest.pop(spec.key, None)
        rest.pop("cursor", None)
        chips.append(
            {
                "key": spec.key,
                "label": str(spec.label),
                "text": _text(spec, values),
                "raw": ",".join(values),
                "remove_url": request.path + (f"?{rest.urlencode()}" if rest else ""),
            }
        )
    return chips
