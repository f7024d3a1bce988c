"""客服部经理看板: the live queues of the whole department on top (what needs a decision
now), then the period's key figures against the previous period and the management
charts shared with the director (`management`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from kefu.reports.dashboards.base import VIEW_REPORTS, VIEW_TICKETS, Context, DashboardSpec
from kefu.reports.dashboards.management import management_widgets
from kefu.reports.dashboards.supervisor import queue_figures
from kefu.reports.dashboards.widgets import Widget


def build(ctx: Context) -> list[Widget]:
    widgets: list[Widget] = []
    if ctx.can(VIEW_TICKETS):
        widgets.append(queue_figures(ctx))
    return widgets + management_widgets(ctx, last_year=False)


SPEC = DashboardSpec(
    code="manager",
    title=gettext_lazy("经理看板"),
    roles=frozenset({"manager"}),
    perm=VIEW_REPORTS,
    build=build,
    uses_period=True,
)
