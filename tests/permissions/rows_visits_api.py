"""Rows for the return-visits API: who may read, record, reschedule, reassign and plan
visits, and read the rules and questionnaires.

An agent sees only the visits assigned to them, so each row's visit is assigned to the
user making the request (the newest `matrix-<role>` user, created by the runner just
before it builds the address) and lies in the matrix region: every role's scope covers
it and the answer depends on the role's grants (`kefu.visits.hooks.ROLE_GRANTS`) alone.
Roles without visits get 403."""

import datetime

from django.utils import timezone

from kefu.core.models import User
from kefu.visits.choices import RuleKind
from kefu.visits.models import Questionnaire, VisitRule
from kefu.visits.questionnaires import questionnaire_publish
from kefu.visits.services.visits import visit_create
from tests.factories_customers import make_customer
from tests.permissions.matrix import Row, roles

VIEWERS = roles("manager", "supervisor", "agent", "account_manager", "quality_officer", "director")
RECORDERS = roles("manager", "supervisor", "agent", "account_manager")
ADDERS = RECORDERS
REASSIGNERS = roles("manager", "supervisor")
RULE_READERS = roles("manager", "supervisor", "director", "admin")
QUESTIONNAIRE_READERS = VIEWERS | roles("admin")
CONFIGURERS = roles("manager", "admin")
OWNER = "matrix-visit-owner"
QUESTIONS = [{"key": "overall", "text": "满意吗", "type": "score"}]


def _requester():
    return User.objects.filter(username__startswith="matrix-").exclude(username=OWNER).order_by("-pk").first()


def _owner(w):
    if not hasattr(w, "owner"):
        w.requester = _requester()
        w.owner = w.make_user("manager", username=OWNER, scope_all=True, department=w.department, region=w.region)
        w.customer = make_customer(w.owner, name="矩阵回访客户", phone="13800000002", region=w.region)
    return w.owner


def _visit(w):
    owner = _owner(w)
    w.visit = visit_create(
        actor=owner,
        customer=w.customer,
        visit_type="满意度回访",
        due_date=timezone.localdate(),
        # Only those who may record visits can be given one (the others are refused by
        # their role before the visit matters).
        assignee=w.requester if w.requester and w.requester.has_perm("visits.record_visit") else owner,
    )
    return w.visit


def _url(path):
    return f"/api/v1{path}"


def _plain(path):
    def url(w):
        _owner(w)
        return _url(path)

    return url


def _v(path=""):
    return lambda w: _url(f"/visits/{_visit(w).pk}{path}")


def _reassign(w):
    _visit(w)
    return _url("/visits/reassign")


def _rule(path="", *, active=True):
    def url(w):
        rule = VisitRule.objects.create(
            name="矩阵规则", kind=RuleKind.CADENCE, visit_type="跟踪回访", key_accounts_only=True, is_active=active
        )
        return _url(f"/visit-rules/{rule.pk}{path}")

    return url


def _questionnaire(path=""):
    def url(w):
        questionnaire = Questionnaire.objects.create(code="matrix", name="矩阵问卷")
        questionnaire_publish(actor=None, questionnaire=questionnaire, questions=QUESTIONS)
        return _url(f"/questionnaires/{questionnaire.pk}{path}")

    return url


def _get(name, url, allowed):
    return Row(name, url, allowed, api=True)


def _post(name, url, allowed, data):
    return Row(name, url, allowed, method="post", data=data, api=True)


def _tomorrow():
    return (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


ROWS = [
    _get("api-visit-list", _plain("/visits"), VIEWERS),
    _get("api-visit-stats", _plain("/visits/stats"), VIEWERS),
    _get("api-visit-detail", _v(), VIEWERS),
    _post("api-visit-record", _v("/record"), RECORDERS, data=lambda w: {"outcome": "no_answer"}),
    _post("api-visit-reschedule", _v("/reschedule"), RECORDERS, data=lambda w: {"due_date": _tomorrow()}),
    _post(
        "api-visit-reassign",
        _reassign,
        REASSIGNERS,
        data=lambda w: {"ids": [w.visit.pk], "assignee_id": w.owner.pk},
    ),
    _post(
        "api-visit-create",
        _plain("/visits"),
        ADDERS,
        data=lambda w: {
            "customer_id": w.customer.pk,
            "visit_type": "跟踪回访",
            "due_date": timezone.localdate().isoformat(),
        },
    ),
    _get("api-visit-rule-list", _plain("/visit-rules"), RULE_READERS),
    _get("api-visit-rule-detail", _rule(), RULE_READERS),
    _get("api-questionnaire-list", _plain("/questionnaires"), QUESTIONNAIRE_READERS),
    _get("api-questionnaire-detail", _questionnaire(), QUESTIONNAIRE_READERS),
    # configuration
    _post(
        "api-visit-rule-create",
        _plain("/visit-rules"),
        CONFIGURERS,
        data=lambda w: {"name": "大客户月访", "kind": "cadence", "visit_type": "大客户跟踪", "key_accounts_only": True},
    ),
    Row(
        "api-visit-rule-update",
        _rule(),
        CONFIGURERS,
        method="patch",
        data=lambda w: {"max_attempts": 4},
        api=True,
    ),
    _post("api-visit-rule-pause", _rule("/pause"), CONFIGURERS, data=lambda w: {}),
    _post("api-visit-rule-resume", _rule("/resume", active=False), CONFIGURERS, data=lambda w: {}),
    _post(
        "api-questionnaire-create",
        _plain("/questionnaires"),
        CONFIGURERS,
        data=lambda w: {"code": "matrix-new", "name": "新问卷", "questions": QUESTIONS},
    ),
    _post(
        "api-questionnaire-publish",
        _questionnaire("/versions"),
        CONFIGURERS,
        data=lambda w: {"questions": [*QUESTIONS, {"key": "nps", "text": "推荐度", "type": "nps"}]},
    ),
    _post("api-questionnaire-active", _questionnaire("/active"), CONFIGURERS, data=lambda w: {"active": False}),
]
