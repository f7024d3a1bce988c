"""重要投诉报表: the tickets marked important (重要投诉档案, seed 001: 建立重要投诉档案)
that were registered in the period — why each was marked, where it stands and which
department answers for it — with a count per responsible department on top.

The tickets come from the desk's own selector (`ticket_list`, queue "important", the
period as its registration dates), so the report lists exactly what the important
complaints archive shows the same person for the same dates. One query reads the list
(only the columns it shows); the counts per department are added up from it, and only
a list cut at ROW_LIMIT needs a second, grouped query."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.reports.builders.common import LABEL, new_report
from kefu.reports.periods import Period
from kefu.reports.tables import Column, Report, Table
from kefu.tickets.choices import OPEN_STATUSES
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import TicketFilters, ticket_list

# A month holds a handful; the cap only keeps a mistaken 5-year range printable.
ROW_LIMIT = 1000

# Only the columns the report shows: the tickets as models with their six relations
# made PostgreSQL plan and send every column (descriptions, the customers' `extra` and
# search text) — most of the report's time.
_LIST_FIELDS = (
    "pk",
    "number",
    "created_at",
    "customer_id",
    "customer__name",
    "caller_name",
    "title",
    "category__path",
    "category__name",
    "severity",
    "important_reason",
    "status",
    "responsible_department_id",
    "responsible_department__name",
    "region__name",
    "assignee_id",
    "assignee__display_name",
    "assignee__username",
    "resolution_minutes",
    "satisfaction",
)


def important_tickets(*, user, period: Period):
    filters = TicketFilters(queue="important", created_from=period.start, created_to=period.last_day)
    return ticket_list(user=user, filters=filters)


def _counted_from_list(tickets: list[dict]) -> list[dict]:
    groups: dict = {}
    for t in tickets:
        group = groups.setdefault(
            t["responsible_department_id"],
            {"name": t["responsible_department__name"], "count": 0, "open": 0, "resolved": 0},
        )
        group["count"] += 1
        group["open"] += t["status"] in OPEN_STATUSES
        group["resolved"] += t["resolved"]
    return [{"department": key, **figures} for key, figures in groups.items()]


def _counted_in_sql(qs) -> list[dict]:
    grouped = (
        qs.order_by()
        .values("responsible_department", "responsible_department__name")
        .annotate(
            count=Count("pk"),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        )
    )
    return [
        {
            "department": g["responsible_department"],
            "name": g["responsible_department__name"],
            "count": g["count"],
            "open": g["open"],
            "resolved": g["resolved"],
        }
        for g in grouped
    ]


def _by_department(groups: list[dict]) -> Table:
    # One row per department id, labelled by its name: two departments may share a name
    # (a 工程部 in each branch) and each answers for its own complaints.
    rows = [
        {
            LABEL: g["name"] or _("未指定部门"),
            "count": g["count"],
            "open": g["open"],
            "resolved": g["resolved"],
            "key": g["department"],
        }
        for g in groups
    ]
    rows.sort(key=lambda r: (-r["count"], r[LABEL], r["key"] or 0))
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


def _choices(field: str) -> dict:
    """A ticket field's labels by value, as `get_<field>_display` gives them."""
    return {value: str(label) for value, label in Ticket._meta.get_field(field).flatchoices}


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _list(tickets: list[dict], *, cut: bool) -> Table:
    severity, status = _choices("severity"), _choices("status")
    rows = [
        {
            "number": t["number"],
            "created_at": _when(t["created_at"]),
            "customer": t["customer__name"] if t["customer_id"] else t["caller_name"],
            "title": t["title"],
            "category": t["category__path"] or t["category__name"] or "",  # str(TicketCategory)
            "severity": severity.get(t["severity"], t["severity"]),
            "reason": t["important_reason"],
            "status": status.get(t["status"], t["status"]),
            "department": t["responsible_department__name"] if t["responsible_department_id"] else _("未指定部门"),
            "region": t["region__name"] or "",
            "assignee": (t["assignee__display_name"] or t["assignee__username"]) if t["assignee_id"] else "",
            "resolution_hours": round(t["resolution_minutes"] / 60, 1) if t["resolution_minutes"] is not None else None,
            "satisfaction": t["satisfaction"],
            "id": t["pk"],
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
        note=_("仅列出最早登记的 %(n)s 条；请缩小统计期间。") % {"n": ROW_LIMIT} if cut else "",
    )


def build_important(*, user, period: Period) -> Report:
    report = new_report("important", _("重要投诉报表"), period)
    qs = important_tickets(user=user, period=period)
    # Whether resolved, not when: a timestamp costs PostgreSQL's driver more to read.
    listed = qs.order_by("created_at", "pk").values(*_LIST_FIELDS, resolved=Q(resolved_at__isnull=False))
    tickets = list(listed[: ROW_LIMIT + 1])
    cut = len(tickets) > ROW_LIMIT
    groups = _counted_in_sql(qs) if cut else _counted_from_list(tickets)
    report.tables += [_by_department(groups), _list(tickets[:ROW_LIMIT], cut=cut)]
    return report
