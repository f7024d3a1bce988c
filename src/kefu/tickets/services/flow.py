"""The ticket's lifecycle, one service per move (see transitions.py for which move is
allowed from which status):

registered 已登记 → routed 已派单 (a 投诉告知单 per department) → in progress 处理中
(a department accepts, records handling, replies) → resolved 已处理 → confirmed 已回访
(the customer is satisfied) → closed 已关闭; not satisfied → reopened; withdrawn,
duplicate and merged are terminal.

Each service locks the ticket, checks the move, saves what changed with a new version
and records the event (ticket history, audit, customer timeline) in one transaction."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import InvalidState, ValidationFailed
from kefu.core.models import Department
from kefu.core.workcal import WorkingCalendar
from kefu.tickets import sla, transitions
from kefu.tickets.choices import (
    ACTIVE_ROUTING_STATUSES,
    HandlingOutcome,
    RefundStatus,
    RoutingStatus,
    SlaState,
    TicketErrorCode,
    TicketStatus,
)
from kefu.tickets.events import ticket_event
from kefu.tickets.models import Ticket, TicketRouting, TicketSettings
from kefu.tickets.services.common import (
    CHANGE,
    CONFIRM,
    HANDLE,
    RESOLVE,
    ROUTE,
    bump,
    clean_text,
    lock_ticket,
    require_routing,
    require_ticket,
)
from kefu.tickets.services.notifications import notify_routed, notify_ticket_owner

S = TicketStatus


def _mark_responded(ticket: Ticket, now: datetime.datetime, fields: list[str]) -> None:
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.response_minutes = WorkingCalendar().working_minutes_between(ticket.created_at, now)
        fields += ["first_response_at", "response_minutes"]


def _stop_clock(ticket: Ticket, now: datetime.datetime) -> list[str]:
    """Handled: nothing more to warn or escalate; the state keeps whether it was late."""
    ticket.sla_state = sla.finished_state(ticket, now) if ticket.sla_paused_at is None else SlaState.ON_TRACK
    ticket.warn_at = None
    ticket.next_escalation_at = None
    ticket.sla_paused_at = None
    return ["sla_state", "warn_at", "next_escalation_at", "sla_paused_at"]


# ---------------------------------------------------------------------------- routing


def ticket_route(
    *,
    actor,
    ticket: Ticket,
    departments: Sequence[Department],
    instructions: str = "",
    due_at: datetime.datetime | None = None,
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> list[TicketRouting]:
    """Send the ticket to one or more responsible departments, each with its own 投诉
    告知单 and reply deadline (given, or the settings' default in working minutes).
    A department that already holds a live slip for this ticket is refused."""
    require_ticket(actor, ROUTE, ticket)
    departments = list(dict.fromkeys(departments))
    if not departments:
        raise ValidationFailed(_("请至少选择一个责任部门。"), details={"field": "departments"})
    if any(not d.is_active for d in departments):
        raise ValidationFailed(_("不能派单给已停用的部门。"), details={"field": "departments"})
    instructions = clean_text(instructions, field="instructions", label=_("处理要求"), max_length=5000, required=False)
    now = now or timezone.now()
    if due_at is not None and due_at <= now:
        raise ValidationFailed(_("回复期限必须晚于现在。"), details={"field": "due_at"})
    with transaction.atomic():
        locked = lock_ticket(ticket, expected_version=expected_version)
        transitions.check("route", locked)
        live = set(locked.routings.filter(status__in=ACTIVE_ROUTING_STATUSES).values_list("department_id", flat=True))
        again = [d.name for d in departments if d.pk in live]
        if again:
            raise InvalidState(
                _("已向以下部门派发过告知单且尚未回复：%(names)s") % {"names": "、".join(again)},
                code="ticket_already_routed",
                details={"departments": again},
            )
        if due_at is None:
            due_at = WorkingCalendar().add_working_minutes(now, TicketSettings.cached().slip_minutes)
        taken = locked.routings.count()
        routings = []
        for offset, department in enumerate(departments, start=1):
            routings.append(
                TicketRouting.objects.create(
                    ticket=locked,
                    department=department,
                    slip_no=f"{locked.number}-{taken + offset:02d}",
                    instructions=instructions,
                    due_at=due_at,
                    routed_by=actor,
                    routed_at=now,
                )
            )
        fields: list[str] = []
        if locked.status == S.REGISTERED:
            locked.status = S.ROUTED
            fields.append("status")
        if locked.responsible_department_id is None:
            # Responsible until the resolution names another: the statistics count a
            # routed complaint against its department while it is still open.
            locked.responsible_department = departments[0]
            fields.append("responsible_department")
        _mark_responded(locked, now, fields)
        bump(locked, fields)
        for routing in routings:
            ticket_event(
                ticket=locked,
                code="ticket.routed",
                title=_("派单至%(dept)s（告知单 %(no)s）") % {"dept": routing.department.name, "no": routing.slip_no},
                actor=actor,
                note=instructions,
                routing=routing,
                data={"department": routing.department.name, "slip": routing.slip_no, "due_at": due_at.isoformat()},
                at=now,
            )
        notify_routed(routings)
    ticket.refresh_from_db()
    return routings


def routing_cancel(*, actor, routing: TicketRouting, reason: str) -> TicketRouting:
    """Withdraw a slip sent to the wrong department (before it replied)."""
    require_ticket(actor, ROUTE, routing.ticket)
    reason = clean_text(reason, field="reason", label=_("撤回原因"), max_length=500)
    with transaction.atomic():
        ticket = lock_ticket(routing.ticket)
        routing = TicketRouting.objects.select_for_update().get(pk=routing.pk)
        if routing.status not in ACTIVE_ROUTING_STATUSES:
            raise InvalidState(_("该告知单已回复或已撤回，不能撤回。"), code="slip_not_active")
        routing.status = RoutingStatus.CANCELLED
        routing.cancelled_at = timezone.now()
        routing.save(update_fields=["status", "cancelled_at"])
        fields: list[str] = []
        live = ticket.routings.exclude(status=RoutingStatus.CANCELLED).order_by("pk")
        if ticket.status == S.ROUTED and not live.exists():
            ticket.status = S.REGISTERED
            fields.append("status")
        if ticket.responsible_department_id == routing.department_id:
            # Routing named this department responsible (ticket_route); a slip withdrawn as
            # sent to the wrong department must not leave the complaint counted against it.
            # The next live slip's department takes over, or none until routed again (and
            # a resolution may still name any department).
            ticket.responsible_department_id = live.values_list("department_id", flat=True).first()
            fields.append("responsible_department")
        bump(ticket, fields)
        ticket_event(
            ticket=ticket,
            code="ticket.slip_cancelled",
            title=_("撤回告知单 %(no)s") % {"no": routing.slip_no},
            actor=actor,
            note=reason,
            routing=routing,
            on_timeline=False,
        )
    return routing


def routing_accept(*, actor, routing: TicketRouting, now: datetime.datetime | None = None) -> TicketRouting:
    """The department takes the slip; the ticket is now in progress."""
    require_routing(actor, HANDLE, routing)
    now = now or timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(routing.ticket)
        transitions.check("accept", ticket)
        routing = TicketRouting.objects.select_for_update().get(pk=routing.pk)
        if routing.status != RoutingStatus.SENT:
            raise InvalidState(
                _("告知单当前为“%(s)s”，不能接收。") % {"s": routing.get_status_display()}, code="slip_not_sent"
            )
        routing.status = RoutingStatus.ACCEPTED
        routing.accepted_by, routing.accepted_at = actor, now
        routing.save(update_fields=["status", "accepted_by", "accepted_at"])
        fields: list[str] = []
        if ticket.status == S.ROUTED:
            ticket.status = S.IN_PROGRESS
            fields.append("status")
        _mark_responded(ticket, now, fields)
        bump(ticket, fields)
        ticket_event(
            ticket=ticket,
            code="ticket.accepted",
            title=_("%(dept)s已接收告知单") % {"dept": routing.department.name},
            actor=actor,
            routing=routing,
            at=now,
        )
    return routing


def routing_record_handling(
    *,
    actor,
    routing: TicketRouting,
    note: str,
    outcome: str = HandlingOutcome.PROGRESS,
    now: datetime.datetime | None = None,
):
    """What the department did (visit, repair, call…), with its outcome. An attempt
    that did not solve the problem counts; at the settings' limit (default 3, seed 004)
    the ticket escalates."""
    require_routing(actor, HANDLE, routing)
    note = clean_text(note, field="note", label=_("处理记录"), max_length=5000)
    if outcome not in HandlingOutcome.values:
        raise ValidationFailed(_("处理结果无效。"), details={"field": "outcome"})
    now = now or timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(routing.ticket)
        transitions.check("handle", ticket)
        routing = TicketRouting.objects.select_for_update().get(pk=routing.pk)
        if routing.status == RoutingStatus.CANCELLED:
            raise InvalidState(_("该告知单已撤回。"), code="slip_not_active")
        fields: list[str] = []
        if routing.status == RoutingStatus.SENT:
            # Recording work on a slip is accepting it.
            routing.status, routing.accepted_by, routing.accepted_at = RoutingStatus.ACCEPTED, actor, now
            routing.save(update_fields=["status", "accepted_by", "accepted_at"])
        if ticket.status == S.ROUTED:
            ticket.status = S.IN_PROGRESS
            fields.append("status")
        _mark_responded(ticket, now, fields)
        if outcome == HandlingOutcome.FAILED:
            ticket.failed_attempts += 1
            fields.append("failed_attempts")
        bump(ticket, fields)
        event = ticket_event(
            ticket=ticket,
            code="ticket.handling",
            title=_("%(dept)s处理记录（%(outcome)s）")
            % {"dept": routing.department.name, "outcome": HandlingOutcome(outcome).label},
            actor=actor,
            note=note,
            routing=routing,
            data={"outcome": outcome, "attempt": ticket.failed_attempts},
            at=now,
        )
        if (
            outcome == HandlingOutcome.FAILED
            and ticket.failed_attempts >= TicketSettings.cached().failed_attempts_limit
        ):
            from kefu.tickets.services.escalation import escalate_failed_attempts

            escalate_failed_attempts(ticket=ticket, now=now)
    return event


def routing_reply(*, actor, routing: TicketRouting, reply: str, now: datetime.datetime | None = None) -> TicketRouting:
    """The department's written reply on the slip (its part is done)."""
    require_routing(actor, HANDLE, routing)
    reply = clean_text(reply, field="reply", label=_("回复内容"), max_length=5000)
    now = now or timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(routing.ticket)
        transitions.check("reply", ticket)
        routing = TicketRouting.objects.select_for_update().get(pk=routing.pk)
        if routing.status not in ACTIVE_ROUTING_STATUSES:
            raise InvalidState(_("该告知单已回复或已撤回。"), code="slip_not_active")
        if routing.accepted_at is None:
            routing.accepted_by, routing.accepted_at = actor, now
        routing.status = RoutingStatus.REPLIED
        routing.reply, routing.replied_by, routing.replied_at = reply, actor, now
        routing.save(update_fields=["status", "reply", "replied_by", "replied_at", "accepted_by", "accepted_at"])
        fields: list[str] = []
        if ticket.status == S.ROUTED:
            ticket.status = S.IN_PROGRESS
            fields.append("status")
        _mark_responded(ticket, now, fields)
        bump(ticket, fields)
        ticket_event(
            ticket=ticket,
            code="ticket.replied",
            title=_("%(dept)s回复告知单") % {"dept": routing.department.name},
            actor=actor,
            note=reply,
            routing=routing,
            at=now,
        )
        notify_ticket_owner(
            ticket,
            key=f"ticket:{ticket.pk}:slip:{routing.pk}:replied",
            title=_("告知单 %(no)s 已回复") % {"no": routing.slip_no},
            body=reply[:200],
        )
    return routing


# ---------------------------------------------------------------------------- outcome


def ticket_resolve(
    *,
    actor,
    ticket: Ticket,
    resolution: str,
    cause_analysis: str = "",
    responsible_party: str = "",
    responsible_department: Department | None = None,
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Record the result (处理结果), the cause (原因分析) and who was responsible. A kind
    that must be routed needs every live slip replied first; a refund still awaiting
    approval blocks it (the customer may not be told before the last approval)."""
    require_ticket(actor, RESOLVE, ticket)
    resolution = clean_text(resolution, field="resolution", label=_("处理结果"), max_length=10000)
    cause_analysis = clean_text(
        cause_analysis, field="cause_analysis", label=_("原因分析"), max_length=10000, required=False
    )
    responsible_party = clean_text(
        responsible_party, field="responsible_party", label=_("责任方"), max_length=120, required=False
    )
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_ticket(ticket, expected_version=expected_version)
        transitions.check("resolve", locked)
        if locked.kind.requires_routing and not locked.routings.exclude(status=RoutingStatus.CANCELLED).exists():
            raise InvalidState(
                _("“%(kind)s”须先派单给责任部门处理，才能填写处理结果。") % {"kind": locked.kind.name},
                code="ticket_not_routed",
            )
        waiting = list(
            locked.routings.filter(status__in=ACTIVE_ROUTING_STATUSES).values_list("department__name", flat=True)
        )
        if waiting:
            raise InvalidState(
                _("以下部门尚未回复告知单：%(names)s") % {"names": "、".join(waiting)},
                code="ticket_slips_open",
                details={"departments": waiting},
            )
        if locked.refunds.filter(status=RefundStatus.PENDING).exists():
            raise InvalidState(
                _("退款/补偿申请尚在审批中，审批通过前不能结案或答复客户。"), code=TicketErrorCode.REFUND_PENDING
            )
        locked.status = S.RESOLVED
        locked.resolution, locked.cause_analysis = resolution, cause_analysis
        locked.responsible_party = responsible_party
        if responsible_department is not None:  # else the routed department stays responsible
            locked.responsible_department = responsible_department
        locked.resolved_at, locked.resolved_by = now, actor
        locked.resolution_minutes = WorkingCalendar().working_minutes_between(locked.created_at, now)
        fields = ["status", "resolution", "cause_analysis", "responsible_party", "responsible_department"]
        fields += ["resolved_at", "resolved_by", "resolution_minutes"]
        _mark_responded(locked, now, fields)
        fields += _stop_clock(locked, now)
        bump(locked, fields)
        ticket_event(
            ticket=locked,
            code="ticket.resolved",
            title=_("处理完成"),
            actor=actor,
            note=resolution,
            data={"late": locked.sla_state == SlaState.BREACHED},
            at=now,
        )
        from kefu.tickets.hooks import run_resolved_hooks

        run_resolved_hooks(locked, actor)
    return locked


def ticket_confirm(
    *,
    actor,
    ticket: Ticket,
    satisfied: bool,
    score: int | None = None,
    note: str = "",
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """The customer's word in the return visit: satisfied → confirmed 已回访 with a
    score; not satisfied → reopened for another round."""
    require_ticket(actor, CONFIRM, ticket)
    note = clean_text(note, field="note", label=_("回访记录"), max_length=5000, required=not satisfied)
    if score is not None and (not isinstance(score, int) or not 1 <= score <= 5):
        raise ValidationFailed(_("满意度必须是 1–5 分。"), details={"field": "score"})
    if satisfied and score is None:
        raise ValidationFailed(_("请填写客户满意度（1–5 分）。"), details={"field": "score"})
    now = now or timezone.now()
    if not satisfied:
        return ticket_reopen(
            actor=actor, ticket=ticket, reason=note, expected_version=expected_version, now=now, score=score
        )
    with transaction.atomic():
        locked = lock_ticket(ticket, expected_version=expected_version)
        transitions.check("confirm", locked)
        locked.status = S.CONFIRMED
        locked.satisfaction, locked.confirmed_at = score, now
        bump(locked, ["status", "satisfaction", "confirmed_at"])
        ticket_event(
            ticket=locked,
            code="ticket.confirmed",
            title=_("回访确认：客户满意（%(score)s 分）") % {"score": score},
            actor=actor,
            note=note,
            data={"score": score},
            at=now,
        )
    return locked


def ticket_reopen(
    *,
    actor,
    ticket: Ticket,
    reason: str,
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
    score: int | None = None,
) -> Ticket:
    """Not solved after all: a new handling cycle with fresh deadlines; the departments
    that replied get their slips back to handle again."""
    require_ticket(actor, CONFIRM, ticket)
    reason = clean_text(reason, field="reason", label=_("重开原因"), max_length=5000)
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_ticket(ticket, expected_version=expected_version)
        transitions.check("reopen", locked)
        reset = list(locked.routings.filter(status=RoutingStatus.REPLIED))
        due = WorkingCalendar().add_working_minutes(now, TicketSettings.cached().slip_minutes)
        for routing in reset:
            routing.status, routing.due_at = RoutingStatus.SENT, due
            routing.accepted_by = routing.accepted_at = None
            routing.save(update_fields=["status", "due_at", "accepted_by", "accepted_at"])
        live = locked.routings.exclude(status=RoutingStatus.CANCELLED).exists()
        locked.status = S.ROUTED if live else S.REGISTERED
        locked.reopen_count += 1
        locked.cycle += 1
        locked.escalation_level = 0
        locked.failed_attempts = 0
        locked.satisfaction = score
        locked.resolved_at = locked.confirmed_at = locked.closed_at = None
        locked.resolution_minutes = None
        locked.sla_paused_at = None
        deadlines = sla.compute_deadlines(policy=locked.sla_policy, start=now)
        fields = ["status", "reopen_count", "cycle", "escalation_level", "failed_attempts", "satisfaction"]
        fields += ["resolved_at", "confirmed_at", "closed_at", "resolution_minutes", "sla_paused_at"]
        fields += sla.apply_deadlines(locked, deadlines, now=now)
        bump(locked, fields)
        ticket_event(
            ticket=locked,
            code="ticket.reopened",
            title=_("客户不满意，重新打开（第 %(n)s 次）") % {"n": locked.reopen_count},
            actor=actor,
            note=reason,
            data={"score": score, "slips_reset": [r.slip_no for r in reset]},
            at=now,
        )
        if reset:
            notify_routed(reset, reopened=True)
    return locked


def ticket_close(*, actor, ticket: Ticket, note: str = "", expected_version: int | None = None) -> Ticket:
    """Close a confirmed ticket (or a resolved one whose kind needs no confirmation)."""
    require_ticket(actor, CONFIRM, ticket)
    note = clean_text(note, field="note", label=_("备注"), max_length=2000, required=False)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_ticket(ticket, expected_version=expected_version)
        transitions.check("close", locked)
        if locked.status == S.RESOLVED and locked.kind.requires_confirmation:
            raise InvalidState(
                _("“%(kind)s”须经客户回访确认后才能关闭。") % {"kind": locked.kind.name},
                code=TicketErrorCode.ILLEGAL_TRANSITION,
            )
        locked.status, locked.closed_at = S.CLOSED, now
        bump(locked, ["status", "closed_at"])
        ticket_event(ticket=locked, code="ticket.closed", title=_("关闭工单"), actor=actor, note=note, at=now)
    return locked


def _end(actor, ticket: Ticket, *, action: str, status: str, code: str, title: str, note: str, **values) -> Ticket:
    with transaction.atomic():
        locked = lock_ticket(ticket)
        transitions.check(action, locked)
        if locked.refunds.filter(status=RefundStatus.PENDING).exists():
            raise InvalidState(_("退款/补偿申请尚在审批中，请先撤回申请。"), code=TicketErrorCode.REFUND_PENDING)
        now = timezone.now()
        locked.status, locked.closed_at = status, now
        for name, value in values.items():
            setattr(locked, name, value)
        fields = ["status", "closed_at", *values, *_stop_clock(locked, now)]
        locked.routings.filter(status__in=ACTIVE_ROUTING_STATUSES).update(
            status=RoutingStatus.CANCELLED, cancelled_at=now
        )
        bump(locked, fields)
        ticket_event(ticket=locked, code=code, title=title, actor=actor, note=note, at=now)
    return locked


def ticket_withdraw(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """The customer withdrew the request (撤销); open slips are withdrawn with it."""
    require_ticket(actor, CHANGE, ticket)
    reason = clean_text(reason, field="reason", label=_("撤销原因"), max_length=2000)
    return _end(
        actor, ticket, action="withdraw", status=S.WITHDRAWN, code="ticket.withdrawn", title=_("撤销工单"), note=reason
    )


def ticket_mark_duplicate(*, actor, ticket: Ticket, original: Ticket, merge: bool = False) -> Ticket:
    """The same request registered twice: this one ends as 重复工单 (or 已合并, when
    its content is carried into `original`), pointing at the ticket that goes on."""
    require_ticket(actor, CHANGE, ticket)
    require_ticket(actor, "tickets.view_ticket", original)
    if original.pk == ticket.pk:
        raise ValidationFailed(_("不能与自身合并。"), details={"field": "original"})
    if original.status in (S.MERGED, S.DUPLICATE, S.WITHDRAWN):
        raise InvalidState(
            _("目标工单 %(no)s 已结束，不能并入。") % {"no": original.number}, code="ticket_target_ended"
        )
    if merge and ticket.customer_id != original.customer_id:
        raise ValidationFailed(_("只能合并同一客户的工单。"), details={"field": "original"})
    action, status, code = (
        ("merge", S.MERGED, "ticket.merged") if merge else ("duplicate", S.DUPLICATE, "ticket.duplicate")
    )
    title = (_("并入工单 %(no)s") if merge else _("与工单 %(no)s 重复")) % {"no": original.number}
    with transaction.atomic():
        result = _end(
            actor, ticket, action=action, status=status, code=code, title=title, note="", merged_into=original
        )
        if merge:
            target = lock_ticket(original)
            target.related.add(result)
            # Attachments follow the content into the ticket that goes on.
            result.attachments.update(ticket=target)
            bump(target, [])
            ticket_event(
                ticket=target,
                code="ticket.merged_in",
                title=_("并入工单 %(no)s 的内容") % {"no": result.number},
                actor=actor,
                note=result.description,
                on_timeline=False,
            )
    return result


# ---------------------------------------------------------------------------- the clock


def ticket_pause(*, actor, ticket: Ticket, reason: str, now: datetime.datetime | None = None) -> Ticket:
    """Stop the clock while waiting for the customer (not home, parts they must buy…)."""
    require_ticket(actor, CHANGE, ticket)
    reason = clean_text(reason, field="reason", label=_("暂停原因"), max_length=1000)
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_ticket(ticket)
        transitions.check("pause", locked)
        if locked.sla_paused_at is not None:
            raise InvalidState(_("工单已在暂停计时中。"), code="ticket_already_paused")
        locked.sla_paused_at, locked.sla_state = now, SlaState.PAUSED
        bump(locked, ["sla_paused_at", "sla_state"])
        ticket_event(
            ticket=locked, code="ticket.paused", title=_("等待客户，暂停计时"), actor=actor, note=reason, at=now
        )
    return locked


def ticket_resume(*, actor, ticket: Ticket, now: datetime.datetime | None = None) -> Ticket:
    """Restart the clock: every deadline moves by the working time spent waiting."""
    require_ticket(actor, CHANGE, ticket)
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_ticket(ticket)
        transitions.check("resume", locked)
        paused_at = locked.sla_paused_at
        if paused_at is None:
            raise InvalidState(_("工单没有暂停计时。"), code="ticket_not_paused")
        calendar = WorkingCalendar()
        waited = calendar.working_minutes_between(paused_at, now)
        for name in ("response_due_at", "resolve_due_at", "warn_at"):
            setattr(locked, name, sla.shifted(getattr(locked, name), paused_at=paused_at, now=now, calendar=calendar))
        locked.next_escalation_at = sla.next_escalation_moment(
            resolve_due_at=locked.resolve_due_at,
            level=locked.escalation_level,
            rules=sla.active_rules(),
            calendar=calendar,
        )
        locked.sla_paused_at = None
        locked.sla_state = sla.state_at(locked, now)
        bump(
            locked,
            ["response_due_at", "resolve_due_at", "warn_at", "next_escalation_at", "sla_paused_at", "sla_state"],
        )
        ticket_event(
            ticket=locked,
            code="ticket.resumed",
            title=_("恢复计时（等待 %(m)s 工作分钟）") % {"m": waited},
            actor=actor,
            data={"waited_minutes": waited},
            at=now,
        )
    return locked
