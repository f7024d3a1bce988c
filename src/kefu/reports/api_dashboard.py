"""GET /api/v1/reports/dashboard: the viewer's role dashboard as JSON — the same widgets,
figures and list addresses as the page (both come from `kefu.reports.dashboards`)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Query, Router, Schema

from kefu.core.errors import AccessDenied
from kefu.core.schemas import errors
from kefu.reports.dashboards import build_dashboard, dashboard_for

router = Router(tags=["reports"])


class DashboardPeriodOut(Schema):
    key: str
    label: str
    start: str
    end: str = Field(description="统计期间的最后一天（含）")


class DashboardOut(Schema):
    dashboard: str = Field(description="看板：director、manager、supervisor 或 agent")
    title: str
    period: DashboardPeriodOut | None = None
    generated_at: str
    widgets: list[dict[str, Any]] = Field(
        description="看板组件：figures（指标，含 value 与明细列表 url）、bar/hbar/line/pie/funnel（categories 与 "
        "series，每个数据点含 value 与 url）、table（columns 与 rows）。counts=true 的系列、exact=true 的指标，"
        "其数值等于 url 所指列表对同一用户显示的行数。"
    )


class DashboardQuery(Schema):
    period: str | None = Field(
        None,
        max_length=40,
        description="统计期间（经理、总经理看板）：2026-11、2026-Q4、2026、2026-W47 或 2026-11-01..2026-11-15；默认本月",
    )


@router.get(
    "/reports/dashboard",
    response={200: DashboardOut, **errors(403, 422)},
    summary="我的看板",
    description="按当前用户的角色返回其看板（与网页看板相同的数据与明细链接）。没有看板的角色返回 403。",
    operation_id="reports_dashboard",
)
def dashboard(request, query: Query[DashboardQuery]):
    spec = dashboard_for(request.user)
    if spec is None:
        raise AccessDenied("您的角色没有看板。")
    return build_dashboard(spec, user=request.user, period=query.period).as_json()
