"""The shell around every module: login, home dashboard."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from kefu.core import navigation
from kefu.core.workcal import calendar_warnings


@login_required
def home(request):
    """工作台: the modules' counters, then the viewer's role dashboard (the same one as
    /reports/dashboard/, for the current month)."""
    from kefu.reports.dashboards import build_dashboard, dashboard_for
    from kefu.reports.views.dashboard import dashboard_context

    context = {"counters": navigation.counters_for(request.user), "calendar_warnings": calendar_warnings()}
    spec = dashboard_for(request.user)
    if spec is not None:
        context.update(dashboard_context(build_dashboard(spec, user=request.user)))
    return render(request, "core/home.html", context)
