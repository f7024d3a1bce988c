"""完工客户月报 (seed 001: 每月向集团客服部上报完工客户报表): the customers whose
project was completed in the period, with their project dates, designer and foreman,
how satisfied they were in the completion visit, and their tickets still open.

Decoration (the archive has the custom field `finish_date`, 竣工日期): customers whose
finish date falls in the period. Any other profile: customers with a project-stage
visit (a rule triggered by a project date, e.g. 安装后回访) reached in the period —
their date field is shown as the completion date.

The customers visible to the viewer (`customer_base`); satisfaction and open tickets
are correlated subqueries on the visits' and tickets' customer indexes, over what the
viewer may see of them — one query for the list however long it is."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from kefu.reports.periods import Period

FINISH_FIELD = "finish_date"
# Custom fields of the decoration archive shown on the report, when the profile has them.
PROJECT_FIELDS = ("contract_date", "start_date", "finish_date", "designer", "foreman", "site_address")


def _has_finish_field() -> bool:
    from kefu.customers.models import CustomField

    return CustomField.objects.filter(key=FINISH_FIELD, is_active=True).exists()


def completed_customers(*, user, period: Period) -> list[dict]:
    """One row per completed customer, by completion date then archive number:
    customer (id), name, archive_no, region_label, owner_label, the project fields
    (contract_date, start_date, finish_date, designer, foreman, site_address — None
    when absent), completion_date, completion_satisfaction (1–5, the latest reached
    completion visit), completion_visit_date and open_tickets."""
    from kefu.customers.selectors import customer_base
    from kefu.tickets.choices import OPEN_STATUSES
    from kefu.tickets.selectors import ticket_base
    from kefu.visits.choices import Trigger, VisitStatus
    from kefu.visits.selectors import visit_base

    customers = customer_base(user)
    stage_visits = visit_base(user).filter(
        customer=OuterRef("pk"), status=VisitStatus.DONE, rule__trigger=Trigger.PROJECT_STAGE
    )
    if _has_finish_field():
        first, last = period.start.isoformat(), period.last_day.isoformat()
        # ISO dates compare as text, on both databases (as the visit planner's range).
        customers = customers.filter(**{f"extra__{FINISH_FIELD}__gte": first, f"extra__{FINISH_FIELD}__lte": last})
        completion_visits = stage_visits.filter(rule__date_field=FINISH_FIELD)
        date_field_of = None
    else:
        start, end = period.bounds()
        in_period = visit_base(user).filter(
            status=VisitStatus.DONE, rule__trigger=Trigger.PROJECT_STAGE, done_at__gte=start, done_at__lt=end
        )
        customers = customers.filter(pk__in=in_period.values("customer"))
        completion_visits = stage_visits
        date_field_of = completion_visits.order_by("-done_at", "-pk").values("rule__date_field")[:1]
    latest = completion_visits.order_by("-done_at", "-pk")
    open_tickets = (
        ticket_base(user)
        .filter(customer=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    qs = customers.annotate(
        completion_satisfaction=Subquery(latest.values("satisfaction")[:1]),
        completion_done_at=Subquery(latest.values("done_at")[:1]),
        open_tickets=Coalesce(Subquery(open_tickets, output_field=IntegerField()), 0),
    ).select_related("region", "owner")
    if date_field_of is not None:
        qs = qs.annotate(stage_field=Subquery(date_field_of))
    rows = []
    for customer in qs.order_by("archive_no"):
        extra = customer.extra or {}
        row: dict[str, Any] = {
            "customer": customer.pk,
            "name": customer.name,
            "archive_no": customer.archive_no,
            "region_label": customer.region.name if customer.region else "",
            "owner_label": (customer.owner.display_name or customer.owner.username) if customer.owner else "",
        }
        for key in PROJECT_FIELDS:
            value = extra.get(key)
            row[key] = str(value) if value not in (None, "") else None
        completion_key = getattr(customer, "stage_field", None) or FINISH_FIELD
        value = extra.get(completion_key)
        row["completion_date"] = str(value) if value not in (None, "") else None
        row["completion_satisfaction"] = customer.completion_satisfaction
        row["completion_visit_date"] = _local_date(customer.completion_done_at)
        row["open_tickets"] = customer.open_tickets or 0
        rows.append(row)
    rows.sort(key=lambda r: (r["completion_date"] or "", r["archive_no"]))
    return rows


def _local_date(moment) -> str | None:
    from django.utils import timezone

    return timezone.localtime(moment).date().isoformat() if moment is not None else None
