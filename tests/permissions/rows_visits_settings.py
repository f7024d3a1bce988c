"""Rows for the visit configuration (rules, questionnaires: `visits.manage_visit_settings`,
客服部经理 and 系统管理员) and the campaign lists (`visits.add_campaign`: 客服部经理, 客服主管)."""

import datetime

from django.urls import reverse
from django.utils import timezone

from tests.permissions.matrix import Row, roles

SETTINGS = roles("manager", "admin")
CAMPAIGNS = roles("manager", "supervisor")


def _owner(w):
    from kefu.core.models import User

    existing = User.objects.filter(username="matrix-visits-owner").first()
    return existing or w.make_user("manager", username="matrix-visits-owner", scope_all=True)


def _questionnaire(w):
    from kefu.visits.models import Questionnaire
    from kefu.visits.questionnaires import questionnaire_publish

    questionnaire, created = Questionnaire.objects.get_or_create(code="matrix", defaults={"name": "矩阵问卷"})
    if created:
        questions = [{"key": "overall", "text": "满意度", "type": "score", "required": True}]
        questionnaire_publish(actor=None, questionnaire=questionnaire, questions=questions)
    return questionnaire


def _rule(w, active=True):
    from kefu.visits.models import VisitRule

    rule, _created = VisitRule.objects.get_or_create(
        name="矩阵规则", defaults={"kind": "cadence", "visit_type": "定期跟踪", "key_accounts_only": True}
    )
    VisitRule.objects.filter(pk=rule.pk).update(is_active=active)
    return rule


def _rule_data(w):
    return {
        "name": "矩阵新规则",
        "kind": "cadence",
        "visit_type": "定期跟踪",
        "channel": "phone",
        "key_accounts_only": "on",
        "assign_to": "owner",
        "max_attempts": 3,
        "retry_working_days": 1,
    }


def _questions(w):
    return {
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-key": "nps",
        "questions-0-text": "推荐意愿",
        "questions-0-type": "nps",
    }


def _campaign_data(w):
    from tests.factories_customers import make_customer

    make_customer(_owner(w), name="矩阵客户", phone="", region=w.region)
    return {
        "name": "矩阵活动",
        "visit_type": "二次开发",
        "customers": f"?region={w.region.pk}",
        "due_date": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
        "assign_to": "owner",
    }


def _url(name, *args):
    return reverse(f"visits:{name}", args=args)


ROWS = [
    # configuration pages
    Row("visits-settings", lambda w: _url("settings"), SETTINGS),
    Row("visits-settings-rule-create-page", lambda w: _url("rule_create"), SETTINGS),
    Row("visits-settings-rule-edit-page", lambda w: _url("rule_edit", _rule(w).pk), SETTINGS),
    Row("visits-settings-questionnaire-create-page", lambda w: _url("questionnaire_create"), SETTINGS),
    Row("visits-settings-questionnaire", lambda w: _url("questionnaire", _questionnaire(w).pk), SETTINGS),
    Row(
        "visits-settings-questionnaire-publish-page",
        lambda w: _url("questionnaire_publish", _questionnaire(w).pk),
        SETTINGS,
    ),
    # configuration writes
    Row("visits-settings-rule-create", lambda w: _url("rule_create"), SETTINGS, method="post", data=_rule_data),
    Row(
        "visits-settings-rule-edit",
        lambda w: _url("rule_edit", _rule(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {**_rule_data(w), "name": "矩阵规则", "visits_per_month": 2},
    ),
    Row(
        "visits-settings-rule-pause",
        lambda w: _url("rule_pause", _rule(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "visits-settings-rule-resume",
        lambda w: _url("rule_resume", _rule(w, active=False).pk),
        SETTINGS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "visits-settings-questionnaire-create",
        lambda w: _url("questionnaire_create"),
        SETTINGS,
        method="post",
        data=lambda w: {"code": "matrix-new", "name": "矩阵新问卷", **_questions(w)},
    ),
    Row(
        "visits-settings-questionnaire-publish",
        lambda w: _url("questionnaire_publish", _questionnaire(w).pk),
        SETTINGS,
        method="post",
        data=_questions,
    ),
    Row(
        "visits-settings-questionnaire-deactivate",
        lambda w: _url("questionnaire_deactivate", _questionnaire(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "visits-settings-questionnaire-reactivate",
        lambda w: _url("questionnaire_reactivate", _questionnaire(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {},
    ),
    # campaigns
    Row("visits-campaigns", lambda w: _url("campaigns"), CAMPAIGNS),
    Row("visits-campaign-create-page", lambda w: _url("campaign_create"), CAMPAIGNS),
    Row(
        "visits-campaign-preview",
        lambda w: _url("campaign_preview") + f"?customers=%3Fregion%3D{w.region.pk}",
        CAMPAIGNS,
    ),
    Row("visits-campaign-create", lambda w: _url("campaign_create"), CAMPAIGNS, method="post", data=_campaign_data),
]
