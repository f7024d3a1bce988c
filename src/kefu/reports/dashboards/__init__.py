"""The role dashboards (看板): which one a user sees, and building it.

A user sees the dashboard of their most senior role (director → manager → supervisor →
agent) whose permission they hold; somebody whose roles have no dashboard of their own
(a superuser, a custom role) gets the most senior one their permissions allow. Inside a
dashboard every widget checks the permission of the list it links to, and every figure
goes through the scoped selectors: a dashboard never shows more than its lists do."""

from __future__ import annotations

import datetime

from django.utils import timezone

from kefu.core import access
from kefu.reports.dashboards import agent, director, manager, supervisor
from kefu.reports.dashboards.base import Context, Dashboard, DashboardSpec
from kefu.reports.periods import Period, parse_period

# Most senior first.
SPECS: tuple[DashboardSpec, ...] = (director.SPEC, manager.SPEC, supervisor.SPEC, agent.SPEC)
SPECS_BY_CODE = {spec.code: spec for spec in SPECS}

# Without a role that has a dashboard: the permission that stands for each one.
FALLBACK_PERMS = (
    ("manager", "reports.manage_subscriptions"),
    ("supervisor", "reports.view_reports"),
    ("agent", "tickets.view_ticket"),
    ("agent", "visits.view_visit"),
)


def _role_codes(user) -> set[str]:
    cache = getattr(user, "_kefu_role_codes", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._kefu_role_codes = cache
    return cache


def dashboard_for(user) -> DashboardSpec | None:
    """The spec of the dashboard `user` sees, or None (finance, admin: no dashboard)."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    roles = _role_codes(user)
    for spec in SPECS:
        if spec.roles & roles and access.has_perm(user, spec.perm):
            return spec
    for code, perm in FALLBACK_PERMS:
        spec = SPECS_BY_CODE[code]
        if access.has_perm(user, perm) and access.has_perm(user, spec.perm):
            return spec
    return None


def build_dashboard(
    spec: DashboardSpec,
    *,
    user,
    period: str | Period | None = None,
    today: datetime.date | None = None,
) -> Dashboard:
    """Compute the dashboard's widgets. `period` (a key such as "2026-11", or a Period)
    matters to the management dashboards only; a bad key is a ValidationFailed (422)."""
    today = today or timezone.localdate()
    chosen = None
    if spec.uses_period:
        chosen = period if isinstance(period, Period) else parse_period(period, today=today)
    ctx = Context(user=user, today=today, period=chosen)
    return Dashboard(code=spec.code, title=str(spec.title), widgets=spec.build(ctx), period=chosen)
