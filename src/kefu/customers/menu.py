"""The archive's role grants, menu entries and home-dashboard figures."""

from django.utils.translation import gettext_lazy as _

from kefu.core.navigation import Counter, register_counter, register_section
from kefu.core.roles import register_role_permissions

VIEW = "customers.view_customer"
EDIT = ["customers.view_customer", "customers.add_customer", "customers.change_customer"]

# Department staff see no archive (only the tickets routed to them); the system
# administrator configures the archive but sees no customer (PRODUCT.md §1).
ROLE_GRANTS = {
    "manager": [
        *EDIT,
        "customers.export_customer",
        "customers.import_customer",
        "customers.merge_customer",
        "customers.change_credit",
        "customers.lend_archive",
        "customers.view_archiveloan",
        "customers.manage_archive_settings",
    ],
    "supervisor": [*EDIT],
    "agent": [*EDIT],
    "account_manager": [*EDIT],
    "archivist": [
        *EDIT,
        "customers.export_customer",
        "customers.import_customer",
        "customers.merge_customer",
        "customers.change_credit",
        "customers.lend_archive",
        "customers.view_archiveloan",
    ],
    "quality_officer": [VIEW],
    "finance": [VIEW],
    "director": [VIEW, "customers.export_customer", "customers.view_archiveloan"],
    "admin": ["customers.manage_archive_settings"],
}


def _live_customers(user) -> int:
    from kefu.customers.selectors import customer_base

    return customer_base(user).count()


def register() -> None:
    register_role_permissions(ROLE_GRANTS)
    register_section("customers", _("客户档案"), 10)
    register_counter(Counter(_("客户档案"), _live_customers, perm=VIEW, order=20))
