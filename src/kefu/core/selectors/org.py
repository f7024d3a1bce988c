"""Read selectors of the organisation: departments, regions, staff, roles, and the
catalogue of permissions a role may hold. The HTML pages and the API read through these
only, so both show the same rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Count, Model, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.models import Department, Region, User
from kefu.core.roles import ROLES, ROLES_BY_CODE, role_name

MANAGE_ORGANISATION = "core.manage_organisation"
VIEW_DEPARTMENT = "core.view_department"
VIEW_REGION = "core.view_region"
VIEW_USER = "core.view_user"


def _pk(value: Any) -> Any:
    return value.pk if isinstance(value, Model) else value


def _pick_list(queryset: QuerySet, user, perm: str) -> QuerySet:
    """Departments and regions are picked by everyone (routing a ticket to another
    department, filing a visit for a region): the models declare no scope fields, so
    the view permission alone grants all of them."""
    return access.restrict(queryset, user, perm)


def _active(filters: Mapping[str, Any]) -> bool | None:
    value = filters.get("active")
    if value in (None, ""):
        return None
    if isinstance(value, str):
        return value.lower() in {"1", "true", "yes", "on"}
    return bool(value)


# --- departments and regions ---------------------------------------------------------


def department_list(
    user, filters: Mapping[str, Any] | None = None, *, staff_counts: bool = False
) -> QuerySet[Department]:
    """Departments `user` may see (with `staff_count`, active staff, if asked). Filters:
    `q` (code or name), `kind`, `active`, `parent`."""
    filters = filters or {}
    qs = Department.objects.select_related("parent", "head")
    if staff_counts:
        qs = qs.annotate(staff_count=Count("staff", filter=Q(staff__is_active=True)))
    qs = _pick_list(qs, user, VIEW_DEPARTMENT)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if kind := filters.get("kind"):
        qs = qs.filter(kind=kind)
    if (active := _active(filters)) is not None:
        qs = qs.filter(is_active=active)
    if parent := filters.get("parent"):
        qs = qs.filter(parent=_pk(parent))
    return qs.order_by("sort_order", "code")


def region_list(user, filters: Mapping[str, Any] | None = None, *, staff_counts: bool = False) -> QuerySet[Region]:
    """Regions (片区) `user` may see (with `staff_count`, active staff, if asked).
    Filters: `q`, `active`, `parent`."""
    filters = filters or {}
    qs = Region.objects.select_related("parent")
    if staff_counts:
        qs = qs.annotate(staff_count=Count("staff", filter=Q(staff__is_active=True)))
    qs = _pick_list(qs, user, VIEW_REGION)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if (active := _active(filters)) is not None:
        qs = qs.filter(is_active=active)
    if parent := filters.get("parent"):
        qs = qs.filter(parent=_pk(parent))
    return qs.order_by("sort_order", "code")


def as_tree(nodes: Iterable[Any]) -> list[tuple[Any, int]]:
    """(node, depth) in tree order: each node followed by its children, siblings in the
    order given. A node whose parent is not among `nodes` (filtered out) is a root."""
    nodes = list(nodes)
    ids = {n.pk for n in nodes}
    children: dict[Any, list[Any]] = {}
    for node in nodes:
        parent = node.parent_id if node.parent_id in ids else None
        children.setdefault(parent, []).append(node)
    ordered: list[tuple[Any, int]] = []
    seen: set[Any] = set()

    def walk(parent, depth):
        for node in children.get(parent, []):
            if node.pk in seen:  # a cycle in bad data must not loop forever
                continue
            seen.add(node.pk)
            ordered.append((node, depth))
            walk(node.pk, depth + 1)

    walk(None, 0)
    # Nodes caught in a parent cycle never hang below the root: list them last.
    ordered.extend((node, 0) for node in nodes if node.pk not in seen)
    return ordered


# --- staff --------------------------------------------------------------------------


def may_manage(user) -> bool:
    return access.has_perm(user, MANAGE_ORGANISATION)


def staff_list(user, filters: Mapping[str, Any] | None = None) -> QuerySet[User]:
    """Staff `user` may see. A viewer without `scope_all` sees staff of their own regions
    and departments (and themselves); whoever manages the organisation sees all staff,
    since the staff list is where they do it (a 系统管理员 has no customer scope).
    Filters: `q` (username, name, 工号; phone for those who may see phone numbers, else
    an exact number), `department`, `region`, `role` (code), `active`."""
    filters = filters or {}
    qs = User.objects.select_related("department", "region").prefetch_related("groups")
    if not (access.has_perm(user, VIEW_USER) and may_manage(user)):
        qs = access.restrict(qs, user, VIEW_USER)
    if q := (filters.get("q") or "").strip():
        match = Q(username__icontains=q) | Q(display_name__icontains=q) | Q(employee_no__icontains=q)
        # A partial phone search would let someone who sees masked numbers recover them.
        match |= Q(phone__icontains=q) if access.has_perm(user, "core.reveal_pii") else Q(phone=q)
        qs = qs.filter(match)
    if department := filters.get("department"):
        qs = qs.filter(department=_pk(department))
    if region := filters.get("region"):
        qs = qs.filter(region=_pk(region))
    if role := filters.get("role"):
        qs = qs.filter(groups__name=role)
    if (active := _active(filters)) is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("username", "id")


def role_codes(user: User) -> list[str]:
    """The role codes of a user whose groups were prefetched."""
    return sorted(g.name for g in user.groups.all())


def role_labels(user: User) -> list[str]:
    return [role_name(code) for code in _in_role_order(role_codes(user))]


def _in_role_order(codes: Iterable[str]) -> list[str]:
    order = {role.code: i for i, role in enumerate(ROLES)}
    return sorted(codes, key=lambda code: (order.get(code, len(order)), code))


# --- roles --------------------------------------------------------------------------


def role_list(user) -> list[Group]:
    """The roles (groups) with `label`, `description`, `member_count` (active members)
    and `permission_count`, in the order of PRODUCT.md §1. Anyone who may see staff may
    see which roles exist."""
    if not access.has_perm(user, VIEW_USER):
        return []
    groups = Group.objects.annotate(
        member_count=Count("user", filter=Q(user__is_active=True), distinct=True),
        permission_count=Count("permissions", distinct=True),
    )
    by_code = {g.name: g for g in groups}
    ordered = [by_code[code] for code in _in_role_order(by_code)]
    for group in ordered:
        role = ROLES_BY_CODE.get(group.name)
        group.label = role_name(group.name)
        group.description = str(role.description) if role else ""
    return ordered


def role_choices() -> list[tuple[str, str]]:
    """(code, Chinese name) of every role, for checkboxes."""
    codes = Group.objects.values_list("name", flat=True)
    return [(code, role_name(code)) for code in _in_role_order(codes)]


def role_get(user, code: str) -> Group | None:
    if not access.has_perm(user, VIEW_USER):
        return None
    group = Group.objects.filter(name=code).first()
    if group is not None:
        role = ROLES_BY_CODE.get(code)
        group.label = role_name(code)
        group.description = str(role.description) if role else ""
    return group


def kefu_app_labels() -> set[str]:
    """The apps whose permissions a role may hold (Kefu's own, not Django's)."""
    return {config.label for config in apps.get_app_configs() if config.name.startswith("kefu.")}


def role_permission_codes(group: Group) -> list[str]:
    return sorted(
        f"{app}.{codename}"
        for app, codename in group.permissions.filter(content_type__app_label__in=kefu_app_labels()).values_list(
            "content_type__app_label", "codename"
        )
    )


_ACTIONS = {"view": 0, "add": 1, "change": 2, "delete": 3}


def _action_label(action: str) -> str:
    return {"view": _("查看"), "add": _("新增"), "change": _("修改"), "delete": _("删除")}[action]


def permission_label(permission: Permission, model: type[Model] | None = None) -> str:
    """A permission's name in the current language: 查看部门, 管理组织：部门、片区…"""
    model = model or permission.content_type.model_class()
    if model is not None:
        action, _sep, model_name = permission.codename.partition("_")
        if action in _ACTIONS and model_name == model._meta.model_name:
            # "查看部门" / "View department": the word order and spacing are the language's.
            return _("%(action)s%(model)s") % {"action": _action_label(action), "model": model._meta.verbose_name}
        for codename, label in model._meta.permissions:
            if codename == permission.codename:
                return str(label)
    return permission.name


def permission_catalogue() -> list[dict[str, Any]]:
    """The permissions a role may hold, grouped by app and, within it, by model (the
    capabilities that are not a model's add/change/delete/view come first):
    [{"app": "core", "label": 组织与基础, "permissions": [{"code", "label", "model"}…]}]."""
    labels = kefu_app_labels()
    perms = Permission.objects.filter(content_type__app_label__in=labels).select_related("content_type")
    capability = _("功能权限")
    groups: dict[str, list[dict[str, Any]]] = {}
    for perm in perms:
        model = perm.content_type.model_class()
        action, _sep, model_name = perm.codename.partition("_")
        is_crud = model is not None and action in _ACTIONS and model_name == model._meta.model_name
        model_label = str(model._meta.verbose_name) if is_crud else capability
        groups.setdefault(perm.content_type.app_label, []).append(
            {
                "code": f"{perm.content_type.app_label}.{perm.codename}",
                "label": permission_label(perm, model),
                "model": model_label,
                "sort": (is_crud, model_label, _ACTIONS.get(action, 9), perm.codename),
            }
        )
    catalogue = []
    for app_label in sorted(groups, key=lambda a: (a != "core", a)):
        items = sorted(groups[app_label], key=lambda p: p["sort"])
        catalogue.append(
            {"app": app_label, "label": str(apps.get_app_config(app_label).verbose_name), "permissions": items}
        )
    return catalogue
