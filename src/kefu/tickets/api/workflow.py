"""The lifecycle, one POST per move, each calling the service the HTML desk calls:
route → the department accepts, records handling, replies (or asks for more time) →
resolve → confirm / reopen → close; withdraw, duplicate / merge; pause and resume the
clock. Each answers with the ticket; `version`, when sent, must still be current
(409 `conflict`), and a move the status does not allow is 409
`ticket_illegal_transition` with nothing changed."""

from __future__ import annotations

from kefu.core.selectors import org as org_selectors
from kefu.tickets import selectors
from kefu.tickets.api.common import (
    ILLEGAL,
    TRANSITION,
    at_version,
    not_found,
    pick,
    pick_many,
    slip_of,
    ticket_for,
    version_of,
    written,
)
from kefu.tickets.api.router import router
from kefu.tickets.api.schemas_in import (
    MAX_ID,
    ConfirmIn,
    DecideIn,
    DuplicateIn,
    ExtensionIn,
    HandlingIn,
    NoteIn,
    ReasonIn,
    ReplyIn,
    ResolveIn,
    RouteIn,
    VersionIn,
)
from kefu.tickets.models import DeadlineExtension
from kefu.tickets.services import escalation, flow
from kefu.tickets.services.common import CHANGE, RESOLVE, ROUTE

# --- routing and slips --------------------------------------------------------------


@router.post(
    "/tickets/{ticket_id}/route",
    response=TRANSITION,
    summary="派单",
    description="向一个或多个责任部门派发投诉告知单（每个部门一张）。已持有未回复告知单的部门返回 409 "
    "`ticket_already_routed`。" + ILLEGAL,
    operation_id="tickets_route",
)
def ticket_route(request, ticket_id: int, payload: RouteIn):
    user = request.user
    ticket = ticket_for(request, ticket_id, ROUTE)
    departments = pick_many(org_selectors.department_list(user), payload.departments, "departments")
    flow.ticket_route(
        actor=user,
        ticket=ticket,
        departments=departments,
        instructions=payload.instructions,
        due_at=payload.due_at,
        expected_version=payload.version,
    )
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/slips/{routing_id}/accept",
    response=TRANSITION,
    summary="接收告知单",
    description="责任部门（或主管）接收告知单，工单进入处理中。已接收的告知单返回 409 `slip_not_sent`。请求体可省略。",
    operation_id="tickets_slip_accept",
)
def slip_accept(request, ticket_id: int, routing_id: int, payload: VersionIn | None = None):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    routing = slip_of(user, ticket, routing_id)
    with at_version(ticket, version_of(payload)):
        flow.routing_accept(actor=user, routing=routing)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/slips/{routing_id}/handling",
    response=TRANSITION,
    summary="记录处理",
    description="记录上门、维修等处理经过；`outcome: failed` 计为一次未解决，达到次数上限自动升级。" + ILLEGAL,
    operation_id="tickets_slip_handling",
)
def slip_handling(request, ticket_id: int, routing_id: int, payload: HandlingIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    routing = slip_of(user, ticket, routing_id)
    with at_version(ticket, payload.version):
        flow.routing_record_handling(actor=user, routing=routing, note=payload.note, outcome=payload.outcome)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/slips/{routing_id}/reply",
    response=TRANSITION,
    summary="回复告知单",
    description="责任部门的书面回复，该部门的处理完成。已回复或已撤回的告知单返回 409 `slip_not_active`。",
    operation_id="tickets_slip_reply",
)
def slip_reply(request, ticket_id: int, routing_id: int, payload: ReplyIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    routing = slip_of(user, ticket, routing_id)
    with at_version(ticket, payload.version):
        flow.routing_reply(actor=user, routing=routing, reply=payload.reply)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/slips/{routing_id}/cancel",
    response=TRANSITION,
    summary="撤回告知单",
    description="撤回派错部门的告知单（回复前）。需要派单权限。",
    operation_id="tickets_slip_cancel",
)
def slip_cancel(request, ticket_id: int, routing_id: int, payload: ReasonIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    routing = slip_of(user, ticket, routing_id)
    with at_version(ticket, payload.version):
        flow.routing_cancel(actor=user, routing=routing, reason=payload.reason)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/slips/{routing_id}/extensions",
    response=TRANSITION,
    summary="申请延期",
    description="责任部门申请延长告知单的回复期限，由主管批准；申请见 `GET …/slips` 的 `extensions`。"
    "已有待批准的申请时返回 409 `extension_pending`。",
    operation_id="tickets_slip_extension_request",
)
def slip_extension_request(request, ticket_id: int, routing_id: int, payload: ExtensionIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    routing = slip_of(user, ticket, routing_id)
    with at_version(ticket, payload.version):
        escalation.extension_request(actor=user, routing=routing, until=payload.until, reason=payload.reason)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/extensions/{extension_id}/decide",
    response=TRANSITION,
    summary="批复延期申请",
    description="批准（告知单期限，及更晚时工单期限，顺延）或拒绝（须填写意见）。需要督办权限；"
    "已处理的申请返回 409 `extension_decided`。",
    operation_id="tickets_extension_decide",
)
def extension_decide(request, ticket_id: int, extension_id: int, payload: DecideIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    extension = None
    if 0 < extension_id <= MAX_ID:
        extension = (
            DeadlineExtension.objects.select_related("routing__ticket", "routing__department")
            .filter(pk=extension_id, routing__ticket=ticket)
            .first()
        )
    if extension is None:
        raise not_found()
    with at_version(ticket, payload.version):
        escalation.extension_decide(actor=user, extension=extension, grant=payload.grant, note=payload.note)
    return written(user, ticket)


# --- outcome ------------------------------------------------------------------------


@router.post(
    "/tickets/{ticket_id}/resolve",
    response=TRANSITION,
    summary="填写处理结果",
    description="处理结果、原因分析与责任方。须派单的类型要先派单（409 `ticket_not_routed`），"
    "告知单须全部回复（409 `ticket_slips_open`），退款审批中不能结案（409 `ticket_refund_pending`）。" + ILLEGAL,
    operation_id="tickets_resolve",
)
def ticket_resolve(request, ticket_id: int, payload: ResolveIn):
    user = request.user
    ticket = ticket_for(request, ticket_id, RESOLVE)
    department = pick(
        org_selectors.department_list(user), payload.responsible_department_id, "responsible_department_id"
    )
    flow.ticket_resolve(
        actor=user,
        ticket=ticket,
        resolution=payload.resolution,
        cause_analysis=payload.cause_analysis,
        responsible_party=payload.responsible_party,
        responsible_department=department,
        expected_version=payload.version,
    )
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/confirm",
    response=TRANSITION,
    summary="回访确认",
    description="客户满意：已回访，记录满意度（`score` 必填）；不满意：工单重新打开（`note` 必填）。" + ILLEGAL,
    operation_id="tickets_confirm",
)
def ticket_confirm(request, ticket_id: int, payload: ConfirmIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    flow.ticket_confirm(
        actor=user,
        ticket=ticket,
        satisfied=payload.satisfied,
        score=payload.score,
        note=payload.note,
        expected_version=payload.version,
    )
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/reopen",
    response=TRANSITION,
    summary="重新打开",
    description="新一轮处理，重新计算期限；已回复的告知单退回责任部门。" + ILLEGAL,
    operation_id="tickets_reopen",
)
def ticket_reopen(request, ticket_id: int, payload: ReasonIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    flow.ticket_reopen(actor=user, ticket=ticket, reason=payload.reason, expected_version=payload.version)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/close",
    response=TRANSITION,
    summary="关闭工单",
    description="须客户回访确认的类型要先确认。" + ILLEGAL,
    operation_id="tickets_close",
)
def ticket_close(request, ticket_id: int, payload: NoteIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    flow.ticket_close(actor=user, ticket=ticket, note=payload.note, expected_version=payload.version)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/withdraw",
    response=TRANSITION,
    summary="撤销工单",
    description="客户撤回诉求；未回复的告知单一并撤回。退款审批中时返回 409 `ticket_refund_pending`。" + ILLEGAL,
    operation_id="tickets_withdraw",
)
def ticket_withdraw(request, ticket_id: int, payload: ReasonIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    with at_version(ticket, payload.version):
        flow.ticket_withdraw(actor=user, ticket=ticket, reason=payload.reason)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/duplicate",
    response=TRANSITION,
    summary="标记为重复 / 合并",
    description="本工单以“重复工单”结束（`merge: true` 时内容与附件并入原工单，以“已合并”结束），"
    "指向继续处理的 `original_id`（须可见，否则 422）。" + ILLEGAL,
    operation_id="tickets_duplicate",
)
def ticket_duplicate(request, ticket_id: int, payload: DuplicateIn):
    user = request.user
    ticket = ticket_for(request, ticket_id, CHANGE)
    original = pick(selectors.ticket_base(user), payload.original_id, "original_id")
    with at_version(ticket, payload.version):
        flow.ticket_mark_duplicate(actor=user, ticket=ticket, original=original, merge=payload.merge)
    return written(user, ticket)


# --- the clock ----------------------------------------------------------------------


@router.post(
    "/tickets/{ticket_id}/pause",
    response=TRANSITION,
    summary="暂停计时",
    description="等待客户期间暂停时限计时。已暂停时返回 409 `ticket_already_paused`。" + ILLEGAL,
    operation_id="tickets_pause",
)
def ticket_pause(request, ticket_id: int, payload: ReasonIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    with at_version(ticket, payload.version):
        flow.ticket_pause(actor=user, ticket=ticket, reason=payload.reason)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/resume",
    response=TRANSITION,
    summary="恢复计时",
    description="各期限顺延等待的工作时长。未暂停时返回 409 `ticket_not_paused`。请求体可省略。" + ILLEGAL,
    operation_id="tickets_resume",
)
def ticket_resume(request, ticket_id: int, payload: VersionIn | None = None):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    with at_version(ticket, version_of(payload)):
        flow.ticket_resume(actor=user, ticket=ticket)
    return written(user, ticket)
