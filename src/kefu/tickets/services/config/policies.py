"""Deadlines and their follow-up: SLA policies (kind × severity × category → working
minutes), the escalation chain and the module's settings row."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext as _

from kefu.core.audit import audit_record, field_changes
from kefu.core.roles import ROLES_BY_CODE
from kefu.core.services.config_rows import clean_int, clean_name, invalid, lock_row, only_fields, save_row
from kefu.tickets.choices import Severity
from kefu.tickets.models import EscalationRule, SlaPolicy, TicketCategory, TicketKind, TicketSettings
from kefu.tickets.services.config.base import config_write, set_active

MAX_ESCALATION_LEVEL = 9
POLICY_FIELDS = ("name", "kind", "severity", "category", "response_minutes", "resolve_minutes")
RULE_FIELDS = ("role", "after_minutes")
SETTINGS_FIELDS = (
    "failed_attempts_limit",
    "warn_percent",
    "complaints_per_month_limit",
    "slip_minutes",
    "attachment_max_mb",
    "default_response_minutes",
    "default_resolve_minutes",
)


def _check_policy(policy: SlaPolicy | None, final: dict[str, Any], changed: set[str]) -> None:
    if not isinstance(final["kind"], TicketKind | None) or not isinstance(final["category"], TicketCategory | None):
        raise invalid(_("工单类型或分类无效。"))
    if final["response_minutes"] > final["resolve_minutes"]:
        raise invalid(_("响应时限不能长于解决时限。"), "response_minutes")
    kind, category = final["kind"], final["category"]
    if "kind" in changed and kind is not None and not kind.is_active:
        raise invalid(_("工单类型“%(kind)s”已停用。") % {"kind": kind}, "kind")
    if "category" in changed and category is not None and not category.is_active:
        raise invalid(_("分类“%(cat)s”已停用。") % {"cat": category}, "category")
    if kind is not None and category is not None and category.kind_id not in (None, kind.pk):
        raise invalid(
            _("分类“%(cat)s”不适用于“%(kind)s”，这条规则不会生效。") % {"cat": category, "kind": kind}, "category"
        )
    others = SlaPolicy.objects.exclude(pk=getattr(policy, "pk", None))
    if others.filter(name__iexact=final["name"]).exists():
        raise invalid(_("已有名为“%(name)s”的时限规则。") % {"name": final["name"]}, "name")
    # An inactive policy may share its conditions; reactivating it checks again.
    if policy is None or policy.is_active:
        _no_twin(policy, final)


def _no_twin(policy: SlaPolicy | None, final: Mapping[str, Any]) -> None:
    twin = (
        SlaPolicy.objects.filter(
            is_active=True, kind=final["kind"], severity=final["severity"], category=final["category"]
        )
        .exclude(pk=getattr(policy, "pk", None))
        .first()
    )
    if twin is not None:
        raise invalid(_("已有条件相同的启用规则“%(name)s”。") % {"name": twin.name})


def _clean_policy(values: Mapping[str, Any], policy: SlaPolicy | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            out[name] = clean_name(SlaPolicy, name, value)
        elif name == "severity":
            if (value or "") not in ("", *Severity.values):
                raise invalid(_("严重程度无效。"), name)
            out[name] = value or ""
        elif name in ("response_minutes", "resolve_minutes"):
            out[name] = clean_int(SlaPolicy, name, value)
        else:
            out[name] = value
    final = {name: out.get(name, getattr(policy, name, None)) for name in POLICY_FIELDS}
    _check_policy(policy, final, set(out))
    return out


def sla_policy_create(
    *,
    actor,
    name: str,
    response_minutes: int,
    resolve_minutes: int,
    kind: TicketKind | None = None,
    severity: str = "",
    category: TicketCategory | None = None,
) -> SlaPolicy:
    """Response and resolution targets in working minutes for tickets of `kind` ×
    `severity` × `category` (each empty = any)."""
    values = {
        "name": name,
        "kind": kind,
        "severity": severity,
        "category": category,
        "response_minutes": response_minutes,
        "resolve_minutes": resolve_minutes,
    }
    with config_write(actor):
        cleaned = _clean_policy(values, None)
        policy = SlaPolicy.objects.create(**cleaned)
        audit_record(code="sla_policy.created", obj=policy, actor=actor, data=cleaned)
    return policy


def sla_policy_update(
    *, actor, policy: SlaPolicy, values: Mapping[str, Any], expected_updated_at: datetime.datetime | None = None
) -> dict[str, Any]:
    """Change a policy; tickets registered from now on get the new targets (those
    already open keep the deadlines they were given)."""
    with config_write(actor):
        only_fields(values, POLICY_FIELDS)
        locked = lock_row(policy, expected_updated_at)
        cleaned = _clean_policy(values, locked)
        return save_row(policy, locked, cleaned, code="sla_policy.updated", actor=actor)


def sla_policy_set_active(*, actor, policy: SlaPolicy, active: bool) -> SlaPolicy:
    """Apply the policy to new tickets again, or no longer."""
    check = (
        (lambda p: _no_twin(p, {"kind": p.kind, "severity": p.severity, "category": p.category})) if active else None
    )
    return set_active(actor=actor, obj=policy, active=active, audit="sla_policy", check=check)


# --- escalation rules ----------------------------------------------------------------------


def _role(value: Any) -> Group:
    if not isinstance(value, Group) or value.name not in ROLES_BY_CODE:
        raise invalid(_("请选择一个角色。"), "role")
    return value


def _check_order(level: int, after_minutes: int, *, exclude: int | None) -> None:
    """Among active rules, a later level never escalates earlier than the one before it."""
    rules = EscalationRule.objects.filter(is_active=True).exclude(pk=exclude)
    before = rules.filter(level__lt=level, after_minutes__gt=after_minutes).order_by("-level").first()
    if before is not None:
        raise invalid(
            _("第 %(level)s 级不能早于第 %(other)s 级（超时后 %(minutes)s 分钟）升级。")
            % {"level": level, "other": before.level, "minutes": before.after_minutes},
            "after_minutes",
        )
    after = rules.filter(level__gt=level, after_minutes__lt=after_minutes).order_by("level").first()
    if after is not None:
        raise invalid(
            _("第 %(level)s 级不能晚于第 %(other)s 级（超时后 %(minutes)s 分钟）升级。")
            % {"level": level, "other": after.level, "minutes": after.after_minutes},
            "after_minutes",
        )


def escalation_rule_create(*, actor, level: int, role: Group, after_minutes: int) -> EscalationRule:
    """Level `level` of the chain (1 … n, no gaps): `role` is told once a ticket has
    been overdue `after_minutes` working minutes."""
    with config_write(actor):
        top = EscalationRule.objects.aggregate(top=models.Max("level"))["top"] or 0
        level = clean_int(EscalationRule, "level", level, low=1, high=min(top + 1, MAX_ESCALATION_LEVEL))
        if EscalationRule.objects.filter(level=level).exists():
            raise invalid(_("第 %(level)s 级已存在。") % {"level": level}, "level")
        values = {
            "role": _role(role),
            "after_minutes": clean_int(EscalationRule, "after_minutes", after_minutes, low=0),
        }
        _check_order(level, values["after_minutes"], exclude=None)
        rule = EscalationRule.objects.create(level=level, **values)
        audit_record(code="escalation_rule.created", obj=rule, actor=actor, data={"level": level, **values})
    return rule


def escalation_rule_update(
    *,
    actor,
    rule: EscalationRule,
    values: Mapping[str, Any],
    expected_updated_at: datetime.datetime | None = None,
) -> dict[str, Any]:
    """Change who is told at a level and when; the level itself stays."""
    with config_write(actor):
        only_fields(values, RULE_FIELDS)
        locked = lock_row(rule, expected_updated_at)
        cleaned: dict[str, Any] = {}
        if "role" in values:
            cleaned["role"] = _role(values["role"])
        if "after_minutes" in values:
            cleaned["after_minutes"] = clean_int(EscalationRule, "after_minutes", values["after_minutes"], low=0)
        if locked.is_active:
            _check_order(locked.level, cleaned.get("after_minutes", locked.after_minutes), exclude=locked.pk)
        return save_row(rule, locked, cleaned, code="escalation_rule.updated", actor=actor)


def escalation_rule_set_active(*, actor, rule: EscalationRule, active: bool) -> EscalationRule:
    """Use the level again (its timing must still fit the chain), or skip it."""
    check = (lambda r: _check_order(r.level, r.after_minutes, exclude=r.pk)) if active else None
    return set_active(actor=actor, obj=rule, active=active, audit="escalation_rule", check=check)


# --- settings ------------------------------------------------------------------------------


def ticket_settings_update(
    *, actor, values: Mapping[str, Any], expected_updated_at: datetime.datetime | None = None
) -> dict[str, Any]:
    """Change the module's settings row (attempt and complaint limits, warning share,
    default deadlines, slip deadline, attachment size)."""
    with config_write(actor):
        only_fields(values, SETTINGS_FIELDS)
        cleaned = {name: clean_int(TicketSettings, name, value) for name, value in values.items()}
        row = TicketSettings.objects.get(pk=1)
        locked = lock_row(row, expected_updated_at)
        response = cleaned.get("default_response_minutes", locked.default_response_minutes)
        if response > cleaned.get("default_resolve_minutes", locked.default_resolve_minutes):
            raise invalid(_("默认响应时限不能长于默认解决时限。"), "default_response_minutes")
        if not field_changes(locked, cleaned):
            return {}
        return save_row(row, locked, {**cleaned, "updated_by": actor}, code="ticket_settings.updated", actor=actor)
