"""/api/v1/reports: the same figures as the report pages and their Excel files."""

from ninja import Router

router = Router(tags=["reports"])
