"""Working one visit: record the outcome of a call (idempotent, the same service the
HTML work page posts to) and reschedule it. Each answers with the visit as it now is;
`version`, when sent, must still be current (409 `conflict`, nothing changed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core.errors import Conflict, KefuError
from kefu.core.idempotency import IdempotencyKey, idempotent
from kefu.core.schemas import errors
from kefu.visits.api.common import not_found, visit_for, written
from kefu.visits.api.router import router
from kefu.visits.api.schemas import VisitOut
from kefu.visits.api.schemas_in import RecordIn, RescheduleIn
from kefu.visits.models import Visit
from kefu.visits.services.visits import ProblemInput, visit_record, visit_reschedule

WRITE = {200: VisitOut, **errors(400, 403, 404, 409, 422)}
# ticket_create names the ticket's own fields when it refuses a problem; in this body
# they live under `problem`.
_PROBLEM_FIELDS = {name: f"problem.{name}" for name in ("kind", "title", "description", "severity")}


@contextmanager
def _problem_fields(problem: ProblemInput | None) -> Iterator[None]:
    try:
        yield
    except KefuError as error:
        field = error.details.get("field") if problem is not None and isinstance(error.details, dict) else None
        if field in _PROBLEM_FIELDS:
            error.details = {**error.details, "field": _PROBLEM_FIELDS[field]}
        raise


@contextmanager
def _at_version(visit: Visit, version: int | None) -> Iterator[None]:
    """For the service that takes no `expected_version`: lock the visit and refuse a
    stale version (409), then run the service in the same transaction, so nobody can slip
    a change in between."""
    with transaction.atomic():
        if version is not None:
            locked = Visit.objects.select_for_update().filter(pk=visit.pk).values_list("version", flat=True).first()
            if locked is None:
                raise not_found()
            if locked != version:
                raise Conflict(_("该回访已被他人处理，请刷新后重试。"), details={"version": locked})
        yield


@router.post(
    "/visits/{visit_id}/record",
    response=WRITE,
    summary="记录回访结果",
    description="一次拨打（或上门、消息）的结果。reached：按问卷版本校验答卷，回访完成；工单回访确认须填 "
    "`satisfied`（true 确认结案，false 重新打开工单）。no_answer：按规则改期（默认最多 3 次，间隔 1 个工作日），"
    "次数用尽则为未能联系。call_back：改到 `call_back_at` 那天。wrong_number、refused：回访结束。"
    "`problem` 在同一步创建关联工单，任何一步被拒绝则什么都不记录。"
    "已结束的回访返回 409 `visit_not_planned`。支持 `Idempotency-Key`：同一键重试返回首次结果，不会多记一次拨打。",
    operation_id="visits_record",
)
def visit_record_endpoint(request, visit_id: int, payload: RecordIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    visit = visit_for(request, visit_id)
    problem = None
    if payload.problem is not None:
        problem = ProblemInput(
            kind_code=payload.problem.kind.strip(),
            title=payload.problem.title,
            description=payload.problem.description,
            severity=payload.problem.severity,
        )

    def record():
        with _problem_fields(problem):
            saved = visit_record(
                actor=user,
                visit=visit,
                outcome=payload.outcome,
                channel=payload.channel or visit.channel,
                answers=payload.answers,
                notes=payload.notes,
                next_action=payload.next_action,
                call_back_at=payload.call_back_at,
                satisfied=payload.satisfied,
                arrived=payload.arrived,
                deal=payload.deal,
                deal_amount=payload.deal_amount,
                problem=problem,
                expected_version=payload.version,
            )
        return written(user, saved)

    return idempotent(request, key=idempotency_key, schema=VisitOut, create=record, status=200)


@router.post(
    "/visits/{visit_id}/reschedule",
    response=WRITE,
    summary="调整计划日期",
    description="只能调整待回访的回访（否则 409 `visit_not_planned`）；新日期不能早于今天（422）。",
    operation_id="visits_reschedule",
)
def visit_reschedule_endpoint(request, visit_id: int, payload: RescheduleIn):
    user = request.user
    visit = visit_for(request, visit_id)
    with _at_version(visit, payload.version):
        saved = visit_reschedule(actor=user, visit=visit, due_date=payload.due_date, reason=payload.reason.strip())
    return written(user, saved)
