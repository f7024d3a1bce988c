"""Rows for 组织管理: lists for every role; forms, buttons and API writes for those who
manage the organisation (客服部经理, 系统管理员)."""

from django.urls import reverse

from tests.factories import DepartmentFactory, RegionFactory
from tests.permissions.matrix import EVERY_ROLE, Row, roles

MANAGERS = roles("manager", "admin")
PASSWORD = "Ke-fu-2024-new!"


def _department(w, **fields):
    return DepartmentFactory(code="matrix-spare", name="备用部门", **fields)


def _region(w, **fields):
    return RegionFactory(code="matrix-spare", name="备用片区", **fields)


def _member(w, **fields):
    # In every role's scope: the matrix users belong to the same region.
    return w.make_user("agent", username="matrix-target", region=w.region, **fields)


def _url(name, *args):
    return reverse(f"org:{name}", args=args)


ROWS = [
    # lists and detail pages
    Row("org-department-list", lambda w: _url("department_list"), EVERY_ROLE),
    Row("org-region-list", lambda w: _url("region_list"), EVERY_ROLE),
    Row("org-staff-list", lambda w: _url("staff_list"), EVERY_ROLE),
    Row("org-staff-detail", lambda w: _url("staff_detail", _member(w).pk), EVERY_ROLE),
    Row("org-role-list", lambda w: _url("role_list"), EVERY_ROLE),
    # forms (GET)
    Row("org-department-create-page", lambda w: _url("department_create"), MANAGERS),
    Row("org-department-edit-page", lambda w: _url("department_edit", _department(w).pk), MANAGERS),
    Row("org-region-create-page", lambda w: _url("region_create"), MANAGERS),
    Row("org-region-edit-page", lambda w: _url("region_edit", _region(w).pk), MANAGERS),
    Row("org-staff-create-page", lambda w: _url("staff_create"), MANAGERS),
    Row("org-staff-edit-page", lambda w: _url("staff_edit", _member(w).pk), MANAGERS),
    Row("org-staff-roles-page", lambda w: _url("staff_roles", _member(w).pk), MANAGERS),
    Row("org-staff-scope-page", lambda w: _url("staff_scope", _member(w).pk), MANAGERS),
    Row("org-staff-password-page", lambda w: _url("staff_password", _member(w).pk), MANAGERS),
    Row("org-role-permissions-page", lambda w: _url("role_permissions", "finance"), MANAGERS),
    # POSTs
    Row(
        "org-department-create",
        lambda w: _url("department_create"),
        MANAGERS,
        method="post",
        data=lambda w: {"code": "matrix-new", "name": "新部门", "kind": "other", "sort_order": 0},
    ),
    Row(
        "org-department-edit",
        lambda w: _url("department_edit", _department(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"code": "matrix-spare", "name": "改名", "kind": "other", "sort_order": 0, "version": 1},
    ),
    Row(
        "org-department-deactivate",
        lambda w: _url("department_deactivate", _department(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"version": 1},
    ),
    Row(
        "org-department-reactivate",
        lambda w: _url("department_reactivate", _department(w, is_active=False).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"version": 1},
    ),
    Row(
        "org-region-create",
        lambda w: _url("region_create"),
        MANAGERS,
        method="post",
        data=lambda w: {"code": "matrix-new", "name": "新片区", "sort_order": 0},
    ),
    Row(
        "org-region-edit",
        lambda w: _url("region_edit", _region(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"code": "matrix-spare", "name": "改名", "sort_order": 0, "version": 1},
    ),
    Row(
        "org-region-deactivate",
        lambda w: _url("region_deactivate", _region(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"version": 1},
    ),
    Row(
        "org-region-reactivate",
        lambda w: _url("region_reactivate", _region(w, is_active=False).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"version": 1},
    ),
    Row(
        "org-staff-create",
        lambda w: _url("staff_create"),
        MANAGERS,
        method="post",
        data=lambda w: {
            "username": "matrix-new",
            "display_name": "新员工",
            "roles": ["agent"],
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    ),
    Row(
        "org-staff-edit",
        lambda w: _url("staff_edit", _member(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"display_name": "改名", "region": w.region.pk, "version": 1},
    ),
    Row(
        "org-staff-roles",
        lambda w: _url("staff_roles", _member(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"roles": ["supervisor"], "version": 1},
    ),
    Row(
        "org-staff-scope",
        lambda w: _url("staff_scope", _member(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"scope_all": "on", "version": 1},
    ),
    Row(
        "org-staff-password",
        lambda w: _url("staff_password", _member(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {"password1": PASSWORD, "password2": PASSWORD},
    ),
    Row(
        "org-staff-deactivate",
        lambda w: _url("staff_deactivate", _member(w).pk),
        MANAGERS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "org-staff-reactivate",
        lambda w: _url("staff_reactivate", _member(w, is_active=False).pk),
        MANAGERS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "org-role-permissions",
        lambda w: _url("role_permissions", "finance"),
        MANAGERS,
        method="post",
        data=lambda w: {"permissions": ["core.view_user", "core.view_department"]},
    ),
    # API reads
    Row("api-departments", lambda w: "/api/v1/departments", EVERY_ROLE, api=True),
    Row("api-department", lambda w: f"/api/v1/departments/{w.department.pk}", EVERY_ROLE, api=True),
    Row("api-regions", lambda w: "/api/v1/regions", EVERY_ROLE, api=True),
    Row("api-region", lambda w: f"/api/v1/regions/{w.region.pk}", EVERY_ROLE, api=True),
    Row("api-staff-list", lambda w: "/api/v1/staff", EVERY_ROLE, api=True),
    Row("api-staff-get", lambda w: f"/api/v1/staff/{_member(w).pk}", EVERY_ROLE, api=True),
    # API writes
    Row(
        "api-department-create",
        lambda w: "/api/v1/departments",
        MANAGERS,
        method="post",
        api=True,
        data=lambda w: {"code": "matrix-new", "name": "新部门"},
    ),
    Row(
        "api-department-patch",
        lambda w: f"/api/v1/departments/{_department(w).pk}",
        MANAGERS,
        method="patch",
        api=True,
        data=lambda w: {"version": 1, "name": "改名"},
    ),
    Row(
        "api-region-create",
        lambda w: "/api/v1/regions",
        MANAGERS,
        method="post",
        api=True,
        data=lambda w: {"code": "matrix-new", "name": "新片区"},
    ),
    Row(
        "api-region-patch",
        lambda w: f"/api/v1/regions/{_region(w).pk}",
        MANAGERS,
        method="patch",
        api=True,
        data=lambda w: {"version": 1, "name": "改名"},
    ),
    Row(
        "api-staff-create",
        lambda w: "/api/v1/staff",
        MANAGERS,
        method="post",
        api=True,
        data=lambda w: {"username": "matrix-new", "display_name": "新员工", "password": PASSWORD, "roles": ["agent"]},
    ),
    Row(
        "api-staff-patch",
        lambda w: f"/api/v1/staff/{_member(w).pk}",
        MANAGERS,
        method="patch",
        api=True,
        data=lambda w: {"version": 1, "title": "组长", "roles": ["supervisor"]},
    ),
]
