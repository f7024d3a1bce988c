"""Reading the configuration clients need to map ids and to answer visits: the visit
rules and the questionnaires with every version and its questions (old answers keep the
meaning of their version). Changing them is in `config_edit`."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Query

from kefu.core import access
from kefu.core.errors import AccessDenied, ValidationFailed
from kefu.core.schemas import errors
from kefu.visits.api.common import (
    MANAGE,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    VIEW,
    VIEW_RULE,
    not_found,
    page_of,
    questionnaire_out,
    rule_out,
    with_versions,
)
from kefu.visits.api.router import router
from kefu.visits.api.schemas import QuestionnaireOut, QuestionnairePage, VisitRuleOut, VisitRulePage
from kefu.visits.api.schemas_in import MAX_ID
from kefu.visits.choices import RuleKind
from kefu.visits.models import Questionnaire, VisitRule


def _require_any(user, *perms: str) -> None:
    if not any(access.has_perm(user, perm) for perm in perms):
        raise AccessDenied(_("您没有执行此操作的权限。"))


def rule_queryset():
    return VisitRule.objects.select_related("customer_class", "team", "assignee", "questionnaire")


# --- visit rules ---------------------------------------------------------------------------


@router.get(
    "/visit-rules",
    response={200: VisitRulePage, **errors(403, 422)},
    summary="回访规则列表",
    description="按客户分类定期跟踪的规则与事件触发的规则（含已暂停的，`is_active` 标明）。按游标分页。"
    "需要查看回访规则或配置回访的权限。",
    tags=["visit-rules"],
    operation_id="visit_rules_list",
)
def visit_rule_list(
    request,
    kind: str = Query("", max_length=20, description=" / ".join(RuleKind.values)),
    active: bool | None = Query(None, description="只看启用（true）或已暂停（false）的"),
    cursor: str | None = Query(None, max_length=1000),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    _require_any(request.user, VIEW_RULE, MANAGE)
    queryset = rule_queryset()
    if kind:
        if kind not in RuleKind.values:
            raise ValidationFailed(
                _("筛选条件无效：%(key)s") % {"key": "kind"},
                details={"field": "kind", "choices": list(RuleKind.values)},
            )
        queryset = queryset.filter(kind=kind)
    if active is not None:
        queryset = queryset.filter(is_active=active)
    page = page_of(queryset, order=("id",), cursor=cursor, limit=limit)
    return {"items": [rule_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/visit-rules/{rule_id}",
    response={200: VisitRuleOut, **errors(403, 404, 422)},
    summary="回访规则详情",
    tags=["visit-rules"],
    operation_id="visit_rules_get",
)
def visit_rule_get(request, rule_id: int):
    _require_any(request.user, VIEW_RULE, MANAGE)
    rule = rule_queryset().filter(pk=rule_id).first() if 0 < rule_id <= MAX_ID else None
    if rule is None:
        raise not_found()
    return rule_out(rule)


# --- questionnaires ------------------------------------------------------------------------


@router.get(
    "/questionnaires",
    response={200: QuestionnairePage, **errors(403, 422)},
    summary="问卷列表",
    description="每份问卷及其全部版本（最新的在前）与题目；新回访使用 `current_version`。按游标分页。",
    tags=["questionnaires"],
    operation_id="questionnaires_list",
)
def questionnaire_list(
    request,
    active: bool | None = Query(None, description="只看启用（true）或停用（false）的"),
    cursor: str | None = Query(None, max_length=1000),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    _require_any(request.user, VIEW, MANAGE)
    queryset = with_versions(Questionnaire.objects.all())
    if active is not None:
        queryset = queryset.filter(is_active=active)
    page = page_of(queryset, order=("id",), cursor=cursor, limit=limit)
    return {"items": [questionnaire_out(q) for q in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/questionnaires/{questionnaire_id}",
    response={200: QuestionnaireOut, **errors(403, 404, 422)},
    summary="问卷详情",
    tags=["questionnaires"],
    operation_id="questionnaires_get",
)
def questionnaire_get(request, questionnaire_id: int):
    _require_any(request.user, VIEW, MANAGE)
    found = None
    if 0 < questionnaire_id <= MAX_ID:
        found = with_versions(Questionnaire.objects.filter(pk=questionnaire_id)).first()
    if found is None:
        raise not_found()
    return questionnaire_out(found)
