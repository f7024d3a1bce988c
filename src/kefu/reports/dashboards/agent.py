"""客服专员看板: the agent's own work, live — my queue (by status and deadline state), my
tickets due today, my return visits due today and overdue. Department staff see their
department's slips here too. No report permission is needed: every figure is one of
the agent's own lists."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import access
from kefu.reports.dashboards import links
from kefu.reports.dashboards.base import VIEW_TICKETS, VIEW_VISITS, Context, DashboardSpec
from kefu.reports.dashboards.widgets import Column, Figure, Point, Series, Widget
from kefu.tickets.choices import OPEN_STATUSES, SlaState, TicketStatus
from kefu.tickets.selectors import TicketFilters, ticket_list, with_list_related
from kefu.visits.selectors import call_list

DUE_TODAY_ROWS = 10


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def my_tickets(ctx: Context) -> list[Widget]:
    """My queue: one GROUP BY (status × deadline state) gives the figures and the chart."""
    mine = ticket_list(user=ctx.user, filters=TicketFilters(queue="mine"))
    rows = list(mine.order_by().values("status", "sla_state").annotate(n=Count("pk")))
    total = sum(r["n"] for r in rows)
    warning = sum(r["n"] for r in rows if r["sla_state"] == SlaState.WARNING)
    breached = sum(r["n"] for r in rows if r["sla_state"] == SlaState.BREACHED)
    figures = Widget(
        key="my_tickets",
        title=_("我的工单"),
        kind="figures",
        width=12,
        figures=[
            Figure("mine", _("我的工单"), total, links.tickets(queue="mine")),
            Figure(
                "mine_warning",
                _("即将超时"),
                warning,
                links.tickets(queue="mine", sla_state=SlaState.WARNING),
                tone="warning" if warning else "",
            ),
            Figure(
                "mine_breached",
                _("已超时"),
                breached,
                links.tickets(queue="mine", sla_state=SlaState.BREACHED),
                tone="danger" if breached else "",
            ),
        ],
    )
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
    statuses = [s for s in TicketStatus if s in by_status]
    chart = Widget(
        key="my_queue",
        title=_("我的工单（按状态）"),
        kind="bar",
        categories=[str(s.label) for s in statuses],
        series=[
            Series(
                _("工单数"),
                [Point(by_status[s], links.tickets(queue="mine", status=s.value)) for s in statuses],
            )
        ],
        empty=_("您名下没有进行中的工单。"),
    )
    return [figures, chart]


def due_today(ctx: Context) -> Widget:
    """My open tickets whose deadline falls before tomorrow (overdue first): the list
    to work through today."""
    tomorrow = _day_start(ctx.today + datetime.timedelta(days=1))
    qs = (
        ticket_list(user=ctx.user, filters=TicketFilters(queue="mine"))
        .filter(status__in=OPEN_STATUSES, resolve_due_at__lt=tomorrow)
        .order_by("resolve_due_at", "id")
    )
    rows = [
        {
            "number": t.number,
            "url": links.ticket(t.pk),
            "title": t.title,
            "kind": t.kind.name,
            "due": timezone.localtime(t.resolve_due_at).strftime("%m-%d %H:%M"),
            "state": t.get_sla_state_display(),
        }
        for t in with_list_related(qs)[:DUE_TODAY_ROWS]
    ]
    return Widget(
        key="due_today",
        title=_("今日到期的工单"),
        kind="table",
        columns=[
            Column("number", _("工单编号"), link="url"),
            Column("title", _("标题")),
            Column("kind", _("类型")),
            Column("due", _("解决期限")),
            Column("state", _("时限状态")),
        ],
        rows=rows,
        # Exactly the tickets of the table (the list's `due_to` is on the resolution
        # deadline; the three open statuses are its open flag), most urgent first.
        more_url=links.tickets(queue="mine", status=OPEN_STATUSES, due_to=ctx.today, sort="due"),
        empty=_("今天没有到期的工单。"),
    )


def department_slips(ctx: Context) -> Widget | None:
    """The slips routed to my department that still need work (department staff)."""
    if not access.has_perm(ctx.user, "tickets.handle_ticket") or not access.user_department_ids(ctx.user):
        return None
    count = ticket_list(user=ctx.user, filters=TicketFilters(queue="department")).count()
    return Widget(
        key="department_slips",
        title=_("本部门告知单"),
        kind="figures",
        figures=[Figure("department", _("待处理告知单"), count, links.tickets(queue="department"))],
    )


def my_visits(ctx: Context) -> Widget:
    """My call list: due today and overdue (one query), upcoming (one count)."""
    due = call_list(user=ctx.user, today=ctx.today, section="due").aggregate(
        total=Count("id"), overdue=Count("id", filter=Q(due_date__lt=ctx.today))
    )
    upcoming = call_list(user=ctx.user, today=ctx.today, section="upcoming").count()
    due_url = links.own_visits("due")
    return Widget(
        key="my_visits",
        title=_("我的回访"),
        kind="figures",
        figures=[
            Figure("visits_due", _("今日及逾期待回访"), due["total"], due_url),
            Figure(
                "visits_overdue",
                _("其中逾期"),
                due["overdue"],
                due_url,
                exact=False,
                tone="danger" if due["overdue"] else "",
            ),
            Figure("visits_upcoming", _("即将回访"), upcoming, links.own_visits("upcoming")),
        ],
    )


def build(ctx: Context) -> list[Widget]:
    widgets: list[Widget] = []
    if ctx.can(VIEW_TICKETS):
        widgets += my_tickets(ctx)
        widgets.append(due_today(ctx))
        slips = department_slips(ctx)
        if slips is not None:
            widgets.append(slips)
    if ctx.can(VIEW_VISITS):
        widgets.append(my_visits(ctx))
    return widgets


SPEC = DashboardSpec(
    code="agent",
    title=gettext_lazy("我的工作台"),
    roles=frozenset({"agent", "account_manager", "department_staff"}),
    perm=VIEW_TICKETS,
    build=build,
)
