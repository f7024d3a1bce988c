"""How reports plug in at start-up: role grants, menu entries, and the report counters' part
in other modules' bulk inserts."""

from django.utils.translation import gettext_lazy as _

VIEW = "reports.view_reports"
EXPORT = "reports.export_reports"
MANAGE_SUBSCRIPTIONS = "reports.manage_subscriptions"

# The agent's dashboard needs no report permission; agents get none.
ROLE_GRANTS = {
    "manager": [VIEW, EXPORT, MANAGE_SUBSCRIPTIONS],
    "director": [VIEW, EXPORT, MANAGE_SUBSCRIPTIONS],
    "supervisor": [VIEW, EXPORT],
    "quality_officer": [VIEW, EXPORT],
    "account_manager": [VIEW, EXPORT],
}


def register() -> None:
    from kefu.core.navigation import NavItem, register_nav, register_section
    from kefu.core.roles import register_role_permissions

    register_role_permissions(ROLE_GRANTS)
    _register_bulk_insert_guards()
    register_section("reports", _("统计报表"), 60)
    # Everyone with a dashboard works tickets (finance and admin have neither), so the
    # entry is not offered to whom the dashboard would answer 403.
    register_nav(NavItem("reports", _("工作台"), "reports:dashboard", perm="tickets.view_ticket", order=10))
    register_nav(NavItem("reports", _("统计报表"), "reports:index", perm=VIEW, order=20))
    register_nav(NavItem("reports", _("我的报表"), "reports:my_deliveries", perm=VIEW, order=25))
    register_nav(NavItem("reports", _("报表订阅"), "reports:subscriptions", perm=MANAGE_SUBSCRIPTIONS, order=30))


def _register_bulk_insert_guards() -> None:
    """A bulk INSERT … SELECT into a counted table (visit planning) pauses the counters'
    row trigger and counts the new rows in one statement after (SQLite; see
    `rollup.maintain.inserts_counted_after`)."""
    from functools import partial

    from kefu.core.bulk import register_bulk_insert_guard
    from kefu.reports.rollup import maintain, schema

    for spec in schema.SPECS:
        register_bulk_insert_guard(spec.source, f"reports.{spec.name}", partial(maintain.inserts_counted_after, spec))
