"""The archive's role grants, menu entries and home-dashboard figures."""

from django.utils.translation import gettext_lazy as _

from kefu.core.navigation import Counter, NavItem, register_counter, register_nav, register_section
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


def _overdue_loans(user) -> int:
    from kefu.customers.services.loans import overdue_loans

    return overdue_loans(user).count()


def register() -> None:
    register_role_permissions(ROLE_GRANTS)
    register_section("customers", _("客户档案"), 10)
    register_nav(NavItem("customers", _("客户档案"), "customers:list", perm=VIEW, order=10))
    register_nav(NavItem("customers", _("新建客户"), "customers:create", perm="customers.add_customer", order=20))
    register_nav(
        NavItem("customers", _("导入客户档案"), "customers:import", perm="customers.import_customer", order=50)
    )
    register_nav(NavItem("customers", _("档案借阅"), "customers:loans", perm="customers.view_archiveloan", order=60))
    register_nav(
        NavItem("customers", _("档案配置"), "customers:settings", perm="customers.manage_archive_settings", order=90)
    )
    register_counter(Counter(_("客户档案"), _live_customers, url_name="customers:list", perm=VIEW, order=20))
    register_counter(
        Counter(
            _("逾期未还档案"), _overdue_loans, url_name="customers:loans", perm="customers.view_archiveloan", order=25
        )
    )
