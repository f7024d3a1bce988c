"""Campaign lists (回访活动): a filtered customer archive list turned into a one-off batch
of visits (二次开发, unconverted consultations…).

The customers are chosen exactly as the archive list chooses them — its own parameter
parser and scoped selector, with the creator's scope — so what the manager saw in the
list (and in the count preview) is what gets visited. The visits are written with one
INSERT … SELECT over that query: a 50,000-customer campaign is one statement, not
50,000 objects in memory, and the unique campaign × customer makes a repeat impossible."""

from __future__ import annotations

import dataclasses
import datetime
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import ValidationFailed
from kefu.core.models import User
from kefu.core.services.config_rows import clean_name, invalid
from kefu.customers.choices import Lifecycle
from kefu.customers.models import Customer
from kefu.customers.params import filters_from_params
from kefu.customers.selectors import CustomerFilters, customer_list
from kefu.visits.choices import AssignTo, VisitChannel, VisitStatus
from kefu.visits.models import Campaign, Questionnaire, Visit

ADD_CAMPAIGN = "visits.add_campaign"
RECORD = "visits.record_visit"
MAX_CUSTOMERS = 50_000
MAX_DAYS_AHEAD = 366
# The archive list's parameters are named after CustomerFilters' fields; custom fields
# come as `extra.<key>`. Paging and sorting say nothing about who is in the list.
FILTER_KEYS = frozenset(f.name for f in dataclasses.fields(CustomerFilters)) - {"extra"}
EXTRA_PREFIX = "extra."
IGNORED_KEYS = frozenset({"cursor", "sort"})
MAX_FILTER_KEYS = 40
MAX_VALUE_LENGTH = 200


def _printable(text: str) -> str:
    # Control characters mean nothing to the archive's search (it drops them) and
    # PostgreSQL refuses NUL in JSON.
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def clean_campaign_filters(filters: Any) -> dict[str, str | list[str]]:
    """The archive list's query parameters as stored on the campaign: known filters
    only (a pasted address of another page must not quietly select every customer),
    empty ones dropped, one value as a string and several as a list."""
    if filters in (None, ""):
        return {}
    if not isinstance(filters, Mapping):
        raise invalid(_("客户筛选条件格式不正确。"), "filters")
    items = filters.lists() if isinstance(filters, QueryDict) else filters.items()
    out: dict[str, str | list[str]] = {}
    for key, raw in items:
        key = _printable(str(key)).strip()
        if key in IGNORED_KEYS:
            continue
        if key not in FILTER_KEYS and not (key.startswith(EXTRA_PREFIX) and 0 < len(key) - len(EXTRA_PREFIX) <= 60):
            raise invalid(_("“%(key)s”不是客户档案列表的筛选条件。") % {"key": key[:60]}, "filters")
        values = []
        for value in raw if isinstance(raw, list | tuple) else [raw]:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise invalid(_("筛选条件“%(key)s”的值无效。") % {"key": key}, "filters")
            text = _printable(str(value)).strip()
            if len(text) > MAX_VALUE_LENGTH:
                raise invalid(_("筛选条件“%(key)s”的值太长。") % {"key": key}, "filters")
            if text:
                values.append(text)
        if values:
            out[key] = values[0] if len(values) == 1 else values
    if len(out) > MAX_FILTER_KEYS:
        raise invalid(_("筛选条件太多。"), "filters")
    return out


def filters_as_params(filters: Mapping[str, str | list[str]]) -> QueryDict:
    """Stored filters back as request parameters (what the archive list reads)."""
    params = QueryDict(mutable=True)
    for key, value in filters.items():
        params.setlist(key, value if isinstance(value, list) else [value])
    return params


def campaign_customers(*, actor, filters: Any) -> QuerySet[Customer]:
    """The customers a campaign with `filters` visits: the archive list `actor` sees with
    them, less lost customers (流失: the planner cancels their visits anyway)."""
    params = filters_as_params(clean_campaign_filters(filters))
    try:
        parsed = filters_from_params(params)
    except ValidationFailed as err:
        raise invalid(err.message, "filters") from None
    return customer_list(user=actor, filters=parsed).exclude(lifecycle=Lifecycle.LOST)


@dataclass(frozen=True)
class CampaignPreview:
    """What the form shows before creating: how many customers, and how many of them
    have no owner (their visits would wait, unassigned, for a supervisor)."""

    count: int
    without_owner: int

    @property
    def too_many(self) -> bool:
        return self.count > MAX_CUSTOMERS


def campaign_preview(*, actor, filters: Any) -> CampaignPreview:
    access.require(actor, ADD_CAMPAIGN)
    figures = campaign_customers(actor=actor, filters=filters).aggregate(
        count=Count("pk"), without_owner=Count("pk", filter=Q(owner__isnull=True))
    )
    return CampaignPreview(count=figures["count"], without_owner=figures["without_owner"])


def _check(actor, *, due_date, questionnaire, assign_to, assignee) -> None:
    if not isinstance(due_date, datetime.date) or isinstance(due_date, datetime.datetime):
        raise invalid(_("请填写回访日期。"), "due_date")
    today = timezone.localdate()
    if due_date < today:
        raise invalid(_("回访日期不能早于今天。"), "due_date")
    if due_date > today + datetime.timedelta(days=MAX_DAYS_AHEAD):
        raise invalid(_("回访日期不能晚于一年以后。"), "due_date")
    if questionnaire is not None:
        if not isinstance(questionnaire, Questionnaire) or not questionnaire.is_active:
            raise invalid(_("请选择启用中的问卷。"), "questionnaire")
        if not questionnaire.versions.exists():
            raise invalid(_("问卷“%(name)s”还没有发布任何版本。") % {"name": questionnaire.name}, "questionnaire")
    if assign_to not in (AssignTo.OWNER, AssignTo.USER):
        # A campaign has no team or ticket to hand its visits to.
        raise invalid(_("回访活动只能分配给客户经理或指定人员。"), "assign_to")
    if assign_to == AssignTo.USER:
        if not isinstance(assignee, User):
            raise invalid(_("分配给指定人员时请选择回访人。"), "assignee")
        if not (assignee.is_active and assignee.has_perm(RECORD)):
            raise invalid(_("回访人必须是可以回访的在职员工。"), "assignee")


def _insert_visits(campaign: Campaign, customers: QuerySet[Customer], *, version_id: int | None) -> int:
    """INSERT … SELECT one planned visit per customer. Every column but the customer's
    own (id, region, owner) comes from an unsaved Visit, so defaults and field types
    stay the model's; ON CONFLICT DO NOTHING leans on the unique campaign × customer."""
    template = Visit(
        campaign=campaign,
        customer_id=0,
        period_key=f"campaign:{campaign.pk}",
        visit_type=campaign.visit_type,
        due_date=campaign.due_date,
        assignee_id=campaign.assignee_id if campaign.assign_to == AssignTo.USER else None,
        region_id=None,
        status=VisitStatus.PLANNED,
        channel=VisitChannel.PHONE,
        questionnaire_version_id=version_id,
    )
    from_customer = {"customer_id": "s.cid", "region_id": "s.rid"}
    if campaign.assign_to == AssignTo.OWNER:
        from_customer["assignee_id"] = "s.oid"
    columns, expressions, params = [], [], []
    for field in Visit._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in from_customer:
            expressions.append(from_customer[field.attname])
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(template, add=True), connection))
    source = customers.order_by().values(cid=F("pk"), rid=F("region_id"), oid=F("owner_id"))
    source_sql, source_params = source.query.sql_with_params()
    # Only column names and the compiled selector are formatted in; values are parameters.
    # "WHERE 1 = 1" keeps SQLite from reading ON CONFLICT as a join's ON.
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Visit._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(expressions)} FROM ({source_sql}) s WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *source_params])
        return cursor.rowcount


def campaign_create(
    *,
    actor,
    name: str,
    visit_type: str,
    filters: Any,
    due_date: datetime.date,
    questionnaire: Questionnaire | None = None,
    assign_to: str = AssignTo.OWNER,
    assignee: User | None = None,
) -> Campaign:
    """A campaign and its visits, one per customer of the filtered archive list the
    actor sees (lost customers left out), due on `due_date`, by each customer's owner
    or by `assignee`. Refused when the list is empty or longer than MAX_CUSTOMERS."""
    access.require(actor, ADD_CAMPAIGN)
    name = clean_name(Campaign, "name", name)
    visit_type = clean_name(Campaign, "visit_type", visit_type)
    stored = clean_campaign_filters(filters)
    _check(actor, due_date=due_date, questionnaire=questionnaire, assign_to=assign_to, assignee=assignee)
    customers = campaign_customers(actor=actor, filters=stored)
    with transaction.atomic():
        count = customers.count()
        if count == 0:
            raise invalid(_("筛选结果中没有可回访的客户（流失客户不计入）。"), "filters")
        if count > MAX_CUSTOMERS:
            raise invalid(
                _("筛选结果有 %(count)s 位客户，超过一次最多 %(max)s 位，请缩小筛选范围。")
                % {"count": f"{count:,}", "max": f"{MAX_CUSTOMERS:,}"},
                "filters",
            )
        version = questionnaire.current_version() if questionnaire is not None else None
        campaign = Campaign.objects.create(
            name=name,
            visit_type=visit_type,
            filters=stored,
            due_date=due_date,
            questionnaire=questionnaire,
            assign_to=assign_to,
            assignee=assignee if assign_to == AssignTo.USER else None,
            created_by=actor,
        )
        inserted = _insert_visits(campaign, customers, version_id=version.pk if version else None)
        if inserted == 0 or inserted > MAX_CUSTOMERS:
            # The archive changed between the count and the insert; nothing is kept.
            raise invalid(_("客户档案刚刚发生了变化，请重新预览后再创建。"), "filters")
        campaign.visit_count = inserted
        campaign.save(update_fields=["visit_count", "updated_at"])
        audit_record(
            code="campaign.created",
            obj=campaign,
            actor=actor,
            data={
                "filters": stored,
                "count": inserted,
                "due_date": due_date,
                "assign_to": assign_to,
                "assignee": campaign.assignee_id,
                "questionnaire_version": version.pk if version else None,
            },
        )
    return campaign
