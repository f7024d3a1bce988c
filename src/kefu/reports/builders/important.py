"""重要投诉报表: the tickets marked important (重要投诉档案, seed 001: 建立重要投诉档案)
that were registered in the period — why each was marked, where it stands and which
department answers for it — with a count per responsible department on top.

The tickets come from the desk's own selector (`ticket_list`, queue "important", the
period as its registration dates), so the report lists exactly what the important
complaints archive shows the same person for the same dates."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.reports.builders.common import LABEL, new_report
from kefu.reports.periods import Period
from kefu.reports.tables import Column, Report, Table
from kefu.tickets.choices import OPEN_STATUSES
from kefu.tickets.selectors import TicketFilters, ticket_list

# A month holds a handful; the cap only keeps a mistaken 5-year range printable.
ROW_LIMIT = 1000


def important_tickets(*, user, period: Period):
    filters = TicketFilters(queue="important", created_from=period.start, created_to=period.last_day)
    return ticket_list(user=user, filters=filters)


def _by_department(qs) -> Table:
    rows = [
        {
            LABEL: r["responsible_department__name"] or _("未指定部门"),
            "count": r["count"],
            "open": r["open"],
            "resolved": r["resolved"],
        }
        for r in qs.order_by()
        .values("responsible_department__name")
        .annotate(
            count=Count("pk"),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        )
        .order_by("-count", "responsible_department__name")
    ]
    totals = {
        LABEL: _("合计"),
        "count": sum(r["count"] for r in rows),
        "open": sum(r["open"] for r in rows),
        "resolved": sum(r["resolved"] for r in rows),
    }
    return Table(
        title=_("按责任部门"),
        columns=[
            Column(LABEL, _("责任部门")),
            Column("count", _("重要投诉"), "int"),
            Column("resolved", _("已处理"), "int"),
            Column("open", _("未处理"), "int"),
        ],
        rows=rows,
        totals=totals,
    )


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _list(qs) -> Table:
    tickets = list(
        qs.select_related("kind", "customer", "category", "region", "responsible_department", "assignee").order_by(
            "created_at", "pk"
        )[: ROW_LIMIT + 1]
    )
    note = ""
    if len(tickets) > ROW_LIMIT:
        tickets = tickets[:ROW_LIMIT]
        note = _("仅列出最早登记的 %(n)s 条；请缩小统计期间。") % {"n": ROW_LIMIT}
    rows = [
        {
            "number": t.number,
            "created_at": _when(t.created_at),
            "customer": t.customer.name if t.customer else t.caller_name,
            "title": t.title,
            "category": str(t.category) if t.category else "",
            "severity": t.get_severity_display(),
            "reason": t.important_reason,
            "status": t.get_status_display(),
            "department": t.responsible_department.name if t.responsible_department else _("未指定部门"),
            "region": t.region.name if t.region else "",
            "assignee": str(t.assignee) if t.assignee else "",
            "resolution_hours": round(t.resolution_minutes / 60, 1) if t.resolution_minutes is not None else None,
            "satisfaction": t.satisfaction,
            "id": t.pk,
        }
        for t in tickets
    ]
    return Table(
        title=_("重要投诉清单"),
        columns=[
            Column("number", _("工单编号")),
            Column("created_at", _("登记时间")),
            Column("customer", _("客户")),
            Column("title", _("标题")),
            Column("category", _("分类")),
            Column("severity", _("严重程度")),
            Column("reason", _("列为重要投诉的原因")),
            Column("status", _("状态")),
            Column("department", _("责任部门")),
            Column("region", _("片区")),
            Column("assignee", _("负责人")),
            Column("resolution_hours", _("处理用时(工时)"), "hours"),
            Column("satisfaction", _("满意度"), "int"),
        ],
        rows=rows,
        note=note,
    )


def build_important(*, user, period: Period) -> Report:
    report = new_report("important", _("重要投诉报表"), period)
    qs = important_tickets(user=user, period=period)
    report.tables += [_by_department(qs), _list(qs)]
    return report
