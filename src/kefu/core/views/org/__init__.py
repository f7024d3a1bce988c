"""Pages of 组织管理: departments, regions (片区), staff, roles and their permissions.

Lists are open to everyone with the view permission; every page or button that changes
something needs `core.manage_organisation`, and the services check it again.

Modules: `structure` (the department and region trees), `staff` (staff and roles),
`common` (what every page shares). `kefu.core.urls_org` routes to the names below."""

from kefu.core.views.org.common import MANAGE
from kefu.core.views.org.staff import (
    STAFF_PAGE_SIZE,
    role_list,
    role_permissions,
    staff_create,
    staff_deactivate,
    staff_detail,
    staff_edit,
    staff_list,
    staff_password,
    staff_reactivate,
    staff_roles,
    staff_scope,
)
from kefu.core.views.org.structure import (
    department_create,
    department_deactivate,
    department_edit,
    department_list,
    department_reactivate,
    region_create,
    region_deactivate,
    region_edit,
    region_list,
    region_reactivate,
)

__all__ = [
    "MANAGE",
    "STAFF_PAGE_SIZE",
    "department_create",
    "department_deactivate",
    "department_edit",
    "department_list",
    "department_reactivate",
    "region_create",
    "region_deactivate",
    "region_edit",
    "region_list",
    "region_reactivate",
    "role_list",
    "role_permissions",
    "staff_create",
    "staff_deactivate",
    "staff_detail",
    "staff_edit",
    "staff_list",
    "staff_password",
    "staff_reactivate",
    "staff_roles",
    "staff_scope",
]
