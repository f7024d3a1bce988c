"""Departments and regions (片区): two trees kept by the same rules. A unit has a unique
code and a name; its parent must be active and may not lie below the unit itself; it is
deactivated only once no active staff and no active sub-unit belong to it, and
reactivated only under an active parent. `OrgUnit` holds what differs between the two:
the model, the audit codes, the editable fields and the wording of the refusals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.audit import audit_record, audited_update, field_changes
from kefu.core.errors import InvalidState
from kefu.core.models import Department, DepartmentKind, Region, User
from kefu.core.services.org.common import (
    check_version,
    full_clean,
    probe_with,
    refuse,
    reject_unknown_fields,
    require_manager,
    stripped,
)

DEPARTMENT_FIELDS = frozenset({"code", "name", "kind", "parent", "head", "phone", "sort_order"})
REGION_FIELDS = frozenset({"code", "name", "parent", "sort_order"})


@dataclass(frozen=True)
class OrgUnit:
    """One kind of organisational unit. Each refusal is a whole sentence per kind, not
    one assembled from 部门 / 片区, so that it translates as a sentence."""

    model: type[Department] | type[Region]
    # The audit-code prefix, which is also the name of the staff's foreign key to it.
    name: str
    fields: frozenset[str]
    # Fields validated elsewhere than in the model's `full_clean` (tree and staff links).
    links: tuple[str, ...]
    code_taken: Promise  # %(code)s, %(name)s
    parent_is_self: Promise
    parent_inactive: Promise  # %(name)s
    already_inactive: Promise
    has_staff: Promise  # %(name)s, %(count)d
    has_children: Promise  # %(name)s
    already_active: Promise
    parent_still_inactive: Promise  # %(name)s


DEPARTMENT = OrgUnit(
    model=Department,
    name="department",
    fields=DEPARTMENT_FIELDS,
    links=("parent", "head"),
    code_taken=gettext_lazy("编码「%(code)s」已被部门「%(name)s」使用。"),
    parent_is_self=gettext_lazy("上级部门不能是本部门或其下级部门。"),
    parent_inactive=gettext_lazy("上级部门「%(name)s」已停用。"),
    already_inactive=gettext_lazy("该部门已停用。"),
    has_staff=gettext_lazy("部门「%(name)s」还有 %(count)d 名在职员工，请先将他们调到其他部门再停用。"),
    has_children=gettext_lazy("部门「%(name)s」还有启用的下级部门，请先停用或调整它们。"),
    already_active=gettext_lazy("该部门已是启用状态。"),
    parent_still_inactive=gettext_lazy("上级部门「%(name)s」已停用，请先启用上级部门。"),
)
REGION = OrgUnit(
    model=Region,
    name="region",
    fields=REGION_FIELDS,
    links=("parent",),
    code_taken=gettext_lazy("编码「%(code)s」已被片区「%(name)s」使用。"),
    parent_is_self=gettext_lazy("上级片区不能是本片区或其下级片区。"),
    parent_inactive=gettext_lazy("上级片区「%(name)s」已停用。"),
    already_inactive=gettext_lazy("该片区已停用。"),
    has_staff=gettext_lazy("片区「%(name)s」还有 %(count)d 名在职员工，请先将他们调到其他片区再停用。"),
    has_children=gettext_lazy("片区「%(name)s」还有启用的下级片区，请先停用或调整它们。"),
    already_active=gettext_lazy("该片区已是启用状态。"),
    parent_still_inactive=gettext_lazy("上级片区「%(name)s」已停用，请先启用上级片区。"),
)


# --- the rules both trees share ------------------------------------------------------


def _has_ancestor(model, start, pk: int) -> bool:
    """Whether `pk` is `start` or one of its ancestors (walks up; trees are shallow)."""
    seen: set[int] = set()
    node_id = start.pk
    while node_id is not None and node_id not in seen:
        if node_id == pk:
            return True
        seen.add(node_id)
        node_id = model.objects.filter(pk=node_id).values_list("parent_id", flat=True).first()
    return False


def _validate(unit: OrgUnit, probe: Model, *, changed: Iterable[str] | None = None) -> None:
    """`changed`: the fields being set (None: all, on create). A parent or head that was
    deactivated later does not block edits of other fields."""
    changed = None if changed is None else set(changed)
    if not (probe.code or "").strip():
        raise refuse(_("请填写编码。"), "code")
    if not (probe.name or "").strip():
        raise refuse(_("请填写名称。"), "name")
    clash = unit.model.objects.filter(code=probe.code).exclude(pk=probe.pk).first()
    if clash is not None:
        raise refuse(unit.code_taken % {"code": probe.code, "name": clash.name}, "code")
    parent = probe.parent if changed is None or "parent" in changed else None
    if parent is not None:
        if probe.pk is not None and _has_ancestor(unit.model, parent, probe.pk):
            raise refuse(str(unit.parent_is_self), "parent")
        if not parent.is_active:
            raise refuse(unit.parent_inactive % {"name": parent.name}, "parent")
    head = probe.head if unit is DEPARTMENT and (changed is None or "head" in changed) else None
    if head is not None and not head.is_active:
        raise refuse(_("负责人「%(name)s」已停用。") % {"name": head}, "head")
    full_clean(probe, exclude=unit.links)


def _create(unit: OrgUnit, *, actor, obj: Model, data: dict[str, Any]):
    """Save the new `obj` (built by the caller, who checked the permission) and audit
    it with `data`."""
    _validate(unit, obj)
    try:
        with transaction.atomic():
            obj.save()
            audit_record(code=f"{unit.name}.created", obj=obj, actor=actor, data=data)
    except IntegrityError as exc:  # a concurrent create with the same code
        raise refuse(_("编码「%(code)s」已被使用。") % {"code": obj.code}, "code") from exc
    return obj


def _update(
    unit: OrgUnit, *, actor, obj: Model, values: Mapping[str, Any], expected_version: int | None
) -> dict[str, tuple[Any, Any]]:
    require_manager(actor)
    reject_unknown_fields(values, unit.fields)
    values = stripped(values)
    try:
        with transaction.atomic():
            locked = unit.model.objects.select_for_update().get(pk=obj.pk)
            check_version(locked, expected_version)
            _validate(unit, probe_with(locked, values), changed=field_changes(locked, values))
            return audited_update(
                obj, values=values, code=f"{unit.name}.updated", actor=actor, expected_version=expected_version
            )
    except IntegrityError as exc:
        raise refuse(_("编码「%(code)s」已被使用。") % {"code": values.get("code")}, "code") from exc


def _deactivate(unit: OrgUnit, *, actor, obj: Model, expected_version: int | None):
    require_manager(actor)
    with transaction.atomic():
        locked = unit.model.objects.select_for_update().get(pk=obj.pk)
        check_version(locked, expected_version)
        if not locked.is_active:
            raise InvalidState(str(unit.already_inactive))
        staff = User.objects.filter(**{unit.name: locked}, is_active=True).count()
        if staff:
            raise InvalidState(
                unit.has_staff % {"name": locked.name, "count": staff},
                details={"staff_count": staff},
            )
        if unit.model.objects.filter(parent=locked, is_active=True).exists():
            raise InvalidState(unit.has_children % {"name": locked.name})
        audited_update(obj, values={"is_active": False}, code=f"{unit.name}.deactivated", actor=actor)
    return obj


def _reactivate(unit: OrgUnit, *, actor, obj: Model, expected_version: int | None):
    require_manager(actor)
    with transaction.atomic():
        locked = unit.model.objects.select_for_update().get(pk=obj.pk)
        check_version(locked, expected_version)
        if locked.is_active:
            raise InvalidState(str(unit.already_active))
        if locked.parent is not None and not locked.parent.is_active:
            raise InvalidState(unit.parent_still_inactive % {"name": locked.parent.name})
        audited_update(obj, values={"is_active": True}, code=f"{unit.name}.reactivated", actor=actor)
    return obj


# --- departments --------------------------------------------------------------------


def department_create(
    *,
    actor,
    code: str,
    name: str,
    kind: str = DepartmentKind.OTHER,
    parent: Department | None = None,
    head: User | None = None,
    phone: str = "",
    sort_order: int = 0,
) -> Department:
    """Add a department (a service department, or one that receives routed work)."""
    require_manager(actor)
    department = Department(
        code=(code or "").strip(),
        name=(name or "").strip(),
        kind=kind,
        parent=parent,
        head=head,
        phone=(phone or "").strip(),
        sort_order=sort_order or 0,
    )
    data = {
        "code": department.code,
        "name": department.name,
        "kind": department.kind,
        "parent": department.parent_id,
        "head": department.head_id,
    }
    return _create(DEPARTMENT, actor=actor, obj=department, data=data)


def department_update(
    *, actor, department: Department, values: Mapping[str, Any], expected_version: int | None
) -> dict[str, tuple[Any, Any]]:
    """Change a department's fields (not its active state: see deactivate/reactivate).
    Returns the changes; a stale `expected_version` raises Conflict."""
    return _update(DEPARTMENT, actor=actor, obj=department, values=values, expected_version=expected_version)


def department_deactivate(*, actor, department: Department, expected_version: int | None = None) -> Department:
    """Stop using a department. Refused while active staff or active sub-departments
    still belong to it: they must be moved first, or work would be routed nowhere."""
    return _deactivate(DEPARTMENT, actor=actor, obj=department, expected_version=expected_version)


def department_reactivate(*, actor, department: Department, expected_version: int | None = None) -> Department:
    """Use a deactivated department again (its parent must be active)."""
    return _reactivate(DEPARTMENT, actor=actor, obj=department, expected_version=expected_version)


# --- regions ------------------------------------------------------------------------


def region_create(*, actor, code: str, name: str, parent: Region | None = None, sort_order: int = 0) -> Region:
    """Add a 片区 (territory)."""
    require_manager(actor)
    region = Region(code=(code or "").strip(), name=(name or "").strip(), parent=parent, sort_order=sort_order or 0)
    data = {"code": region.code, "name": region.name, "parent": region.parent_id}
    return _create(REGION, actor=actor, obj=region, data=data)


def region_update(
    *, actor, region: Region, values: Mapping[str, Any], expected_version: int | None
) -> dict[str, tuple[Any, Any]]:
    """Change a region's fields. A stale `expected_version` raises Conflict."""
    return _update(REGION, actor=actor, obj=region, values=values, expected_version=expected_version)


def region_deactivate(*, actor, region: Region, expected_version: int | None = None) -> Region:
    """Stop using a region. Refused while active staff or active sub-regions belong to it."""
    return _deactivate(REGION, actor=actor, obj=region, expected_version=expected_version)


def region_reactivate(*, actor, region: Region, expected_version: int | None = None) -> Region:
    """Use a deactivated region again (its parent must be active)."""
    return _reactivate(REGION, actor=actor, obj=region, expected_version=expected_version)
