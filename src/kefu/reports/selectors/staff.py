"""Staff figures of a period (员工统计): per person, the tickets they resolved in the
period (`resolved_by`, `resolved_at` in its bounds) with those tickets' average first
response and resolution time in working hours and satisfaction, and the visits they
worked to an end in the period (`done_by`, `done_at`): done and reached.

Over what the viewer may see (`ticket_base`, `visit_base`); two GROUP BY queries and
one query for the names, whatever the number of tickets and visits."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q

from kefu.reports.periods import Period
from kefu.reports.selectors.common import group_column, hours, one_decimal, user_names
from kefu.tickets.selectors import ticket_base
from kefu.visits.choices import VisitStatus
from kefu.visits.selectors import visit_base

STAFF_FIGURES = (
    "tickets_handled",
    "avg_response_hours",
    "avg_resolution_hours",
    "satisfaction_avg",
    "visits_done",
    "visits_reached",
)


def staff_figures(*, user, period: Period) -> list[dict]:
    """One row per staff member who resolved a ticket or finished a visit in `period`:
    user (id), label, and STAFF_FIGURES. Busiest first."""
    start, end = period.bounds()
    tickets = (
        ticket_base(user)
        .filter(resolved_at__gte=start, resolved_at__lt=end, resolved_by__isnull=False)
        # Grouped by `resolved_by_id + 0`: by the column itself SQLite walks its index
        # (every ticket ever resolved, in order) instead of the period's rows.
        .annotate(person=group_column("resolved_by_id"))
        .order_by()
        .values("person")
        .annotate(
            handled=Count("pk"),
            response=Avg("response_minutes"),
            resolution=Avg("resolution_minutes"),
            score=Avg("satisfaction"),
        )
    )
    visits = (
        visit_base(user)
        .filter(done_at__gte=start, done_at__lt=end, done_by__isnull=False)
        .filter(status__in=(VisitStatus.DONE, VisitStatus.FAILED))
        .annotate(person=group_column("done_by_id"))
        .order_by()
        .values("person")
        # COUNT(status) (never null), not COUNT(id): the id is not in the
        # `visits_done_stats` index, and PostgreSQL would read every row's table page for it.
        .annotate(done=Count("status"), reached=Count("status", filter=Q(status=VisitStatus.DONE)))
    )
    people: dict[int, dict[str, Any]] = {}

    def person(pk: int) -> dict[str, Any]:
        return people.setdefault(
            pk,
            {
                "user": pk,
                "tickets_handled": 0,
                "avg_response_hours": None,
                "avg_resolution_hours": None,
                "satisfaction_avg": None,
                "visits_done": 0,
                "visits_reached": 0,
            },
        )

    for row in tickets:
        entry = person(row["person"])
        entry["tickets_handled"] = row["handled"]
        entry["avg_response_hours"] = hours(row["response"])
        entry["avg_resolution_hours"] = hours(row["resolution"])
        entry["satisfaction_avg"] = one_decimal(row["score"])
    for row in visits:
        entry = person(row["person"])
        entry["visits_done"] = row["done"]
        entry["visits_reached"] = row["reached"]
    names = user_names(people)
    for pk, entry in people.items():
        entry["label"] = names.get(pk, str(pk))
    return sorted(people.values(), key=lambda r: (-r["tickets_handled"], -r["visits_done"], r["label"]))
