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

import decimal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
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
from kefu.core.models import ApprovalPolicy, ApprovalPolicyStep, ApprovalRequest, ApprovalStatus, ApprovalStep

MANAGE_APPROVALS = "core.manage_approvals"
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


# ---------------------------------------------------------------------------- policies

StepSpec = tuple[str, object]


def _amount(value, *, field: str, label: str) -> Decimal | None:
    """`value` as a money amount (two decimals, ≥ 0), or None when empty."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        raise ValidationFailed(_("%(label)s不是有效的金额。") % {"label": label}, details={"field": field}) from None
    if not amount.is_finite():
        raise ValidationFailed(_("%(label)s不是有效的金额。") % {"label": label}, details={"field": field})
    if amount < 0:
        raise ValidationFailed(_("%(label)s不能为负数。") % {"label": label}, details={"field": field})
    if amount >= Decimal("1e12"):
        raise ValidationFailed(_("%(label)s过大。") % {"label": label}, details={"field": field})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(_("%(label)s最多保留两位小数。") % {"label": label}, details={"field": field})
    return amount.quantize(Decimal("0.01"))


def _clean_steps(steps: Iterable[StepSpec]) -> list[tuple[Group, Decimal | None]]:
    steps = list(steps or [])
    if not steps:
        raise ValidationFailed(_("审批流程至少需要一个步骤。"), details={"field": "steps"})
    groups = Group.objects.in_bulk([code for code, _amt in steps], field_name="name")
    cleaned = []
    for index, (role_code, min_amount) in enumerate(steps, start=1):
        group = groups.get(role_code)
        if group is None:
            raise ValidationFailed(
                _("第 %(n)s 步的审批角色“%(role)s”不存在。") % {"n": index, "role": role_code},
                details={"field": "steps", "step": index},
            )
        label = _("第 %(n)s 步的金额起点") % {"n": index}
        cleaned.append((group, _amount(min_amount, field="steps", label=label)))
    # Without an unconditional step a small amount would need no approval at all;
    # approvals err on the side of more approval, so that is a configuration error.
    if all(amount is not None for _group, amount in cleaned):
        raise ValidationFailed(_("至少一个步骤不设金额起点（任何金额都需审批）。"), details={"field": "steps"})
    return cleaned


def _steps_repr(steps: Iterable[tuple[Group, Decimal | None]]) -> list[list]:
    return [[group.name, str(amount) if amount is not None else None] for group, amount in steps]


def _policy_steps_repr(policy: ApprovalPolicy) -> list[list]:
    return _steps_repr((s.role, s.min_amount) for s in policy.steps.select_related("role").order_by("order"))


def _write_steps(policy: ApprovalPolicy, steps: list[tuple[Group, Decimal | None]]) -> None:
    policy.steps.all().delete()
    ApprovalPolicyStep.objects.bulk_create(
        ApprovalPolicyStep(policy=policy, order=order, role=group, min_amount=amount)
        for order, (group, amount) in enumerate(steps, start=1)
    )


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请填写名称。"), details={"field": "name"})
    if len(name) > 80:
        raise ValidationFailed(_("名称不能超过 80 个字符。"), details={"field": "name"})
    return name


def approval_policy_create(
    *,
    actor,
    code: str,
    name: str,
    description: str = "",
    steps: Sequence[StepSpec],
    is_active: bool = True,
) -> ApprovalPolicy:
    """Create a policy with its steps `[(role_code, min_amount or None), …]` in order.
    `actor=None` is the system (seeding); a person needs `core.manage_approvals`."""
    if actor is not None:
        access.require(actor, MANAGE_APPROVALS)
    code = (code or "").strip()
    if not code or slugify(code) != code or len(code) > 40:
        raise ValidationFailed(
            _("编码只能包含小写字母、数字、连字符和下划线，且不超过 40 个字符。"), details={"field": "code"}
        )
    name = _clean_name(name)
    cleaned = _clean_steps(steps)
    try:
        with transaction.atomic():
            if ApprovalPolicy.objects.filter(code=code).exists():
                raise ValidationFailed(_("编码“%(code)s”已被使用。") % {"code": code}, details={"field": "code"})
            policy = ApprovalPolicy.objects.create(
                code=code, name=name, description=(description or "").strip(), is_active=is_active
            )
            _write_steps(policy, cleaned)
            audit_record(
                code="approval_policy.created",
                obj=policy,
                actor=actor,
                data={"code": code, "name": name, "is_active": is_active, "steps": _steps_repr(cleaned)},
            )
    except IntegrityError:
        # Someone created the same code between the check and the insert.
        raise ValidationFailed(_("编码“%(code)s”已被使用。") % {"code": code}, details={"field": "code"}) from None
    return policy


def approval_policy_update(
    *,
    actor,
    policy: ApprovalPolicy,
    name: str,
    description: str = "",
    steps: Sequence[StepSpec],
    is_active: bool | None = None,
    expected_version: int | None = None,
) -> ApprovalPolicy:
    """Change a policy's name, description, active flag and replace its steps. The code
    stays: modules ask for a policy by code. Requests already made keep the steps they
    were given; only new requests follow the new steps. `is_active=None` keeps it."""
    if actor is not None:
        access.require(actor, MANAGE_APPROVALS)
    name = _clean_name(name)
    description = (description or "").strip()
    cleaned = _clean_steps(steps)
    with transaction.atomic():
        locked = ApprovalPolicy.objects.select_for_update().get(pk=policy.pk)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该记录已被他人修改，请刷新后重试。"))
        changes = {}
        for field, value in (("name", name), ("description", description), ("is_active", is_active)):
            if value is not None and getattr(locked, field) != value:
                changes[field] = (getattr(locked, field), value)
                setattr(locked, field, value)
        old_steps, new_steps = _policy_steps_repr(locked), _steps_repr(cleaned)
        if old_steps != new_steps:
            changes["steps"] = (old_steps, new_steps)
            _write_steps(locked, cleaned)
        if changes:
            locked.version += 1
            locked.save(update_fields=[f for f in changes if f != "steps"] + ["version", "updated_at"])
            audit_record(code="approval_policy.updated", obj=locked, actor=actor, changes=changes)
    policy.refresh_from_db()
    return policy


DEFAULT_POLICIES = [
    {
        "code": "refund",
        "name": "退款/补偿",
        "description": "退款与补偿：总经理与财务先后审批，两者都必须同意。",
        "steps": [("director", None), ("finance", None)],
    },
    {
        "code": "entertainment",
        "name": "请客申请",
        "description": "请客（招待）申请：主管、经理审批；金额 2000.00 元起需总经理审批。",
        "steps": [("supervisor", None), ("manager", None), ("director", "2000.00")],
    },
    {
        "code": "penalty",
        "name": "处罚建议",
        "description": "对责任人的处罚建议：经理、总经理先后审批。",
        "steps": [("manager", None), ("director", None)],
    },
]


def approval_policies_seed() -> list[ApprovalPolicy]:
    """Create the default policies that do not exist yet (by code); never touches a
    policy a manager has changed. Needs the role groups (`roles_seed`). Returns the
    policies created."""
    created = []
    for spec in DEFAULT_POLICIES:
        if ApprovalPolicy.objects.filter(code=spec["code"]).exists():
            continue
        created.append(
            approval_policy_create(
                actor=None,
                code=spec["code"],
                name=spec["name"],
                description=spec["description"],
                steps=spec["steps"],
            )
        )
    return created


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
    amount = _amount(amount, field="amount", label=_("金额"))
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
            # Policies always have an unconditional step (see _clean_steps); a policy
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
