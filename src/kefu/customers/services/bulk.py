"""Bulk changes from the archive list: owner, class, tags of up to 1,000 customers at
once, all-or-nothing, with set-based writes (a constant number of queries whatever the
number of customers) and the same trail a single change leaves: version bump, class
change rows, timeline entries and one audit event per changed customer."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record_many
from kefu.core.errors import ValidationFailed
from kefu.customers.models import ClassChange, Customer, CustomerClass, Tag, TimelineEntry
from kefu.customers.services.common import CHANGE, ensure_in_scope
from kefu.customers.services.customers import tags_by_name

MAX_BULK = 1000
BULK_AUDIT_CODE = "customer.bulk_updated"


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


def _clean_ids(customer_ids: Iterable[Any]) -> list[int]:
    ids: set[int] = set()
    for raw in customer_ids:
        try:
            ids.add(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed(_("客户编号无效：%(value)s") % {"value": raw}, details={"field": "ids"})
    if not ids:
        raise ValidationFailed(_("请先选择客户。"), details={"field": "ids"})
    if len(ids) > MAX_BULK:
        raise ValidationFailed(
            _("一次最多批量修改 %(max)d 个客户，当前选择了 %(count)d 个。") % {"max": MAX_BULK, "count": len(ids)},
            details={"field": "ids"},
        )
    return sorted(ids)


def _clean_tag_names(names: Iterable[str]) -> list[str]:
    return sorted({n.strip() for n in names if n and n.strip()})


def customers_bulk_update(
    *,
    actor,
    customer_ids: Iterable[Any],
    owner: Any = UNSET,
    customer_class: CustomerClass | None | Any = UNSET,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    reason: str = "",
) -> int:
    """Change the owner (客户经理), class and/or tags of the given customers. Every id
    must be a live archive the actor may change, else nothing changes and the error
    lists the rejected ids. Owner changes must keep each customer in the actor's scope.
    Returns the number of customers actually changed (already-matching ones are left
    untouched: no version bump, no event)."""
    access.require(actor, CHANGE)
    ids = _clean_ids(customer_ids)
    add_names = _clean_tag_names(add_tags)
    remove_names = _clean_tag_names(remove_tags)
    if owner is UNSET and customer_class is UNSET and not add_names and not remove_names:
        raise ValidationFailed(_("请选择要执行的批量操作。"), details={"field": "action"})
    if set(add_names) & set(remove_names):
        raise ValidationFailed(_("同一个标签不能既添加又移除。"), details={"field": "tags"})
    if owner is not UNSET and owner is not None and not owner.is_active:
        raise ValidationFailed(_("客户经理已停用，不能再分配客户。"), details={"field": "owner"})
    reason = (reason or "").strip()

    with transaction.atomic():
        allowed = access.restrict(Customer.objects.filter(pk__in=ids, merged_into__isnull=True), actor, CHANGE)
        customers = list(
            allowed.select_for_update(of=("self",)).select_related("owner", "customer_class").order_by("pk")
        )
        if access.OBJECT_RULES.rule_exists(CHANGE):
            customers = [c for c in customers if access.OBJECT_RULES.test_rule(CHANGE, actor, c)]
        rejected = sorted(set(ids) - {c.pk for c in customers})
        if rejected:
            raise ValidationFailed(
                _("有 %(count)d 个客户不存在、已合并或不在您的范围内，未做任何修改。") % {"count": len(rejected)},
                details={"field": "ids", "rejected": rejected},
            )
        changes: dict[int, dict[str, list]] = defaultdict(dict)
        timeline: list[TimelineEntry] = []
        now = timezone.now()

        def entry(customer: Customer, kind: str, title: str, body: str = "", **data) -> TimelineEntry:
            return TimelineEntry(
                customer=customer,
                at=now,
                kind=kind,
                title=title[:200],
                body=body,
                actor=actor,
                data={"bulk": True, **data},
            )

        if owner is not UNSET:
            owner_id = owner.pk if owner is not None else None
            moving = [c for c in customers if c.owner_id != owner_id]
            for region_id in {c.region_id for c in moving}:
                ensure_in_scope(actor, region=region_id, owner=owner_id)
            if moving:
                Customer.objects.filter(pk__in=[c.pk for c in moving]).update(owner=owner_id)
            for c in moving:
                changes[c.pk]["owner"] = [c.owner_id, owner_id]
                timeline.append(
                    entry(
                        c,
                        "customer.updated",
                        _("批量修改客户经理：%(old)s → %(new)s") % {"old": c.owner or "—", "new": owner or "—"},
                        fields=["owner"],
                    )
                )

        if customer_class is not UNSET:
            class_id = customer_class.pk if customer_class is not None else None
            moving = [c for c in customers if c.customer_class_id != class_id]
            if moving:
                Customer.objects.filter(pk__in=[c.pk for c in moving]).update(customer_class=class_id)
                ClassChange.objects.bulk_create(
                    [
                        ClassChange(
                            customer=c,
                            from_class_id=c.customer_class_id,
                            to_class_id=class_id,
                            reason=reason,
                            changed_by=actor,
                        )
                        for c in moving
                    ]
                )
            for c in moving:
                changes[c.pk]["customer_class"] = [c.customer_class_id, class_id]
                timeline.append(
                    entry(
                        c,
                        "customer.class_changed",
                        _("客户分类：%(old)s → %(new)s")
                        % {"old": c.customer_class or "—", "new": customer_class or "—"},
                        body=reason,
                    )
                )

        if add_names or remove_names:
            _change_tags(customers, add_names, remove_names, changes, timeline, entry)

        changed = [c for c in customers if changes.get(c.pk)]
        if not changed:
            return 0
        Customer.objects.filter(pk__in=[c.pk for c in changed]).update(version=F("version") + 1, updated_at=now)
        TimelineEntry.objects.bulk_create(timeline)
        audit_record_many(
            code=BULK_AUDIT_CODE,
            objects=changed,
            actor=actor,
            changes=changes,
            data={"bulk": str(uuid.uuid4()), "count": len(changed), "reason": reason},
        )
    return len(changed)


def _change_tags(customers, add_names, remove_names, changes, timeline, entry) -> None:
    """Add and remove tags through the m2m table directly: one read of the current
    tags, one insert, one delete."""
    through = Customer.tags.through
    pks = [c.pk for c in customers]
    before: dict[int, set[str]] = defaultdict(set)
    for customer_id, name in through.objects.filter(customer_id__in=pks).values_list("customer_id", "tag__name"):
        before[customer_id].add(name)
    to_add = tags_by_name(add_names) if add_names else []
    to_remove = list(Tag.objects.filter(name__in=remove_names)) if remove_names else []
    new_rows = [through(customer_id=c.pk, tag_id=t.pk) for c in customers for t in to_add if t.name not in before[c.pk]]
    if new_rows:
        through.objects.bulk_create(new_rows, ignore_conflicts=True)
    if to_remove:
        through.objects.filter(customer_id__in=pks, tag__in=to_remove).delete()
    add_set, remove_set = {t.name for t in to_add}, {t.name for t in to_remove}
    for c in customers:
        old = before[c.pk]
        new = (old | add_set) - remove_set
        if old == new:
            continue
        changes[c.pk]["tags"] = [sorted(old), sorted(new)]
        added, removed = sorted(new - old), sorted(old - new)
        parts = []
        if added:
            parts.append(_("添加标签 %(tags)s") % {"tags": "、".join(added)})
        if removed:
            parts.append(_("移除标签 %(tags)s") % {"tags": "、".join(removed)})
        timeline.append(
            entry(c, "customer.updated", _("批量修改：%(what)s") % {"what": "；".join(parts)}, fields=["tags"])
        )
