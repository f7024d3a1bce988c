"""Reads of visits, scoped (an agent sees their own list; supervisors and account
managers their region's; managers all): the call list, the oversight figures and the
statistics the reports module reuses."""

from __future__ import annotations

import datetime

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone

from kefu.core import access
from kefu.core.params import NONE
from kefu.customers.models import Customer
from kefu.visits.choices import Outcome, VisitStatus
from kefu.visits.models import Visit

VIEW = "visits.view_visit"
# A status filter value beyond the stored statuses: visits worked to an end, reached
# (已完成) or given up (未能联系) — what the reports count as done (已回访).
STATUS_FINISHED = "finished"
FINISHED_STATUSES = (VisitStatus.DONE, VisitStatus.FAILED)
# The assignee filter value of the visits nobody is assigned to (a team's visits): the
# "not set" value of every list (kefu.core.params).
UNASSIGNED = NONE


def visit_base(user) -> QuerySet[Visit]:
    return access.restrict(Visit.objects.all(), user, VIEW)


def filter_status(qs: QuerySet[Visit], status: str) -> QuerySet[Visit]:
    """A stored status, STATUS_FINISHED (done or failed) or "all" (no filter)."""
    if status == STATUS_FINISHED:
        return qs.filter(status__in=FINISHED_STATUSES)
    if status == "all":
        return qs
    return qs.filter(status=status)


def call_list(*, user, today: datetime.date | None = None, section: str = "due") -> QuerySet[Visit]:
    """The user's planned visits: `due` = today and overdue (oldest first), `upcoming`
    = after today. Scoped to their own (team visits of their departments included)."""
    today = today or timezone.localdate()
    mine = Q(assignee=user) | Q(assignee__isnull=True, team_id__in=access.user_department_ids(user))
    qs = visit_base(user).filter(mine, status=VisitStatus.PLANNED)
    qs = qs.filter(due_date__lte=today) if section == "due" else qs.filter(due_date__gt=today)
    return qs.select_related("customer", "rule", "ticket").order_by("due_date", "id")


def visit_stats(qs: QuerySet[Visit]) -> dict:
    """Volume, reach rate, satisfaction, NPS and the funnel of a set of visits."""
    figures = qs.aggregate(
        planned=Count("id"),
        done=Count("id", filter=Q(status=VisitStatus.DONE)),
        attempted=Count("id", filter=Q(attempts__gt=0)),
        reached=Count("id", filter=Q(outcome=Outcome.REACHED)),
        satisfaction=Avg("satisfaction"),
        promoters=Count("id", filter=Q(nps__gte=9)),
        detractors=Count("id", filter=Q(nps__lte=6)),
        nps_answers=Count("nps"),
        arrived=Count("id", filter=Q(arrived=True)),
        deals=Count("id", filter=Q(deal=True)),
    )
    attempted = figures["attempted"] or 0
    figures["reach_rate"] = round(figures["reached"] / attempted, 4) if attempted else None
    answers = figures.pop("nps_answers")
    figures["nps"] = round(100 * (figures["promoters"] - figures["detractors"]) / answers, 1) if answers else None
    return figures


def cadence_missed(*, user, month: datetime.date) -> QuerySet[Customer]:
    """Customers (visible to `user`) whose class asks for N visits a month but who had
    fewer than N done visits in `month` (the seed-002 duty A ≥ 1, B 2, C ≥ 3)."""
    from kefu.customers.selectors import customer_base

    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(following, datetime.time.min, tzinfo=tz)
    done = Count(
        "visits", filter=Q(visits__status=VisitStatus.DONE, visits__done_at__gte=start, visits__done_at__lt=end)
    )
    return (
        customer_base(user)
        .filter(customer_class__isnull=False, customer_class__visits_per_month__gt=0)
        .exclude(lifecycle="lost")
        .annotate(done_visits=done)
        .filter(done_visits__lt=F("customer_class__visits_per_month"))
    )
