"""What the endpoints of the return-visits API share: how a visit, a rule and a
questionnaire are written out (the customer's phone masked unless the caller may see
it), how the list's filters narrow the scoped selectors, and how the ids of a path or a
body are looked up."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access, pii
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.pagination import Page, keyset_page
from kefu.core.params import ids_or_none, take_none
from kefu.customers.models import Contact
from kefu.visits.api.schemas_in import MAX_ID, VisitFilters
from kefu.visits.choices import Outcome, VisitStatus
from kefu.visits.models import Questionnaire, QuestionnaireVersion, Visit, VisitRule
from kefu.visits.selectors import FINISHED_STATUSES, STATUS_FINISHED, call_list, visit_base

VIEW = "visits.view_visit"
RECORD = "visits.record_visit"
REASSIGN = "visits.reassign_visit"
ADD = "visits.add_visit"
VIEW_RULE = "visits.view_visitrule"
MANAGE = "visits.manage_visit_settings"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
ORDER = ("due_date", "id")


def not_found(**details) -> NotFound:
    return NotFound(_("对象不存在或不在您的可见范围内。"), details=details or None)


# --- output ----------------------------------------------------------------------------


def ref(obj, label: str | None = None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.pk, "name": label if label is not None else str(obj.name)}


def user_ref(user) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": user.display_name or user.username}


def ticket_ref(ticket) -> dict[str, Any] | None:
    return None if ticket is None else {"id": ticket.pk, "number": ticket.number}


class Viewer:
    """Who reads the answer: the phone as they may see it, and today, decided once."""

    def __init__(self, user):
        self.user = user
        self.reveal = pii.may_reveal(user)
        self.today = timezone.localdate()

    def phone(self, value: str) -> str:
        return value if self.reveal else pii.mask_phone(value)


def with_related(queryset: QuerySet[Visit]) -> QuerySet[Visit]:
    """Everything a visit's answer shows, in a constant number of queries whatever the
    number of rows (the primary contact's phone, for the agent to dial)."""
    return queryset.select_related(
        "customer",
        "rule",
        "campaign",
        "ticket",
        "assignee",
        "team",
        "region",
        "done_by",
        "created_ticket",
        "questionnaire_version__questionnaire",
    ).prefetch_related(
        Prefetch("customer__contacts", queryset=Contact.objects.filter(is_primary=True), to_attr="primary_contacts")
    )


def _primary_phone(customer) -> str:
    contacts = getattr(customer, "primary_contacts", None)
    if contacts is None:
        contacts = list(customer.contacts.filter(is_primary=True)[:1])
    return contacts[0].phone if contacts else ""


def list_item(visit: Visit, viewer: Viewer) -> dict[str, Any]:
    customer = visit.customer
    late = (viewer.today - visit.due_date).days
    return {
        "id": visit.pk,
        "customer": {
            "id": customer.pk,
            "archive_no": customer.archive_no,
            "name": customer.name,
            "phone": viewer.phone(_primary_phone(customer)),
        },
        "visit_type": visit.visit_type,
        "status": visit.status,
        "status_name": visit.get_status_display(),
        "due_date": visit.due_date,
        "overdue_days": late if visit.status == VisitStatus.PLANNED and late > 0 else 0,
        "call_back_at": visit.call_back_at,
        "channel": visit.channel,
        "attempts": visit.attempts,
        "max_attempts": visit.max_attempts,
        "outcome": visit.outcome,
        "assignee": user_ref(visit.assignee),
        "team": ref(visit.team),
        "region": ref(visit.region),
        "rule": ref(visit.rule),
        "ticket": ticket_ref(visit.ticket),
        "satisfaction": visit.satisfaction,
        "nps": visit.nps,
        "done_at": visit.done_at,
        "version": visit.version,
        "created_at": visit.created_at,
        "updated_at": visit.updated_at,
    }


def questions_out(version: QuestionnaireVersion) -> list[dict[str, Any]]:
    return [
        {
            "key": q.get("key", ""),
            "text": q.get("text", ""),
            "type": q.get("type", ""),
            "choices": list(q.get("choices") or []),
            "required": bool(q.get("required")),
        }
        for q in version.questions or []
    ]


def visit_out(visit: Visit, viewer: Viewer) -> dict[str, Any]:
    version = visit.questionnaire_version
    asked = None
    if version is not None:
        asked = {
            "questionnaire": ref(version.questionnaire),
            "version_id": version.pk,
            "version": version.number,
            "questions": questions_out(version),
        }
    return {
        **list_item(visit, viewer),
        "period_key": visit.period_key,
        "campaign": ref(visit.campaign),
        "retry_working_days": visit.retry_working_days,
        "asked": asked,
        "answers": visit.answers or {},
        "notes": visit.notes,
        "next_action": visit.next_action,
        "arrived": visit.arrived,
        "deal": visit.deal,
        "deal_amount": visit.deal_amount,
        "done_by": user_ref(visit.done_by),
        "created_ticket": ticket_ref(visit.created_ticket),
    }


def rule_out(rule: VisitRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "kind": rule.kind,
        "kind_name": rule.get_kind_display(),
        "visit_type": rule.visit_type,
        "is_active": rule.is_active,
        "customer_class": ref(rule.customer_class),
        "key_accounts_only": rule.key_accounts_only,
        "visits_per_month": rule.visits_per_month,
        "trigger": rule.trigger,
        "offsets_days": [int(d) for d in rule.offsets_days or [] if isinstance(d, int)],
        "date_field": rule.date_field,
        "assign_to": rule.assign_to,
        "team": ref(rule.team),
        "assignee": user_ref(rule.assignee),
        "channel": rule.channel,
        "questionnaire": ref(rule.questionnaire),
        "max_attempts": rule.max_attempts,
        "retry_working_days": rule.retry_working_days,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def with_versions(queryset: QuerySet[Questionnaire]) -> QuerySet[Questionnaire]:
    versions = QuestionnaireVersion.objects.select_related("created_by").order_by("-number")
    return queryset.prefetch_related(Prefetch("versions", queryset=versions, to_attr="all_versions"))


def questionnaire_out(questionnaire: Questionnaire) -> dict[str, Any]:
    versions = questionnaire.all_versions
    return {
        "id": questionnaire.pk,
        "code": questionnaire.code,
        "name": questionnaire.name,
        "is_active": questionnaire.is_active,
        "current_version": versions[0].number if versions else None,
        "versions": [
            {
                "id": v.pk,
                "number": v.number,
                "questions": questions_out(v),
                "created_at": v.created_at,
                "created_by": user_ref(v.created_by),
            }
            for v in versions
        ],
        "created_at": questionnaire.created_at,
        "updated_at": questionnaire.updated_at,
    }


# --- the list's filters ----------------------------------------------------------------


def _ids(raw: str, field: str) -> list[int]:
    ids = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or not 0 < int(part) <= MAX_ID:
            raise ValidationFailed(_("筛选条件无效：%(key)s") % {"key": field}, details={"field": field})
        ids.append(int(part))
    return ids


def _choices(raw: str, field: str, allowed: list[str]) -> list[str]:
    values = [p.strip() for p in raw.split(",") if p.strip()]
    if any(v not in allowed for v in values):
        raise ValidationFailed(
            _("筛选条件无效：%(key)s") % {"key": field}, details={"field": field, "choices": allowed}
        )
    return values


def _statuses(raw: str) -> list[str]:
    """Stored statuses; `finished` stands for done and failed (what the reports count)."""
    values = _choices(raw, "status", [*VisitStatus.values, STATUS_FINISHED])
    statuses = set(values) - {STATUS_FINISHED}
    if STATUS_FINISHED in values:
        statuses.update(FINISHED_STATUSES)
    return sorted(statuses)


def filtered(user, filters: VisitFilters) -> QuerySet[Visit]:
    """The visits of the list (and of its statistics): a section of the scoped
    selectors, narrowed by the filters."""
    if filters.section == "all":
        queryset = visit_base(user)
    else:
        queryset = call_list(user=user, today=timezone.localdate(), section=filters.section)
    if statuses := _statuses(filters.status):
        queryset = queryset.filter(status__in=statuses)
    # `none`: the visits nobody is assigned to (a team's), alone or with ids.
    assignees, unassigned = take_none(p.strip() for p in filters.assignee.split(",") if p.strip())
    queryset = ids_or_none(queryset, "assignee", _ids(",".join(assignees), "assignee"), with_none=unassigned)
    for name in ("rule", "region"):
        if ids := _ids(getattr(filters, name), name):
            queryset = queryset.filter(**{f"{name}_id__in": ids})
    if outcomes := _choices(filters.outcome, "outcome", list(Outcome.values)):
        queryset = queryset.filter(outcome__in=outcomes)
    for flag in ("arrived", "deal"):
        if value := getattr(filters, flag):
            queryset = queryset.filter(**{flag: value == "1"})
    if filters.customer is not None:
        queryset = queryset.filter(customer_id=filters.customer)
    if filters.due_from is not None:
        queryset = queryset.filter(due_date__gte=filters.due_from)
    if filters.due_to is not None:
        queryset = queryset.filter(due_date__lte=filters.due_to)
    return queryset


def page_of(queryset: QuerySet, *, order: tuple[str, ...], cursor: str | None, limit: int) -> Page:
    try:
        return keyset_page(queryset, order=order, cursor=cursor, size=limit)
    except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
        # A cursor that decodes but carries values of the wrong type or size.
        if not cursor:
            raise
        raise ValidationFailed(_("分页游标无效。"), details={"cursor": cursor}) from exc


# --- lookups ---------------------------------------------------------------------------


def visit_for(request, visit_id: int) -> Visit:
    """The visit of the path, for an endpoint: no role → 403, absent or out of sight →
    404 (through the scoped selector)."""
    access.require(request.user, VIEW)
    return visible_visit(request.user, visit_id)


def visible_visit(user, pk: int) -> Visit:
    visit = with_related(visit_base(user)).filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if visit is None:
        raise not_found()
    return visit


def written(user, visit: Visit) -> dict[str, Any]:
    """The answer to a write: the visit as it now is. The actor passed the scoped read
    (or planned it) before writing; should it lie out of their sight (a visit planned for
    somebody in another region), they still get the visit they just wrote."""
    fresh = with_related(visit_base(user)).filter(pk=visit.pk).first()
    if fresh is None:
        fresh = with_related(Visit.objects.all()).get(pk=visit.pk)
    return visit_out(fresh, Viewer(user))


def pick(queryset: QuerySet, pk: int | None, field: str):
    """An id from the request body resolved through a (scoped) queryset: unknown → 422."""
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(
            _("%(field)s 无效：%(id)s 不存在或不可用。") % {"field": field, "id": pk}, details={"field": field}
        )
    return obj
