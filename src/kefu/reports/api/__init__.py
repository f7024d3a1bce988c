"""/api/v1/reports: the same figures as the report pages and their Excel files, and the
viewer's dashboard. The dashboard's router is mounted first so /reports/dashboard is not
taken for a report key."""

from ninja import Router

from kefu.reports.api.reports import router as reports_router
from kefu.reports.api_dashboard import router as dashboard_router

router = Router()
router.add_router("", dashboard_router)
router.add_router("", reports_router)

__all__ = ["router"]
