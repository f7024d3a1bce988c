"""Write services of the organisation: departments, regions (片区), staff, roles and
their permissions.

Organisation management is organisation-wide: whoever holds `core.manage_organisation`
manages every department, region and member of staff, whatever their own data scope (a
系统管理员 has no customer scope, yet must reach every account). So these services check
the role alone, never the actor's scope.

One rule on top: nobody widens their own access. A non-superuser cannot give themselves
a role, `scope_all`, a scope region or department, move themselves to another department
or region, or add permissions to a role they hold; another manager (or a superuser) must
do it. Taking access away from oneself is allowed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record, audited_update, field_changes
from kefu.core.errors import AccessDenied, Conflict, InvalidState, NotFound, ValidationFailed
from kefu.core.models import Department, DepartmentKind, Region, User
from kefu.core.roles import ROLES_BY_CODE, role_name
from kefu.core.selectors.org import kefu_app_labels

MANAGE_ORGANISATION = "core.manage_organisation"

DEPARTMENT_FIELDS = frozenset({"code", "name", "kind", "parent", "head", "phone", "sort_order"})
REGION_FIELDS = frozenset({"code", "name", "parent", "sort_order"})
STAFF_FIELDS = frozenset({"display_name", "employee_no", "phone", "title", "email", "department", "region"})


# --- shared helpers -----------------------------------------------------------------


def _require_manager(actor) -> None:
    access.require(actor, MANAGE_ORGANISATION)


def _refuse(message: str, field: str | None = None, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


def _unknown_fields(values: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise _refuse(_("不能修改这些字段：%(fields)s。") % {"fields": "、".join(sorted(unknown))}, sorted(unknown)[0])


def _full_clean(instance, *, exclude: Iterable[str] = ()) -> None:
    """Field-level validation (lengths, choices, slug format) with the model's own
    messages, reported like every other service refusal."""
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        errors = exc.message_dict
        field, messages = next(iter(errors.items()))
        raise ValidationFailed(
            messages[0], details={"field": None if field == NON_FIELD_ERRORS else field, "errors": errors}
        ) from exc


def _check_version(locked, expected_version: int | None) -> None:
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该记录已被他人修改，请刷新后重试。"))


def _probe(locked, values: Mapping[str, Any]):
    """A copy of `locked` with `values` applied, for validation before anything is saved."""
    probe = copy.copy(locked)
    for name, value in values.items():
        setattr(probe, name, value)
    return probe


def _own_access_refused() -> AccessDenied:
    return AccessDenied(_("不能扩大自己的权限或可见范围，请由其他管理人员操作。"))


def _is_self(actor, user: User) -> bool:
    return actor is not None and actor.pk == user.pk and not actor.is_superuser


# --- departments --------------------------------------------------------------------


def _validate_department(probe: Department, *, changed: Iterable[str] | None = None) -> None:
    """`changed`: the fields being set (None: all, on create). A parent or head that was
    deactivated later does not block edits of other fields."""
    changed = None if changed is None else set(changed)
    if not (probe.code or "").strip():
        raise _refuse(_("请填写编码。"), "code")
    if not (probe.name or "").strip():
        raise _refuse(_("请填写名称。"), "name")
    clash = Department.objects.filter(code=probe.code).exclude(pk=probe.pk).first()
    if clash is not None:
        raise _refuse(
            _("编码「%(code)s」已被部门「%(name)s」使用。") % {"code": probe.code, "name": clash.name}, "code"
        )
    parent = probe.parent if changed is None or "parent" in changed else None
    if parent is not None:
        if probe.pk is not None and _has_ancestor(Department, parent, probe.pk):
            raise _refuse(_("上级部门不能是本部门或其下级部门。"), "parent")
        if not parent.is_active:
            raise _refuse(_("上级部门「%(name)s」已停用。") % {"name": parent.name}, "parent")
    if (changed is None or "head" in changed) and probe.head is not None and not probe.head.is_active:
        raise _refuse(_("负责人「%(name)s」已停用。") % {"name": probe.head}, "head")
    _full_clean(probe, exclude=["parent", "head"])


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
    _require_manager(actor)
    department = Department(
        code=(code or "").strip(),
        name=(name or "").strip(),
        kind=kind,
        parent=parent,
        head=head,
        phone=(phone or "").strip(),
        sort_order=sort_order or 0,
    )
    _validate_department(department)
    try:
        with transaction.atomic():
            department.save()
            audit_record(
                code="department.created",
                obj=department,
                actor=actor,
                data={
                    "code": department.code,
                    "name": department.name,
                    "kind": department.kind,
                    "parent": department.parent_id,
                    "head": department.head_id,
                },
            )
    except IntegrityError as exc:  # a concurrent create with the same code
        raise _refuse(_("编码「%(code)s」已被使用。") % {"code": department.code}, "code") from exc
    return department


def department_update(
    *, actor, department: Department, values: Mapping[str, Any], expected_version: int | None
) -> dict[str, tuple[Any, Any]]:
    """Change a department's fields (not its active state: see deactivate/reactivate).
    Returns the changes; a stale `expected_version` raises Conflict."""
    _require_manager(actor)
    _unknown_fields(values, DEPARTMENT_FIELDS)
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    try:
        with transaction.atomic():
            locked = Department.objects.select_for_update().get(pk=department.pk)
            _check_version(locked, expected_version)
            _validate_department(_probe(locked, values), changed=field_changes(locked, values))
            return audited_update(
                department, values=values, code="department.updated", actor=actor, expected_version=expected_version
            )
    except IntegrityError as exc:
        raise _refuse(_("编码「%(code)s」已被使用。") % {"code": values.get("code")}, "code") from exc


def department_deactivate(*, actor, department: Department, expected_version: int | None = None) -> Department:
    """Stop using a department. Refused while active staff or active sub-departments
    still belong to it: they must be moved first, or work would be routed nowhere."""
    _require_manager(actor)
    with transaction.atomic():
        locked = Department.objects.select_for_update().get(pk=department.pk)
        _check_version(locked, expected_version)
        if not locked.is_active:
            raise InvalidState(_("该部门已停用。"))
        staff = User.objects.filter(department=locked, is_active=True).count()
        if staff:
            raise InvalidState(
                _("部门「%(name)s」还有 %(count)d 名在职员工，请先将他们调到其他部门再停用。")
                % {"name": locked.name, "count": staff},
                details={"staff_count": staff},
            )
        if Department.objects.filter(parent=locked, is_active=True).exists():
            raise InvalidState(_("部门「%(name)s」还有启用的下级部门，请先停用或调整它们。") % {"name": locked.name})
        audited_update(department, values={"is_active": False}, code="department.deactivated", actor=actor)
    return department


def department_reactivate(*, actor, department: Department, expected_version: int | None = None) -> Department:
    """Use a deactivated department again (its parent must be active)."""
    _require_manager(actor)
    with transaction.atomic():
        locked = Department.objects.select_for_update().get(pk=department.pk)
        _check_version(locked, expected_version)
        if locked.is_active:
            raise InvalidState(_("该部门已是启用状态。"))
        if locked.parent is not None and not locked.parent.is_active:
            raise InvalidState(_("上级部门「%(name)s」已停用，请先启用上级部门。") % {"name": locked.parent.name})
        audited_update(department, values={"is_active": True}, code="department.reactivated", actor=actor)
    return department


# --- regions ------------------------------------------------------------------------


def _validate_region(probe: Region, *, changed: Iterable[str] | None = None) -> None:
    changed = None if changed is None else set(changed)
    if not (probe.code or "").strip():
        raise _refuse(_("请填写编码。"), "code")
    if not (probe.name or "").strip():
        raise _refuse(_("请填写名称。"), "name")
    clash = Region.objects.filter(code=probe.code).exclude(pk=probe.pk).first()
    if clash is not None:
        raise _refuse(
            _("编码「%(code)s」已被片区「%(name)s」使用。") % {"code": probe.code, "name": clash.name}, "code"
        )
    parent = probe.parent if changed is None or "parent" in changed else None
    if parent is not None:
        if probe.pk is not None and _has_ancestor(Region, parent, probe.pk):
            raise _refuse(_("上级片区不能是本片区或其下级片区。"), "parent")
        if not parent.is_active:
            raise _refuse(_("上级片区「%(name)s」已停用。") % {"name": parent.name}, "parent")
    _full_clean(probe, exclude=["parent"])


def region_create(*, actor, code: str, name: str, parent: Region | None = None, sort_order: int = 0) -> Region:
    """Add a 片区 (territory)."""
    _require_manager(actor)
    region = Region(code=(code or "").strip(), name=(name or "").strip(), parent=parent, sort_order=sort_order or 0)
    _validate_region(region)
    try:
        with transaction.atomic():
            region.save()
            audit_record(
                code="region.created",
                obj=region,
                actor=actor,
                data={"code": region.code, "name": region.name, "parent": region.parent_id},
            )
    except IntegrityError as exc:
        raise _refuse(_("编码「%(code)s」已被使用。") % {"code": region.code}, "code") from exc
    return region


def region_update(
    *, actor, region: Region, values: Mapping[str, Any], expected_version: int | None
) -> dict[str, tuple[Any, Any]]:
    """Change a region's fields. A stale `expected_version` raises Conflict."""
    _require_manager(actor)
    _unknown_fields(values, REGION_FIELDS)
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    try:
        with transaction.atomic():
            locked = Region.objects.select_for_update().get(pk=region.pk)
            _check_version(locked, expected_version)
            _validate_region(_probe(locked, values), changed=field_changes(locked, values))
            return audited_update(
                region, values=values, code="region.updated", actor=actor, expected_version=expected_version
            )
    except IntegrityError as exc:
        raise _refuse(_("编码「%(code)s」已被使用。") % {"code": values.get("code")}, "code") from exc


def region_deactivate(*, actor, region: Region, expected_version: int | None = None) -> Region:
    """Stop using a region. Refused while active staff or active sub-regions belong to it."""
    _require_manager(actor)
    with transaction.atomic():
        locked = Region.objects.select_for_update().get(pk=region.pk)
        _check_version(locked, expected_version)
        if not locked.is_active:
            raise InvalidState(_("该片区已停用。"))
        staff = User.objects.filter(region=locked, is_active=True).count()
        if staff:
            raise InvalidState(
                _("片区「%(name)s」还有 %(count)d 名在职员工，请先将他们调到其他片区再停用。")
                % {"name": locked.name, "count": staff},
                details={"staff_count": staff},
            )
        if Region.objects.filter(parent=locked, is_active=True).exists():
            raise InvalidState(_("片区「%(name)s」还有启用的下级片区，请先停用或调整它们。") % {"name": locked.name})
        audited_update(region, values={"is_active": False}, code="region.deactivated", actor=actor)
    return region


def region_reactivate(*, actor, region: Region, expected_version: int | None = None) -> Region:
    """Use a deactivated region again (its parent must be active)."""
    _require_manager(actor)
    with transaction.atomic():
        locked = Region.objects.select_for_update().get(pk=region.pk)
        _check_version(locked, expected_version)
        if locked.is_active:
            raise InvalidState(_("该片区已是启用状态。"))
        if locked.parent is not None and not locked.parent.is_active:
            raise InvalidState(_("上级片区「%(name)s」已停用，请先启用上级片区。") % {"name": locked.parent.name})
        audited_update(region, values={"is_active": True}, code="region.reactivated", actor=actor)
    return region


# --- staff --------------------------------------------------------------------------


def _role_groups(codes: Iterable[str]) -> list[Group]:
    codes = sorted(set(codes))
    groups = list(Group.objects.filter(name__in=codes))
    missing = set(codes) - {g.name for g in groups}
    if missing:
        raise _refuse(_("未知角色：%(roles)s。") % {"roles": "、".join(sorted(missing))}, "roles")
    return groups


def _validate_staff(probe: User, *, changed: Iterable[str]) -> None:
    changed = set(changed)
    if "username" in changed:
        if not (probe.username or "").strip():
            raise _refuse(_("请填写用户名。"), "username")
        if User.objects.filter(username__iexact=probe.username).exclude(pk=probe.pk).exists():
            raise _refuse(_("用户名「%(username)s」已存在。") % {"username": probe.username}, "username")
    if "display_name" in changed and not (probe.display_name or "").strip():
        raise _refuse(_("请填写姓名。"), "display_name")
    if "employee_no" in changed and probe.employee_no:
        clash = User.objects.filter(employee_no=probe.employee_no).exclude(pk=probe.pk).first()
        if clash is not None:
            raise _refuse(
                _("工号「%(no)s」已被「%(name)s」使用。") % {"no": probe.employee_no, "name": clash}, "employee_no"
            )
    if "department" in changed and probe.department is not None and not probe.department.is_active:
        raise _refuse(_("部门「%(name)s」已停用。") % {"name": probe.department.name}, "department")
    if "region" in changed and probe.region is not None and not probe.region.is_active:
        raise _refuse(_("片区「%(name)s」已停用。") % {"name": probe.region.name}, "region")
    _full_clean(probe, exclude=["password", "department", "region", "last_login", "date_joined"])


def _check_password(password: str, user: User) -> None:
    if not password:
        raise _refuse(_("请填写密码。"), "password")
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise _refuse(" ".join(exc.messages), "password") from exc


def _ids(items) -> list[int]:
    return sorted(item.pk for item in items)


def staff_create(
    *,
    actor,
    username: str,
    display_name: str,
    password: str,
    roles: Iterable[str],
    department: Department | None = None,
    region: Region | None = None,
    employee_no: str = "",
    phone: str = "",
    title: str = "",
    email: str = "",
    scope_all: bool | None = None,
    scope_regions: Iterable[Region] = (),
    scope_departments: Iterable[Department] = (),
) -> User:
    """Add a member of staff with an initial password and roles. `scope_all` defaults to
    what the roles suggest (e.g. 客服部经理 sees everything)."""
    _require_manager(actor)
    roles = list(roles)
    if not roles:
        raise _refuse(_("请至少选择一个角色。"), "roles")
    groups = _role_groups(roles)
    if scope_all is None:
        scope_all = any(ROLES_BY_CODE[g.name].scope_all for g in groups if g.name in ROLES_BY_CODE)
    user = User(
        username=(username or "").strip(),
        display_name=(display_name or "").strip(),
        employee_no=(employee_no or "").strip(),
        phone=(phone or "").strip(),
        title=(title or "").strip(),
        email=(email or "").strip(),
        department=department,
        region=region,
        scope_all=bool(scope_all),
    )
    _validate_staff(user, changed=["username", "display_name", "employee_no", "department", "region"])
    _check_password(password, user)
    user.set_password(password)
    scope_regions, scope_departments = list(scope_regions), list(scope_departments)
    try:
        with transaction.atomic():
            user.save()
            user.groups.set(groups)
            user.scope_regions.set(scope_regions)
            user.scope_departments.set(scope_departments)
            audit_record(
                code="staff.created",
                obj=user,
                actor=actor,
                data={
                    "username": user.username,
                    "display_name": user.display_name,
                    "employee_no": user.employee_no,
                    "department": user.department_id,
                    "region": user.region_id,
                    "roles": sorted(g.name for g in groups),
                    "scope_all": user.scope_all,
                    "scope_regions": _ids(scope_regions),
                    "scope_departments": _ids(scope_departments),
                },
            )
    except IntegrityError as exc:  # a concurrent create with the same username or 工号
        raise _refuse(_("用户名或工号已被使用。"), "username") from exc
    return user


def staff_update(
    *, actor, user: User, values: Mapping[str, Any], expected_version: int | None
) -> dict[str, tuple[Any, Any]]:
    """Change a member of staff's profile: name, 工号, phone, 职务, department, region.
    The username is their login and stays. A stale `expected_version` raises Conflict."""
    _require_manager(actor)
    _unknown_fields(values, STAFF_FIELDS)
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    try:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            _check_version(locked, expected_version)
            probe = _probe(locked, values)
            if _is_self(actor, locked) and (
                probe.department_id != locked.department_id or probe.region_id != locked.region_id
            ):
                # Department and region are part of what one sees.
                raise _own_access_refused()
            _validate_staff(probe, changed=field_changes(locked, values))
            return audited_update(
                user, values=values, code="staff.updated", actor=actor, expected_version=expected_version
            )
    except IntegrityError as exc:
        raise _refuse(_("工号「%(no)s」已被使用。") % {"no": values.get("employee_no")}, "employee_no") from exc


def _bump_version(locked: User, user: User) -> None:
    locked.version += 1
    locked.save(update_fields=["version"])
    user.version = locked.version


def staff_set_roles(*, actor, user: User, roles: Iterable[str], expected_version: int | None = None) -> list[str]:
    """Replace a member of staff's roles (role codes). Audited with before/after."""
    _require_manager(actor)
    groups = _role_groups(roles)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _check_version(locked, expected_version)
        before = sorted(locked.groups.values_list("name", flat=True))
        after = sorted(g.name for g in groups)
        if before == after:
            return after
        if _is_self(actor, locked) and set(after) - set(before):
            raise _own_access_refused()
        locked.groups.set(groups)
        _bump_version(locked, user)
        audit_record(
            code="staff.roles_changed",
            obj=locked,
            actor=actor,
            changes={"roles": (before, after)},
            data={"added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after))},
        )
    return after


def staff_set_scope(
    *,
    actor,
    user: User,
    scope_all: bool,
    regions: Iterable[Region],
    departments: Iterable[Department],
    expected_version: int | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Set what a member of staff sees beyond their own region and department: everything
    (`scope_all`), or these regions and departments. Audited with before/after id lists.
    Nobody may widen their own scope (a 系统管理员 must not grant themselves 全部数据)."""
    _require_manager(actor)
    regions, departments = list(regions), list(departments)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _check_version(locked, expected_version)
        before_regions = sorted(locked.scope_regions.values_list("pk", flat=True))
        before_departments = sorted(locked.scope_departments.values_list("pk", flat=True))
        after_regions, after_departments = _ids(regions), _ids(departments)
        changes: dict[str, tuple[Any, Any]] = {}
        if locked.scope_all != bool(scope_all):
            changes["scope_all"] = (locked.scope_all, bool(scope_all))
        if before_regions != after_regions:
            changes["scope_regions"] = (before_regions, after_regions)
        if before_departments != after_departments:
            changes["scope_departments"] = (before_departments, after_departments)
        if not changes:
            return {}
        widens = (
            (scope_all and not locked.scope_all)
            or set(after_regions) - set(before_regions)
            or set(after_departments) - set(before_departments)
        )
        if _is_self(actor, locked) and widens:
            raise _own_access_refused()
        if "scope_all" in changes:
            locked.scope_all = bool(scope_all)
            locked.save(update_fields=["scope_all"])
            user.scope_all = locked.scope_all
        if "scope_regions" in changes:
            locked.scope_regions.set(regions)
        if "scope_departments" in changes:
            locked.scope_departments.set(departments)
        _bump_version(locked, user)
        audit_record(code="staff.scope_changed", obj=locked, actor=actor, changes=changes)
    # The access caches on the instance describe the old scope.
    for attr in ("_kefu_region_ids", "_kefu_department_ids"):
        user.__dict__.pop(attr, None)
    return changes


def staff_deactivate(*, actor, user: User) -> User:
    """Stop a member of staff from signing in. Users are never deleted: tickets, visits
    and the audit log point at them."""
    _require_manager(actor)
    if actor is not None and actor.pk == user.pk:
        raise InvalidState(_("不能停用自己的账号。"))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            raise InvalidState(_("该员工已停用。"))
        audited_update(user, values={"is_active": False}, code="staff.deactivated", actor=actor)
    return user


def staff_reactivate(*, actor, user: User) -> User:
    """Let a deactivated member of staff sign in again."""
    _require_manager(actor)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            raise InvalidState(_("该员工已是在职状态。"))
        audited_update(user, values={"is_active": True}, code="staff.reactivated", actor=actor)
    return user


def staff_set_password(*, actor, user: User, password: str) -> User:
    """Reset a member of staff's password (the password itself is never audited). Their
    other sessions end, since the session hash changes with the password."""
    _require_manager(actor)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _check_password(password, locked)
        locked.set_password(password)
        locked.save(update_fields=["password"])
        user.password = locked.password
        audit_record(code="staff.password_set", obj=locked, actor=actor)
    return user


# --- roles --------------------------------------------------------------------------


def _dotted(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def role_set_permissions(*, actor, role_code: str, permissions: Iterable[str]) -> list[str]:
    """Replace the Kefu permissions of a role (dotted `app.codename`). Permissions of
    other apps are neither granted nor touched. Nobody adds permissions to a role they
    hold themselves. Audited with before/after."""
    _require_manager(actor)
    group = Group.objects.filter(name=role_code).first()
    if group is None:
        raise NotFound(_("角色「%(code)s」不存在。") % {"code": role_code})
    labels = kefu_app_labels()
    wanted = set(permissions)
    malformed = sorted(p for p in wanted if "." not in p or p.split(".", 1)[0] not in labels)
    if malformed:
        raise _refuse(
            _("只能授予本系统的权限：%(perms)s 无效。") % {"perms": "、".join(malformed)},
            "permissions",
            invalid=malformed,
        )
    found = list(
        Permission.objects.filter(content_type__app_label__in=labels)
        .select_related("content_type")
        .order_by("content_type__app_label", "codename")
    )
    by_dotted = {_dotted(p): p for p in found}
    unknown = sorted(wanted - by_dotted.keys())
    if unknown:
        raise _refuse(_("未知权限：%(perms)s。") % {"perms": "、".join(unknown)}, "permissions", invalid=unknown)
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk)
        current = list(group.permissions.filter(content_type__app_label__in=labels).select_related("content_type"))
        before = sorted(_dotted(p) for p in current)
        after = sorted(wanted)
        if before == after:
            return after
        added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
        if added and not actor.is_superuser and actor.groups.filter(pk=group.pk).exists():
            raise _own_access_refused()
        group.permissions.remove(*[p for p in current if _dotted(p) in removed])
        group.permissions.add(*[by_dotted[p] for p in added])
        audit_record(
            code="role.permissions_changed",
            obj=group,
            actor=actor,
            object_repr=role_name(group.name),
            changes={"permissions": (before, after)},
            data={"added": added, "removed": removed},
        )
    return after
