"""回访监督: completion by agent / team / rule for a month (one query per grouping, the
totals agreeing with `visit_stats`), overdue visits, customers whose class cadence was
missed, the per-staff evaluation from visit answers (designers, foremen, consultants);
and the monthly archive export (answers per question, formulas neutralised, scope,
audit with month and row count)."""

import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.customers.models import Customer, CustomField
from kefu.visits import oversight
from kefu.visits.choices import Outcome, RuleKind, VisitStatus
from kefu.visits.models import Visit, VisitRule
from kefu.visits.selectors import visit_base, visit_stats
from tests.factories_customers import CustomerClassFactory, make_customer
from tests.views.visits_support import finish, login, make_survey, plan

pytestmark = pytest.mark.django_db

OVERSIGHT = reverse("visits:oversight")
ARCHIVE = reverse("visits:archive")


@pytest.fixture
def survey(ticket_world):
    return make_survey()


def this_month():
    return timezone.localdate().replace(day=1)


def _month_of_work(w, survey, make_user):
    """This month: the agent 3 visits (2 done: satisfaction 5 / NPS 10 and 3 / NPS 4,
    1 planned), a second agent 1 failed; one visit of a rule; one in the south."""
    rule = VisitRule.objects.create(name="B类跟踪", kind=RuleKind.CADENCE, visit_type="定期跟踪")
    second = make_user("agent", username="agent2", department=w["service"], region=w["north"])
    a = finish(plan(w, survey=survey, name="甲"), satisfaction=5, nps=10)
    b = finish(plan(w, survey=survey, name="乙"), satisfaction=3, nps=4, arrived=True, deal=True)
    c = plan(w, survey=survey, name="丙")
    d = finish(plan(w, survey=survey, name="丁", assignee=second), outcome=Outcome.NO_ANSWER)
    Visit.objects.filter(pk__in=[a.pk, c.pk]).update(rule=rule, team=w["service"])
    south = finish(plan(w, survey=survey, name="南", assignee=w["agent_south"], region=w["south"]), satisfaction=1)
    return {"rule": rule, "second": second, "visits": [a, b, c, d], "south": south}


def _rows(response, code):
    (group,) = [g for g in response.context["groups"] if g["code"] == code]
    return {row["label"]: row for row in group["rows"]}


def test_completion_by_agent_rule_and_team(client, ticket_world, survey, make_user):
    w = ticket_world
    data = _month_of_work(w, survey, make_user)
    response = login(client, w["supervisor"]).get(OVERSIGHT)
    assert response.status_code == 200
    by_agent = _rows(response, "assignee")
    agent = by_agent[str(w["agent"].display_name or w["agent"].username)]
    assert (agent["planned"], agent["done"], agent["completion"]) == (3, 2, round(2 / 3, 4))
    assert agent["reach_rate"] == 1.0 and agent["satisfaction"] == 4.0
    assert agent["nps"] == 0.0  # one promoter, one detractor
    assert (agent["arrived"], agent["deals"]) == (1, 1)
    second = by_agent[data["second"].display_name or data["second"].username]
    assert (second["planned"], second["done"], second["reach_rate"]) == (1, 0, 0.0)
    # The south visit is outside the supervisor's region.
    assert sum(r["planned"] for r in by_agent.values()) == 4
    by_rule = _rows(response, "rule")
    assert by_rule["B类跟踪"]["planned"] == 2 and by_rule["手工安排 / 活动"]["planned"] == 2
    assert _rows(response, "team")["客服部"]["planned"] == 2
    totals = response.context["totals"]
    assert totals == visit_stats(oversight.month_visits(user=w["supervisor"], month=this_month()))
    assert totals["planned"] == 4 and totals["done"] == 2
    html = response.content.decode()
    assert 'data-testid="total-planned">4<' in html and "67%" in html


def test_grouped_figures_agree_with_visit_stats(ticket_world, survey, make_user):
    w = ticket_world
    _month_of_work(w, survey, make_user)
    visits = oversight.month_visits(user=w["manager"], month=this_month())
    totals = visit_stats(visits)
    for grouping in oversight.GROUPINGS:
        rows = oversight.completion_by(visits=visits, grouping=grouping)
        for key in ("planned", "done", "attempted", "reached", "promoters", "detractors", "arrived", "deals"):
            assert sum(r[key] for r in rows) == totals[key], (grouping, key)


def test_one_query_per_grouping_whatever_the_number_of_agents(client, ticket_world, survey, make_user):
    w = ticket_world
    client = login(client, w["manager"])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(OVERSIGHT).status_code == 200
        return len(ctx.captured_queries)

    _month_of_work(w, survey, make_user)
    few = queries()
    for n in range(6):
        extra = make_user("agent", username=f"extra{n}", department=w["service"], region=w["north"])
        finish(plan(w, survey=survey, name=f"客户{n}", assignee=extra), satisfaction=4)
    assert queries() == few


def test_overdue_and_cadence_missed(client, ticket_world, survey):
    w = ticket_world
    a_class = CustomerClassFactory(code="A", name="A 类", visits_per_month=1)
    c_class = CustomerClassFactory(code="C", name="C 类", visits_per_month=3)
    kept = make_customer(w["manager"], name="达标", region=w["north"], customer_class=a_class)
    short = make_customer(w["manager"], name="欠访", region=w["north"], customer_class=c_class)
    lost = make_customer(w["manager"], name="流失", region=w["north"], customer_class=c_class)
    Customer.objects.filter(pk=lost.pk).update(lifecycle="lost")
    finish(plan(w, customer=kept), satisfaction=5)
    finish(plan(w, customer=short), satisfaction=5)
    plan(w, survey=survey, due=timezone.localdate() - datetime.timedelta(days=4))
    response = login(client, w["supervisor"]).get(OVERSIGHT)
    missed = {c.pk: c.done_visits for c in response.context["missed_page"].items}
    assert missed == {short.pk: 1}
    assert response.context["missed_count"] == 1 and response.context["overdue"] == 1
    html = response.content.decode()
    assert f'data-customer="{short.pk}"' in html and f"{reverse('visits:create')}?customer={short.pk}" in html
    # The overdue figure links to the team list, which shows the same visit.
    listed = client.get(response.context["overdue_url"])
    assert len(listed.context["page"].items) == 1


def test_staff_scores_from_visit_answers(client, ticket_world, survey):
    w = ticket_world
    CustomField.objects.create(key="designer", label="设计师")
    CustomField.objects.create(key="foreman", label="工长")
    owners = {"王设计": (5, 4), "李设计": (2,), "": (5,)}
    for designer, scores in owners.items():
        customer = make_customer(w["manager"], name=f"业主{designer}", region=w["north"])
        Customer.objects.filter(pk=customer.pk).update(extra={"designer": designer, "foreman": "赵工"})
        for score in scores:
            finish(plan(w, customer=customer), satisfaction=score, nps=9)
    other_month = make_customer(w["manager"], name="上月", region=w["north"])
    Customer.objects.filter(pk=other_month.pk).update(extra={"designer": "王设计"})
    finish(plan(w, customer=other_month), satisfaction=1, done_at=timezone.now() - datetime.timedelta(days=40))
    south = make_customer(w["manager"], name="南区", region=w["south"])
    Customer.objects.filter(pk=south.pk).update(extra={"designer": "王设计"})
    finish(plan(w, customer=south, assignee=w["agent_south"]), satisfaction=1)

    response = login(client, w["supervisor"]).get(OVERSIGHT)
    groups = {g["key"]: g for g in response.context["staff_groups"]}
    assert set(groups) == {"designer", "foreman"}  # no consultant field in this profile
    designers = {p["name"]: p for p in groups["designer"]["people"]}
    assert list(designers) == ["王设计", "李设计"]
    assert designers["王设计"]["satisfaction"] == 4.5 and designers["王设计"]["score"] == 90.0
    assert designers["王设计"]["visits"] == 2 and designers["王设计"]["satisfied_rate"] == 1.0
    assert designers["李设计"]["score"] == 40.0 and designers["李设计"]["nps"] == 100.0
    (foreman,) = groups["foreman"]["people"]
    assert foreman["name"] == "赵工" and foreman["visits"] == 4
    assert 'data-name="王设计"' in response.content.decode()


def test_month_navigation_and_bad_months(client, ticket_world, survey):
    w = ticket_world
    client = login(client, w["supervisor"])
    response = client.get(OVERSIGHT, {"month": "2026-03"})
    assert response.status_code == 200
    assert response.context["previous"] == "2026-02" and response.context["following"] == "2026-04"
    for bad in ("2026-13", "March", "2026-3-1", "12345-01", "\x00"):
        refused = client.get(OVERSIGHT, {"month": bad})
        assert refused.status_code == 422, bad
        assert "月份格式应为" in refused.content.decode()


def test_agents_may_not_oversee(client, ticket_world):
    assert login(client, ticket_world["agent"]).get(OVERSIGHT).status_code == 403


# --- monthly archive ------------------------------------------------------------------


def _sheet(response):
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_archive_has_the_months_call_records_with_answers(client, ticket_world, survey):
    w = ticket_world
    client = login(client, w["supervisor"])
    visit = plan(w, survey=survey, name="甲")
    client.post(
        reverse("visits:work", args=[visit.pk]),
        {
            "version": visit.version,
            "outcome": "reached",
            "channel": "phone",
            "q_overall": "4",
            "q_good": ["态度", "质量"],
            "q_advice": '=HYPERLINK("http://evil")',
            "notes": "+客户满意",
        },
    )
    failed = finish(plan(w, survey=survey, name="乙"), outcome=Outcome.WRONG_NUMBER)
    plan(w, survey=survey, name="丙")  # still planned: not a call record yet
    finish(plan(w, survey=survey, name="南", assignee=w["agent_south"], region=w["south"]), satisfaction=2)
    finish(plan(w, survey=survey, name="上月"), satisfaction=2, done_at=timezone.now() - datetime.timedelta(days=40))

    month = f"{timezone.localdate():%Y-%m}"
    response = client.get(ARCHIVE, {"month": month})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _sheet(response)
    header = rows[0]
    assert header[:3] == ["回访编号", "客户", "档案编号"]
    assert "满意度回访：您对本次服务满意吗？" in header and "满意度回访：哪些方面做得好？" in header
    body = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(body) == {"甲", "乙"}
    first = body["甲"]
    assert first["状态"] == "已完成" and first["结果"] == "已接通" and first["满意度"] == "4"
    assert first["满意度回访：您对本次服务满意吗？"] == "4"
    assert first["满意度回访：哪些方面做得好？"] == "态度、质量"
    assert first["满意度回访：您还有什么建议？"] == '\'=HYPERLINK("http://evil")'
    assert first["回访记录"] == "'+客户满意"
    assert body["乙"]["状态"] == "未能联系" and body["乙"]["结果"] == "号码错误"
    assert str(failed.pk) == body["乙"]["回访编号"]
    event = AuditEvent.objects.get(code="visit.exported")
    assert event.data == {"month": month, "rows": 2} and event.actor == w["supervisor"]


def test_archive_columns_follow_questionnaire_versions(client, ticket_world, survey):
    from kefu.visits.questionnaires import questionnaire_publish

    w = ticket_world
    old = plan(w, survey=survey, name="旧版")
    questionnaire_publish(
        actor=None,
        questionnaire=survey,
        questions=[
            {"key": "overall", "text": "整体评价", "type": "score"},
            {"key": "why", "text": "原因", "type": "text"},
        ],
    )
    new = plan(w, survey=survey, name="新版")
    finish(old, satisfaction=3, answers={"overall": 3, "recommend": 7})
    finish(new, satisfaction=5, answers={"overall": 5, "why": "快"})
    rows = _sheet(login(client, w["manager"]).get(ARCHIVE))
    header = rows[0]
    # One column per question of the questionnaire, worded as its newest version.
    assert header.count("满意度回访：整体评价") == 1 and "满意度回访：您对本次服务满意吗？" not in header
    body = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert body["旧版"]["满意度回访：整体评价"] == "3" and body["旧版"]["满意度回访：您愿意向朋友推荐我们吗？"] == "7"
    assert body["新版"]["满意度回访：整体评价"] == "5" and body["新版"]["满意度回访：原因"] == "快"


def test_archive_refusals(client, ticket_world):
    w = ticket_world
    assert login(client, w["agent"]).get(ARCHIVE, {"month": "2026-11"}).status_code == 403
    response = login(client, w["supervisor"]).get(ARCHIVE, {"month": "2026-99"})
    assert response.status_code == 422 and "月份格式应为" in response.content.decode()
    assert not AuditEvent.objects.filter(code="visit.exported").exists()


def test_archive_of_an_empty_month_is_a_header_only_file(client, ticket_world):
    rows = _sheet(login(client, ticket_world["manager"]).get(ARCHIVE, {"month": "2001-01"}))
    assert len(rows) == 1
    assert AuditEvent.objects.get(code="visit.exported").data == {"month": "2001-01", "rows": 0}


def test_month_visits_leave_out_cancelled_ones(ticket_world, survey):
    w = ticket_world
    kept = plan(w, survey=survey)
    gone = plan(w, survey=survey)
    Visit.objects.filter(pk=gone.pk).update(status=VisitStatus.CANCELLED)
    assert list(oversight.month_visits(user=w["manager"], month=this_month())) == [kept]
    assert visit_base(w["manager"]).count() == 2
