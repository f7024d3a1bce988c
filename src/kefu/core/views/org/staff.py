"""Pages of the staff (员工) and of the roles (角色) with their permissions."""

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
from kefu.core.views.org.common import MANAGE, filters, form_page, one, run_button

STAFF_PAGE_SIZE = 50
# The services name the password "password"; the forms ask for it twice.
PASSWORD_FIELD = {"password": "password1"}


def _decorate(user, staff) -> None:
    """What a row shows: the phone masked unless the viewer may see it, role names."""
    reveal = may_reveal(user)
    for member in staff:
        member.phone_display = member.phone if reveal else mask_phone(member.phone)
        member.role_labels = selectors.role_labels(member)


def _staff(request, pk: int):
    return one(selectors.staff_list(request.user), pk)


def _detail_url(member) -> str:
    return reverse("org:staff_detail", kwargs={"pk": member.pk})


@require_perm("core.view_user")
def staff_list(request):
    form = StaffFilterForm(request.GET or None, user=request.user)
    queryset = selectors.staff_list(request.user, filters(form))
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

    def save():
        data = dict(form.cleaned_data)
        data["password"] = data.pop("password1")
        data.pop("password2")
        return services.staff_create(actor=request.user, **data)

    return form_page(
        request,
        form,
        title=_("新建员工"),
        back_url=reverse("org:staff_list"),
        save=save,
        success=lambda member: _("已新建员工「%(name)s」。") % {"name": member},
        done=_detail_url,
        renamed=PASSWORD_FIELD,
    )


@require_perm(MANAGE)
def staff_edit(request, pk: int):
    member = _staff(request, pk)
    if request.method == "POST":
        form = StaffEditForm(request.POST, user=request.user, instance=member)
    else:
        form = StaffEditForm(
            initial=StaffEditForm.initial_for(request.user, member), user=request.user, instance=member
        )
    return form_page(
        request,
        form,
        title=_("编辑员工：%(name)s") % {"name": member},
        back_url=_detail_url(member),
        save=lambda: services.staff_update(
            actor=request.user, user=member, values=form.values(), expected_version=form.cleaned_data["version"]
        ),
        success=_("员工资料已保存。"),
        done=_detail_url(member),
    )


@require_perm(MANAGE)
def staff_roles(request, pk: int):
    member = _staff(request, pk)
    if request.method == "POST":
        form = StaffRolesForm(request.POST)
    else:
        form = StaffRolesForm(initial={"roles": selectors.role_codes(member), "version": member.version})
    return form_page(
        request,
        form,
        title=_("设置角色：%(name)s") % {"name": member},
        back_url=_detail_url(member),
        save=lambda: services.staff_set_roles(
            actor=request.user,
            user=member,
            roles=form.cleaned_data["roles"],
            expected_version=form.cleaned_data["version"],
        ),
        success=_("角色已保存。"),
        done=_detail_url(member),
    )


@require_perm(MANAGE)
def staff_scope(request, pk: int):
    member = _staff(request, pk)
    if request.method == "POST":
        form = StaffScopeForm(request.POST, user=request.user)
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
    return form_page(
        request,
        form,
        title=_("设置可见范围：%(name)s") % {"name": member},
        back_url=_detail_url(member),
        save=lambda: services.staff_set_scope(
            actor=request.user,
            user=member,
            scope_all=form.cleaned_data["scope_all"],
            regions=form.cleaned_data["regions"],
            departments=form.cleaned_data["departments"],
            expected_version=form.cleaned_data["version"],
        ),
        success=_("可见范围已保存。"),
        done=_detail_url(member),
    )


@require_perm(MANAGE)
def staff_password(request, pk: int):
    member = _staff(request, pk)
    form = StaffPasswordForm(request.POST or None)

    def save():
        services.staff_set_password(actor=request.user, user=member, password=form.cleaned_data["password1"])
        if member.pk == request.user.pk:
            # Changing one's own password ends other sessions, not this one.
            update_session_auth_hash(request, member)

    return form_page(
        request,
        form,
        title=_("重置密码：%(name)s") % {"name": member},
        back_url=_detail_url(member),
        save=save,
        success=_("已为「%(name)s」重置密码。") % {"name": member},
        done=_detail_url(member),
        renamed=PASSWORD_FIELD,
    )


@require_perm(MANAGE)
@require_POST
def staff_deactivate(request, pk: int):
    member = _staff(request, pk)
    run_button(
        request,
        lambda: services.staff_deactivate(actor=request.user, user=member),
        _("已停用员工「%(name)s」。") % {"name": member},
    )
    return redirect("org:staff_detail", pk=member.pk)


@require_perm(MANAGE)
@require_POST
def staff_reactivate(request, pk: int):
    member = _staff(request, pk)
    run_button(
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
