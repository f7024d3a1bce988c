"""What a supervisor reads on 回访监督 for one month, scoped like every other read of
visits (`visit_base`): completion by agent / team / rule, overdue visits, customers whose
class cadence was missed, and the per-staff evaluation from visit answers (seed 001:
填写相应考核表 — designers, foremen, consultants named on the customer's archive).

Every grouping is one GROUP BY query, whatever the number of agents or rules; the
reports module can reuse these functions."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import ValidationFailed
from kefu.visits.choices import Outcome, VisitStatus
from kefu.visits.models import Visit
from kefu.visits.selectors import visit_base

# The groupings of the completion table: (code, label, value fields of the GROUP BY).
GROUPINGS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "assignee": (gettext_lazy("回访人"), ("assignee", "assignee__display_name", "assignee__username")),
    "team": (gettext_lazy("班组"), ("team", "team__name")),
    "rule": (gettext_lazy("回访规则"), ("rule", "rule__name")),
}
# Custom fields of the archive naming the staff a customer's visits evaluate (seed 001);
# the label shown is the field's own when the profile defines it.
STAFF_FIELDS: tuple[tuple[str, Any], ...] = (
    ("designer", gettext_lazy("设计师")),
    ("foreman", gettext_lazy("工长")),
    ("consultant", gettext_lazy("咨询师")),
)


def parse_month(raw: str | None, *, default: datetime.date | None = None) -> datetime.date:
    """`2026-11` → 1 Nov 2026; empty → `default` (this month); anything else is a
    Chinese refusal (422), never a 500."""
    text = (raw or "").strip()
    if not text:
        return (default or timezone.localdate()).replace(day=1)
    try:
        year_text, month_text = text.split("-")
        if len(year_text) != 4 or not (year_text + month_text).isdigit():
            raise ValueError(text)
        first = datetime.date(int(year_text), int(month_text), 1)
        if not 2000 <= first.year <= 2999:
            raise ValueError(text)
    except ValueError:
        raise ValidationFailed(_("月份格式应为“2026-11”。"), details={"field": "month"}) from None
    return first


def next_month(first: datetime.date) -> datetime.date:
    return (first + datetime.timedelta(days=32)).replace(day=1)


def previous_month(first: datetime.date) -> datetime.date:
    return (first - datetime.timedelta(days=1)).replace(day=1)


def month_bounds(first: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as [start, end) instants in the site's time zone (for `done_at`)."""
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(next_month(first), datetime.time.min, tzinfo=tz),
    )


def month_visits(*, user, month: datetime.date) -> QuerySet[Visit]:
    """The visits planned for `month` (by due date) that `user` may see; cancelled ones
    were never work to do and are left out."""
    first = month.replace(day=1)
    return (
        visit_base(user)
        .filter(due_date__gte=first, due_date__lt=next_month(first))
        .exclude(status=VisitStatus.CANCELLED)
    )


def stat_expressions() -> dict[str, Any]:
    # The same figures as selectors.visit_stats, as annotations so that one GROUP BY
    # gives them per group (test_visits_oversight checks both agree on the totals).
    return {
        "planned": Count("id"),
        "done": Count("id", filter=Q(status=VisitStatus.DONE)),
        "attempted": Count("id", filter=Q(attempts__gt=0)),
        "reached": Count("id", filter=Q(outcome=Outcome.REACHED)),
        # Not named "satisfaction": an annotation must not shadow the model's field.
        "avg_satisfaction": Avg("satisfaction"),
        "promoters": Count("id", filter=Q(nps__gte=9)),
        "detractors": Count("id", filter=Q(nps__lte=6)),
        "nps_answers": Count("nps"),
        "arrived": Count("id", filter=Q(arrived=True)),
        "deals": Count("id", filter=Q(deal=True)),
    }


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    attempted = row["attempted"] or 0
    row["reach_rate"] = round(row["reached"] / attempted, 4) if attempted else None
    answers = row.pop("nps_answers")
    row["nps"] = round(100 * (row["promoters"] - row["detractors"]) / answers, 1) if answers else None
    row["completion"] = round(row["done"] / row["planned"], 4) if row["planned"] else None
    average = row.pop("avg_satisfaction")
    row["satisfaction"] = round(float(average), 2) if average is not None else None
    return row


def _label(grouping: str, row: dict[str, Any]) -> str:
    if grouping == "assignee":
        return row["assignee__display_name"] or row["assignee__username"] or _("未分配")
    if grouping == "team":
        return row["team__name"] or _("未指定班组")
    return row["rule__name"] or _("手工安排 / 活动")


def completion_by(*, visits: QuerySet[Visit], grouping: str) -> list[dict[str, Any]]:
    """Per group (agent, team or rule): planned, done, completion, reach rate,
    satisfaction, NPS and the funnel — one query."""
    if grouping not in GROUPINGS:
        raise ValidationFailed(_("统计维度无效。"), details={"field": "grouping"})
    _title, fields = GROUPINGS[grouping]
    rows = visits.order_by().values(*fields).annotate(**stat_expressions())
    result = []
    for row in rows:
        row = _finish(dict(row))
        row["key"] = row[fields[0]]
        row["label"] = _label(grouping, row)
        result.append(row)
    result.sort(key=lambda r: (-r["planned"], r["label"]))
    return result


def overdue_count(*, user, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    return visit_base(user).filter(status=VisitStatus.PLANNED, due_date__lt=today).count()


def _staff_labels() -> dict[str, str]:
    """The staff fields this installation's archive has (a retail profile has none)."""
    from kefu.customers.models import CustomField

    keys = [key for key, _default in STAFF_FIELDS]
    defined = dict(CustomField.objects.filter(key__in=keys).values_list("key", "label"))
    return {key: defined[key] or str(label) for key, label in STAFF_FIELDS if key in defined}


def staff_scores(*, user, month: datetime.date) -> list[dict[str, Any]]:
    """The evaluation of each designer / foreman / consultant named on the archives of
    customers visited in `month`: their done visits' satisfaction (1–5, and as a score out
    of 100), satisfied share (4–5) and NPS. One GROUP BY on the JSON key per field."""
    start, end = month_bounds(month.replace(day=1))
    done = visit_base(user).filter(status=VisitStatus.DONE, done_at__gte=start, done_at__lt=end)
    groups = []
    for key, label in _staff_labels().items():
        rows = (
            done.annotate(staff=KeyTextTransform(key, "customer__extra"))
            .order_by()
            .values("staff")
            .annotate(
                visits=Count("id"),
                rated=Count("satisfaction"),
                total=Sum("satisfaction"),
                satisfied=Count("id", filter=Q(satisfaction__gte=4)),
                promoters=Count("id", filter=Q(nps__gte=9)),
                detractors=Count("id", filter=Q(nps__lte=6)),
                nps_answers=Count("nps"),
            )
        )
        # Blank names are skipped and names differing only in spaces merged here, in
        # Python over the few aggregated rows (comparing a JSON key with "" in SQL is
        # not portable between SQLite and PostgreSQL).
        merged: dict[str, dict[str, int]] = {}
        for row in rows:
            name = str(row["staff"]).strip() if row["staff"] is not None else ""
            if not name:
                continue
            into = merged.setdefault(name, dict.fromkeys(_STAFF_SUMS, 0))
            for field in _STAFF_SUMS:
                into[field] += row[field] or 0
        groups.append({"key": key, "label": label, "people": _ranked(merged)})
    return groups


_STAFF_SUMS = ("visits", "rated", "total", "satisfied", "promoters", "detractors", "nps_answers")


def _ranked(merged: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    people = []
    for name, sums in merged.items():
        rated, answers = sums["rated"], sums["nps_answers"]
        average = sums["total"] / rated if rated else None
        people.append(
            {
                "name": name,
                "visits": sums["visits"],
                "rated": rated,
                "satisfaction": round(average, 2) if average is not None else None,
                "score": round(average * 20, 1) if average is not None else None,
                "satisfied_rate": round(sums["satisfied"] / rated, 4) if rated else None,
                "nps": round(100 * (sums["promoters"] - sums["detractors"]) / answers, 1) if answers else None,
            }
        )
    # Best first; the unrated (no score answered) last.
    people.sort(key=lambda p: (p["score"] is None, -(p["score"] or 0), -p["visits"], p["name"]))
    return people
