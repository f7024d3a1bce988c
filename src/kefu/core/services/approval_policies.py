"""Approval policies (审批流程): for each kind of request (refund, entertainment,
penalty…) the ordered steps, each a role with an optional amount threshold. A manager
creates and changes them; `approval_policies_seed` gives a new installation the default
ones. Requests and their step-by-step decisions live in `kefu.core.services.approvals`,
which also re-exports these services."""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.models import ApprovalPolicy, ApprovalPolicyStep

MANAGE_APPROVALS = "core.manage_approvals"

StepSpec = tuple[str, object]


def clean_amount(value, *, field: str, label: str) -> Decimal | None:
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
        cleaned.append((group, clean_amount(min_amount, field="steps", label=label)))
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
