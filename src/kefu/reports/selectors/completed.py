"""完工客户月报 (seed 001: 每月向集团客服部上报完工客户报表): the customers whose
project was completed in the period, with their project dates, designer and foreman,
how satisfied they were in the completion visit, and their tickets still open.

Decoration (the archive has the custom field `finish_date`, 竣工日期): customers whose
finish date falls in the period. Any other profile: customers with a project-stage
visit (a rule triggered by a project date, e.g. 安装后回访) reached in the period —
their date field is shown as the completion date.

The customers visible to the viewer (`customer_base`); the latest completion visit and
the open tickets are correlated subqueries on the visits' and tickets' customer
indexes, over what the viewer may see of them — one query for the list however long it
is, reading only the columns the report shows (a year is a third of the archive at 1M
customers: no model instances, no whole `extra`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform, compile_json_path
from django.db.models.functions import Coalesce, JSONObject, TruncDate

from kefu.reports.periods import Period

FINISH_FIELD = "finish_date"
# Custom fields of the decoration archive shown on the report, when the profile has them.
PROJECT_FIELDS = ("contract_date", "start_date", "finish_date", "designer", "foreman", "site_address")
_COLUMNS = ("pk", "name", "archive_no", "region__name", "owner_id", "owner__display_name", "owner__username")


class _Text(KeyTextTransform):
    """A key of `extra` as the database gives it: ->> on PostgreSQL, one json_extract on
    SQLite (Django's KeyTextTransform parses the JSON twice there, a JSON_TYPE first, to
    spell true/false/null — values the project fields, text and dates, never hold)."""

    def as_sqlite(self, compiler, connection):
        lhs, params, keys = self.preprocess_lhs(compiler, connection)
        return f"JSON_EXTRACT({lhs}, %s)", (*params, compile_json_path(keys))


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
    # The latest completion visit's figures as one JSON object: a subquery in the select
    # list returns one value, and one probe of the customer's visits is half of two. Its
    # day is local (TruncDate in the site's zone), as the report prints it.
    visit = {"satisfaction": F("satisfaction"), "day": TruncDate("done_at")}
    decoration = _has_finish_field()
    if decoration:
        first, last = period.start.isoformat(), period.last_day.isoformat()
        # ISO dates compare as text, on both databases (as the visit planner's range).
        customers = customers.filter(**{f"extra__{FINISH_FIELD}__gte": first, f"extra__{FINISH_FIELD}__lte": last})
        completion_visits = stage_visits.filter(rule__date_field=FINISH_FIELD)
    else:
        start, end = period.bounds()
        in_period = visit_base(user).filter(
            status=VisitStatus.DONE, rule__trigger=Trigger.PROJECT_STAGE, done_at__gte=start, done_at__lt=end
        )
        customers = customers.filter(pk__in=in_period.values("customer"))
        completion_visits = stage_visits
        # The completion date is the customer's value of the latest visit's date field.
        visit["field"] = F("rule__date_field")
    latest = completion_visits.order_by("-done_at", "-pk").values(visit=JSONObject(**visit))[:1]
    open_tickets = (
        ticket_base(user)
        .filter(customer=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    # Only the project fields of `extra`: the whole of it cost PostgreSQL three times as
    # much to send (and Python to parse) as the six values.
    fields = {f"project_{key}": _Text(key, "extra") for key in PROJECT_FIELDS}
    qs = customers.order_by().annotate(
        completion_visit=Subquery(latest),
        open_ticket_count=Coalesce(Subquery(open_tickets, output_field=IntegerField()), 0),
        **fields,
    )
    names = (*_COLUMNS, *fields, "completion_visit", "open_ticket_count", *(() if decoration else ("extra",)))
    rows = []
    for values in qs.values_list(*names):
        c = dict(zip(names, values, strict=True))
        row: dict[str, Any] = {
            "customer": c["pk"],
            "name": c["name"],
            "archive_no": c["archive_no"],
            "region_label": c["region__name"] or "",
            "owner_label": (c["owner__display_name"] or c["owner__username"]) if c["owner_id"] else "",
        }
        for key in PROJECT_FIELDS:
            row[key] = _text(c[f"project_{key}"])
        visit_figures = c["completion_visit"] or {}
        if decoration:
            row["completion_date"] = row[FINISH_FIELD]
        else:
            row["completion_date"] = _text((c["extra"] or {}).get(visit_figures.get("field") or FINISH_FIELD))
        row["completion_satisfaction"] = visit_figures.get("satisfaction")
        row["completion_visit_date"] = visit_figures.get("day")
        row["open_tickets"] = c["open_ticket_count"] or 0
        rows.append(row)
    # Sorted here, by a completion date SQL does not have for every profile (the ORDER BY
    # archive_no this replaces was sorted again here, after PostgreSQL sorted a year on disk).
    rows.sort(key=lambda r: (r["completion_date"] or "", r["archive_no"]))
    return rows


def _text(value) -> str | None:
    return str(value) if value not in (None, "") else None
