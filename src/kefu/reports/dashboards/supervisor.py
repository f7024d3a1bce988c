"""主管看板: the team in the supervisor's scope, live — queue figures, the load per
person (open tickets and visits due), overdue tickets per responsible department,
escalations, SLA compliance today and this week (the report figures of
`kefu.reports.selectors`), and this week's visits done against planned.

Each figure is one GROUP BY over a scoped selector (`ticket_list`, `visit_base`), so the
number of queries does not grow with the team or the data."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.reports.dashboards import links
from kefu.reports.dashboards.base import VIEW_REPORTS, VIEW_TEAM_VISITS, VIEW_TICKETS, Context, DashboardSpec
from kefu.reports.dashboards.widgets import BAD, GOOD, NEUTRAL, WARN, Figure, Point, Series, Widget
from kefu.reports.periods import make_range, period_for
from kefu.reports.selectors.common import names_of, user_names
from kefu.reports.selectors.tickets import ticket_totals
from kefu.tickets.choices import Severity, SlaState, TicketStatus
from kefu.tickets.selectors import TicketFilters, ticket_list
from kefu.visits.choices import VisitStatus
from kefu.visits.selectors import visit_base

WEEK_STATUSES = (VisitStatus.DONE, VisitStatus.FAILED, VisitStatus.PLANNED)
# The busiest people shown in the load chart (a long tail of ones is not a chart).
LOAD_PEOPLE = 15


def queue_figures(ctx: Context) -> Widget:
    """The queues a supervisor watches — one aggregate over the open queue (every other
    queue counted here is a part of it)."""
    figures = ticket_list(user=ctx.user, filters=TicketFilters(queue="open")).aggregate(
        open=Count("pk"),
        unrouted=Count("pk", filter=Q(status=TicketStatus.REGISTERED)),
        due_soon=Count("pk", filter=Q(sla_state=SlaState.WARNING)),
        overdue=Count("pk", filter=Q(sla_state=SlaState.BREACHED)),
        escalated=Count("pk", filter=Q(escalation_level__gt=0)),
    )
    cards = [
        Figure("open", _("未完结工单"), figures["open"], links.tickets(queue="open")),
        Figure("unrouted", _("待派单"), figures["unrouted"], links.tickets(queue="unrouted")),
        Figure(
            "due_soon",
            _("即将超时"),
            figures["due_soon"],
            links.tickets(queue="due_soon"),
            tone="warning" if figures["due_soon"] else "",
        ),
        Figure(
            "overdue",
            _("已超时"),
            figures["overdue"],
            links.tickets(queue="overdue"),
            tone="danger" if figures["overdue"] else "",
        ),
        Figure("escalated", _("已升级"), figures["escalated"], links.tickets(queue="escalated")),
    ]
    if ctx.can(VIEW_TEAM_VISITS):
        late = visit_base(ctx.user).filter(status=VisitStatus.PLANNED, due_date__lt=ctx.today).count()
        cards.append(
            Figure(
                "visits_overdue",
                _("逾期回访"),
                late,
                links.visits(status=VisitStatus.PLANNED, overdue="on"),
                tone="danger" if late else "",
            )
        )
    return Widget(key="team_queues", title=_("班组队列"), kind="figures", figures=cards, width=12)


def _visit_staff_ids(ctx: Context) -> set[int | None]:
    """Whom the visit list's assignee filter accepts for this viewer (and None: its
    `none`, the unassigned visits): a segment of somebody else (a former employee) would
    be refused by that form, so it gets no link."""
    from kefu.visits.forms import visit_staff

    return {None, *visit_staff(ctx.user).values_list("pk", flat=True)}


def team_load(ctx: Context, staff: set[int | None] | None) -> Widget:
    """Per person: open tickets, and planned visits due today or earlier."""
    tickets = dict(
        ticket_list(user=ctx.user, filters=TicketFilters(queue="open"))
        .order_by()
        .values_list("assignee")
        .annotate(n=Count("pk"))
    )
    visits: dict = {}
    if staff is not None:
        visits = dict(
            visit_base(ctx.user)
            .filter(status=VisitStatus.PLANNED, due_date__lte=ctx.today)
            .order_by()
            .values_list("assignee")
            .annotate(n=Count("pk"))
        )
    people = sorted(
        set(tickets) | set(visits),
        key=lambda pk: (-(tickets.get(pk, 0) + visits.get(pk, 0)), pk is None, pk or 0),
    )[:LOAD_PEOPLE]
    names = user_names(people)
    categories = [names.get(pk, _("未分配")) if pk is not None else _("未分配") for pk in people]
    series = [
        Series(
            _("未完结工单"),
            [Point(tickets.get(pk, 0), links.tickets(queue="open", assignee=links.ident(pk))) for pk in people],
            stack="load",
            color=NEUTRAL,
        )
    ]
    if staff is not None:
        series.append(
            Series(
                _("今日及逾期待回访"),
                [
                    Point(
                        visits.get(pk, 0),
                        links.visits(assignee=links.ident(pk), status=VisitStatus.PLANNED, due_to=ctx.today)
                        if pk in staff
                        else None,
                    )
                    for pk in people
                ],
                stack="load",
                color=WARN,
            )
        )
    return Widget(
        key="team_load",
        title=_("班组负荷"),
        kind="hbar",
        categories=categories,
        series=series,
        empty=_("班组目前没有待办工作。"),
    )


def overdue_by_department(ctx: Context) -> Widget:
    rows = dict(
        ticket_list(user=ctx.user, filters=TicketFilters(queue="overdue"))
        .order_by()
        .values_list("responsible_department")
        .annotate(n=Count("pk"))
    )
    order = sorted(rows, key=lambda pk: (-rows[pk], pk is None, pk or 0))
    names = names_of(_department_model(), order)
    return Widget(
        key="overdue_by_department",
        title=_("已超时工单（按责任部门）"),
        kind="bar",
        categories=[names.get(pk, _("未指定部门")) if pk is not None else _("未指定部门") for pk in order],
        series=[
            Series(
                _("已超时"),
                [
                    Point(rows[pk], links.tickets(queue="overdue", responsible_department=links.ident(pk)))
                    for pk in order
                ],
                color=BAD,
            )
        ],
        empty=_("没有超时的工单。"),
    )


def _department_model():
    from kefu.core.models import Department

    return Department


def escalations(ctx: Context) -> Widget:
    rows = dict(
        ticket_list(user=ctx.user, filters=TicketFilters(queue="escalated"))
        .order_by()
        .values_list("severity")
        .annotate(n=Count("pk"))
    )
    severities = [s for s in Severity if s in rows]
    return Widget(
        key="escalations",
        title=_("升级工单（按严重程度）"),
        kind="pie",
        categories=[str(s.label) for s in severities],
        series=[
            Series(
                _("已升级"),
                [Point(rows[s], links.tickets(queue="escalated", severity=s.value)) for s in severities],
            )
        ],
        empty=_("没有升级中的工单。"),
    )


def sla_compliance(ctx: Context) -> Widget:
    """SLA compliance of the tickets registered today and this week (the report figure:
    resolved ones not breached, of all resolved). Resolved is `resolved_at` set — the
    list's `resolved=1`, which keeps a ticket withdrawn or closed after its handling
    as the report does — so each segment is exactly its list."""
    periods = [
        (_("今日"), make_range(ctx.today, ctx.today)),
        (_("本周"), period_for("week", ctx.today)),
    ]
    totals = [ticket_totals(user=ctx.user, period=period, p90=False) for _label, period in periods]

    def url(period, state: str) -> str | None:
        states = [SlaState.BREACHED] if state == "breached" else [s for s in SlaState if s != SlaState.BREACHED]
        return links.tickets(resolved=1, sla_state=states, **links.period_dates(period.start, period.end))

    return Widget(
        key="sla_compliance",
        title=_("时限达标率（今日 / 本周登记）"),
        kind="bar",
        categories=[
            f"{label} {t['sla_rate']}%" if t["sla_rate"] is not None else f"{label} —"
            for (label, _p), t in zip(periods, totals, strict=True)
        ],
        series=[
            Series(
                _("按时处理"),
                [Point(t["sla_met"], url(p, "met")) for (_l, p), t in zip(periods, totals, strict=True)],
                stack="sla",
                color=GOOD,
            ),
            Series(
                _("超时处理"),
                [Point(t["sla_breached"], url(p, "breached")) for (_l, p), t in zip(periods, totals, strict=True)],
                stack="sla",
                color=BAD,
            ),
        ],
        note=_("达标率 = 已处理工单中未超时的比例。"),
        empty=_("今日和本周登记的工单尚未处理完成。"),
    )


def week_visits(ctx: Context, staff: set[int | None]) -> Widget:
    """This week's visits (by due date) per person: done, failed and still planned —
    the stack is what was planned, the green part what was done."""
    week = period_for("week", ctx.today)
    rows = list(
        visit_base(ctx.user)
        # The three statuses named, rather than "not cancelled": the (status, due_date)
        # index then serves each as a range scan of one week.
        .filter(status__in=WEEK_STATUSES, due_date__gte=week.start, due_date__lt=week.end)
        .order_by()
        .values_list("assignee", "status")
        .annotate(n=Count("pk"))
    )
    counts: dict[tuple, int] = {(pk, status): n for pk, status, n in rows}
    totals: dict = {}
    for pk, _status, n in rows:
        totals[pk] = totals.get(pk, 0) + n
    people = sorted(totals, key=lambda pk: (-totals[pk], pk is None, pk or 0))[:LOAD_PEOPLE]
    names = user_names(people)
    dates = links.due_dates(week.start, week.end)
    colours = {VisitStatus.DONE: GOOD, VisitStatus.FAILED: BAD, VisitStatus.PLANNED: NEUTRAL}
    series = [
        Series(
            str(status.label),
            [
                Point(
                    counts.get((pk, status.value), 0),
                    links.visits(assignee=links.ident(pk), status=status.value, **dates),
                )
                if pk in staff
                else Point(counts.get((pk, status.value), 0))
                for pk in people
            ],
            stack="visits",
            color=colours[status],
        )
        for status in WEEK_STATUSES
    ]
    done = sum(n for (pk, status), n in counts.items() if status == VisitStatus.DONE)
    planned = sum(totals.values())
    return Widget(
        key="week_visits",
        title=_("本周回访：完成与计划"),
        kind="bar",
        categories=[names.get(pk, _("未分配")) if pk is not None else _("未分配") for pk in people],
        series=series,
        note=_("本周计划 %(planned)d 次，已完成 %(done)d 次。") % {"planned": planned, "done": done},
        empty=_("本周没有计划的回访。"),
    )


def build(ctx: Context) -> list[Widget]:
    widgets: list[Widget] = []
    staff = _visit_staff_ids(ctx) if ctx.can(VIEW_TEAM_VISITS) else None
    if ctx.can(VIEW_TICKETS):
        widgets.append(queue_figures(ctx))
        widgets.append(team_load(ctx, staff))
        widgets.append(overdue_by_department(ctx))
        widgets.append(escalations(ctx))
        if ctx.can(VIEW_REPORTS):
            widgets.append(sla_compliance(ctx))
    if staff is not None:
        widgets.append(week_visits(ctx, staff))
    return widgets


SPEC = DashboardSpec(
    code="supervisor",
    title=gettext_lazy("主管看板"),
    roles=frozenset({"supervisor", "quality_officer"}),
    perm=VIEW_TICKETS,
    build=build,
)
