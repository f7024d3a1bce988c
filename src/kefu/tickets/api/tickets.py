"""Tickets: list (the desk's queues and filters), register, read, correct; and the
configuration clients need to map kinds and categories."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Query

from kefu.core import access
from kefu.core.errors import AccessDenied, ValidationFailed
from kefu.core.idempotency import IdempotencyKey, idempotent
from kefu.core.schemas import errors
from kefu.core.selectors import org as org_selectors
from kefu.customers import selectors as customer_selectors
from kefu.customers.models import Contact
from kefu.tickets import selectors
from kefu.tickets.api.common import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    VIEW,
    Viewer,
    created,
    list_item,
    page_of,
    pick,
    ticket_for,
    ticket_out,
    visible_ticket,
    written,
)
from kefu.tickets.api.router import router
from kefu.tickets.api.schemas import TicketOut, TicketPage, TicketSettingsOut
from kefu.tickets.api.schemas_in import MAX_ID, TicketIn, TicketPatch
from kefu.tickets.choices import Channel, Severity, SlaState, TicketStatus
from kefu.tickets.fields import kind_fields
from kefu.tickets.models import TicketCategory, TicketKind
from kefu.tickets.params import filters_from_params
from kefu.tickets.services.common import ADD, CHANGE, MANAGE_SETTINGS
from kefu.tickets.services.tickets import TicketInput, ticket_create, ticket_update

# --- list ---------------------------------------------------------------------------

_LIST_DESCRIPTION = (
    "与网页工单台使用同一个查询：`queue` 选择队列（"
    + " / ".join(selectors.QUEUES)
    + "），其余条件可组合；列表条件可重复或以逗号分隔（`status=routed,in_progress`）。"
    "按游标分页：把 `next_cursor` 作为 `cursor` 传回，直到为 null。"
)


@router.get(
    "/tickets",
    response={200: TicketPage, **errors(403, 422)},
    summary="工单列表",
    description=_LIST_DESCRIPTION,
    operation_id="tickets_list",
)
def ticket_list(
    request,
    queue: str = Query("all", description="队列"),
    q: str = Query("", max_length=200, description="工单编号、标题或客户名称"),
    kind: str = Query("", max_length=1000, description="工单类型 id，逗号分隔"),
    status: str = Query("", max_length=1000, description="状态，逗号分隔：" + " / ".join(TicketStatus.values)),
    category: str = Query("", max_length=1000, description="分类 id，逗号分隔；none = 未分类"),
    severity: str = Query("", max_length=1000, description="严重程度：" + " / ".join(Severity.values)),
    department: str = Query("", max_length=1000, description="派单部门 id，逗号分隔"),
    responsible_department: str = Query(
        "", max_length=1000, description="责任部门 id（统计按它计），逗号分隔；none = 未指定部门"
    ),
    region: str = Query("", max_length=1000, description="片区 id，逗号分隔；none = 未指定片区"),
    channel: str = Query("", max_length=1000, description="受理渠道：" + " / ".join(Channel.values)),
    sla_state: str = Query("", max_length=1000, description="时限状态：" + " / ".join(SlaState.values)),
    assignee: str = Query("", max_length=1000, description="负责人 id，逗号分隔；none = 未指定负责人"),
    customer: int | None = Query(None, ge=1, le=MAX_ID, description="客户档案 id"),
    created_from: datetime.date | None = None,
    created_to: datetime.date | None = None,
    resolved: str = Query("", max_length=1, description="1 = 已填写处理结果（含其后撤销的），0 = 尚未处理"),
    due_from: datetime.date | None = None,
    due_to: datetime.date | None = None,
    important: bool | None = Query(None, description="只看 / 排除重要投诉"),
    sort: str = Query(selectors.DEFAULT_SORT, description="排序：" + " / ".join(selectors.SORTS)),
    cursor: str | None = Query(None, max_length=1000),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    user = request.user
    access.require(user, VIEW)
    if sort not in selectors.SORTS:
        raise ValidationFailed(
            _("排序方式无效：%(sort)s") % {"sort": sort}, details={"field": "sort", "choices": list(selectors.SORTS)}
        )
    # The declared parameters above document the API and check types; the filters
    # themselves come from the raw query string through the parser the HTML queues
    # and the Excel export use, so the three always select the same tickets.
    filters = filters_from_params(request.GET)
    qs = selectors.with_list_related(selectors.ticket_list(user=user, filters=filters))
    page = page_of(qs, order=selectors.SORTS[sort], cursor=cursor, limit=limit, ids_first=True)
    viewer = Viewer(user)
    return {"items": [list_item(t, viewer) for t in page.items], "next_cursor": page.next_cursor}


# --- create -------------------------------------------------------------------------


def _kind(code: str) -> TicketKind:
    kind = TicketKind.objects.filter(code=code.strip(), is_active=True).first()
    if kind is None:
        raise ValidationFailed(_("工单类型无效：%(code)s") % {"code": code}, details={"field": "kind"})
    return kind


def _staff(user):
    return org_selectors.staff_list(user, {"active": True})


@router.post(
    "/tickets",
    response={201: TicketOut, **errors(400, 403, 404, 409, 422)},
    summary="登记工单",
    description="投诉、报修等类型须关联客户（`customer_id`，否则 422 `ticket_customer_required`）；"
    "编号按类型和日期生成，时限按匹配的时限规则计算；紧急工单立即升级。支持 `Idempotency-Key`。",
    operation_id="tickets_create",
)
def ticket_create_endpoint(request, payload: TicketIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    access.require(user, ADD)

    def create():
        customer = None
        if payload.customer_id is not None:
            customer = customer_selectors.customer_ref_get(user=user, pk=payload.customer_id)
            if customer is None:
                raise ValidationFailed(
                    _("customer_id 无效：%(id)s 不存在或不可用。") % {"id": payload.customer_id},
                    details={"field": "customer_id"},
                )
        contact = None
        if payload.contact_id is not None:
            if customer is None:
                raise ValidationFailed(_("联系方式必须属于所选客户。"), details={"field": "contact_id"})
            contact = pick(Contact.objects.filter(customer=customer), payload.contact_id, "contact_id")
        data = TicketInput(
            kind=_kind(payload.kind),
            title=payload.title,
            description=payload.description,
            customer=customer,
            contact=contact,
            caller_name=payload.caller_name,
            caller_phone=payload.caller_phone,
            channel=payload.channel,
            agency_name=payload.agency_name,
            agency_ref=payload.agency_ref,
            agency_deadline=payload.agency_deadline,
            category=pick(TicketCategory.objects.all(), payload.category_id, "category_id"),
            severity=payload.severity,
            extra=payload.extra,
            assignee=pick(_staff(user), payload.assignee_id, "assignee_id"),
            against_staff=pick(_staff(user), payload.against_staff_id, "against_staff_id"),
            region=pick(org_selectors.region_list(user), payload.region_id, "region_id"),
        )
        return created(user, ticket_create(actor=user, data=data))

    return idempotent(request, key=idempotency_key, schema=TicketOut, create=create)


# --- read and correct ---------------------------------------------------------------


@router.get(
    "/tickets/{ticket_id}",
    response={200: TicketOut, **errors(403, 404, 422)},
    summary="工单详情",
    operation_id="tickets_get",
)
def ticket_get(request, ticket_id: int):
    user = request.user
    access.require(user, VIEW)
    return ticket_out(visible_ticket(user, ticket_id), Viewer(user))


_PLAIN = ("title", "description", "severity", "channel", "agency_name", "agency_ref", "agency_deadline")
_PLAIN += ("caller_name", "caller_phone", "extra")
_NOT_NULL = ("title", "description", "severity", "channel", "agency_name", "agency_ref", "caller_name")
_NOT_NULL += ("caller_phone", "extra")


@router.patch(
    "/tickets/{ticket_id}",
    response={200: TicketOut, **errors(400, 403, 404, 409, 422)},
    summary="修改工单",
    description="只修改提交的字段。`version` 必填：工单已被他人修改时返回 409 `conflict`，不做任何修改。"
    "已结束的工单不能修改（409 `ticket_illegal_transition`）；状态只能通过各流转接口改变。",
    operation_id="tickets_update",
)
def ticket_update_endpoint(request, ticket_id: int, payload: TicketPatch):
    user = request.user
    ticket = ticket_for(request, ticket_id, CHANGE)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    for name in _NOT_NULL:
        if name in data and data[name] is None:
            raise ValidationFailed(_("字段不能为 null。"), details={"field": name})
    values: dict[str, Any] = {k: data[k] for k in _PLAIN if k in data}
    if "category_id" in data:
        values["category"] = pick(TicketCategory.objects.all(), data["category_id"], "category_id")
    if "contact_id" in data:
        contacts = (
            Contact.objects.filter(customer_id=ticket.customer_id) if ticket.customer_id else Contact.objects.none()
        )
        values["contact"] = pick(contacts, data["contact_id"], "contact_id")
    if "against_staff_id" in data:
        values["against_staff"] = pick(_staff(user), data["against_staff_id"], "against_staff_id")
    updated = ticket_update(actor=user, ticket=ticket, values=values, expected_version=version)
    return written(user, updated)


# --- configuration ------------------------------------------------------------------


@router.get(
    "/ticket-settings",
    response={200: TicketSettingsOut, **errors(403)},
    summary="工单配置（类型及其附加字段、分类）",
    description="供 API 客户端对照代码与 id：包括已停用的类型和分类（`is_active` 标明）。",
    operation_id="tickets_settings",
)
def ticket_settings(request):
    user = request.user
    if not (access.has_perm(user, VIEW) or access.has_perm(user, MANAGE_SETTINGS)):
        raise AccessDenied(_("您没有执行此操作的权限。"))
    kinds = [
        {
            "id": k.pk,
            "code": k.code,
            "name": k.name,
            "prefix": k.prefix,
            "requires_customer": k.requires_customer,
            "requires_routing": k.requires_routing,
            "requires_confirmation": k.requires_confirmation,
            "allows_refund": k.allows_refund,
            "counts_against_staff": k.counts_against_staff,
            "fields": [
                {"key": f.key, "label": f.label, "type": f.field_type, "choices": f.choices, "required": f.required}
                for f in kind_fields(k)
            ],
            "is_active": k.is_active,
        }
        for k in TicketKind.objects.order_by("sort_order", "id")
    ]
    categories = TicketCategory.objects.order_by("path", "id")
    return {"kinds": kinds, "categories": list(categories)}
