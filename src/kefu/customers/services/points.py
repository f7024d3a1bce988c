"""The points ledger (积分): awards and redemptions, each counted once, never below zero.

`Customer.points_balance` is the sum of the customer's ledger; each entry records the
balance it left (`balance_after`), so a statement can be printed without summing."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import Conflict, ValidationFailed
from kefu.customers.models import Customer, PointsEntry
from kefu.customers.services.common import CHANGE, VIEW, lock_customer
from kefu.customers.timeline import timeline_add


class PointsKeyReused(Conflict):
    """The idempotency key was already used for a different movement."""

    code = "points_key_reused"


class PointsInsufficient(ValidationFailed):
    code = "points_insufficient"


def points_add(*, actor, customer: Customer, delta: int, reason: str, key: str) -> PointsEntry:
    """Add (`delta` > 0) or redeem (`delta` < 0) points. `key` identifies the movement
    (e.g. `booking:123:award`): calling again with the same key returns the first entry
    and changes nothing, so a retried job or a double click counts once. A redemption
    that would take the balance below zero is refused. `actor=None` is the system (a
    module's job); a person needs `customers.change_customer` on the archive."""
    if actor is not None:
        access.require(actor, CHANGE, customer)
    key = (key or "").strip()
    reason = (reason or "").strip()
    if not key:
        raise ValidationFailed(_("缺少积分变动的唯一标识。"), details={"field": "key"})
    if len(key) > 200:
        raise ValidationFailed(_("积分变动的唯一标识不能超过 200 个字符。"), details={"field": "key"})
    if not reason:
        raise ValidationFailed(_("请填写积分变动事由。"), details={"field": "reason"})
    if len(reason) > 200:
        raise ValidationFailed(_("积分变动事由不能超过 200 个字。"), details={"field": "reason"})
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise ValidationFailed(_("积分变动必须是非零整数。"), details={"field": "delta"})

    existing = PointsEntry.objects.filter(key=key).first()
    if existing is not None:
        return _replayed(existing, customer, delta)
    try:
        with transaction.atomic():
            locked = lock_customer(customer)
            # Checked again under the row lock: a concurrent call with the same key for
            # the same customer waited for us and now finds our entry.
            existing = PointsEntry.objects.filter(key=key).first()
            if existing is not None:
                return _replayed(existing, customer, delta)
            balance = locked.points_balance + delta
            if balance < 0:
                raise PointsInsufficient(
                    _("积分不足：当前余额 %(balance)s，本次扣减 %(delta)s。")
                    % {"balance": locked.points_balance, "delta": -delta},
                    details={"field": "delta", "balance": locked.points_balance},
                )
            Customer.objects.filter(pk=locked.pk).update(points_balance=F("points_balance") + delta)
            entry = PointsEntry.objects.create(
                customer=locked, delta=delta, balance_after=balance, reason=reason, key=key, actor=_person(actor)
            )
            audit_record(
                code="customer.points_changed",
                obj=locked,
                actor=actor,
                changes={"points_balance": (locked.points_balance, balance)},
                data={"delta": delta, "reason": reason, "key": key, "entry": entry.pk},
            )
            timeline_add(
                customer=locked,
                kind="customer.points_changed",
                title=_("积分 %(delta)+d：%(reason)s（余额 %(balance)s）")
                % {"delta": delta, "reason": reason, "balance": balance},
                actor=actor,
                ref=entry,
                data={"delta": delta, "balance_after": balance},
            )
    except IntegrityError:
        # The same key was taken meanwhile for another customer (whose lock we did not hold).
        existing = PointsEntry.objects.filter(key=key).first()
        if existing is None:
            raise
        return _replayed(existing, customer, delta)
    customer.points_balance = balance
    return entry


def _replayed(entry: PointsEntry, customer: Customer, delta: int) -> PointsEntry:
    # A merge moves entries to the survivor, so a replay against the merged-away
    # archive still finds its own entry under the survivor.
    same_customer = (
        entry.customer_id == customer.pk
        or Customer.objects.filter(pk=customer.pk, merged_into=entry.customer_id).exists()
    )
    if entry.delta == delta and same_customer:
        return entry
    raise PointsKeyReused(_("该积分变动标识已用于另一笔积分变动。"), details={"field": "key", "entry": entry.pk})


def _person(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def points_ledger(user, customer: Customer) -> QuerySet[PointsEntry]:
    """The customer's points movements, newest first, for someone who may see the archive."""
    access.require(user, VIEW, customer)
    return PointsEntry.objects.filter(customer=customer).select_related("actor").order_by("-created_at", "-id")
