"""Chasing and money: escalate, 督办, assign, the important complaints archive, refunds
and compensation (decided in the approvals engine, /api/v1/approvals) and penalty
proposals. Same services as the HTML desk."""

from __future__ import annotations

from kefu.core.idempotency import IdempotencyKey, idempotent
from kefu.core.schemas import errors
from kefu.core.selectors import org as org_selectors
from kefu.tickets.api.common import (
    ILLEGAL,
    TRANSITION,
    at_version,
    not_found,
    penalty_out,
    pick,
    refund_out,
    ticket_for,
    version_of,
    written,
)
from kefu.tickets.api.router import router
from kefu.tickets.api.schemas import PenaltyOut, RefundOut
from kefu.tickets.api.schemas_in import MAX_ID, AssignIn, ImportantIn, NoteIn, PenaltyIn, RefundIn, VersionIn
from kefu.tickets.models import RefundRequest, Ticket
from kefu.tickets.services import escalation
from kefu.tickets.services.common import CHANGE, RESOLVE
from kefu.tickets.services.discipline import PROPOSE, penalty_propose
from kefu.tickets.services.refunds import refund_cancel, refund_request, refund_tell_customer
from kefu.tickets.services.tickets import ticket_assign, ticket_mark_important

# --- chasing ------------------------------------------------------------------------


@router.post(
    "/tickets/{ticket_id}/escalate",
    response=TRANSITION,
    summary="升级",
    description="主管把工单升一级（按升级规则通知上一级）。已在最高级别时返回 409 `ticket_top_level`。" + ILLEGAL,
    operation_id="tickets_escalate",
)
def ticket_escalate(request, ticket_id: int, payload: NoteIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    with at_version(ticket, payload.version):
        escalation.ticket_escalate(actor=user, ticket=ticket, note=payload.note)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/supervise",
    response=TRANSITION,
    summary="督办",
    description="主管的书面督办意见，通知责任部门与负责人，不改变升级级别。" + ILLEGAL,
    operation_id="tickets_supervise",
)
def ticket_supervise(request, ticket_id: int, payload: NoteIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    with at_version(ticket, payload.version):
        escalation.ticket_supervise(actor=user, ticket=ticket, note=payload.note)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/assign",
    response=TRANSITION,
    summary="指定负责人",
    description="自己可以领取工单；指派给他人须有督办权限。负责人须是可处理工单的在职员工（否则 422）。" + ILLEGAL,
    operation_id="tickets_assign",
)
def ticket_assign_endpoint(request, ticket_id: int, payload: AssignIn):
    user = request.user
    ticket = ticket_for(request, ticket_id, CHANGE)
    assignee = pick(org_selectors.staff_list(user, {"active": True}), payload.assignee_id, "assignee_id")
    ticket_assign(actor=user, ticket=ticket, assignee=assignee, expected_version=payload.version)
    return written(user, ticket)


@router.post(
    "/tickets/{ticket_id}/important",
    response=TRANSITION,
    summary="重要投诉档案",
    description="`important: true` 列入重要投诉档案（须填写原因），`false` 移出。需要「标记重要投诉」权限。",
    operation_id="tickets_important",
)
def ticket_important(request, ticket_id: int, payload: ImportantIn):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    with at_version(ticket, payload.version):
        ticket_mark_important(actor=user, ticket=ticket, important=payload.important, reason=payload.reason)
    return written(user, ticket)


# --- refunds and penalties ----------------------------------------------------------


def _refund(ticket: Ticket, refund_id: int) -> RefundRequest:
    refund = None
    if 0 < refund_id <= MAX_ID:
        refund = (
            RefundRequest.objects.select_related("ticket", "approval", "requested_by")
            .filter(pk=refund_id, ticket=ticket)
            .first()
        )
    if refund is None:
        raise not_found()
    return refund


@router.get(
    "/tickets/{ticket_id}/refunds",
    response={200: list[RefundOut], **errors(403, 404, 422)},
    summary="工单的退款/补偿申请",
    description="最新的在前。审批进度见 `/approvals/{approval_id}`。",
    operation_id="tickets_refund_list",
)
def refund_list(request, ticket_id: int):
    ticket = ticket_for(request, ticket_id)
    refunds = ticket.refunds.select_related("ticket", "requested_by").order_by("-requested_at", "-id")
    return [refund_out(r) for r in refunds]


@router.post(
    "/tickets/{ticket_id}/refunds",
    response={201: RefundOut, **errors(400, 403, 404, 409, 422)},
    summary="申请退款/补偿",
    description="提交后立即进入审批（默认总经理与财务）；最后一步批准前不能答复客户、不能结案。"
    "已有审批中的申请返回 409 `ticket_refund_pending`；该类型不能退款返回 409 `ticket_refund_not_allowed`。"
    "支持 `Idempotency-Key`。",
    operation_id="tickets_refund_request",
)
def refund_request_endpoint(request, ticket_id: int, payload: RefundIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    ticket = ticket_for(request, ticket_id)

    def create():
        with at_version(ticket, payload.version):
            refund = refund_request(
                actor=user, ticket=ticket, amount=payload.amount, reason=payload.reason, kind=payload.kind
            )
        return refund_out(refund)

    return idempotent(request, key=idempotency_key, schema=RefundOut, create=create)


@router.post(
    "/tickets/{ticket_id}/refunds/{refund_id}/cancel",
    response={200: RefundOut, **errors(400, 403, 404, 409, 422)},
    summary="撤回退款/补偿申请",
    description="只能撤回审批中的申请（否则 409 `refund_not_pending`）。请求体可省略。",
    operation_id="tickets_refund_cancel",
)
def refund_cancel_endpoint(request, ticket_id: int, refund_id: int, payload: VersionIn | None = None):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    refund = _refund(ticket, refund_id)
    with at_version(ticket, version_of(payload)):
        refund = refund_cancel(actor=user, refund=refund)
    return refund_out(refund)


@router.post(
    "/tickets/{ticket_id}/refunds/{refund_id}/tell-customer",
    response={200: RefundOut, **errors(400, 403, 404, 409, 422)},
    summary="已告知客户退款/补偿结果",
    description="审批通过后记录已告知客户（客户有手机号时发送短信，只发一次）；审批通过前返回 409 "
    "`ticket_refund_pending`。请求体可省略。",
    operation_id="tickets_refund_tell_customer",
)
def refund_tell_customer_endpoint(request, ticket_id: int, refund_id: int, payload: VersionIn | None = None):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    refund = _refund(ticket, refund_id)
    with at_version(ticket, version_of(payload)):
        refund = refund_tell_customer(actor=user, refund=refund)
    return refund_out(refund)


@router.post(
    "/tickets/{ticket_id}/penalties",
    response={201: PenaltyOut, **errors(400, 403, 404, 409, 422)},
    summary="提出处罚建议",
    description="针对责任人（`staff_id`）或责任方，提交后立即进入审批。需要「处理结果」与「提出处罚建议」权限。"
    "支持 `Idempotency-Key`。",
    operation_id="tickets_penalty_propose",
)
def penalty_propose_endpoint(request, ticket_id: int, payload: PenaltyIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    ticket = ticket_for(request, ticket_id, RESOLVE, PROPOSE)

    def create():
        staff = pick(org_selectors.staff_list(user), payload.staff_id, "staff_id")
        with at_version(ticket, payload.version):
            proposal = penalty_propose(
                actor=user,
                ticket=ticket,
                reason=payload.reason,
                staff=staff,
                responsible_party=payload.responsible_party,
                amount=payload.amount,
            )
        return penalty_out(proposal)

    return idempotent(request, key=idempotency_key, schema=PenaltyOut, create=create)
