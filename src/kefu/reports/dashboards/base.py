"""What a role dashboard is: a spec (who it is for, how it is built) and the built
dashboard (its widgets). The modules agent / supervisor / manager / director each
define one spec; `kefu.reports.dashboards` picks the one a user sees."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from kefu.core import access
from kefu.reports.dashboards.widgets import Widget
from kefu.reports.periods import Period

VIEW_REPORTS = "reports.view_reports"
VIEW_TICKETS = "tickets.view_ticket"
VIEW_VISITS = "visits.view_visit"
VIEW_TEAM_VISITS = "visits.view_region_visits"
VIEW_CUSTOMERS = "customers.view_customer"


@dataclass
class Context:
    """What a dashboard is built for: the viewer, today, and (management dashboards) the
    period the figures cover."""

    user: Any
    today: datetime.date
    period: Period | None = None

    def can(self, perm: str) -> bool:
        return access.has_perm(self.user, perm)


@dataclass(frozen=True)
class DashboardSpec:
    code: str
    title: str
    # The roles (group names of kefu.core.roles) this dashboard is made for.
    roles: frozenset[str]
    # The permission the dashboard needs at all; each widget also checks the one of the
    # list it links to, so a click never lands on a 403.
    perm: str
    build: Callable[[Context], list[Widget]]
    uses_period: bool = False


@dataclass
class Dashboard:
    code: str
    title: str
    widgets: list[Widget]
    period: Period | None = None
    generated_at: datetime.datetime = field(default_factory=timezone.now)

    def as_json(self) -> dict[str, Any]:
        period = None
        if self.period is not None:
            period = {
                "key": self.period.key(),
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.last_day.isoformat(),
            }
        return {
            "dashboard": self.code,
            "title": self.title,
            "period": period,
            "generated_at": self.generated_at.isoformat(),
            "widgets": [w.as_json() for w in self.widgets],
        }
