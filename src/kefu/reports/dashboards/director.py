"""总经理看板: the period's key figures against the previous period and the same period
last year, then the management charts shared with the manager (`management`). No
queues: the director reads results, the department works the queues."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from kefu.reports.dashboards.base import VIEW_REPORTS, Context, DashboardSpec
from kefu.reports.dashboards.management import management_widgets
from kefu.reports.dashboards.widgets import Widget


def build(ctx: Context) -> list[Widget]:
    return management_widgets(ctx, last_year=True)


SPEC = DashboardSpec(
    code="director",
    title=gettext_lazy("总经理看板"),
    roles=frozenset({"director"}),
    perm=VIEW_REPORTS,
    build=build,
    uses_period=True,
)
