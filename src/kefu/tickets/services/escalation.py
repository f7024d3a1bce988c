"""Supervision (督办) and escalation: the periodic job that warns before a deadline
and escalates after it (supervisor → manager → director, per EscalationRule), the
automatic escalations (emergencies at once, too many failed attempts), manual 督办
and escalation, and deadline extensions for a department's slip.

Exactly once: an automatic escalation is a row unique per ticket, cycle and level;
its messages are keyed by it. A job run twice, or killed halfway and rerun, finds the
rows already there and tells nobody twice. Each ticket is handled in its own
transaction, so what was done before a crash stays done."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import InvalidState, ValidationFailed
from kefu.core.models import User
from kefu.core.workcal import WorkingCalendar
from kefu.tickets import sla, transitions
from kefu.tickets.choices import (
    ACTIVE_ROUTING_STATUSES,
    OPEN_STATUSES,
    EscalationReason,
    ExtensionStatus,
    SlaState,
)
from kefu.tickets.events import ticket_event
from kefu.tickets.models import DeadlineExtension, Escalation, EscalationRule, Ticket, TicketRouting
from kefu.tickets.services.common import (
    HANDLE,
    SUPERVISE,
    bump,
    clean_text,
    lock_ticket,
    require_routing,
    require_ticket,
)
from kefu.tickets.services.notifications import department_people, holders_of, notify_many, who_sees


def _routed_department_ids(ticket: Ticket) -> list[int]:
    return list(ticket.routings.filter(status__in=ACTIVE_ROUTING_STATUSES).values_list("department_id", flat=True))


def _escalation_audience(ticket: Ticket, rule: EscalationRule | None) -> list[User]:
    """The level's role (those of it who see the ticket), the routed departments and
    the agent chasing the ticket."""
    people: dict[int, User] = {}
    if rule is not None:
        for user in who_sees(User.objects.filter(groups=rule.role_id, is_active=True), ticket):
            people[user.pk] = user
    for user in department_people(_routed_department_ids(ticket)):
        people[user.pk] = user
    if ticket.assignee_id and ticket.assignee.is_active:
        people[ticket.assignee_id] = ticket.assignee
    return list(people.values())


def _escalate(
    ticket: Ticket,
    *,
    level: int,
    reason: str,
    now: datetime.datetime,
    rules: list[EscalationRule],
    actor=None,
    note: str = "",
) -> Escalation | None:
    """Raise a locked ticket to `level`. None when this automatic escalation exists
    already (a rerun): nothing is written and nobody is told again."""
    try:
        with transaction.atomic():  # savepoint: the unique constraint decides "already done"
            escalation = Escalation.objects.create(
                ticket=ticket,
                level=level,
                cycle=ticket.cycle,
                reason=reason,
                note=note,
                created_by=actor,
                created_at=now,
            )
    except IntegrityError:
        return None
    rule = next((r for r in rules if r.level == level), None)
    fields: list[str] = []
    if level > ticket.escalation_level:
        ticket.escalation_level = level
        fields.append("escalation_level")
    ticket.next_escalation_at = sla.next_escalation_moment(
        resolve_due_at=ticket.resolve_due_at, level=ticket.escalation_level, rules=rules, calendar=WorkingCalendar()
    )
    fields.append("next_escalation_at")
    bump(ticket, fields)
    label = EscalationReason(reason).label
    role_name = rule.role.name if rule else ""
    ticket_event(
        ticket=ticket,
        code="ticket.escalated",
        title=_("%(reason)s：升至第 %(level)s 级") % {"reason": label, "level": level},
        actor=actor,
        note=note,
        data={"level": level, "reason": reason, "role": role_name},
        at=now,
    )
    notify_many(
        ticket,
        _escalation_audience(ticket, rule),
        key=f"ticket:{ticket.pk}:esc:{escalation.pk}",
        title=_("工单升级（%(reason)s）：%(no)s") % {"reason": label, "no": ticket.number},
        body=note or ticket.title,
    )
    return escalation


def escalate_emergency(*, ticket: Ticket, now: datetime.datetime) -> None:
    """紧急: straight to the top of the chain, every level told (seed 004: 及时上报分管
    院长及主要负责人，并同时通知其他部门). Runs inside the caller's transaction."""
    rules = sla.active_rules()
    for rule in rules:
        if rule.level > ticket.escalation_level:
            _escalate(ticket, level=rule.level, reason=EscalationReason.EMERGENCY, now=now, rules=rules)


def escalate_failed_attempts(*, ticket: Ticket, now: datetime.datetime) -> None:
    """The handling failed too often (seed 004: 三次以上未能解决，提交客服主要处理):
    one level up, once per cycle."""
    if ticket.escalations.filter(cycle=ticket.cycle, reason=EscalationReason.FAILED_ATTEMPTS).exists():
        return
    rules = sla.active_rules()
    upcoming = [r for r in rules if r.level > ticket.escalation_level]
    if upcoming:
        _escalate(
            ticket,
            level=upcoming[0].level,
            reason=EscalationReason.FAILED_ATTEMPTS,
            now=now,
            rules=rules,
            note=_("已处理 %(n)s 次仍未解决") % {"n": ticket.failed_attempts},
        )


def ticket_escalate(*, actor, ticket: Ticket, note: str) -> Escalation:
    """A supervisor raises the ticket one level by hand."""
    require_ticket(actor, SUPERVISE, ticket)
    note = clean_text(note, field="note", label=_("升级说明"), max_length=2000)
    now = timezone.now()
    rules = sla.active_rules()
    with transaction.atomic():
        locked = lock_ticket(ticket)
        transitions.check("escalate", locked)
        upcoming = [r for r in rules if r.level > locked.escalation_level]
        if not upcoming:
            raise InvalidState(_("工单已在最高升级级别。"), code="ticket_top_level")
        escalation = _escalate(
            locked,
            level=upcoming[0].level,
            reason=EscalationReason.MANUAL,
            now=now,
            rules=rules,
            actor=actor,
            note=note,
        )
    return escalation


def ticket_supervise(*, actor, ticket: Ticket, note: str) -> Escalation:
    """督办: a supervisor's written push to the departments and the agent, without
    changing the level."""
    require_ticket(actor, SUPERVISE, ticket)
    note = clean_text(note, field="note", label=_("督办意见"), max_length=2000)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_ticket(ticket)
        transitions.check("supervise", locked)
        escalation = Escalation.objects.create(
            ticket=locked,
            level=locked.escalation_level,
            cycle=locked.cycle,
            reason=EscalationReason.MANUAL,
            note=note,
            created_by=actor,
            created_at=now,
        )
        bump(locked, [])
        ticket_event(ticket=locked, code="ticket.supervised", title=_("督办"), actor=actor, note=note, at=now)
        notify_many(
            locked,
            _escalation_audience(locked, None),
            key=f"ticket:{locked.pk}:esc:{escalation.pk}",
            title=_("督办：%(no)s") % {"no": locked.number},
            body=note,
        )
    return escalation


# ---------------------------------------------------------------------------- extensions


def extension_request(*, actor, routing: TicketRouting, until: datetime.datetime, reason: str) -> DeadlineExtension:
    """The department asks for more time on its slip."""
    require_routing(actor, HANDLE, routing)
    reason = clean_text(reason, field="reason", label=_("延期理由"), max_length=2000)
    now = timezone.now()
    if until <= max(now, routing.due_at):
        raise ValidationFailed(_("延期后的期限必须晚于当前期限。"), details={"field": "until"})
    with transaction.atomic():
        ticket = lock_ticket(routing.ticket)
        transitions.check("request_extension", ticket)
        if routing.status not in ACTIVE_ROUTING_STATUSES:
            raise InvalidState(_("该告知单已回复或已撤回。"), code="slip_not_active")
        if routing.extensions.filter(status=ExtensionStatus.PENDING).exists():
            raise InvalidState(_("已有一个延期申请等待批准。"), code="extension_pending")
        extension = DeadlineExtension.objects.create(
            routing=routing, requested_by=actor, requested_at=now, until=until, reason=reason
        )
        bump(ticket, [])
        ticket_event(
            ticket=ticket,
            code="ticket.extension_requested",
            title=_("%(dept)s申请延期至 %(until)s")
            % {"dept": routing.department.name, "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
            actor=actor,
            note=reason,
            routing=routing,
            on_timeline=False,
        )
        notify_many(
            ticket,
            who_sees(holders_of(SUPERVISE), ticket),
            key=f"ticket:{ticket.pk}:extension:{extension.pk}",
            title=_("延期申请待批准：%(no)s") % {"no": routing.slip_no},
            body=reason,
        )
    return extension


def extension_decide(*, actor, extension: DeadlineExtension, grant: bool, note: str = "") -> DeadlineExtension:
    """A supervisor grants (the slip's deadline — and the ticket's, when later — move)
    or refuses."""
    require_ticket(actor, SUPERVISE, extension.routing.ticket)
    note = clean_text(note, field="note", label=_("批复意见"), max_length=2000, required=not grant)
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(extension.routing.ticket)
        extension = DeadlineExtension.objects.select_for_update().get(pk=extension.pk)
        if extension.status != ExtensionStatus.PENDING:
            raise InvalidState(_("该延期申请已处理。"), code="extension_decided")
        extension.status = ExtensionStatus.GRANTED if grant else ExtensionStatus.REFUSED
        extension.decided_by, extension.decided_at, extension.decision_note = actor, now, note
        extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        fields: list[str] = []
        routing = extension.routing
        if grant:
            routing.due_at = extension.until
            routing.save(update_fields=["due_at"])
            if ticket.status in OPEN_STATUSES and (
                ticket.resolve_due_at is None or extension.until > ticket.resolve_due_at
            ):
                ticket.resolve_due_at = extension.until
                ticket.next_escalation_at = sla.next_escalation_moment(
                    resolve_due_at=ticket.resolve_due_at,
                    level=ticket.escalation_level,
                    rules=sla.active_rules(),
                    calendar=WorkingCalendar(),
                )
                if ticket.sla_paused_at is None:
                    ticket.sla_state = SlaState.ON_TRACK
                fields += ["resolve_due_at", "next_escalation_at", "sla_state"]
        bump(ticket, fields)
        ticket_event(
            ticket=ticket,
            code="ticket.extension_granted" if grant else "ticket.extension_refused",
            title=_("批准延期") if grant else _("拒绝延期"),
            actor=actor,
            note=note,
            routing=routing,
            on_timeline=False,
        )
        notify_many(
            ticket,
            [u for u in [extension.requested_by] if u is not None],
            key=f"ticket:{ticket.pk}:extension:{extension.pk}:decided",
            title=(_("延期已批准：%(no)s") if grant else _("延期被拒绝：%(no)s")) % {"no": routing.slip_no},
            body=note,
        )
    return extension


# ---------------------------------------------------------------------------- the job


@dataclass
class SupervisionResult:
    marked_breached: int = 0
    warned: int = 0
    escalations: int = 0


def _warn(ticket_id: int, now: datetime.datetime) -> bool:
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if (
            ticket is None
            or ticket.status not in OPEN_STATUSES
            or ticket.sla_paused_at is not None
            or ticket.warn_at is None
            or ticket.warn_at > now
        ):
            return False
        ticket.warn_at = None
        fields = ["warn_at"]
        if ticket.sla_state == SlaState.ON_TRACK:
            ticket.sla_state = SlaState.WARNING
            fields.append("sla_state")
        # The job's marks are not edits: no version bump, so nobody editing gets a 409.
        ticket.save(update_fields=fields)
        due = timezone.localtime(ticket.resolve_due_at).strftime("%Y-%m-%d %H:%M") if ticket.resolve_due_at else ""
        people = {u.pk: u for u in department_people(_routed_department_ids(ticket))}
        if ticket.assignee_id:
            people[ticket.assignee_id] = ticket.assignee
        notify_many(
            ticket,
            people.values(),
            key=f"ticket:{ticket.pk}:warn:c{ticket.cycle}",
            title=_("工单即将超时：%(no)s") % {"no": ticket.number},
            body=_("解决期限 %(due)s") % {"due": due},
        )
    return True


def _escalate_due(ticket_id: int, now: datetime.datetime, rules: list[EscalationRule]) -> int:
    done = 0
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if ticket is None or ticket.status not in OPEN_STATUSES or ticket.sla_paused_at is not None:
            return 0
        # A job that was down for a while catches up level by level: each role is told.
        while ticket.next_escalation_at is not None and ticket.next_escalation_at <= now:
            upcoming = [r for r in rules if r.level > ticket.escalation_level]
            if not upcoming:
                ticket.next_escalation_at = None
                ticket.save(update_fields=["next_escalation_at"])
                break
            before = ticket.next_escalation_at
            if _escalate(ticket, level=upcoming[0].level, reason=EscalationReason.OVERDUE, now=now, rules=rules):
                done += 1
            elif ticket.next_escalation_at == before:
                # Already escalated to that level in this cycle (by an earlier run):
                # move on to the next level's moment.
                ticket.escalation_level = max(ticket.escalation_level, upcoming[0].level)
                ticket.next_escalation_at = sla.next_escalation_moment(
                    resolve_due_at=ticket.resolve_due_at,
                    level=ticket.escalation_level,
                    rules=rules,
                    calendar=WorkingCalendar(),
                )
                ticket.save(update_fields=["escalation_level", "next_escalation_at"])
    return done


def supervision_run(*, now: datetime.datetime | None = None) -> SupervisionResult:
    """Mark overdue tickets, warn those close to their deadline, escalate those past it.
    Set-based selection (partial indexes on warn_at / next_escalation_at), one short
    transaction per ticket that needs a message."""
    now = now or timezone.now()
    result = SupervisionResult()
    result.marked_breached = (
        Ticket.objects.filter(is_open=True, sla_paused_at__isnull=True, resolve_due_at__lte=now)
        .exclude(sla_state=SlaState.BREACHED)
        .update(sla_state=SlaState.BREACHED)
    )
    warn_ids = Ticket.objects.filter(warn_at__lte=now, is_open=True, sla_paused_at__isnull=True).values_list(
        "pk", flat=True
    )
    for ticket_id in list(warn_ids[:100_000]):
        result.warned += _warn(ticket_id, now)
    rules = sla.active_rules()
    due_ids = Ticket.objects.filter(next_escalation_at__lte=now, is_open=True, sla_paused_at__isnull=True).values_list(
        "pk", flat=True
    )
    for ticket_id in list(due_ids[:100_000]):
        result.escalations += _escalate_due(ticket_id, now, rules)
    return result
