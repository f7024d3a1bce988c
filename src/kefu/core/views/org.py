"""Pages of 组织管理: departments, regions (片区), staff, roles and their permissions.

Lists are open to everyone with the view permission; every page or button that changes
something needs `core.manage_organisation`, and the services check it again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.forms import add_service_error
from kefu.core.forms_org import (
    DepartmentFilterForm,
    DepartmentForm,
    RegionFilterForm,
    RegionForm,
    RolePermissionsForm,
    StaffCreateForm,
    StaffEditForm,
    StaffFilterForm,
    StaffPasswordForm,
    StaffRolesForm,
    StaffScopeForm,
)
from kefu.core.pagination import keyset_page
from kefu.core.pii import mask_phone, may_reveal
from kefu.core.selectors import org as selectors
from kefu.core.services import org as services
from kefu.core.views.base import require_perm

MANAGE = "core.manage_organisation"
STAFF_PAGE_SIZE = 50


def _filters(form) -> dict:
    return form.cleaned_data if form.is_valid() else {}


def _version(request) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _one(queryset, pk):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def _run(request, action, success: str) -> bool:
    """Call a service for a button (no form): its refusal becomes an error message."""
    try:
        action()
    except KefuError as err:
        messages.error(request, err.message)
        return False
    messages.success(request, success)
    return True


# --- departments --------------------------------------------------------------------


@require_perm("core.view_department")
def department_list(request):
    form = DepartmentFilterForm(request.GET or None)
    rows = selectors.as_tree(selectors.department_list(request.user, _filters(form), staff_counts=True))
    return render(
        request,
        "core/org/department_list.html",
        {"rows": rows, "filter_form": form, "can_manage": selectors.may_manage(request.user)},
    )


def _department_values(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("version", None)
    return data


@require_perm(MANAGE)
def department_create(request):
    form = DepartmentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            department = services.department_create(actor=request.user, **_department_values(form))
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("已新建部门「%(name)s」。") % {"name": department.name})
            return redirect("org:department_list")
    return render(
        request,
        "core/org/form.html",
        {"form": form, "title": _("新建部门"), "back_url": reverse("org:department_list")},
    )


@require_perm(MANAGE)
def department_edit(request, pk: int):
    department = _one(selectors.department_list(request.user), pk)
    if request.method == "POST":
        form = DepartmentForm(request.POST, user=request.user, instance=department)
        if form.is_valid():
            try:
                services.department_update(
                    actor=request.user,
                    department=department,
                    values=_department_values(form),
                    expected_version=form.cleaned_data.get("version"),
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("部门已保存。"))
                return redirect("org:department_list")
    else:
        initial = {f: getattr(department, f) for f in ("code", "name", "kind", "phone", "sort_order", "version")}
        initial.update(parent=department.parent_id, head=department.head_id)
        form = DepartmentForm(initial=initial, user=request.user, instance=department)
    return render(
        request,
        "core/org/form.html",
        {
            "form": form,
            "title": _("编辑部门：%(name)s") % {"name": department.name},
            "back_url": reverse("org:department_list"),
        },
    )


@require_perm(MANAGE)
@require_POST
def department_deactivate(request, pk: int):
    department = _one(selectors.department_list(request.user), pk)
    _run(
        request,
        lambda: services.department_deactivate(
            actor=request.user, department=department, expected_version=_version(request)
        ),
        _("已停用部门「%(name)s」。") % {"name": department.name},
    )
    return redirect("org:department_list")


@require_perm(MANAGE)
@require_POST
def department_reactivate(request, pk: int):
    department = _one(selectors.department_list(request.user), pk)
    _run(
        request,
        lambda: services.department_reactivate(
            actor=request.user, department=department, expected_version=_version(request)
        ),
        _("已启用部门「%(name)s」。") % {"name": department.name},
    )
    return redirect("org:department_list")


# --- regions ------------------------------------------------------------------------


@require_perm("core.view_region")
def region_list(request):
    form = RegionFilterForm(request.GET or None)
    rows = selectors.as_tree(selectors.region_list(request.user, _filters(form), staff_counts=True))
    return render(
        request,
        "core/org/region_list.html",
        {"rows": rows, "filter_form": form, "can_manage": selectors.may_manage(request.user)},
    )


@require_perm(MANAGE)
def region_create(request):
    form = RegionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            region = services.region_create(actor=request.user, **_department_values(form))
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("已新建片区「%(name)s」。") % {"name": region.name})
            return redirect("org:region_list")
    return render(
        request, "core/org/form.html", {"form": form, "title": _("新建片区"), "back_url": reverse("org:region_list")}
    )


@require_perm(MANAGE)
def region_edit(request, pk: int):
    region = _one(selectors.region_list(request.user), pk)
    if request.method == "POST":
        form = RegionForm(request.POST, user=request.user, instance=region)
        if form.is_valid():
            try:
                services.region_update(
                    actor=request.user,
                    region=region,
                    values=_department_values(form),
                    expected_version=form.cleaned_data.get("version"),
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("片区已保存。"))
                return redirect("org:region_list")
    else:
        initial = {f: getattr(region, f) for f in ("code", "name", "sort_order", "version")}
        initial["parent"] = region.parent_id
        form = RegionForm(initial=initial, user=request.user, instance=region)
    return render(
        request,
        "core/org/form.html",
        {
            "form": form,
            "title": _("编辑片区：%(name)s") % {"name": region.name},
            "back_url": reverse("org:region_list"),
        },
    )


@require_perm(MANAGE)
@require_POST
def region_deactivate(request, pk: int):
    region = _one(selectors.region_list(request.user), pk)
    _run(
        request,
        lambda: services.region_deactivate(actor=request.user, region=region, expected_version=_version(request)),
        _("已停用片区「%(name)s」。") % {"name": region.name},
    )
    return redirect("org:region_list")


@require_perm(MANAGE)
@require_POST
def region_reactivate(request, pk: int):
    region = _one(selectors.region_list(request.user), pk)
    _run(
        request,
        lambda: services.region_reactivate(actor=request.user, region=region, expected_version=_version(request)),
        _("已启用片区「%(name)s」。") % {"name": region.name},
    )
    return redirect("org:region_list")


# --- staff --------------------------------------------------------------------------


def _decorate(user, staff) -> None:
    """What a row shows: the phone masked unless the viewer may see it, role names."""
    reveal = may_reveal(user)
    for member in staff:
        member.phone_display = member.phone if reveal else mask_phone(member.phone)
        member.role_labels = selectors.role_labels(member)


@require_perm("core.view_user")
def staff_list(request):
    form = StaffFilterForm(request.GET or None, user=request.user)
    queryset = selectors.staff_list(request.user, _filters(form))
    try:
        page = keyset_page(queryset, order=("username", "id"), cursor=request.GET.get("cursor"), size=STAFF_PAGE_SIZE)
    except ValidationFailed:
        page = keyset_page(queryset, order=("username", "id"), cursor=None, size=STAFF_PAGE_SIZE)
    _decorate(request.user, page.items)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "core/org/staff_list.html",
        {
            "page": page,
            "filter_form": form,
            "query_without_cursor": query.urlencode(),
            "can_manage": selectors.may_manage(request.user),
        },
    )


def _staff(request, pk: int):
    return _one(selectors.staff_list(request.user), pk)


@require_perm("core.view_user")
def staff_detail(request, pk: int):
    member = _staff(request, pk)
    _decorate(request.user, [member])
    return render(
        request,
        "core/org/staff_detail.html",
        {
            "member": member,
            "scope_regions": member.scope_regions.order_by("sort_order", "code"),
            "scope_departments": member.scope_departments.order_by("sort_order", "code"),
            "can_manage": selectors.may_manage(request.user),
            "is_self": member.pk == request.user.pk,
        },
    )


@require_perm(MANAGE)
def staff_create(request):
    form = StaffCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["password"] = data.pop("password1")
        data.pop("password2")
        try:
            member = services.staff_create(actor=request.user, **data)
        except KefuError as err:
            if isinstance(err.details, dict) and err.details.get("field") == "password":
                err.details = {**err.details, "field": "password1"}
            add_service_error(form, err)
        else:
            messages.success(request, _("已新建员工「%(name)s」。") % {"name": member})
            return redirect("org:staff_detail", pk=member.pk)
    return render(
        request, "core/org/form.html", {"form": form, "title": _("新建员工"), "back_url": reverse("org:staff_list")}
    )


@require_perm(MANAGE)
def staff_edit(request, pk: int):
    member = _staff(request, pk)
    if request.method == "POST":
        form = StaffEditForm(request.POST, user=request.user, instance=member)
        if form.is_valid():
            try:
                services.staff_update(
                    actor=request.user, user=member, values=form.values(), expected_version=form.cleaned_data["version"]
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("员工资料已保存。"))
                return redirect("org:staff_detail", pk=member.pk)
    else:
        form = StaffEditForm(
            initial=StaffEditForm.initial_for(request.user, member), user=request.user, instance=member
        )
    return render(
        request,
        "core/org/form.html",
        {"form": form, "title": _("编辑员工：%(name)s") % {"name": member}, "back_url": _detail_url(member)},
    )


def _detail_url(member) -> str:
    return reverse("org:staff_detail", kwargs={"pk": member.pk})


@require_perm(MANAGE)
def staff_roles(request, pk: int):
    member = _staff(request, pk)
    if request.method == "POST":
        form = StaffRolesForm(request.POST)
        if form.is_valid():
            try:
                services.staff_set_roles(
                    actor=request.user,
                    user=member,
                    roles=form.cleaned_data["roles"],
                    expected_version=form.cleaned_data["version"],
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("角色已保存。"))
                return redirect("org:staff_detail", pk=member.pk)
    else:
        form = StaffRolesForm(initial={"roles": selectors.role_codes(member), "version": member.version})
    return render(
        request,
        "core/org/form.html",
        {"form": form, "title": _("设置角色：%(name)s") % {"name": member}, "back_url": _detail_url(member)},
    )


@require_perm(MANAGE)
def staff_scope(request, pk: int):
    member = _staff(request, pk)
    if request.method == "POST":
        form = StaffScopeForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.staff_set_scope(
                    actor=request.user,
                    user=member,
                    scope_all=form.cleaned_data["scope_all"],
                    regions=form.cleaned_data["regions"],
                    departments=form.cleaned_data["departments"],
                    expected_version=form.cleaned_data["version"],
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("可见范围已保存。"))
                return redirect("org:staff_detail", pk=member.pk)
    else:
        form = StaffScopeForm(
            initial={
                "scope_all": member.scope_all,
                "regions": list(member.scope_regions.values_list("pk", flat=True)),
                "departments": list(member.scope_departments.values_list("pk", flat=True)),
                "version": member.version,
            },
            user=request.user,
        )
    return render(
        request,
        "core/org/form.html",
        {"form": form, "title": _("设置可见范围：%(name)s") % {"name": member}, "back_url": _detail_url(member)},
    )


@require_perm(MANAGE)
def staff_password(request, pk: int):
    member = _staff(request, pk)
    form = StaffPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_set_password(actor=request.user, user=member, password=form.cleaned_data["password1"])
        except KefuError as err:
            if isinstance(err.details, dict) and err.details.get("field") == "password":
                err.details = {**err.details, "field": "password1"}
            add_service_error(form, err)
        else:
            if member.pk == request.user.pk:
                update_session_auth_hash(request, member)
            messages.success(request, _("已为「%(name)s」重置密码。") % {"name": member})
            return redirect("org:staff_detail", pk=member.pk)
    return render(
        request,
        "core/org/form.html",
        {"form": form, "title": _("重置密码：%(name)s") % {"name": member}, "back_url": _detail_url(member)},
    )


@require_perm(MANAGE)
@require_POST
def staff_deactivate(request, pk: int):
    member = _staff(request, pk)
    _run(
        request,
        lambda: services.staff_deactivate(actor=request.user, user=member),
        _("已停用员工「%(name)s」。") % {"name": member},
    )
    return redirect("org:staff_detail", pk=member.pk)


@require_perm(MANAGE)
@require_POST
def staff_reactivate(request, pk: int):
    member = _staff(request, pk)
    _run(
        request,
        lambda: services.staff_reactivate(actor=request.user, user=member),
        _("已恢复员工「%(name)s」。") % {"name": member},
    )
    return redirect("org:staff_detail", pk=member.pk)


# --- roles --------------------------------------------------------------------------


@require_perm("core.view_user")
def role_list(request):
    return render(
        request,
        "core/org/role_list.html",
        {"roles": selectors.role_list(request.user), "can_manage": selectors.may_manage(request.user)},
    )


@require_perm(MANAGE)
def role_permissions(request, code: str):
    role = selectors.role_get(request.user, code)
    if role is None:
        raise Http404
    catalogue = selectors.permission_catalogue()
    if request.method == "POST":
        form = RolePermissionsForm(request.POST, catalogue=catalogue)
        if form.is_valid():
            try:
                services.role_set_permissions(
                    actor=request.user, role_code=role.name, permissions=form.cleaned_data["permissions"]
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("角色「%(name)s」的权限已保存。") % {"name": role.label})
                return redirect("org:role_list")
        selected = set(request.POST.getlist("permissions"))
    else:
        selected = set(selectors.role_permission_codes(role))
        form = RolePermissionsForm(initial={"permissions": sorted(selected)}, catalogue=catalogue)
    return render(
        request,
        "core/org/role_permissions.html",
        {"role": role, "form": form, "catalogue": catalogue, "selected": selected},
    )
