"""The visit configuration pages (/visits/settings/) and campaign lists
(/visits/campaigns/): rules with pause/resume, the questionnaire editor publishing
versions, and a campaign made from a pasted archive-list address with its live count."""

import datetime

import pytest
from django.urls import include, path, reverse
from django.utils import timezone

import kefu.urls
from kefu.customers.choices import FieldType
from kefu.customers.models import CustomField
from kefu.visits import urls as visits_urls
from kefu.visits.choices import RuleKind, Trigger, VisitStatus
from kefu.visits.models import Campaign, Questionnaire, QuestionnaireVersion, Visit, VisitRule
from kefu.visits.services import config as svc
from kefu.visits.services.planning import plan_all
from tests.factories_customers import CustomerClassFactory, make_customer

# Until visits/urls.py includes urls_settings, these tests mount it themselves (the
# first `visits` namespace wins, so this keeps working once the include is there).
urlpatterns = [
    path("visits/", include(([*visits_urls.urlpatterns, path("", include("kefu.visits.urls_settings"))], "visits"))),
    *kefu.urls.urlpatterns,
]
handler403 = kefu.urls.handler403
handler404 = kefu.urls.handler404

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

QUESTIONS = [{"key": "overall", "text": "总体满意度", "type": "score", "required": True}]


@pytest.fixture
def w(ticket_world):
    w = dict(ticket_world)
    w["A"] = CustomerClassFactory(code="A", visits_per_month=1)
    w["q"] = svc.questionnaire_create(actor=w["manager"], code="sat", name="满意度", questions=QUESTIONS)
    CustomField.objects.create(key="start_date", label="开工日期", field_type=FieldType.DATE)
    return w


def _login(client, user):
    client.force_login(user)
    return client


def _rule_post(w, **changes):
    data = {
        "name": "A类跟踪",
        "kind": RuleKind.CADENCE,
        "visit_type": "定期跟踪",
        "channel": "phone",
        "questionnaire": w["q"].pk,
        "customer_class": w["A"].pk,
        "visits_per_month": "",
        "trigger": "",
        "offsets_days": "",
        "date_field": "",
        "assign_to": "owner",
        "team": "",
        "assignee": "",
        "max_attempts": 3,
        "retry_working_days": 1,
    }
    data.update(changes)
    return data


# --- rules ----------------------------------------------------------------------------


def test_index_lists_rules_and_questionnaires(client, w, django_assert_max_num_queries):
    for n in range(3):
        svc.visit_rule_create(
            actor=w["manager"],
            name=f"规则{n}",
            kind=RuleKind.EVENT,
            visit_type="回访",
            trigger=Trigger.PROJECT_STAGE,
            date_field="start_date",
            offsets_days=[n],
            questionnaire=w["q"],
        )
    svc.questionnaire_publish(
        actor=w["manager"], questionnaire=w["q"], questions=[*QUESTIONS, QUESTIONS[0] | {"key": "again"}]
    )
    _login(client, w["manager"])
    with django_assert_max_num_queries(15):
        response = client.get(reverse("visits:settings"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="rule-row"') == 3 and "开工日期" in body
    assert body.count('data-testid="questionnaire-row"') == 1
    # Two versions do not count its three rules twice.
    assert 'data-testid="rule-count">3<' in body and "第 2 版" in body


@pytest.mark.parametrize("who", ["supervisor", "agent", "director"])
def test_settings_need_the_permission(client, w, who):
    _login(client, w[who])
    assert client.get(reverse("visits:settings")).status_code == 403
    assert client.post(reverse("visits:rule_create"), _rule_post(w)).status_code == 403
    assert not VisitRule.objects.exists()


def test_create_a_cadence_rule(client, w):
    _login(client, w["manager"])
    assert client.get(reverse("visits:rule_create") + "?kind=event").status_code == 200
    response = client.post(reverse("visits:rule_create"), _rule_post(w, trigger=Trigger.BIRTHDAY))
    assert response.status_code == 302
    rule = VisitRule.objects.get()
    assert (rule.customer_class, rule.trigger, rule.questionnaire) == (w["A"], "", w["q"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"customer_class": ""}, "请选择客户分类"),
        ({"kind": "event", "trigger": ""}, "请选择触发事件"),
        ({"kind": "event", "trigger": "project_stage", "date_field": ""}, "日期字段起算"),
        ({"kind": "event", "trigger": "service_done", "offsets_days": "1, a"}, "只能填写整数"),
        ({"kind": "event", "trigger": "service_done", "offsets_days": "400"}, "0 到 365"),
        ({"assign_to": "team"}, "请选择班组"),
        ({"assign_to": "user"}, "请选择回访人"),
        ({"max_attempts": "99"}, "1 到 10 之间"),
    ],
)
def test_rule_form_shows_refusals_and_creates_nothing(client, w, changes, message):
    _login(client, w["manager"])
    response = client.post(reverse("visits:rule_create"), _rule_post(w, **changes))
    assert response.status_code == 200
    body = response.content.decode()
    assert "invalid-feedback" in body or "alert-danger" in body
    assert message in body
    assert not VisitRule.objects.exists()


def test_edit_keeps_the_kind_and_refuses_a_stale_form(client, w):
    rule = svc.visit_rule_create(
        actor=w["manager"], name="A类跟踪", kind=RuleKind.CADENCE, visit_type="定期跟踪", customer_class=w["A"]
    )
    _login(client, w["manager"])
    url = reverse("visits:rule_edit", args=[rule.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="stamp"' in page.content.decode()
    stamp = rule.updated_at.isoformat()
    response = client.post(url, _rule_post(w, kind="event", visits_per_month="2", stamp=stamp))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.kind, rule.visits_per_month) == (RuleKind.CADENCE, 2)
    stale = client.post(url, _rule_post(w, visits_per_month="3", stamp=stamp))
    assert stale.status_code == 200 and "已被他人修改" in stale.content.decode()
    rule.refresh_from_db()
    assert rule.visits_per_month == 2
    assert client.get(reverse("visits:rule_edit", args=[99999])).status_code == 404


def test_pause_and_resume(client, w):
    rule = svc.visit_rule_create(
        actor=w["manager"], name="A类跟踪", kind=RuleKind.CADENCE, visit_type="定期跟踪", customer_class=w["A"]
    )
    make_customer(w["manager"], name="甲", phone="", customer_class=w["A"], owner=w["agent"])
    plan_all(today=timezone.localdate())
    assert Visit.objects.filter(status=VisitStatus.PLANNED).count() == 2
    _login(client, w["manager"])
    assert client.get(reverse("visits:rule_pause", args=[rule.pk])).status_code == 405
    response = client.post(reverse("visits:rule_pause", args=[rule.pk]), follow=True)
    assert "取消了 2 条待回访计划" in response.content.decode()
    assert not Visit.objects.filter(status=VisitStatus.PLANNED).exists()
    again = client.post(reverse("visits:rule_pause", args=[rule.pk]), follow=True)
    assert "已暂停" in again.content.decode()
    response = client.post(reverse("visits:rule_resume", args=[rule.pk]), follow=True)
    assert "恢复了 2 条" in response.content.decode()
    assert Visit.objects.filter(status=VisitStatus.PLANNED).count() == 2


# --- questionnaires -------------------------------------------------------------------


def _question_rows(rows, initial=0):
    data = {
        "questions-TOTAL_FORMS": str(len(rows)),
        "questions-INITIAL_FORMS": str(initial),
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value not in (False, None):
                data[f"questions-{i}-{key}"] = "on" if value is True else value
    return data


def test_create_a_questionnaire_with_its_first_version(client, w):
    _login(client, w["manager"])
    assert client.get(reverse("visits:questionnaire_create")).status_code == 200
    rows = [
        {"key": "speed", "text": "处理速度", "type": "single", "choices": "及时、一般，太慢", "required": True},
        {"key": "", "text": "", "type": "score", "choices": ""},
    ]
    response = client.post(
        reverse("visits:questionnaire_create"), {"code": "speed", "name": "速度问卷", **_question_rows(rows)}
    )
    questionnaire = Questionnaire.objects.get(code="speed")
    assert response.status_code == 302
    assert questionnaire.current_version().questions == [
        {"key": "speed", "text": "处理速度", "type": "single", "choices": ["及时", "一般", "太慢"], "required": True}
    ]


def test_a_bad_question_is_shown_and_nothing_is_saved(client, w):
    _login(client, w["manager"])
    rows = [{"key": "pick", "text": "选一个", "type": "single", "choices": "唯一"}]
    response = client.post(
        reverse("visits:questionnaire_create"), {"code": "bad", "name": "坏问卷", **_question_rows(rows)}
    )
    assert response.status_code == 200 and "至少要有两个选项" in response.content.decode()
    assert not Questionnaire.objects.filter(code="bad").exists()


def test_the_editor_publishes_a_new_version_and_keeps_the_old(client, w):
    q = w["q"]
    _login(client, w["manager"])
    url = reverse("visits:questionnaire_publish", args=[q.pk])
    page = client.get(url).content.decode()
    assert 'value="overall"' in page
    kept = {"key": "overall", "text": "总体满意度", "type": "score", "choices": "", "required": True}
    unchanged = client.post(url, _question_rows([kept], initial=1), follow=True)
    assert "没有变化" in unchanged.content.decode() and q.versions.count() == 1
    added = {"key": "nps", "text": "推荐意愿", "type": "nps", "choices": ""}
    response = client.post(url, _question_rows([{**kept, "DELETE": True}, added], initial=1), follow=True)
    assert "已发布第 2 版" in response.content.decode()
    assert [x["key"] for x in q.current_version().questions] == ["nps"]
    assert QuestionnaireVersion.objects.get(questionnaire=q, number=1).questions[0]["key"] == "overall"
    detail = client.get(reverse("visits:questionnaire", args=[q.pk])).content.decode()
    assert detail.count('data-testid="version"') == 2 and "推荐度 0–10" in detail


def test_retiring_a_questionnaire_in_use_is_refused(client, w):
    svc.visit_rule_create(
        actor=w["manager"],
        name="A类跟踪",
        kind=RuleKind.CADENCE,
        visit_type="定期跟踪",
        customer_class=w["A"],
        questionnaire=w["q"],
    )
    _login(client, w["manager"])
    response = client.post(reverse("visits:questionnaire_deactivate", args=[w["q"].pk]), follow=True)
    assert "仍在使用该问卷" in response.content.decode()
    assert Questionnaire.objects.get(pk=w["q"].pk).is_active


# --- campaigns ------------------------------------------------------------------------


@pytest.fixture
def archive(w):
    m = w["manager"]
    return [
        make_customer(m, name="北甲", phone="", customer_class=w["A"], region=w["north"], owner=w["agent"]),
        make_customer(m, name="北乙", phone="", customer_class=w["A"], region=w["north"]),
        make_customer(m, name="南甲", phone="", region=w["south"], owner=w["agent_south"]),
    ]


def _campaign_post(w, customers, **changes):
    data = {
        "name": "二次开发",
        "visit_type": "二次开发",
        "customers": customers,
        "due_date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
        "questionnaire": "",
        "assign_to": "owner",
        "assignee": "",
    }
    data.update(changes)
    return data


def test_campaign_form_previews_the_pasted_list(client, w, archive):
    _login(client, w["manager"])
    page = client.get(reverse("visits:campaign_create") + "?list=%3Fcustomer_class%3D1").content.decode()
    assert 'hx-get="' + reverse("visits:campaign_preview") in page
    preview = reverse("visits:campaign_preview")
    url = f"http://testserver/customers/?q=&customer_class={w['A'].pk}&sort=-id"
    body = client.get(preview, {"customers": url}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="preview-count">2<' in body and 'data-testid="preview-without-owner"' in body
    assert f"customer_class={w['A'].pk}" in body
    for bad, message in (
        ("/tickets/?status=open", "不是客户档案列表的地址"),
        ("?status=open", "不是客户档案列表的筛选条件"),
        ("?customer_class=abc", "筛选条件无效"),
        ("乱写", "不是客户档案列表的地址"),
    ):
        body = client.get(preview, {"customers": bad}).content.decode()
        assert message in body, bad
    body = client.get(preview, {"customers": "?customer_class=999999"}).content.decode()
    assert 'data-testid="preview-empty"' in body


def test_create_a_campaign_from_a_pasted_address(client, w, archive, django_assert_max_num_queries):
    _login(client, w["supervisor"])
    response = client.post(reverse("visits:campaign_create"), _campaign_post(w, "/customers/"))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    # The supervisor's scope: the north only.
    assert campaign.visit_count == 2 and campaign.filters == {}
    assert set(Visit.objects.filter(campaign=campaign).values_list("customer__name", flat=True)) == {"北甲", "北乙"}
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("visits:campaigns"))
    body = listing.content.decode()
    assert 'data-testid="visit-count">2<' in body and "0 / 2" in body


@pytest.mark.parametrize(
    ("customers", "changes", "message"),
    [
        ("?customer_class=999999", {}, "没有可回访的客户"),
        ("/tickets/?status=open", {}, "不是客户档案列表的地址"),
        ("?customer_class=1", {"assign_to": "user"}, "请选择回访人"),
        ("?customer_class=1", {"due_date": "2020-01-01"}, "不能早于今天"),
        ("?customer_class=1", {"due_date": "not-a-date"}, "有效的日期"),
    ],
)
def test_campaign_refusals_create_nothing(client, w, archive, customers, changes, message):
    _login(client, w["manager"])
    response = client.post(reverse("visits:campaign_create"), _campaign_post(w, customers, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Campaign.objects.exists() and not Visit.objects.exists()


@pytest.mark.parametrize("who", ["agent", "director", "finance"])
def test_campaigns_need_the_permission(client, w, archive, who):
    _login(client, w[who])
    assert client.get(reverse("visits:campaigns")).status_code == 403
    assert client.get(reverse("visits:campaign_preview"), {"customers": ""}).status_code == 403
    assert client.post(reverse("visits:campaign_create"), _campaign_post(w, "")).status_code == 403
    assert not Campaign.objects.exists()


def test_bad_cursor_starts_again(client, w):
    _login(client, w["manager"])
    assert client.get(reverse("visits:campaigns"), {"cursor": "!!"}).status_code == 200


def test_garbage_in_the_pasted_list_is_a_message_never_a_500(client, w, archive):
    from tests.views.test_bad_input import GARBAGE

    CustomField.objects.create(key="area", label="面积", field_type="number")
    client.raise_request_exception = False
    _login(client, w["manager"])
    for query in [*GARBAGE, "extra.=1", "q=" + "x" * 300, "region=1&region=" + "9" * 30]:
        preview = client.get(reverse("visits:campaign_preview"), {"customers": f"?{query}"})
        assert preview.status_code == 200, query
        created = client.post(reverse("visits:campaign_create"), _campaign_post(w, f"?{query}"))
        assert created.status_code in (200, 302), query
