"""Approvals API: list and read requests, what waits for me, decide the current step,
withdraw my request. Same selectors and services as the pages."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, Query, Router, Schema

from kefu.core.models import ApprovalRequest, ApprovalStatus
from kefu.core.pagination import keyset_page
from kefu.core.schemas import errors
from kefu.core.selectors.approvals import (
    ApprovalFilters,
    approval_request_get,
    approval_request_list,
    approval_requests_awaiting,
    decorate,
)
from kefu.core.services.approvals import approval_cancel, approval_decide

router = Router(tags=["approvals"])


class ApprovalPolicyRef(Schema):
    code: str
    name: str


class UserRef(Schema):
    id: int
    username: str
    display_name: str


class ApprovalStepOut(Schema):
    order: int
    role: str = Field(description="角色编码（用户组名）")
    role_name: str
    status: str
    decided_by: UserRef | None
    decided_at: datetime.datetime | None
    comment: str


class ApprovalOut(Schema):
    id: int
    policy: ApprovalPolicyRef
    subject_type: str = Field(description="被审批对象的类型，如 tickets.refund")
    subject_id: str
    title: str
    reason: str
    amount: Decimal | None
    status: str = Field(description="pending / approved / rejected / cancelled")
    status_name: str
    requested_by: UserRef
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    version: int
    current_step: int | None = Field(description="当前待审批环节的顺序号；已结束为 null")
    steps: list[ApprovalStepOut]


class ApprovalPageOut(Schema):
    items: list[ApprovalOut]
    next_cursor: str | None


class ApprovalListQuery(Schema):
    status: ApprovalStatus | None = None
    policy: str | None = Field(None, description="审批流程编码")
    subject_type: str | None = None
    subject_id: str | None = None
    mine: bool = Field(False, description="只列出我提交的")
    cursor: str | None = None
    size: int = Field(50, ge=1, le=200)


class PageQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=200)


class DecisionIn(Schema):
    approve: bool
    comment: str = Field("", max_length=2000, description="驳回时必填")
    version: int | None = Field(None, description="读取时的版本；过期则返回 409 conflict")


class CancelIn(Schema):
    version: int | None = None


def _user(user) -> UserRef:
    return UserRef(id=user.pk, username=user.username, display_name=user.display_name)


def _out(approval: ApprovalRequest) -> ApprovalOut:
    steps = list(approval.steps.all())
    return ApprovalOut(
        id=approval.pk,
        policy=ApprovalPolicyRef(code=approval.policy.code, name=approval.policy.name),
        subject_type=approval.subject_type,
        subject_id=approval.subject_id,
        title=approval.title,
        reason=approval.reason,
        amount=approval.amount,
        status=approval.status,
        status_name=str(approval.get_status_display()),
        requested_by=_user(approval.requested_by),
        created_at=approval.created_at,
        decided_at=approval.decided_at,
        version=approval.version,
        current_step=approval.current.order if approval.current else None,
        steps=[
            ApprovalStepOut(
                order=s.order,
                role=s.role.name,
                role_name=s.role_label,
                status=s.status,
                decided_by=_user(s.decided_by) if s.decided_by else None,
                decided_at=s.decided_at,
                comment=s.comment,
            )
            for s in steps
        ],
    )


def _page_out(queryset, order, cursor, size) -> ApprovalPageOut:
    page = keyset_page(queryset, order=order, cursor=cursor, size=size)
    decorate(page.items)
    return ApprovalPageOut(items=[_out(a) for a in page.items], next_cursor=page.next_cursor)


def _get(request, approval_id: int) -> ApprovalRequest:
    approval = approval_request_get(request.user, approval_id)
    if approval is None:
        raise Http404
    decorate([approval])
    return approval


@router.get("/approvals", response={200: ApprovalPageOut, **errors(422)}, summary="审批申请列表")
def approval_list(request, query: Query[ApprovalListQuery]):
    """持有“查看审批申请”权限者看到全部申请，其他人看到自己提交的、等待自己审批的和自己审批过的。"""
    filters = ApprovalFilters(
        status=query.status,
        policy=query.policy,
        subject_type=query.subject_type,
        subject_id=query.subject_id,
        mine=query.mine,
    )
    return _page_out(approval_request_list(request.user, filters), ("-created_at", "-id"), query.cursor, query.size)


@router.get("/approvals/awaiting", response={200: ApprovalPageOut, **errors(422)}, summary="待我审批")
def approval_awaiting(request, query: Query[PageQuery]):
    """当前环节由我的角色审批、且不是我提交的申请，按提交时间先后排列。"""
    return _page_out(approval_requests_awaiting(request.user), ("created_at", "id"), query.cursor, query.size)


@router.get("/approvals/{approval_id}", response={200: ApprovalOut, **errors(404)}, summary="审批申请详情")
def approval_detail(request, approval_id: int):
    return _out(_get(request, approval_id))


@router.post(
    "/approvals/{approval_id}/decide",
    response={200: ApprovalOut, **errors(403, 404, 409, 422)},
    summary="审批当前环节",
)
def approval_decide_endpoint(request, approval_id: int, body: DecisionIn):
    """同意或驳回当前环节。错误：403 `approval_not_your_step`（不是您的环节，或您已审批过其他环节）、
    403 `approval_self_decision`（自己的申请）、409 `approval_already_decided`（已结束）、
    409 `conflict`（版本过期：已被他人处理）、422 `validation_error`（驳回未填意见）、404（不可见）。"""
    approval = _get(request, approval_id)
    approval_decide(
        actor=request.user,
        request=approval,
        approve=body.approve,
        comment=body.comment,
        expected_version=body.version,
    )
    return _out(_get(request, approval_id))


@router.post(
    "/approvals/{approval_id}/cancel",
    response={200: ApprovalOut, **errors(403, 404, 409)},
    summary="撤回审批申请",
)
def approval_cancel_endpoint(request, approval_id: int, body: CancelIn):
    """申请人或审批流程管理员撤回审批中的申请。错误：403（无权撤回）、409 `approval_already_decided`、
    409 `conflict`（版本过期）、404（不可见）。"""
    approval = _get(request, approval_id)
    approval_cancel(actor=request.user, request=approval, expected_version=body.version)
    return _out(_get(request, approval_id))
