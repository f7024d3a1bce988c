"""Rows for the role dashboards: the page and the API for every role that has a
dashboard (403 for the others), and the click-through redirect for everybody logged in
(the list it leads to checks its own permission)."""

from tests.permissions.matrix import EVERY_ROLE, Row, roles

WITH_DASHBOARD = roles(
    "manager", "supervisor", "agent", "account_manager", "quality_officer", "department_staff", "director"
)

ROWS = [
    Row("reports-dashboard-page", lambda w: "/reports/dashboard/", WITH_DASHBOARD),
    Row("reports-dashboard-api", lambda w: "/api/v1/reports/dashboard", WITH_DASHBOARD, api=True),
    Row("reports-dashboard-go", lambda w: "/reports/dashboard/go/?to=%2Ftickets%2F", EVERY_ROLE),
]
