"""Members of staff: their profile, login, roles and what they see (scope). Nobody
widens their own access (see the package docstring); users are deactivated, never
deleted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.core.audit import audit_record, audited_update, field_changes
from kefu.core.errors import InvalidState
from kefu.core.models import Department, Region, User
from kefu.core.roles import ROLES_BY_CODE
from kefu.core.services.org.common import (
    check_version,
    full_clean,
    is_self,
    own_access_refused,
    probe_with,
    refuse,
    reject_unknown_fields,
    require_manager,
    stripped,
)

STAFF_FIELDS = frozenset({"display_name", "employee_no", "phone", "title", "email", "department", "region"})


def _role_groups(codes: Iterable[str]) -> list[Group]:
    codes = sorted(set(codes))
    groups = list(Group.objects.filter(name__in=codes))
    missing = set(codes) - {g.name for g in groups}
    if missing:
        raise refuse(_("未知角色：%(roles)s。") % {"roles": "、".join(sorted(missing))}, "roles")
    return groups


def _validate_staff(probe: User, *, changed: Iterable[str]) -> None:
    changed = set(changed)
    if "username" in changed:
        if not (probe.username or "").strip():
            raise refuse(_("请填写用户名。"), "username")
        if User.objects.filter(username__iexact=probe.username).exclude(pk=probe.pk).exists():
            raise refuse(_("用户名「%(username)s」已存在。") % {"username": probe.username}, "username")
    if "display_name" in changed and not (probe.display_name or "").strip():
        raise refuse(_("请填写姓名。"), "display_name")
    if "employee_no" in changed and probe.employee_no:
        clash = User.objects.filter(employee_no=probe.employee_no).exclude(pk=probe.pk).first()
        if clash is not None:
            raise refuse(
                _("工号「%(no)s」已被「%(name)s」使用。") % {"no": probe.employee_no, "name": clash}, "employee_no"
            )
    if "department" in changed and probe.department is not None and not probe.department.is_active:
        raise refuse(_("部门「%(name)s」已停用。") % {"name": probe.department.name}, "department")
    if "region" in changed and probe.region is not None and not probe.region.is_active:
        raise refuse(_("片区「%(name)s」已停用。") % {"name": probe.region.name}, "region")
    full_clean(probe, exclude=["password", "department", "region", "last_login", "date_joined"])


def _check_password(password: str, user: User) -> None:
    if not password:
        raise refuse(_("请填写密码。"), "password")
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise refuse(" ".join(exc.messages), "password") from exc


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
    require_manager(actor)
    roles = list(roles)
    if not roles:
        raise refuse(_("请至少选择一个角色。"), "roles")
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
        raise refuse(_("用户名或工号已被使用。"), "username") from exc
    return user


def staff_update(
    *, actor, user: User, values: Mapping[str, Any], expected_version: int | None
) -> dict[str, tuple[Any, Any]]:
    """Change a member of staff's profile: name, 工号, phone, 职务, department, region.
    The username is their login and stays. A stale `expected_version` raises Conflict."""
    require_manager(actor)
    reject_unknown_fields(values, STAFF_FIELDS)
    values = stripped(values)
    try:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            check_version(locked, expected_version)
            probe = probe_with(locked, values)
            if is_self(actor, locked) and (
                probe.department_id != locked.department_id or probe.region_id != locked.region_id
            ):
                # Department and region are part of what one sees.
                raise own_access_refused()
            _validate_staff(probe, changed=field_changes(locked, values))
            return audited_update(
                user, values=values, code="staff.updated", actor=actor, expected_version=expected_version
            )
    except IntegrityError as exc:
        raise refuse(_("工号「%(no)s」已被使用。") % {"no": values.get("employee_no")}, "employee_no") from exc


def _bump_version(locked: User, user: User) -> None:
    locked.version += 1
    locked.save(update_fields=["version"])
    user.version = locked.version


def staff_set_roles(*, actor, user: User, roles: Iterable[str], expected_version: int | None = None) -> list[str]:
    """Replace a member of staff's roles (role codes). Audited with before/after."""
    require_manager(actor)
    groups = _role_groups(roles)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        check_version(locked, expected_version)
        before = sorted(locked.groups.values_list("name", flat=True))
        after = sorted(g.name for g in groups)
        if before == after:
            return after
        if is_self(actor, locked) and set(after) - set(before):
            raise own_access_refused()
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
    require_manager(actor)
    regions, departments = list(regions), list(departments)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        check_version(locked, expected_version)
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
        if is_self(actor, locked) and widens:
            raise own_access_refused()
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
    require_manager(actor)
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
    require_manager(actor)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            raise InvalidState(_("该员工已是在职状态。"))
        audited_update(user, values={"is_active": True}, code="staff.reactivated", actor=actor)
    return user


def staff_set_password(*, actor, user: User, password: str) -> User:
    """Reset a member of staff's password (the password itself is never audited). Their
    other sessions end, since the session hash changes with the password."""
    require_manager(actor)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _check_password(password, locked)
        locked.set_password(password)
        locked.save(update_fields=["password"])
        user.password = locked.password
        audit_record(code="staff.password_set", obj=locked, actor=actor)
    return user
