"""Registering and editing tickets: create, update, assign, link, flag as important,
comment."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import AccessDenied, ValidationFailed
from kefu.core.models import User
from kefu.customers.models import Contact, Customer
from kefu.customers.validation import clean_phone
from kefu.tickets import sla, transitions
from kefu.tickets.choices import Channel, Severity, TicketErrorCode
from kefu.tickets.events import ticket_event
from kefu.tickets.fields import clean_ticket_extra
from kefu.tickets.models import Ticket, TicketCategory, TicketKind, TicketSettings
from kefu.tickets.numbering import next_ticket_number
from kefu.tickets.services.common import (
    ADD,
    CHANGE,
    MARK_IMPORTANT,
    SUPERVISE,
    bump,
    clean_text,
    lock_ticket,
    require_ticket,
)

CUSTOMER_VIEW = "customers.view_customer"


@dataclass
class TicketInput:
    """What the agent fills in on the call screen (or the API posts)."""

    kind: TicketKind
    title: str
    description: str
    customer: Customer | None = None
    contact: Contact | None = None
    caller_name: str = ""
    caller_phone: str = ""
    channel: str = Channel.PHONE
    agency_name: str = ""
    agency_ref: str = ""
    agency_deadline: datetime.date | None = None
    category: TicketCategory | None = None
    severity: str = Severity.NORMAL
    extra: dict[str, Any] = field(default_factory=dict)
    assignee: User | None = None
    against_staff: User | None = None
    region: Any = None


def _clean_customer(actor, data: TicketInput) -> None:
    kind = data.kind
    if data.customer is None:
        if kind.requires_customer:
            raise ValidationFailed(
                _("“%(kind)s”必须关联客户档案：请先查找或快速新建客户。") % {"kind": kind.name},
                code=TicketErrorCode.CUSTOMER_REQUIRED,
                details={"field": "customer"},
            )
        if data.contact is not None:
            raise ValidationFailed(_("联系方式必须属于所选客户。"), details={"field": "contact"})
        return
    # The agent must see the archive to register a ticket on it (no side door into it).
    access.require(actor, CUSTOMER_VIEW, data.customer)
    if data.customer.merged_into_id:
        raise ValidationFailed(
            _("该客户档案已合并到 %(no)s，请选择合并后的档案。") % {"no": data.customer.merged_into.archive_no},
            details={"field": "customer"},
        )
    if data.contact is not None and data.contact.customer_id != data.customer.pk:
        raise ValidationFailed(_("联系方式必须属于所选客户。"), details={"field": "contact"})


def _clean_category(kind: TicketKind, category: TicketCategory | None) -> None:
    if category is None:
        return
    if not category.is_active or (category.kind_id is not None and category.kind_id != kind.pk):
        raise ValidationFailed(
            _("分类“%(cat)s”不适用于“%(kind)s”。") % {"cat": category, "kind": kind.name}, details={"field": "category"}
        )


def _clean_choices(data: TicketInput) -> None:
    if data.severity not in Severity.values:
        raise ValidationFailed(_("严重程度无效。"), details={"field": "severity"})
    if data.channel not in Channel.values:
        raise ValidationFailed(_("受理渠道无效。"), details={"field": "channel"})
    if data.channel == Channel.AGENCY and not (data.agency_name or "").strip():
        raise ValidationFailed(
            _("外部机构转交的工单请填写转交机构（如 消协、装协）。"), details={"field": "agency_name"}
        )


def _clean_staff(user: User | None, *, field_name: str, label: str) -> None:
    if user is not None and not user.is_active:
        raise ValidationFailed(_("%(label)s已停用。") % {"label": label}, details={"field": field_name})


def ticket_create(*, actor, data: TicketInput, now: datetime.datetime | None = None) -> Ticket:
    """Register a ticket: numbered per kind and day, deadlines from the matching SLA
    policy, the customer's timeline told. An emergency (紧急) escalates at once; a
    complaint against a staff member counts towards the monthly discipline rule."""
    access.require(actor, ADD)
    kind = data.kind
    if kind is None or not kind.is_active:
        raise ValidationFailed(_("请选择有效的工单类型。"), details={"field": "kind"})
    title = clean_text(data.title, field="title", label=_("标题"), max_length=120)
    description = clean_text(data.description, field="description", label=_("问题描述"), max_length=20000)
    _clean_customer(actor, data)
    _clean_category(kind, data.category)
    _clean_choices(data)
    _clean_staff(data.assignee, field_name="assignee", label=_("负责人"))
    _clean_staff(data.against_staff, field_name="against_staff", label=_("被投诉员工"))
    extra = clean_ticket_extra(kind, data.extra)
    caller_phone = clean_phone(data.caller_phone, field="caller_phone")
    now = now or timezone.now()
    region = data.customer.region if data.customer is not None else (data.region or actor.region)
    assignee = data.assignee or actor
    # Handing a new ticket to somebody else is a supervisor's move (assign).
    if assignee.pk != actor.pk and not (access.sees_everything(actor) or access.has_perm(actor, SUPERVISE)):
        raise AccessDenied(_("只有主管可以在登记时指定其他负责人。"))
    settings = TicketSettings.cached()
    with transaction.atomic():
        policy = sla.match_policy(kind_id=kind.pk, severity=data.severity, category=data.category)
        ticket = Ticket(
            number=next_ticket_number(kind.prefix, day=timezone.localdate(now)),
            created_at=now,
            kind=kind,
            customer=data.customer,
            contact=data.contact,
            caller_name=clean_text(
                data.caller_name, field="caller_name", label=_("来电人"), max_length=60, required=False
            ),
            caller_phone=caller_phone,
            channel=data.channel,
            agency_name=(data.agency_name or "").strip()[:60],
            agency_ref=(data.agency_ref or "").strip()[:60],
            agency_deadline=data.agency_deadline,
            category=data.category,
            severity=data.severity,
            title=title,
            description=description,
            extra=extra,
            region=region,
            assignee=assignee,
            created_by=actor,
            against_staff=data.against_staff,
            sla_policy=policy,
        )
        sla.apply_deadlines(ticket, sla.compute_deadlines(policy=policy, start=now, settings=settings), now=now)
        ticket.save()
        ticket_event(
            ticket=ticket,
            code="ticket.registered",
            title=_("登记%(kind)s：%(title)s") % {"kind": kind.name, "title": title},
            actor=actor,
            data={"kind": kind.code, "severity": ticket.severity, "channel": ticket.channel},
            at=now,
        )
        if ticket.severity == Severity.URGENT:
            from kefu.tickets.services.escalation import escalate_emergency

            escalate_emergency(ticket=ticket, now=now)
        if ticket.against_staff_id and kind.counts_against_staff:
            from kefu.tickets.services.discipline import discipline_check

            discipline_check(staff=ticket.against_staff, month=timezone.localdate(now).replace(day=1))
    return ticket


UPDATABLE = {
    "title",
    "description",
    "category",
    "severity",
    "contact",
    "channel",
    "agency_name",
    "agency_ref",
    "agency_deadline",
    "caller_name",
    "caller_phone",
    "extra",
    "against_staff",
}


def ticket_update(*, actor, ticket: Ticket, values: dict[str, Any], expected_version: int | None) -> Ticket:
    """Correct what was registered. A changed category or severity re-applies the SLA
    policy from the registration time (the clock does not restart)."""
    require_ticket(actor, CHANGE, ticket)
    unknown = set(values) - UPDATABLE
    if unknown:
        raise ValidationFailed(
            _("不能修改字段：%(f)s") % {"f": "、".join(sorted(unknown))}, details={"fields": sorted(unknown)}
        )
    now = timezone.now()
    with transaction.atomic():
        locked = lock_ticket(ticket, expected_version=expected_version)
        transitions.check("update", locked)
        clean = dict(values)
        if "title" in clean:
            clean["title"] = clean_text(clean["title"], field="title", label=_("标题"), max_length=120)
        if "description" in clean:
            clean["description"] = clean_text(
                clean["description"], field="description", label=_("问题描述"), max_length=20000
            )
        if "caller_phone" in clean:
            clean["caller_phone"] = clean_phone(clean["caller_phone"], field="caller_phone")
        if "extra" in clean:
            clean["extra"] = clean_ticket_extra(locked.kind, clean["extra"], existing=locked.extra)
        probe = TicketInput(
            kind=locked.kind,
            title="-",
            description="-",
            customer=locked.customer,
            contact=clean.get("contact", locked.contact),
            channel=clean.get("channel", locked.channel),
            agency_name=clean.get("agency_name", locked.agency_name),
            category=clean.get("category", locked.category),
            severity=clean.get("severity", locked.severity),
        )
        _clean_choices(probe)
        _clean_category(locked.kind, probe.category)
        if probe.contact is not None and probe.contact.customer_id != locked.customer_id:
            raise ValidationFailed(_("联系方式必须属于所选客户。"), details={"field": "contact"})
        changes = {}
        for name, value in clean.items():
            old = getattr(locked, name)
            if old != value:
                changes[name] = (getattr(old, "pk", old), getattr(value, "pk", value))
                setattr(locked, name, value)
        if not changes:
            return locked
        fields = list(changes)
        if ("category" in changes or "severity" in changes) and locked.status in transitions.ALLOWED["escalate"]:
            policy = sla.match_policy(kind_id=locked.kind_id, severity=locked.severity, category=locked.category)
            locked.sla_policy = policy
            deadlines = sla.compute_deadlines(policy=policy, start=_cycle_start(locked), level=locked.escalation_level)
            fields += ["sla_policy", *sla.apply_deadlines(locked, deadlines, now=now)]
        bump(locked, fields)
        ticket_event(
            ticket=locked,
            code="ticket.updated",
            title=_("修改工单"),
            actor=actor,
            changes=changes,
            data={"fields": sorted(changes)},
            on_timeline=False,
        )
        if "severity" in changes and locked.severity == Severity.URGENT:
            from kefu.tickets.services.escalation import escalate_emergency

            escalate_emergency(ticket=locked, now=now)
    return locked


def _cycle_start(ticket: Ticket) -> datetime.datetime:
    """When the current handling cycle began (registration, or the last reopening)."""
    if ticket.cycle > 1:
        event = ticket.events.filter(code="ticket.reopened").order_by("-at").first()
        if event is not None:
            return event.at
    return ticket.created_at


def ticket_assign(*, actor, ticket: Ticket, assignee: User, expected_version: int | None = None) -> Ticket:
    """Give the ticket to a member of the service desk (the one who chases it)."""
    require_ticket(actor, CHANGE, ticket)
    if assignee.pk != actor.pk and not (access.sees_everything(actor) or access.has_perm(actor, SUPERVISE)):
        raise AccessDenied(_("只有主管可以把工单指派给他人；您可以把工单领给自己。"))
    if assignee is None or not assignee.is_active or not assignee.has_perm(CHANGE):
        raise ValidationFailed(_("负责人必须是可处理工单的在职员工。"), details={"field": "assignee"})
    with transaction.atomic():
        locked = lock_ticket(ticket, expected_version=expected_version)
        transitions.check("assign", locked)
        if locked.assignee_id == assignee.pk:
            return locked
        before = locked.assignee_id
        locked.assignee = assignee
        bump(locked, ["assignee"])
        ticket_event(
            ticket=locked,
            code="ticket.assigned",
            title=_("指派给 %(name)s") % {"name": assignee},
            actor=actor,
            changes={"assignee": (before, assignee.pk)},
            on_timeline=False,
        )
    return locked


def ticket_mark_important(*, actor, ticket: Ticket, important: bool, reason: str = "") -> Ticket:
    """Put a complaint in (or take it out of) the important complaints archive."""
    require_ticket(actor, MARK_IMPORTANT, ticket)
    reason = clean_text(reason, field="reason", label=_("原因"), max_length=200, required=important)
    with transaction.atomic():
        locked = lock_ticket(ticket)
        if locked.is_important == important and (not important or locked.important_reason == reason):
            return locked
        locked.is_important = important
        locked.important_reason = reason if important else ""
        locked.important_at = timezone.now() if important else None
        bump(locked, ["is_important", "important_reason", "important_at"])
        ticket_event(
            ticket=locked,
            code="ticket.important" if important else "ticket.important_removed",
            title=_("列入重要投诉档案") if important else _("移出重要投诉档案"),
            actor=actor,
            note=reason,
        )
    return locked


def ticket_link(*, actor, ticket: Ticket, other: Ticket) -> None:
    """Mark two tickets as related (both must be visible to the actor)."""
    require_ticket(actor, CHANGE, ticket)
    require_ticket(actor, "tickets.view_ticket", other)
    if other.pk == ticket.pk:
        raise ValidationFailed(_("不能与自身关联。"), details={"field": "other"})
    with transaction.atomic():
        locked = lock_ticket(ticket)
        if locked.related.filter(pk=other.pk).exists():
            return
        locked.related.add(other)
        ticket_event(
            ticket=locked,
            code="ticket.linked",
            title=_("关联工单 %(no)s") % {"no": other.number},
            actor=actor,
            data={"other": other.number},
            on_timeline=False,
        )


def ticket_comment(*, actor, ticket: Ticket, body: str):
    """An internal note on the ticket (visible to everyone who sees the ticket)."""
    require_ticket(actor, "tickets.view_ticket", ticket)
    body = clean_text(body, field="body", label=_("备注内容"), max_length=5000)
    with transaction.atomic():
        return ticket_event(
            ticket=ticket, code="ticket.comment", title=_("备注"), actor=actor, note=body, on_timeline=False
        )
