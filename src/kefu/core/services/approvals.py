"""The approvals engine (审批): policies with ordered steps, requests decided step by
step, and the hooks through which other modules learn the outcome.

How a module plugs in (refunds, entertainment requests 请客申请, penalty proposals…):

1. at import time (its `apps.py` `ready()`), register what happens when a request of a
   policy ends::

       register_approval_handler("refund", on_approved=refund_pay, on_rejected=refund_close)

   Each handler is called as `handler(request, actor)` **inside** the transaction that
   records the final decision, after the request row has been updated and audited. So
   a handler may write rows of its own (e.g. exactly one payout, guarded by a unique
   constraint) and they commit or roll back with the decision; if it raises, the
   decision is rolled back too and the error reaches the approver. Side effects that
   must not be undone (messages, webhooks) belong in `transaction.on_commit` inside the
   handler. A handler must check `request.subject_type` if several kinds of subject use
   the same policy.
2. when the user asks, call `approval_request_create(actor=…, policy_code="refund",
   subject=refund, title=…, amount=…)`.

Rules enforced here (and nowhere else):
- a request gets the policy's steps whose `min_amount` is empty or ≤ its amount (no
  amount given: every step — more approval rather than less);
- only one pending request per policy and subject;
- steps are decided in order, each once, by a member of the step's role who is neither
  the requester nor someone who already decided another step of the same request
  (four eyes: "director AND finance" means two people, and a double click by someone
  holding both roles cannot decide two steps);
- a rejection needs a comment, ends the request and cancels the remaining steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import (
    AccessDenied,
    Conflict,
    ErrorCode,
    InvalidState,
    KefuError,
    ValidationFailed,
)
from kefu.core.models import ApprovalPolicy, ApprovalRequest, ApprovalStatus, ApprovalStep

# The policies are kept in their own module; their services are imported from here too.
from kefu.core.services.approval_policies import (
    DEFAULT_POLICIES,
    MANAGE_APPROVALS,
    StepSpec,
    approval_policies_seed,
    approval_policy_create,
    approval_policy_update,
    clean_amount,
)

__all__ = [
    "DEFAULT_POLICIES",
    "MANAGE_APPROVALS",
    "VIEW_APPROVALS",
    "ApprovalHandler",
    "ApprovalHandlers",
    "StepSpec",
    "approval_cancel",
    "approval_decide",
    "approval_policies_seed",
    "approval_policy_create",
    "approval_policy_update",
    "approval_request_create",
    "current_step",
    "decision_refusal",
    "register_approval_handler",
]

VIEW_APPROVALS = "core.view_approvalrequest"

ApprovalHandler = Callable[[ApprovalRequest, object], None]

# ---------------------------------------------------------------------------- handlers


@dataclass(frozen=True)
class ApprovalHandlers:
    """What a module wants done when a request of its policy ends."""

    on_approved: ApprovalHandler | None = None
    on_rejected: ApprovalHandler | None = None
    on_cancelled: ApprovalHandler | None = None


_HANDLERS: dict[str, ApprovalHandlers] = {}


def register_approval_handler(
    policy_code: str,
    *,
    on_approved: ApprovalHandler | None = None,
    on_rejected: ApprovalHandler | None = None,
    on_cancelled: ApprovalHandler | None = None,
) -> None:
    """Say what happens when a request of `policy_code` is finally approved, rejected or
    cancelled. Each callable receives `(request, actor)` and runs inside the deciding
    transaction (see the module docstring). One set of handlers per policy code; a new
    registration for the same code replaces the previous one."""
    _HANDLERS[policy_code] = ApprovalHandlers(
        on_approved=on_approved, on_rejected=on_rejected, on_cancelled=on_cancelled
    )


def _run_handler(request: ApprovalRequest, actor, event: str) -> None:
    handlers = _HANDLERS.get(request.policy.code)
    handler = getattr(handlers, event, None) if handlers else None
    if handler is not None:
        handler(request, actor)


# ---------------------------------------------------------------------------- requests


def _subject_ref(subject: Model) -> tuple[str, str]:
    if not isinstance(subject, Model) or subject.pk is None:
        raise ValidationFailed(_("审批对象无效。"), details={"field": "subject"})
    return subject._meta.label_lower, str(subject.pk)


def approval_request_create(
    *,
    actor,
    policy_code: str,
    subject: Model,
    title: str,
    reason: str = "",
    amount=None,
) -> ApprovalRequest:
    """Ask for approval of `subject` (a saved model instance) under the policy
    `policy_code`. The request gets the steps that apply to `amount` (see the module
    docstring). Refused while another request for the same policy and subject is
    pending. The calling module checks that `actor` may ask; here anyone logged in may."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise AccessDenied(_("您没有执行此操作的权限。"))
    subject_type, subject_id = _subject_ref(subject)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("请填写标题。"), details={"field": "title"})
    if len(title) > 200:
        raise ValidationFailed(_("标题不能超过 200 个字符。"), details={"field": "title"})
    amount = clean_amount(amount, field="amount", label=_("金额"))
    with transaction.atomic():
        # Locking the policy serialises requests of one policy, so two concurrent
        # clicks cannot both pass the "no pending request yet" check.
        policy = ApprovalPolicy.objects.select_for_update().filter(code=policy_code, is_active=True).first()
        if policy is None:
            raise InvalidState(
                _("审批流程“%(code)s”不存在或未启用，请联系管理员。") % {"code": policy_code},
                code=ErrorCode.APPROVAL_NO_POLICY,
            )
        pending = ApprovalRequest.objects.filter(
            policy=policy, subject_type=subject_type, subject_id=subject_id, status=ApprovalStatus.PENDING
        )
        if pending.exists():
            raise InvalidState(
                _("该对象已有审批中的“%(policy)s”申请，请等待其完成或撤回后再提交。") % {"policy": policy.name},
                code="approval_pending_exists",
            )
        policy_steps = [
            s
            for s in policy.steps.select_related("role").order_by("order")
            if s.min_amount is None or amount is None or s.min_amount <= amount
        ]
        if not policy_steps:
            # Policies always have an unconditional step (see approval_policies); a policy
            # edited directly in the database might not.
            raise InvalidState(
                _("审批流程“%(policy)s”没有适用的步骤，请联系管理员。") % {"policy": policy.name},
                code=ErrorCode.APPROVAL_NO_POLICY,
            )
        request = ApprovalRequest.objects.create(
            policy=policy,
            subject_type=subject_type,
            subject_id=subject_id,
            title=title,
            reason=(reason or "").strip(),
            amount=amount,
            requested_by=actor,
        )
        created_steps = ApprovalStep.objects.bulk_create(
            ApprovalStep(request=request, order=order, role=step.role)
            for order, step in enumerate(policy_steps, start=1)
        )
        _notify_step_opened(request, created_steps[0])
        audit_record(
            code="approval.requested",
            obj=request,
            actor=actor,
            data={
                "policy": policy.code,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "amount": amount,
                "steps": [s.role.name for s in policy_steps],
            },
        )
    return request


def _notify_step_opened(request: ApprovalRequest, step: ApprovalStep) -> None:
    """Tell the holders of the step's role (after commit) that a decision awaits them."""
    from kefu.core.models import User
    from kefu.notify.services import notify_users

    def send() -> None:
        deciders = User.objects.filter(groups=step.role_id, is_active=True).exclude(pk=request.requested_by_id)
        notify_users(
            recipients=deciders,
            title=_("待审批：%(title)s") % {"title": request.title},
            body=_("%(policy)s 第 %(order)s 步等待您审批。") % {"policy": request.policy.name, "order": step.order},
            link=reverse("approvals:detail", args=[request.pk]),
            category="approval",
            key=f"approval:{request.pk}:step:{step.order}",
        )

    transaction.on_commit(send)


def _notify_outcome(request: ApprovalRequest) -> None:
    """Tell the requester how their request ended (after commit)."""
    from kefu.notify.services import notify_user

    def send() -> None:
        notify_user(
            recipient=request.requested_by,
            title=_("审批%(status)s：%(title)s") % {"status": request.get_status_display(), "title": request.title},
            link=reverse("approvals:detail", args=[request.pk]),
            category="approval",
            key=f"approval:{request.pk}:outcome",
        )

    transaction.on_commit(send)


def current_step(steps: Iterable[ApprovalStep]) -> ApprovalStep | None:
    """The step to decide next: the pending one with the lowest order."""
    pending = [s for s in steps if s.status == ApprovalStatus.PENDING]
    return min(pending, key=lambda s: s.order) if pending else None


def decision_refusal(*, actor, request: ApprovalRequest, steps: Sequence[ApprovalStep]) -> KefuError | None:
    """Why `actor` may not decide `request` now (None: they may). `steps` are all the
    request's steps. Used by `approval_decide` on locked rows and by pages to decide
    whether to offer the buttons."""
    if request.status != ApprovalStatus.PENDING:
        return InvalidState(_("该审批已结束，不能再审批。"), code=ErrorCode.APPROVAL_ALREADY_DECIDED)
    step = current_step(steps)
    if step is None:
        return InvalidState(_("该审批已结束，不能再审批。"), code=ErrorCode.APPROVAL_ALREADY_DECIDED)
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return AccessDenied(_("您没有执行此操作的权限。"))
    if request.requested_by_id == actor.pk:
        return AccessDenied(_("不能审批自己提交的申请。"), code=ErrorCode.APPROVAL_SELF_DECISION)
    if any(s.decided_by_id == actor.pk for s in steps):
        return AccessDenied(
            _("您已审批过该申请的其他环节，当前环节需由其他人审批。"), code=ErrorCode.APPROVAL_NOT_YOUR_STEP
        )
    if not actor.groups.filter(pk=step.role_id).exists():
        return AccessDenied(_("当前环节不由您审批。"), code=ErrorCode.APPROVAL_NOT_YOUR_STEP)
    return None


def _finish(request: ApprovalRequest, *, status: str, now) -> None:
    request.status = status
    request.decided_at = now
    ApprovalStep.objects.filter(request=request, status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.CANCELLED, updated_at=now
    )


def approval_decide(
    *,
    actor,
    request: ApprovalRequest,
    approve: bool,
    comment: str = "",
    expected_version: int | None = None,
) -> ApprovalRequest:
    """Approve or reject the current step of `request` as `actor`. The last approval
    approves the request; a rejection (comment required) rejects it and cancels the
    steps left. The module's handler runs in this transaction. A stale
    `expected_version` (someone decided meanwhile, or a double click) is refused."""
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationFailed(_("驳回时必须填写审批意见。"), details={"field": "comment"})
    with transaction.atomic():
        # The request row is the lock for all its steps; `of` keeps the policy unlocked.
        locked = ApprovalRequest.objects.select_for_update(of=("self",)).select_related("policy").get(pk=request.pk)
        steps = list(ApprovalStep.objects.filter(request=locked).select_related("role").order_by("order"))
        if locked.status != ApprovalStatus.PENDING:
            raise InvalidState(_("该审批已结束，不能再审批。"), code=ErrorCode.APPROVAL_ALREADY_DECIDED)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该审批已被他人处理，请刷新后查看。"))
        refusal = decision_refusal(actor=actor, request=locked, steps=steps)
        if refusal is not None:
            raise refusal
        step = current_step(steps)
        now = timezone.now()
        step.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        step.decided_by = actor
        step.decided_at = now
        step.comment = comment
        step.save(update_fields=["status", "decided_by", "decided_at", "comment", "updated_at"])
        audit_record(
            code="approval.step.approved" if approve else "approval.step.rejected",
            obj=locked,
            actor=actor,
            data={"step": step.order, "role": step.role.name, "comment": comment},
        )
        outcome = None
        if not approve:
            outcome = ApprovalStatus.REJECTED
        elif current_step(steps) is None:
            outcome = ApprovalStatus.APPROVED
        update_fields = ["version", "updated_at"]
        if outcome is not None:
            _finish(locked, status=outcome, now=now)
            update_fields += ["status", "decided_at"]
        locked.version += 1
        locked.save(update_fields=update_fields)
        if outcome is not None:
            audit_record(
                code=f"approval.{outcome}",
                obj=locked,
                actor=actor,
                changes={"status": (ApprovalStatus.PENDING, outcome)},
                data={
                    "policy": locked.policy.code,
                    "subject_type": locked.subject_type,
                    "subject_id": locked.subject_id,
                },
            )
            _run_handler(locked, actor, "on_approved" if outcome == ApprovalStatus.APPROVED else "on_rejected")
            _notify_outcome(locked)
        else:
            _notify_step_opened(locked, current_step(steps))
    _copy_state(locked, request)
    return locked


def approval_cancel(*, actor, request: ApprovalRequest, expected_version: int | None = None) -> ApprovalRequest:
    """Withdraw a pending request: by the requester, or by a holder of
    `core.manage_approvals`. The steps left are cancelled; the `on_cancelled` handler
    runs in this transaction."""
    with transaction.atomic():
        locked = ApprovalRequest.objects.select_for_update(of=("self",)).select_related("policy").get(pk=request.pk)
        if locked.requested_by_id != getattr(actor, "pk", None) and not access.has_perm(actor, MANAGE_APPROVALS):
            raise AccessDenied(_("只有申请人或审批流程管理员可以撤回申请。"))
        if locked.status != ApprovalStatus.PENDING:
            raise InvalidState(_("该审批已结束，不能撤回。"), code=ErrorCode.APPROVAL_ALREADY_DECIDED)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该审批已被他人处理，请刷新后查看。"))
        now = timezone.now()
        _finish(locked, status=ApprovalStatus.CANCELLED, now=now)
        locked.version += 1
        locked.save(update_fields=["status", "decided_at", "version", "updated_at"])
        audit_record(
            code="approval.cancelled",
            obj=locked,
            actor=actor,
            changes={"status": (ApprovalStatus.PENDING, ApprovalStatus.CANCELLED)},
            data={"policy": locked.policy.code, "subject_type": locked.subject_type, "subject_id": locked.subject_id},
        )
        _run_handler(locked, actor, "on_cancelled")
    _copy_state(locked, request)
    return locked


def _copy_state(source: ApprovalRequest, target: ApprovalRequest) -> None:
    """The caller's instance reflects what is now stored."""
    if target is not source:
        for name in ("status", "decided_at", "version", "updated_at"):
            setattr(target, name, getattr(source, name))
