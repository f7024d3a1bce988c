"""Visit rules (回访规则) as a manager keeps them: create, edit, pause, resume.

A rule is checked as a whole on every write (its kind decides which fields mean
anything), and the fields that do not apply to it are cleared, so the planner never
reads a stale trigger on a cadence rule or a team on an owner rule."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.fields import DateField
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record, audited_update
from kefu.core.errors import InvalidState
from kefu.core.models import Department, User
from kefu.core.services.config_rows import clean_int, clean_name, invalid, lock_row, only_fields, save_row
from kefu.customers.choices import FieldType, Lifecycle
from kefu.customers.models import Customer, CustomerClass, CustomField
from kefu.tickets.choices import TicketStatus
from kefu.visits.choices import AssignTo, RuleKind, Trigger, VisitChannel, VisitStatus
from kefu.visits.models import Questionnaire, Visit, VisitRule

MANAGE = "visits.manage_visit_settings"
RECORD = "visits.record_visit"
MAX_OFFSETS = 10
MAX_OFFSET_DAYS = 365
RULE_FIELDS = (
    "name",
    "kind",
    "visit_type",
    "customer_class",
    "key_accounts_only",
    "visits_per_month",
    "trigger",
    "offsets_days",
    "date_field",
    "assign_to",
    "team",
    "assignee",
    "channel",
    "questionnaire",
    "max_attempts",
    "retry_working_days",
)


def _instance(value: Any, model: type, field: str):
    if value is not None and not isinstance(value, model):
        raise invalid(_("%(label)s无效。") % {"label": VisitRule._meta.get_field(field).verbose_name}, field)
    return value


def clean_offsets(value: Any) -> list[int]:
    """Whole days after the event, 0–365, at most ten, in order and without repeats."""
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise invalid(_("间隔天数应是天数的列表，如 1, 7, 30。"), "offsets_days")
    days = set()
    for item in value:
        exact = isinstance(item, int) and not isinstance(item, bool)
        if isinstance(item, str) and item.strip().isdigit():
            item, exact = int(item.strip()), True
        if not exact or not 0 <= item <= MAX_OFFSET_DAYS:
            raise invalid(_("间隔天数必须是 0 到 %(max)s 之间的整数。") % {"max": MAX_OFFSET_DAYS}, "offsets_days")
        days.add(item)
    if len(days) > MAX_OFFSETS:
        raise invalid(_("间隔天数最多 %(n)s 个。") % {"n": MAX_OFFSETS}, "offsets_days")
    return sorted(days)


def date_field_choices() -> list[tuple[str, str]]:
    """Active customer fields of type date: what a project-stage rule may count from."""
    return list(
        CustomField.objects.filter(is_active=True, field_type=FieldType.DATE)
        .order_by("sort_order", "key")
        .values_list("key", "label")
    )


def _check_questionnaire(questionnaire: Questionnaire | None, changed: bool) -> None:
    if questionnaire is None:
        return
    if changed and not questionnaire.is_active:
        raise invalid(_("问卷“%(name)s”已停用。") % {"name": questionnaire.name}, "questionnaire")
    # The planner copies the current version onto each visit; without one it has nothing to ask.
    if not questionnaire.versions.exists():
        raise invalid(_("问卷“%(name)s”还没有发布任何版本。") % {"name": questionnaire.name}, "questionnaire")


def _check_who(final: dict[str, Any], changed: set[str]) -> None:
    assign_to = final["assign_to"]
    if assign_to not in AssignTo.values:
        raise invalid(_("请选择由谁回访。"), "assign_to")
    team = _instance(final["team"], Department, "team")
    assignee = _instance(final["assignee"], User, "assignee")
    if assign_to == AssignTo.TEAM:
        if team is None:
            raise invalid(_("分配给班组时请选择班组。"), "team")
        if {"team", "assign_to"} & changed and not team.is_active:
            raise invalid(_("班组“%(name)s”已停用。") % {"name": team.name}, "team")
    if assign_to == AssignTo.USER:
        if assignee is None:
            raise invalid(_("分配给指定人员时请选择回访人。"), "assignee")
        if {"assignee", "assign_to"} & changed and not (assignee.is_active and assignee.has_perm(RECORD)):
            raise invalid(_("回访人必须是可以回访的在职员工。"), "assignee")
    if assign_to == AssignTo.TICKET_ASSIGNEE and final["trigger"] != Trigger.TICKET_RESOLVED:
        # Only the ticket-confirmation visit has a ticket whose handler could call.
        raise invalid(_("“工单负责人”只适用于工单处理完成后的回访。"), "assign_to")
    if assign_to != AssignTo.TEAM:
        final["team"] = None
    if assign_to != AssignTo.USER:
        final["assignee"] = None


def _check_cadence(final: dict[str, Any], changed: set[str]) -> None:
    cls = _instance(final["customer_class"], CustomerClass, "customer_class")
    if cls is None and not final["key_accounts_only"]:
        raise invalid(_("定期跟踪规则请选择客户分类，或勾选“仅大客户”。"), "customer_class")
    if cls is not None and "customer_class" in changed and not cls.is_active:
        raise invalid(_("客户分类“%(name)s”已停用。") % {"name": cls.name}, "customer_class")
    if final["visits_per_month"] in (None, ""):
        final["visits_per_month"] = None
        if cls is not None and not cls.visits_per_month:
            raise invalid(
                _("客户分类“%(name)s”的每月跟踪次数为 0，请填写每月次数。") % {"name": cls.name}, "visits_per_month"
            )
    else:
        final["visits_per_month"] = clean_int(VisitRule, "visits_per_month", final["visits_per_month"])
    final.update(trigger="", offsets_days=[], date_field="")


def _check_event(final: dict[str, Any], changed: set[str]) -> None:
    if final["trigger"] not in Trigger.values:
        raise invalid(_("事件触发规则请选择触发事件。"), "trigger")
    cls = _instance(final["customer_class"], CustomerClass, "customer_class")
    if cls is not None and "customer_class" in changed and not cls.is_active:
        raise invalid(_("客户分类“%(name)s”已停用。") % {"name": cls.name}, "customer_class")
    final["offsets_days"] = clean_offsets(final["offsets_days"])
    final["visits_per_month"] = None
    if final["trigger"] == Trigger.PROJECT_STAGE:
        key = str(final["date_field"] or "").strip()
        if not key:
            raise invalid(_("工程阶段回访请选择从哪个日期字段起算。"), "date_field")
        if {"date_field", "trigger"} & changed and key not in dict(date_field_choices()):
            raise invalid(_("“%(key)s”不是启用中的日期类型自定义字段。") % {"key": key}, "date_field")
        final["date_field"] = key
    else:
        final["date_field"] = ""


def clean_rule(final: dict[str, Any], *, changed: set[str]) -> dict[str, Any]:
    """The whole rule checked and normalised. `changed` names the fields being set now:
    a class, team or person deactivated later does not block unrelated edits."""
    final = dict(final)
    final["name"] = clean_name(VisitRule, "name", final["name"])
    final["visit_type"] = clean_name(VisitRule, "visit_type", final["visit_type"])
    if final["kind"] not in RuleKind.values:
        raise invalid(_("请选择规则类型。"), "kind")
    final["key_accounts_only"] = bool(final["key_accounts_only"])
    if final["kind"] == RuleKind.CADENCE:
        _check_cadence(final, changed)
    else:
        _check_event(final, changed)
    _check_who(final, changed)
    if final["channel"] not in VisitChannel.values:
        raise invalid(_("回访方式无效。"), "channel")
    questionnaire = _instance(final["questionnaire"], Questionnaire, "questionnaire")
    _check_questionnaire(questionnaire, "questionnaire" in changed)
    final["max_attempts"] = clean_int(VisitRule, "max_attempts", final["max_attempts"])
    final["retry_working_days"] = clean_int(VisitRule, "retry_working_days", final["retry_working_days"], low=0)
    return final


def _unique_name(name: str, rule: VisitRule | None) -> None:
    # Profiles find their rules by name, and a manager tells them apart by it.
    if VisitRule.objects.filter(name__iexact=name).exclude(pk=getattr(rule, "pk", None)).exists():
        raise invalid(_("已有名为“%(name)s”的回访规则。") % {"name": name}, "name")


def visit_rule_create(
    *,
    actor,
    name: str,
    kind: str,
    visit_type: str,
    customer_class: CustomerClass | None = None,
    key_accounts_only: bool = False,
    visits_per_month: int | None = None,
    trigger: str = "",
    offsets_days: list[int] | tuple[int, ...] = (),
    date_field: str = "",
    assign_to: str = AssignTo.OWNER,
    team: Department | None = None,
    assignee: User | None = None,
    channel: str = VisitChannel.PHONE,
    questionnaire: Questionnaire | None = None,
    max_attempts: int = 3,
    retry_working_days: int = 1,
) -> VisitRule:
    """A new rule, active at once (the next planning run uses it)."""
    access.require(actor, MANAGE)
    final = {
        "name": name,
        "kind": kind,
        "visit_type": visit_type,
        "customer_class": customer_class,
        "key_accounts_only": key_accounts_only,
        "visits_per_month": visits_per_month,
        "trigger": trigger,
        "offsets_days": list(offsets_days) if isinstance(offsets_days, tuple) else offsets_days,
        "date_field": date_field,
        "assign_to": assign_to,
        "team": team,
        "assignee": assignee,
        "channel": channel,
        "questionnaire": questionnaire,
        "max_attempts": max_attempts,
        "retry_working_days": retry_working_days,
    }
    cleaned = clean_rule(final, changed=set(final))
    with transaction.atomic():
        _unique_name(cleaned["name"], None)
        rule = VisitRule.objects.create(**cleaned)
        audit_record(code="visit_rule.created", obj=rule, actor=actor, data=_audit_data(cleaned))
    return rule


def _audit_data(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.pk if hasattr(v, "pk") else v) for k, v in values.items()}


def _has_visits(rule: VisitRule) -> bool:
    return Visit.objects.filter(rule=rule).exists()


def visit_rule_update(
    *, actor, rule: VisitRule, values: Mapping[str, Any], expected_updated_at: datetime.datetime | None = None
) -> dict[str, Any]:
    """Change a rule; returns the changes. Its kind never changes, and neither does the
    trigger once it planned visits (their period keys name the event); make a new rule
    instead. Planned visits of customers the rule no longer covers are cancelled by
    the next planning run."""
    access.require(actor, MANAGE)
    only_fields(values, RULE_FIELDS)
    with transaction.atomic():
        locked = lock_row(rule, expected_updated_at)
        current = {name: getattr(locked, name) for name in RULE_FIELDS}
        changed = {name for name, value in values.items() if value != current[name]}
        if "kind" in changed:
            raise invalid(_("规则类型创建后不能修改，请新建一条规则。"), "kind")
        if locked.kind == RuleKind.EVENT and "trigger" in changed and _has_visits(locked):
            raise invalid(_("该规则已生成回访，触发事件不能再修改，请新建一条规则。"), "trigger")
        cleaned = clean_rule({**current, **values}, changed=changed)
        if "name" in changed:
            _unique_name(cleaned["name"], locked)
        return save_row(rule, locked, cleaned, code="visit_rule.updated", actor=actor)


def _set_active(rule: VisitRule, locked: VisitRule, active: bool, *, actor, data: dict) -> None:
    """One audit event for the switch and what it did to the rule's visits."""
    code = "visit_rule.resumed" if active else "visit_rule.paused"
    audited_update(locked, values={"is_active": active}, code=code, actor=actor, data=data)
    rule.is_active, rule.updated_at = locked.is_active, locked.updated_at


def visit_rule_pause(*, actor, rule: VisitRule) -> int:
    """Stop the rule: no new visits, and its planned ones are cancelled at once (one
    UPDATE). Visits already worked keep their outcome. Returns how many were cancelled."""
    access.require(actor, MANAGE)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_row(rule, None)
        if not locked.is_active:
            raise InvalidState(_("规则“%(name)s”已暂停。") % {"name": locked.name}, code="visit_rule_paused")
        cancelled = Visit.objects.filter(rule=locked, status=VisitStatus.PLANNED).update(
            status=VisitStatus.CANCELLED, version=F("version") + 1, updated_at=now
        )
        _set_active(rule, locked, False, actor=actor, data={"cancelled": cancelled})
    return cancelled


def visit_rule_resume(*, actor, rule: VisitRule, today: datetime.date | None = None) -> int:
    """Start the rule again. Its visits of this month onwards that the pause cancelled
    come back (due today at the earliest): the planner cannot plan them again, because
    a cancelled visit still holds its rule × customer × period. Visits of customers who
    were lost, merged or left the rule meanwhile stay cancelled, as do confirmation
    calls of tickets no longer waiting for one. Returns how many came back; the next
    planning run adds the rest."""
    from kefu.visits.services.planning import _cadence_customers

    access.require(actor, MANAGE)
    today = today or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        locked = lock_row(rule, None)
        if locked.is_active:
            raise InvalidState(_("规则“%(name)s”正在使用中。") % {"name": locked.name}, code="visit_rule_active")
        back = (
            Visit.objects.filter(
                rule=locked, status=VisitStatus.CANCELLED, done_at__isnull=True, due_date__gte=today.replace(day=1)
            )
            .exclude(customer__lifecycle=Lifecycle.LOST)
            .exclude(customer__merged_into__isnull=False)
            # A confirmation call is only worth making while its ticket awaits it.
            .exclude(Q(ticket__isnull=False) & ~Q(ticket__status=TicketStatus.RESOLVED))
        )
        if locked.kind == RuleKind.CADENCE:
            back = back.filter(customer__in=Customer.objects.filter(_cadence_customers(locked)).values("pk"))
        reopened = back.update(
            status=VisitStatus.PLANNED,
            due_date=Greatest(F("due_date"), Value(today, output_field=DateField())),
            version=F("version") + 1,
            updated_at=now,
        )
        _set_active(rule, locked, True, actor=actor, data={"reopened": reopened})
    return reopened
