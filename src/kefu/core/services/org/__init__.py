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

Modules: `structure` (departments and regions, one set of rules for both trees),
`staff`, `roles`, and `common` (the checks they share). Import the services from here.
"""

from kefu.core.services.org.common import MANAGE_ORGANISATION
from kefu.core.services.org.roles import role_set_permissions
from kefu.core.services.org.staff import (
    STAFF_FIELDS,
    staff_create,
    staff_deactivate,
    staff_reactivate,
    staff_set_password,
    staff_set_roles,
    staff_set_scope,
    staff_update,
)
from kefu.core.services.org.structure import (
    DEPARTMENT_FIELDS,
    REGION_FIELDS,
    department_create,
    department_deactivate,
    department_reactivate,
    department_update,
    region_create,
    region_deactivate,
    region_reactivate,
    region_update,
)

__all__ = [
    "DEPARTMENT_FIELDS",
    "MANAGE_ORGANISATION",
    "REGION_FIELDS",
    "STAFF_FIELDS",
    "department_create",
    "department_deactivate",
    "department_reactivate",
    "department_update",
    "region_create",
    "region_deactivate",
    "region_reactivate",
    "region_update",
    "role_set_permissions",
    "staff_create",
    "staff_deactivate",
    "staff_reactivate",
    "staff_set_password",
    "staff_set_roles",
    "staff_set_scope",
    "staff_update",
]
