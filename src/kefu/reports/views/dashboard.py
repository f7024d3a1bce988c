"""The role dashboard page (/reports/dashboard/) and the click-through redirect of its
charts. The home page shows the same dashboard through `dashboard_context`."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kefu.core.errors import ValidationFailed
from kefu.reports.dashboards import build_dashboard, dashboard_for
from kefu.reports.dashboards.base import Dashboard
from kefu.reports.dashboards.widgets import chart_option, click_base
from kefu.reports.periods import period_for

# The pages a chart segment may lead to: the lists behind the figures, nothing else (the
# redirect must not become a way to send people anywhere).
LIST_VIEWS = {"tickets:list", "visits:list", "customers:list"}


def dashboard_context(dashboard: Dashboard) -> dict:
    """What the dashboard templates need: per widget its ECharts option (rendered with
    json_script: no inline script under the CSP) and the linked segments (the table
    under each chart, for keyboards and screen readers)."""
    cards = []
    for widget in dashboard.widgets:
        card = {"widget": widget, "option_id": f"dashboard-chart-{widget.key}"}
        if widget.is_chart:
            card["option"] = chart_option(widget)
            card["segments"] = widget.segments()
        cards.append(card)
    return {"dashboard": dashboard, "cards": cards, "click_base": click_base()}


def _quick_periods(today) -> list[dict]:
    month = period_for("month", today)
    return [
        {"label": _("本月"), "key": month.key()},
        {"label": _("上月"), "key": month.previous().key()},
        {"label": _("本季度"), "key": period_for("quarter", today).key()},
        {"label": _("本年"), "key": period_for("year", today).key()},
    ]


@require_GET
@login_required
def dashboard_view(request):
    """看板: the viewer's role dashboard; `?period=` (2026-11, 2026-Q4, 2026, 2026-W47,
    2026-11-01..2026-11-15) for the management dashboards. A bad period is shown as an
    error above the current month's figures."""
    spec = dashboard_for(request.user)
    if spec is None:
        raise PermissionDenied
    error = ""
    raw = request.GET.get("period")
    try:
        dashboard = build_dashboard(spec, user=request.user, period=raw)
    except ValidationFailed as err:
        error = err.message
        dashboard = build_dashboard(spec, user=request.user, period=None)
    context = dashboard_context(dashboard)
    if dashboard.period is not None:
        context["quick_periods"] = _quick_periods(timezone.localdate())
    context.update({"error": error, "period_value": (raw or "")[:40] if error else ""})
    return render(request, "reports/dashboard/page.html", context, status=422 if error else 200)


def _list_target(value: str) -> str | None:
    """`value` if it is the address of one of the list pages on this site."""
    parts = urlsplit(value or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.view_name not in LIST_VIEWS:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@require_GET
@login_required
def dashboard_go(request):
    """A chart segment was clicked: on to the list behind it. The list itself checks
    permission and scope; anything but a list address goes back to the dashboard."""
    target = _list_target(request.GET.get("to", ""))
    if target is None:
        messages.info(request, _("这个数据段没有对应的明细列表。"))
        return redirect(reverse("reports:dashboard"))
    return redirect(target)
