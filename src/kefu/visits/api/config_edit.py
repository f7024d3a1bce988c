"""Changing the visit configuration (visits.manage_visit_settings), through the same
services as the settings pages (`kefu.visits.services.config`): rules created, edited,
paused and resumed; questionnaires created, given a new version, retired and offered
again. Each answers with the object as it now is."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.idempotency import IdempotencyKey, idempotent
from kefu.core.models import Department
from kefu.core.schemas import errors
from kefu.core.selectors import org as org_selectors
from kefu.customers.models import CustomerClass
from kefu.visits.api.common import MANAGE, not_found, pick, questionnaire_out, rule_out, with_versions
from kefu.visits.api.config import rule_queryset
from kefu.visits.api.router import router
from kefu.visits.api.schemas import QuestionnaireOut, VisitRuleOut, VisitRuleSwitchOut
from kefu.visits.api.schemas_in import (
    MAX_ID,
    ActiveIn,
    PublishIn,
    QuestionnaireIn,
    VisitRuleIn,
    VisitRulePatch,
)
from kefu.visits.models import Questionnaire, VisitRule
from kefu.visits.questionnaires import questionnaire_publish
from kefu.visits.services.config import (
    questionnaire_create,
    questionnaire_set_active,
    visit_rule_create,
    visit_rule_pause,
    visit_rule_resume,
    visit_rule_update,
)

WRITE = errors(400, 403, 404, 409, 422)
# Body fields naming an object by id → the rule field, and where to find the object.
_REFS = {
    "customer_class_id": ("customer_class", lambda user: CustomerClass.objects.all()),
    "team_id": ("team", lambda user: Department.objects.all()),
    "assignee_id": ("assignee", lambda user: org_selectors.staff_list(user)),
    "questionnaire_id": ("questionnaire", lambda user: Questionnaire.objects.all()),
}
_NOT_NULL = ("name", "visit_type", "key_accounts_only", "trigger", "offsets_days", "date_field", "assign_to")
_NOT_NULL += ("channel", "max_attempts", "retry_working_days")


def _rule_values(user, data: dict[str, Any]) -> dict[str, Any]:
    """The body as the service's values: ids resolved (unknown → 422; whether an
    inactive one may be used is the service's call), null refused where a rule needs a
    value."""
    for name in _NOT_NULL:
        if name in data and data[name] is None:
            raise ValidationFailed(_("字段不能为 null。"), details={"field": name})
    values = {k: v for k, v in data.items() if k not in _REFS}
    for key, (field, queryset) in _REFS.items():
        if key in data:
            values[field] = pick(queryset(user), data[key], key)
    return values


def _rule(rule_id: int) -> VisitRule:
    rule = rule_queryset().filter(pk=rule_id).first() if 0 < rule_id <= MAX_ID else None
    if rule is None:
        raise not_found()
    return rule


def _questionnaire(questionnaire_id: int) -> Questionnaire:
    found = Questionnaire.objects.filter(pk=questionnaire_id).first() if 0 < questionnaire_id <= MAX_ID else None
    if found is None:
        raise not_found()
    return found


def _questionnaire_now(pk: int) -> dict[str, Any]:
    return questionnaire_out(with_versions(Questionnaire.objects.filter(pk=pk)).get())


@contextmanager
def _unchanged_since(rule: VisitRule, updated_at: datetime.datetime | None) -> Iterator[None]:
    """The optional `updated_at` the client read: the rule locked and refused (409) if
    saved since, then the service runs in the same transaction. Compared to the
    millisecond, the precision the API writes moments with."""
    with transaction.atomic():
        if updated_at is not None:
            current = VisitRule.objects.select_for_update().filter(pk=rule.pk).values_list("updated_at", flat=True)
            stamp = current.first()
            if stamp is None:
                raise not_found()
            if stamp.replace(microsecond=stamp.microsecond // 1000 * 1000) != updated_at:
                raise Conflict(_("该配置已被他人修改，请刷新后重试。"), details={"updated_at": stamp})
        yield


# --- rules -----------------------------------------------------------------------------


@router.post(
    "/visit-rules",
    response={201: VisitRuleOut, **WRITE},
    summary="新建回访规则",
    description="立即启用，下一次生成回访计划时使用。规则按类型整体校验（不适用的字段被清空），"
    "名称重复、分类或问卷已停用等返回 422，`details.field` 指明字段。支持 `Idempotency-Key`。"
    "需要「配置回访规则与问卷」权限。",
    tags=["visit-rules"],
    operation_id="visit_rules_create",
)
def visit_rule_create_endpoint(request, payload: VisitRuleIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    access.require(user, MANAGE)

    def create():
        rule = visit_rule_create(actor=user, **_rule_values(user, payload.model_dump()))
        return rule_out(_rule(rule.pk))

    return idempotent(request, key=idempotency_key, schema=VisitRuleOut, create=create)


@router.patch(
    "/visit-rules/{rule_id}",
    response={200: VisitRuleOut, **WRITE},
    summary="修改回访规则",
    description="只修改提交的字段；规则类型不能修改，已生成回访的事件规则不能改触发事件（422）。"
    "已不适用的待回访由下一次生成计划时取消。可选的 `updated_at` 不符时返回 409。",
    tags=["visit-rules"],
    operation_id="visit_rules_update",
)
def visit_rule_update_endpoint(request, rule_id: int, payload: VisitRulePatch):
    user = request.user
    access.require(user, MANAGE)
    rule = _rule(rule_id)
    data = payload.model_dump(exclude_unset=True)
    updated_at = data.pop("updated_at", None)
    values = _rule_values(user, data)
    with _unchanged_since(rule, updated_at):
        visit_rule_update(actor=user, rule=rule, values=values)
    return rule_out(_rule(rule.pk))


@router.post(
    "/visit-rules/{rule_id}/pause",
    response={200: VisitRuleSwitchOut, **WRITE},
    summary="暂停回访规则",
    description="不再生成新的回访，其待回访的回访立即取消（`visits` 为取消数）。已暂停时返回 409 `visit_rule_paused`。",
    tags=["visit-rules"],
    operation_id="visit_rules_pause",
)
def visit_rule_pause_endpoint(request, rule_id: int):
    user = request.user
    access.require(user, MANAGE)
    rule = _rule(rule_id)
    cancelled = visit_rule_pause(actor=user, rule=rule)
    return {"rule": rule_out(_rule(rule.pk)), "visits": cancelled}


@router.post(
    "/visit-rules/{rule_id}/resume",
    response={200: VisitRuleSwitchOut, **WRITE},
    summary="恢复回访规则",
    description="暂停时取消的本月起的回访恢复为待回访（`visits` 为恢复数），其余由下一次生成计划补上。"
    "正在使用中时返回 409 `visit_rule_active`。",
    tags=["visit-rules"],
    operation_id="visit_rules_resume",
)
def visit_rule_resume_endpoint(request, rule_id: int):
    user = request.user
    access.require(user, MANAGE)
    rule = _rule(rule_id)
    reopened = visit_rule_resume(actor=user, rule=rule)
    return {"rule": rule_out(_rule(rule.pk)), "visits": reopened}


# --- questionnaires --------------------------------------------------------------------


@router.post(
    "/questionnaires",
    response={201: QuestionnaireOut, **WRITE},
    summary="新建问卷",
    description="有 `questions` 时同时发布第 1 版。代码或名称重复返回 422。支持 `Idempotency-Key`。",
    tags=["questionnaires"],
    operation_id="questionnaires_create",
)
def questionnaire_create_endpoint(request, payload: QuestionnaireIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    access.require(user, MANAGE)

    def create():
        questions = [q.model_dump() for q in payload.questions] or None
        questionnaire = questionnaire_create(actor=user, code=payload.code, name=payload.name, questions=questions)
        return _questionnaire_now(questionnaire.pk)

    return idempotent(request, key=idempotency_key, schema=QuestionnaireOut, create=create)


@router.post(
    "/questionnaires/{questionnaire_id}/versions",
    response={200: QuestionnaireOut, **WRITE},
    summary="发布问卷新版本",
    description="旧版本及其答卷保持不变，新回访使用新版本；与最新版本完全相同时不产生新版本。"
    "题目不合格时返回 422（`details.field` 为 questions）。",
    tags=["questionnaires"],
    operation_id="questionnaires_publish",
)
def questionnaire_publish_endpoint(request, questionnaire_id: int, payload: PublishIn):
    user = request.user
    access.require(user, MANAGE)
    questionnaire = _questionnaire(questionnaire_id)
    questionnaire_publish(
        actor=user, questionnaire=questionnaire, questions=[q.model_dump() for q in payload.questions]
    )
    return _questionnaire_now(questionnaire.pk)


@router.post(
    "/questionnaires/{questionnaire_id}/active",
    response={200: QuestionnaireOut, **WRITE},
    summary="启用或停用问卷",
    description="停用后不能再被新规则、新活动选用；启用中的规则仍在使用时不能停用（422）。已是该状态时返回 409。",
    tags=["questionnaires"],
    operation_id="questionnaires_set_active",
)
def questionnaire_set_active_endpoint(request, questionnaire_id: int, payload: ActiveIn):
    user = request.user
    access.require(user, MANAGE)
    questionnaire = _questionnaire(questionnaire_id)
    questionnaire_set_active(actor=user, questionnaire=questionnaire, active=payload.active)
    return _questionnaire_now(questionnaire.pk)
