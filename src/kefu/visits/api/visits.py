"""Visits: the list (the call list's sections and the team view's filters), its
statistics, planning a visit by hand, bulk reassignment and one visit with its
questionnaire.

The fixed paths (/visits/stats, /visits/reassign) are registered before
/visits/{visit_id}: ninja turns `{visit_id}` into a plain path segment, and Django takes
the first pattern that matches."""

from __future__ import annotations

from ninja import Query

from kefu.core import access
from kefu.core.idempotency import IdempotencyKey, idempotent
from kefu.core.schemas import errors
from kefu.core.selectors import org as org_selectors
from kefu.customers import selectors as customer_selectors
from kefu.visits.api.common import (
    ADD,
    MAX_PAGE_SIZE,
    ORDER,
    PAGE_SIZE,
    REASSIGN,
    VIEW,
    Viewer,
    filtered,
    list_item,
    not_found,
    page_of,
    pick,
    visit_for,
    visit_out,
    with_related,
    written,
)
from kefu.visits.api.router import router
from kefu.visits.api.schemas import ReassignOut, VisitOut, VisitPage, VisitStatsOut
from kefu.visits.api.schemas_in import ReassignIn, VisitFilters, VisitIn
from kefu.visits.models import Questionnaire, Visit
from kefu.visits.selectors import visit_base, visit_stats
from kefu.visits.services.visits import visit_create, visit_reassign

_LIST_DESCRIPTION = (
    "`section=due` 是我的今日及逾期待回访（最早的在前），`upcoming` 是我的即将回访，`all`（默认）是可见范围内的"
    "全部回访：坐席只看分配给自己的，主管和客户经理看本片区的，经理看全部。其余条件可组合。"
    "按计划日期排序，按游标分页：把 `next_cursor` 作为 `cursor` 传回，直到为 null。"
)


@router.get(
    "/visits",
    response={200: VisitPage, **errors(403, 422)},
    summary="回访列表",
    description=_LIST_DESCRIPTION,
    operation_id="visits_list",
)
def visit_list(
    request,
    filters: Query[VisitFilters],
    cursor: str | None = Query(None, max_length=1000),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    user = request.user
    access.require(user, VIEW)
    page = page_of(with_related(filtered(user, filters)), order=ORDER, cursor=cursor, limit=limit)
    viewer = Viewer(user)
    return {"items": [list_item(v, viewer) for v in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/visits",
    response={201: VisitOut, **errors(400, 403, 404, 409, 422)},
    summary="安排回访",
    description="手工安排一次回访（客户经理上门、答应客户的跟进）。为他人安排须有改派权限（否则 403）；"
    "客户、回访人、问卷须可见且可用（否则 422）。支持 `Idempotency-Key`。",
    operation_id="visits_create",
)
def visit_create_endpoint(request, payload: VisitIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    access.require(user, ADD)

    def create():
        # Live archives only (a merged-away one is visited under the archive it went to).
        customer = pick(customer_selectors.customer_base(user), payload.customer_id, "customer_id")
        visit = visit_create(
            actor=user,
            customer=customer,
            visit_type=payload.visit_type,
            due_date=payload.due_date,
            assignee=pick(org_selectors.staff_list(user, {"active": True}), payload.assignee_id, "assignee_id"),
            channel=payload.channel,
            questionnaire=pick(
                Questionnaire.objects.filter(is_active=True), payload.questionnaire_id, "questionnaire_id"
            ),
        )
        return written(user, visit)

    return idempotent(request, key=idempotency_key, schema=VisitOut, create=create)


@router.get(
    "/visits/stats",
    response={200: VisitStatsOut, **errors(403, 422)},
    summary="回访统计",
    description="与回访列表相同的范围和条件（不分页）：回访量、接通率、满意度、NPS、到院与成交。",
    operation_id="visits_stats",
)
def visit_statistics(request, filters: Query[VisitFilters]):
    user = request.user
    access.require(user, VIEW)
    return visit_stats(filtered(user, filters))


@router.post(
    "/visits/reassign",
    response={200: ReassignOut, **errors(400, 403, 404, 409, 422)},
    summary="批量改派",
    description="把待回访的回访改派给另一位可回访的员工，全部成功或全部不改：有回访不存在或不可见时返回 404，"
    "已结束的返回 409 `visit_not_planned`，回访人无效时返回 422。需要改派权限。",
    operation_id="visits_reassign",
)
def visit_reassign_endpoint(request, payload: ReassignIn):
    user = request.user
    access.require(user, REASSIGN)
    ids = list(dict.fromkeys(payload.ids))
    visits = list(visit_base(user).filter(pk__in=ids))
    missing = sorted(set(ids) - {v.pk for v in visits})
    if missing:
        raise not_found(field="ids", ids=missing)
    assignee = pick(org_selectors.staff_list(user, {"active": True}), payload.assignee_id, "assignee_id")
    count = visit_reassign(actor=user, visits=visits, assignee=assignee)
    # Read back unscoped: the actor saw every one of them a moment ago, and handing a
    # visit to somebody may take it out of a supervisor's own region.
    changed = with_related(Visit.objects.filter(pk__in=ids)).order_by(*ORDER)
    viewer = Viewer(user)
    return {
        "count": count,
        "assignee": {"id": assignee.pk, "name": assignee.display_name or assignee.username},
        "items": [list_item(v, viewer) for v in changed],
    }


@router.get(
    "/visits/{visit_id}",
    response={200: VisitOut, **errors(403, 404, 422)},
    summary="回访详情",
    description="含问卷版本的题目（`asked`）与已记录的答卷（`answers`，题目 key → 答案）。",
    operation_id="visits_get",
)
def visit_get(request, visit_id: int):
    user = request.user
    return visit_out(visit_for(request, visit_id), Viewer(user))
