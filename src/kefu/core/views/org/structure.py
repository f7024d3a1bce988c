"""Pages of the department and region (片区) trees: list, create, edit, deactivate and
reactivate."""

from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.forms_org import DepartmentFilterForm, DepartmentForm, RegionFilterForm, RegionForm
from kefu.core.selectors import org as selectors
from kefu.core.services import org as services
from kefu.core.views.base import require_perm
from kefu.core.views.org.common import MANAGE, form_page, one, posted_version, run_button, tree_page


def _values(form) -> dict:
    """The service values of a department or region form (the version is checked apart)."""
    data = dict(form.cleaned_data)
    data.pop("version", None)
    return data


def _initial(obj, fields: tuple[str, ...], links: tuple[str, ...]) -> dict:
    """An edit form's initial values: `fields` as they are, `links` (foreign keys) by id."""
    initial = {f: getattr(obj, f) for f in fields}
    initial.update({f: getattr(obj, f"{f}_id") for f in links})
    return initial


# --- departments --------------------------------------------------------------------


@require_perm("core.view_department")
def department_list(request):
    form = DepartmentFilterForm(request.GET or None)
    return tree_page(request, "core/org/department_list.html", form, selectors.department_list)


@require_perm(MANAGE)
def department_create(request):
    form = DepartmentForm(request.POST or None, user=request.user)
    return form_page(
        request,
        form,
        title=_("新建部门"),
        back_url=reverse("org:department_list"),
        save=lambda: services.department_create(actor=request.user, **_values(form)),
        success=lambda department: _("已新建部门「%(name)s」。") % {"name": department.name},
        done="org:department_list",
    )


@require_perm(MANAGE)
def department_edit(request, pk: int):
    department = one(selectors.department_list(request.user), pk)
    if request.method == "POST":
        form = DepartmentForm(request.POST, user=request.user, instance=department)
    else:
        initial = _initial(department, ("code", "name", "kind", "phone", "sort_order", "version"), ("parent", "head"))
        form = DepartmentForm(initial=initial, user=request.user, instance=department)
    return form_page(
        request,
        form,
        title=_("编辑部门：%(name)s") % {"name": department.name},
        back_url=reverse("org:department_list"),
        save=lambda: services.department_update(
            actor=request.user,
            department=department,
            values=_values(form),
            expected_version=form.cleaned_data.get("version"),
        ),
        success=_("部门已保存。"),
        done="org:department_list",
    )


@require_perm(MANAGE)
@require_POST
def department_deactivate(request, pk: int):
    department = one(selectors.department_list(request.user), pk)
    run_button(
        request,
        lambda: services.department_deactivate(
            actor=request.user, department=department, expected_version=posted_version(request)
        ),
        _("已停用部门「%(name)s」。") % {"name": department.name},
    )
    return redirect("org:department_list")


@require_perm(MANAGE)
@require_POST
def department_reactivate(request, pk: int):
    department = one(selectors.department_list(request.user), pk)
    run_button(
        request,
        lambda: services.department_reactivate(
            actor=request.user, department=department, expected_version=posted_version(request)
        ),
        _("已启用部门「%(name)s」。") % {"name": department.name},
    )
    return redirect("org:department_list")


# --- regions ------------------------------------------------------------------------


@require_perm("core.view_region")
def region_list(request):
    form = RegionFilterForm(request.GET or None)
    return tree_page(request, "core/org/region_list.html", form, selectors.region_list)


@require_perm(MANAGE)
def region_create(request):
    form = RegionForm(request.POST or None, user=request.user)
    return form_page(
        request,
        form,
        title=_("新建片区"),
        back_url=reverse("org:region_list"),
        save=lambda: services.region_create(actor=request.user, **_values(form)),
        success=lambda region: _("已新建片区「%(name)s」。") % {"name": region.name},
        done="org:region_list",
    )


@require_perm(MANAGE)
def region_edit(request, pk: int):
    region = one(selectors.region_list(request.user), pk)
    if request.method == "POST":
        form = RegionForm(request.POST, user=request.user, instance=region)
    else:
        initial = _initial(region, ("code", "name", "sort_order", "version"), ("parent",))
        form = RegionForm(initial=initial, user=request.user, instance=region)
    return form_page(
        request,
        form,
        title=_("编辑片区：%(name)s") % {"name": region.name},
        back_url=reverse("org:region_list"),
        save=lambda: services.region_update(
            actor=request.user, region=region, values=_values(form), expected_version=form.cleaned_data.get("version")
        ),
        success=_("片区已保存。"),
        done="org:region_list",
    )


@require_perm(MANAGE)
@require_POST
def region_deactivate(request, pk: int):
    region = one(selectors.region_list(request.user), pk)
    run_button(
        request,
        lambda: services.region_deactivate(actor=request.user, region=region, expected_version=posted_version(request)),
        _("已停用片区「%(name)s」。") % {"name": region.name},
    )
    return redirect("org:region_list")


@require_perm(MANAGE)
@require_POST
def region_reactivate(request, pk: int):
    region = one(selectors.region_list(request.user), pk)
    run_button(
        request,
        lambda: services.region_reactivate(actor=request.user, region=region, expected_version=posted_version(request)),
        _("已启用片区「%(name)s」。") % {"name": region.name},
    )
    return redirect("org:region_list")
