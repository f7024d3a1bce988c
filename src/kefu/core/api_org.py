"""Organisation API: departments, regions (片区) and staff. Reads go through the org
selectors, writes through the org services, so the API sees and may do exactly what the
web pages do."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from kefu.core import access
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.models import Department, DepartmentKind, Region, User
from kefu.core.pagination import keyset_page
from kefu.core.pii import mask_phone, may_reveal
from kefu.core.schemas import errors
from kefu.core.selectors import org as selectors
from kefu.core.services import org as services

router = Router(tags=["organisation"])

MANAGE = "core.manage_organisation"
PAGE_SIZE = 50


# --- schemas ------------------------------------------------------------------------


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    kind: DepartmentKind
    parent_id: int | None
    head_id: int | None
    phone: str
    is_active: bool
    sort_order: int
    version: int


class DepartmentIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=80)
    kind: DepartmentKind = DepartmentKind.OTHER
    parent_id: int | None = None
    head_id: int | None = None
    phone: str = Field("", max_length=32)
    sort_order: int = Field(0, ge=0)


class DepartmentPatch(Schema):
    version: int = Field(description="读取时的版本号；已被他人修改时返回 409")
    code: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=80)
    kind: DepartmentKind | None = None
    parent_id: int | None = None
    head_id: int | None = None
    phone: str | None = Field(None, max_length=32)
    sort_order: int | None = Field(None, ge=0)
    is_active: bool | None = Field(None, description="false 停用（有在职员工时拒绝），true 重新启用")


class DepartmentPage(Schema):
    items: list[DepartmentOut]
    next_cursor: str | None


class RegionOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    is_active: bool
    sort_order: int
    version: int


class RegionIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=80)
    parent_id: int | None = None
    sort_order: int = Field(0, ge=0)


class RegionPatch(Schema):
    version: int = Field(description="读取时的版本号；已被他人修改时返回 409")
    code: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=80)
    parent_id: int | None = None
    sort_order: int | None = Field(None, ge=0)
    is_active: bool | None = Field(None, description="false 停用（有在职员工时拒绝），true 重新启用")


class RegionPage(Schema):
    items: list[RegionOut]
    next_cursor: str | None


class StaffOut(Schema):
    id: int
    username: str
    display_name: str
    employee_no: str
    phone: str = Field(description="无「查看完整手机号」权限时脱敏")
    title: str
    email: str
    department_id: int | None
    region_id: int | None
    roles: list[str]
    scope_all: bool
    scope_region_ids: list[int]
    scope_department_ids: list[int]
    is_active: bool
    version: int


class StaffIn(Schema):
    username: str = Field(max_length=150)
    display_name: str = Field(max_length=60)
    password: str = Field(description="初始密码，须符合密码规则；不会被返回或记入审计日志")
    roles: list[str] = Field(description="角色编码，如 agent、supervisor")
    department_id: int | None = None
    region_id: int | None = None
    employee_no: str = Field("", max_length=32)
    phone: str = Field("", max_length=32)
    title: str = Field("", max_length=60)
    email: str = ""
    scope_all: bool | None = Field(None, description="省略时按角色默认")
    scope_region_ids: list[int] = []
    scope_department_ids: list[int] = []


class StaffPatch(Schema):
    version: int = Field(description="读取时的版本号；已被他人修改时返回 409")
    display_name: str | None = Field(None, max_length=60)
    employee_no: str | None = Field(None, max_length=32)
    phone: str | None = Field(None, max_length=32)
    title: str | None = Field(None, max_length=60)
    email: str | None = None
    department_id: int | None = None
    region_id: int | None = None
    roles: list[str] | None = None
    scope_all: bool | None = None
    scope_region_ids: list[int] | None = None
    scope_department_ids: list[int] | None = None
    is_active: bool | None = None


class StaffPage(Schema):
    items: list[StaffOut]
    next_cursor: str | None


# --- helpers ------------------------------------------------------------------------


def _page(queryset, cursor: str | None, order: tuple[str, ...], limit: int):
    return keyset_page(queryset, order=order, cursor=cursor, size=limit)


def _pick(queryset, pk: int | None, field: str):
    """An id from the request body resolved through a selector: unknown → 422."""
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(
            _("%(field)s 无效：%(id)s 不存在。") % {"field": field, "id": pk}, details={"field": field}
        )
    return obj


def _pick_many(queryset, ids: list[int], field: str) -> list:
    found = list(queryset.filter(pk__in=set(ids)))
    missing = sorted(set(ids) - {obj.pk for obj in found})
    if missing:
        raise ValidationFailed(
            _("%(field)s 无效：%(ids)s 不存在。") % {"field": field, "ids": ", ".join(map(str, missing))},
            details={"field": field},
        )
    return found


def _visible(queryset, pk: int):
    """One row through its selector: absent or out of the caller's view → 404."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(_("对象不存在或不在您的可见范围内。"))
    return obj


def _refuse_nulls(values: dict[str, Any], *, nullable: tuple[str, ...] = ()) -> None:
    """PATCH sets a field to null only where that means something (no parent, no head)."""
    for name, value in values.items():
        if value is None and name not in nullable:
            raise ValidationFailed(_("字段不能为 null。"), details={"field": name})


def _staff_out(viewer, user: User) -> StaffOut:
    return StaffOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        employee_no=user.employee_no,
        phone=user.phone if may_reveal(viewer) else mask_phone(user.phone),
        title=user.title,
        email=user.email,
        department_id=user.department_id,
        region_id=user.region_id,
        roles=selectors.role_codes(user),
        scope_all=user.scope_all,
        scope_region_ids=sorted(r.pk for r in user.scope_regions.all()),
        scope_department_ids=sorted(d.pk for d in user.scope_departments.all()),
        is_active=user.is_active,
        version=user.version,
    )


def _staff_qs(user, filters=None):
    return selectors.staff_list(user, filters).prefetch_related("scope_regions", "scope_departments")


def _get_staff(user, pk: int) -> User:
    return _visible(_staff_qs(user), pk)


# --- departments --------------------------------------------------------------------


@router.get("/departments", response={200: DepartmentPage, **errors(403, 422)}, summary="部门列表")
def department_list(
    request,
    q: str = "",
    kind: DepartmentKind | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
):
    access.require(request.user, selectors.VIEW_DEPARTMENT)
    qs = selectors.department_list(request.user, {"q": q, "kind": kind, "active": active})
    page = _page(qs, cursor, ("sort_order", "code"), limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


def _department(user, pk: int) -> Department:
    return _visible(selectors.department_list(user), pk)


@router.get("/departments/{department_id}", response={200: DepartmentOut, **errors(403, 404)}, summary="部门详情")
def department_get(request, department_id: int):
    access.require(request.user, selectors.VIEW_DEPARTMENT)
    return _department(request.user, department_id)


@router.post("/departments", response={201: DepartmentOut, **errors(403, 422)}, summary="新建部门")
def department_create(request, payload: DepartmentIn):
    access.require(request.user, MANAGE)
    user = request.user
    data = payload.model_dump()
    department = services.department_create(
        actor=user,
        code=data["code"],
        name=data["name"],
        kind=data["kind"],
        parent=_pick(selectors.department_list(user), data["parent_id"], "parent_id"),
        head=_pick(selectors.staff_list(user), data["head_id"], "head_id"),
        phone=data["phone"],
        sort_order=data["sort_order"],
    )
    return Status(201, department)


@router.patch(
    "/departments/{department_id}", response={200: DepartmentOut, **errors(403, 404, 409, 422)}, summary="修改部门"
)
def department_update(request, department_id: int, payload: DepartmentPatch):
    access.require(request.user, MANAGE)
    user = request.user
    department = _department(user, department_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    is_active = data.pop("is_active", None)
    values: dict[str, Any] = {k: v for k, v in data.items() if k not in {"parent_id", "head_id"}}
    if "parent_id" in data:
        values["parent"] = _pick(selectors.department_list(user), data["parent_id"], "parent_id")
    if "head_id" in data:
        values["head"] = _pick(selectors.staff_list(user), data["head_id"], "head_id")
    _refuse_nulls(values, nullable=("parent", "head"))
    with transaction.atomic():
        services.department_update(actor=user, department=department, values=values, expected_version=version)
        if is_active is not None and is_active != department.is_active:
            change = services.department_reactivate if is_active else services.department_deactivate
            change(actor=user, department=department)
    return _department(user, department_id)


# --- regions ------------------------------------------------------------------------


@router.get("/regions", response={200: RegionPage, **errors(403, 422)}, summary="片区列表")
def region_list(request, q: str = "", active: bool | None = None, cursor: str | None = None, limit: int = PAGE_SIZE):
    access.require(request.user, selectors.VIEW_REGION)
    qs = selectors.region_list(request.user, {"q": q, "active": active})
    page = _page(qs, cursor, ("sort_order", "code"), limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


def _region(user, pk: int) -> Region:
    return _visible(selectors.region_list(user), pk)


@router.get("/regions/{region_id}", response={200: RegionOut, **errors(403, 404)}, summary="片区详情")
def region_get(request, region_id: int):
    access.require(request.user, selectors.VIEW_REGION)
    return _region(request.user, region_id)


@router.post("/regions", response={201: RegionOut, **errors(403, 422)}, summary="新建片区")
def region_create(request, payload: RegionIn):
    access.require(request.user, MANAGE)
    user = request.user
    region = services.region_create(
        actor=user,
        code=payload.code,
        name=payload.name,
        parent=_pick(selectors.region_list(user), payload.parent_id, "parent_id"),
        sort_order=payload.sort_order,
    )
    return Status(201, region)


@router.patch("/regions/{region_id}", response={200: RegionOut, **errors(403, 404, 409, 422)}, summary="修改片区")
def region_update(request, region_id: int, payload: RegionPatch):
    access.require(request.user, MANAGE)
    user = request.user
    region = _region(user, region_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    is_active = data.pop("is_active", None)
    values: dict[str, Any] = {k: v for k, v in data.items() if k != "parent_id"}
    if "parent_id" in data:
        values["parent"] = _pick(selectors.region_list(user), data["parent_id"], "parent_id")
    _refuse_nulls(values, nullable=("parent",))
    with transaction.atomic():
        services.region_update(actor=user, region=region, values=values, expected_version=version)
        if is_active is not None and is_active != region.is_active:
            change = services.region_reactivate if is_active else services.region_deactivate
            change(actor=user, region=region)
    return _region(user, region_id)


# --- staff --------------------------------------------------------------------------


@router.get("/staff", response={200: StaffPage, **errors(403, 422)}, summary="员工列表")
def staff_list(
    request,
    q: str = "",
    department_id: int | None = None,
    region_id: int | None = None,
    role: str = "",
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
):
    access.require(request.user, selectors.VIEW_USER)
    filters = {"q": q, "department": department_id, "region": region_id, "role": role, "active": active}
    page = _page(_staff_qs(request.user, filters), cursor, ("username", "id"), limit)
    return {"items": [_staff_out(request.user, u) for u in page.items], "next_cursor": page.next_cursor}


@router.get("/staff/{staff_id}", response={200: StaffOut, **errors(403, 404)}, summary="员工详情")
def staff_get(request, staff_id: int):
    access.require(request.user, selectors.VIEW_USER)
    return _staff_out(request.user, _get_staff(request.user, staff_id))


@router.post("/staff", response={201: StaffOut, **errors(403, 422)}, summary="新建员工")
def staff_create(request, payload: StaffIn):
    access.require(request.user, MANAGE)
    user = request.user
    member = services.staff_create(
        actor=user,
        username=payload.username,
        display_name=payload.display_name,
        password=payload.password,
        roles=payload.roles,
        department=_pick(selectors.department_list(user), payload.department_id, "department_id"),
        region=_pick(selectors.region_list(user), payload.region_id, "region_id"),
        employee_no=payload.employee_no,
        phone=payload.phone,
        title=payload.title,
        email=payload.email,
        scope_all=payload.scope_all,
        scope_regions=_pick_many(selectors.region_list(user), payload.scope_region_ids, "scope_region_ids"),
        scope_departments=_pick_many(
            selectors.department_list(user), payload.scope_department_ids, "scope_department_ids"
        ),
    )
    return Status(201, _staff_out(user, _get_staff(user, member.pk)))


_PROFILE = ("display_name", "employee_no", "phone", "title", "email")


@router.patch("/staff/{staff_id}", response={200: StaffOut, **errors(403, 404, 409, 422)}, summary="修改员工")
def staff_update(request, staff_id: int, payload: StaffPatch):
    """Profile, roles, scope and active state in one request, all or nothing; `version`
    is checked once, before any change."""
    access.require(request.user, MANAGE)
    user = request.user
    member = _get_staff(user, staff_id)
    data = payload.model_dump(exclude_unset=True)
    values: dict[str, Any] = {k: data[k] for k in _PROFILE if k in data}
    _refuse_nulls(values)
    if "department_id" in data:
        values["department"] = _pick(selectors.department_list(user), data["department_id"], "department_id")
    if "region_id" in data:
        values["region"] = _pick(selectors.region_list(user), data["region_id"], "region_id")
    scope_keys = {"scope_all", "scope_region_ids", "scope_department_ids"} & data.keys()
    if scope_keys:
        current_regions = list(member.scope_regions.all())
        current_departments = list(member.scope_departments.all())
        scope = {
            "scope_all": member.scope_all if data.get("scope_all") is None else data["scope_all"],
            "regions": current_regions
            if data.get("scope_region_ids") is None
            else _pick_many(selectors.region_list(user), data["scope_region_ids"], "scope_region_ids"),
            "departments": current_departments
            if data.get("scope_department_ids") is None
            else _pick_many(selectors.department_list(user), data["scope_department_ids"], "scope_department_ids"),
        }
    with transaction.atomic():
        # The row lock taken by the first service holds until the end of this block.
        services.staff_update(actor=user, user=member, values=values, expected_version=data["version"])
        if data.get("roles") is not None:
            services.staff_set_roles(actor=user, user=member, roles=data["roles"])
        if scope_keys:
            services.staff_set_scope(actor=user, user=member, **scope)
        is_active = data.get("is_active")
        if is_active is not None and is_active != member.is_active:
            change = services.staff_reactivate if is_active else services.staff_deactivate
            change(actor=user, user=member)
    return _staff_out(user, _get_staff(user, staff_id))
