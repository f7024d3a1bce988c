"""Customer archive API (客户档案): list, create, read, update, contacts, class and
credit changes, the audited reveal of phone / ID numbers, timeline, merge and the
configuration lists clients need to map ids.

Reads go through `kefu.customers.selectors` (the same selector and the same
`filters_from_params` as the HTML list and the Excel export, so the three always select
the same customers); writes go through the archive services. Phone and ID numbers are
masked in every answer unless the caller holds `core.reveal_pii`; the full value of one
number is available through `POST /customers/{id}/reveal`, which is audited.

Every endpoint stays in this module: ninja makes the OpenAPI operation ids from the
module's name, and generated clients are built on them. What the endpoints share (the
masked output, the lookups of ids) is in `kefu.customers.api_common`."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import NotSupportedError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from kefu.core import access, pii
from kefu.core.errors import AccessDenied, Conflict, ErrorCode, NotFound, ValidationFailed
from kefu.core.idempotency import IdempotencyKey, idempotent
from kefu.core.schemas import errors
from kefu.customers import selectors
from kefu.customers.api_common import (
    Mask,
    contact_out,
    detail_out,
    guard_numbers,
    list_item,
    not_found,
    owners_for,
    page_of,
    pick,
    pick_many,
    refuse_nulls,
    regions_for,
    timeline_out,
    usable,
    visible_customer,
)
from kefu.customers.fields import active_fields
from kefu.customers.models import (
    Contact,
    CreditGrade,
    Customer,
    CustomerClass,
    CustomerSource,
    ProductCategory,
)
from kefu.customers.params import filters_from_params
from kefu.customers.schemas import (
    MAX_ID,
    ClassChangeIn,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    CreditChangeIn,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    CustomerSettingsOut,
    MergeIn,
    RevealIn,
    RevealOut,
    TimelinePage,
)
from kefu.customers.services import contacts as contact_services
from kefu.customers.services import customers as services
from kefu.customers.services.common import lock_customer

router = Router(tags=["customers"])

VIEW = "customers.view_customer"
ADD = "customers.add_customer"
MERGE = "customers.merge_customer"
MANAGE_SETTINGS = "customers.manage_archive_settings"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


# --- list, create, read, update -----------------------------------------------------

_LIST_DESCRIPTION = (
    "筛选与网页列表、Excel 导出完全一致：`q`（名称、拼音首字母、4 位以上电话号码、档案编号），"
    "列表条件可重复或以逗号分隔（`region=1,2`），自定义字段用 `extra.<键>`、`extra.<键>__gte`、"
    "`extra.<键>__lte`。按游标分页：把 `next_cursor` 作为 `cursor` 传回，直到为 null。"
)


@router.get(
    "/customers",
    response={200: CustomerPage, **errors(403, 422)},
    summary="客户列表",
    description=_LIST_DESCRIPTION,
)
def customer_list(
    request,
    q: str = Query("", max_length=200, description="搜索"),
    kind: str = Query("", description="person / organisation"),
    customer_class: str = Query("", description="客户分类 id，逗号分隔"),
    region: str = Query("", description="片区 id，逗号分隔"),
    owner: str = Query("", description="客户经理 id，逗号分隔"),
    credit_grade: str = Query("", description="信用等级 id，逗号分隔"),
    lifecycle: str = Query("", description="potential / active / lost，逗号分隔"),
    source: str = Query("", description="信息来源 id，逗号分隔"),
    category: str = Query("", description="产品类别 id，逗号分隔"),
    tags: str = Query("", description="标签名，逗号分隔"),
    key_account: str = Query("", description="1 只看大客户，0 排除大客户"),
    created_from: datetime.date | None = None,
    created_to: datetime.date | None = None,
    updated_from: datetime.date | None = None,
    updated_to: datetime.date | None = None,
    sort: str = Query("-id", description="排序：" + " / ".join(selectors.SORTS)),
    cursor: str | None = None,
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    user = request.user
    access.require(user, VIEW)
    # The declared parameters above document the API and check types; the filter
    # itself is built from the raw query string exactly as the HTML list builds it.
    filters = filters_from_params(request.GET)
    for name in ("customer_class", "region", "owner", "credit_grade", "source", "category"):
        if any(v > MAX_ID for v in getattr(filters, name)):
            raise ValidationFailed(_("筛选条件无效：%(key)s") % {"key": name}, details={"field": name})
    if sort not in selectors.SORTS:
        raise ValidationFailed(
            _("排序方式无效：%(sort)s") % {"sort": sort}, details={"field": "sort", "choices": list(selectors.SORTS)}
        )
    qs = selectors.with_list_related(selectors.customer_list(user=user, filters=filters)).prefetch_related("categories")
    try:
        page = page_of(qs, order=selectors.SORTS[sort], cursor=cursor, limit=limit)
    except NotSupportedError as exc:
        # A custom-field lookup this database cannot run (`__contains` on SQLite).
        raise ValidationFailed(_("该数据库不支持此自定义字段筛选方式。"), details={"field": "extra"}) from exc
    mask = Mask(user)
    return {"items": [list_item(c, mask) for c in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/customers",
    response={201: CustomerOut, **errors(400, 403, 409, 422)},
    summary="新建客户档案",
    description="疑似重复（姓名+电话相同，或证件号码相同）时返回 409 `customer_duplicate`，"
    "`details.duplicates` 列出可能重复的档案；确认不是同一客户后以 `allow_duplicate: true` 重新提交。"
    "支持 `Idempotency-Key`。",
)
def customer_create(request, payload: CustomerIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    access.require(user, ADD)

    def create():
        guard_numbers(payload.extra)
        data = services.CustomerInput(
            name=payload.name,
            kind=payload.kind,
            contacts=[services.ContactInput(**c.model_dump()) for c in payload.contacts],
            id_number=payload.id_number,
            gender=payload.gender.strip(),
            birthday=payload.birthday,
            address=payload.address,
            region=pick(regions_for(user), payload.region_id, "region_id"),
            owner=pick(owners_for(user), payload.owner_id, "owner_id"),
            customer_class=pick(usable(CustomerClass), payload.customer_class_id, "customer_class_id"),
            is_key_account=payload.is_key_account,
            credit_grade=pick(usable(CreditGrade), payload.credit_grade_id, "credit_grade_id"),
            source=pick(usable(CustomerSource), payload.source_id, "source_id"),
            categories=pick_many(usable(ProductCategory), payload.category_ids, "category_ids"),
            tags=payload.tags,
            lifecycle=payload.lifecycle,
            marketing_consent=payload.marketing_consent,
            consent_channel=payload.consent_channel,
            notes=payload.notes,
            extra=payload.extra,
        )
        customer = services.customer_create(actor=user, data=data, allow_duplicate=payload.allow_duplicate)
        return detail_out(user, customer.pk)

    return idempotent(request, key=idempotency_key, schema=CustomerOut, create=create)


@router.get("/customers/{customer_id}", response={200: CustomerOut, **errors(403, 404, 422)}, summary="客户详情")
def customer_get(request, customer_id: int):
    access.require(request.user, VIEW)
    return detail_out(request.user, customer_id)


_PLAIN = ("name", "id_number", "gender", "birthday", "address", "is_key_account", "lifecycle")
_PLAIN += ("marketing_consent", "consent_channel", "notes")
_NOT_NULL = ("name", "id_number", "gender", "address", "is_key_account", "lifecycle")
_NOT_NULL += ("marketing_consent", "consent_channel", "notes")


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerOut, **errors(400, 403, 404, 409, 422)},
    summary="修改客户档案",
    description="只修改提交的字段。`version` 必填：档案已被他人修改时返回 409 `conflict`，不做任何修改。"
    "分类、信用等级有各自的接口（需填写原因）。",
)
def customer_update(request, customer_id: int, payload: CustomerPatch):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    refuse_nulls(data, _NOT_NULL)
    guard_numbers(data.get("extra"))
    values: dict[str, Any] = {k: data[k] for k in _PLAIN if k in data}
    if "region_id" in data:
        values["region"] = pick(regions_for(user), data["region_id"], "region_id")
    if "owner_id" in data:
        values["owner"] = pick(owners_for(user), data["owner_id"], "owner_id")
    if "source_id" in data:
        values["source"] = pick(usable(CustomerSource, [customer.source_id]), data["source_id"], "source_id")
    categories = None
    if data.get("categories") is not None:
        current = [c.pk for c in customer.categories.all()]
        categories = pick_many(usable(ProductCategory, current), data["categories"], "categories")
    services.customer_update(
        actor=user,
        customer=customer,
        values=values,
        expected_version=version,
        categories=categories,
        tags=data.get("tags"),
        extra=data.get("extra"),
    )
    return detail_out(user, customer_id)


# --- contacts -----------------------------------------------------------------------


def _check_version(customer: Customer, version: int | None) -> None:
    """Inside the caller's transaction: a stale archive version is a 409. The row lock
    is held until the contact service (which takes it again) has finished."""
    if version is None:
        return
    locked = lock_customer(customer)
    if locked.version != version:
        raise Conflict(_("该档案已被他人修改，请刷新后重试。"), code=ErrorCode.CONFLICT)


def _contact(customer: Customer, contact_id: int) -> Contact:
    contact = next((c for c in customer.contacts.all() if c.pk == contact_id), None)
    if contact is None:
        raise NotFound(_("联系方式不存在。"))
    return contact


@router.get(
    "/customers/{customer_id}/contacts",
    response={200: ContactPage, **errors(403, 404, 422)},
    summary="客户的联系方式",
)
def contact_list(
    request, customer_id: int, cursor: str | None = None, limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    page = page_of(Contact.objects.filter(customer=customer), order=("-is_primary", "id"), cursor=cursor, limit=limit)
    mask = Mask(user)
    return {"items": [contact_out(c, mask) for c in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/customers/{customer_id}/contacts",
    response={201: ContactOut, **errors(400, 403, 404, 422)},
    summary="新增联系方式",
    description="`is_primary: true` 时原主要联系方式改为普通。支持 `Idempotency-Key`。",
)
def contact_add(request, customer_id: int, payload: ContactIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)

    def create():
        contact = contact_services.contact_add(
            actor=user, customer=customer, data=services.ContactInput(**payload.model_dump())
        )
        return contact_out(contact, Mask(user))

    return idempotent(request, key=idempotency_key, schema=ContactOut, create=create)


@router.patch(
    "/customers/{customer_id}/contacts/{contact_id}",
    response={200: ContactOut, **errors(400, 403, 404, 409, 422)},
    summary="修改联系方式",
    description="只修改提交的字段；主要联系方式用 `…/primary` 设置。",
)
def contact_update(request, customer_id: int, contact_id: int, payload: ContactPatch):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    contact = _contact(customer, contact_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    refuse_nulls(data, ("name", "role", "phone", "wechat", "email"))
    merged = services.ContactInput(
        name=data.get("name", contact.name),
        role=data.get("role", contact.role),
        phone=data.get("phone", contact.phone),
        wechat=data.get("wechat", contact.wechat),
        email=data.get("email", contact.email),
        is_primary=contact.is_primary,
    )
    with transaction.atomic():
        _check_version(customer, version)
        updated = contact_services.contact_update(actor=user, customer=customer, contact_id=contact.pk, data=merged)
    return contact_out(updated, Mask(user))


@router.delete(
    "/customers/{customer_id}/contacts/{contact_id}",
    response={204: None, **errors(403, 404, 409, 422)},
    summary="删除联系方式",
    description="删除主要联系方式时，最早的其余联系方式成为主要联系方式。",
)
def contact_remove(request, customer_id: int, contact_id: int, version: int | None = None):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    contact = _contact(customer, contact_id)
    with transaction.atomic():
        _check_version(customer, version)
        contact_services.contact_remove(actor=user, customer=customer, contact_id=contact.pk)
    return HttpResponse(status=204)


@router.post(
    "/customers/{customer_id}/contacts/{contact_id}/primary",
    response={200: ContactOut, **errors(403, 404, 422)},
    summary="设为主要联系方式",
)
def contact_set_primary(request, customer_id: int, contact_id: int):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    contact = _contact(customer, contact_id)
    updated = contact_services.contact_set_primary(actor=user, customer=customer, contact_id=contact.pk)
    return contact_out(updated, Mask(user))


# --- class, credit, reveal, timeline, merge -----------------------------------------


@router.post(
    "/customers/{customer_id}/class",
    response={200: CustomerOut, **errors(400, 403, 404, 422)},
    summary="调整客户分类",
    description="记录原因；回访频次随分类变化。",
)
def customer_change_class(request, customer_id: int, payload: ClassChangeIn):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    customer_class = pick(usable(CustomerClass), payload.customer_class_id, "customer_class_id")
    services.customer_change_class(actor=user, customer=customer, customer_class=customer_class, reason=payload.reason)
    return detail_out(user, customer_id)


@router.post(
    "/customers/{customer_id}/credit",
    response={200: CustomerOut, **errors(400, 403, 404, 422)},
    summary="调整信用等级",
    description="须填写原因；记录生效日期。需要「调整信用等级」权限。",
)
def customer_change_credit(request, customer_id: int, payload: CreditChangeIn):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    grade = pick(usable(CreditGrade), payload.credit_grade_id, "credit_grade_id")
    services.customer_change_credit(
        actor=user, customer=customer, grade=grade, reason=payload.reason, effective_on=payload.effective_on
    )
    return detail_out(user, customer_id)


@router.post(
    "/customers/{customer_id}/reveal",
    response={200: RevealOut, **errors(400, 403, 404, 422)},
    summary="查看完整号码",
    description="返回完整的电话号码或证件号码，并记入审计日志。需要「查看完整号码」权限（core.reveal_pii）。",
)
def customer_reveal(request, customer_id: int, payload: RevealIn):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    if not pii.may_reveal(user):
        raise AccessDenied(_("您没有查看完整号码的权限。"))
    contact_id = None
    if payload.field == "id_number":
        value = customer.id_number
    else:
        contacts = list(customer.contacts.all())
        if payload.contact_id is not None:
            contact = next((c for c in contacts if c.pk == payload.contact_id), None)
        else:
            contact = next((c for c in contacts if c.is_primary), None)
        if contact is None:
            raise NotFound(_("联系方式不存在。"))
        value, contact_id = contact.phone, contact.pk
    value = pii.reveal(user=user, obj=customer, field=payload.field, value=value)
    return {"field": payload.field, "contact_id": contact_id, "value": value}


@router.get(
    "/customers/{customer_id}/timeline",
    response={200: TimelinePage, **errors(403, 404, 422)},
    summary="客户动态",
    description="最新的在前；按游标分页。",
)
def customer_timeline(
    request, customer_id: int, cursor: str | None = None, limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
):
    user = request.user
    access.require(user, VIEW)
    customer = visible_customer(user, customer_id)
    page = page_of(
        selectors.timeline_for(user=user, customer=customer), order=("-at", "-id"), cursor=cursor, limit=limit
    )
    return {"items": [timeline_out(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/customers/{customer_id}/merge",
    response={200: CustomerOut, **errors(400, 403, 404, 409, 422)},
    summary="合并档案",
    description="把 `source_id` 档案的联系方式、动态及一切关联记录并入本档案；被合并的档案保留编号并标记为已合并。"
    "需要「合并客户档案」权限。可选的 `version` / `source_version` 不符时返回 409。",
)
def customer_merge(request, customer_id: int, payload: MergeIn):
    # Imported here: the merge service walks the whole model graph and is only
    # needed by this endpoint.
    from kefu.customers.services.merge import customer_merge as merge

    user = request.user
    access.require(user, MERGE)
    survivor = visible_customer(user, customer_id)
    source = selectors.customer_get(user=user, pk=payload.source_id)
    if source is None:
        raise not_found(field="source_id")
    kwargs: dict[str, Any] = {}
    if payload.version is not None or payload.source_version is not None:
        kwargs["expected_versions"] = (payload.version, payload.source_version)
    result = merge(actor=user, survivor=survivor, source=source, **kwargs)
    return detail_out(user, result.pk)


# --- configuration ------------------------------------------------------------------


@router.get(
    "/customer-settings",
    response={200: CustomerSettingsOut, **errors(403)},
    summary="档案配置（分类、信用等级、来源、类别、自定义字段）",
    description="供 API 客户端对照 id：包括已停用的分类等（`is_active` 标明），自定义字段只列启用的。",
)
def customer_settings(request):
    user = request.user
    if not (access.has_perm(user, VIEW) or access.has_perm(user, MANAGE_SETTINGS)):
        raise AccessDenied(_("您没有执行此操作的权限。"))
    return {
        "classes": list(CustomerClass.objects.order_by("sort_order", "code")),
        "credit_grades": list(CreditGrade.objects.order_by("sort_order", "code")),
        "sources": list(CustomerSource.objects.order_by("sort_order", "code")),
        "categories": list(ProductCategory.objects.order_by("sort_order", "code")),
        "custom_fields": active_fields(),
    }
