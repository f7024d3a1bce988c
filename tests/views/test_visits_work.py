"""Working one visit: the customer's context beside one form (outcome by access keys 1–5,
the questions by type, the confirmation verdict, a problem → ticket); saving goes to the
next visit of the due list; a stale version is a 409 in Chinese; every refusal leaves
the visit as it was. Rescheduling, and planning a visit by hand."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.tickets.choices import TicketStatus
from kefu.tickets.models import Ticket
from kefu.tickets.services import flow
from kefu.visits.choices import AssignTo, Outcome, RuleKind, Trigger, VisitChannel, VisitStatus
from kefu.visits.models import Visit, VisitRule
from tests.factories_customers import CustomerClassFactory, make_customer
from tests.factories_tickets import make_ticket
from tests.views.visits_support import finish, login, make_survey, plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(ticket_world):
    return make_survey()


def work(visit):
    return reverse("visits:work", args=[visit.pk])


def today():
    return timezone.localdate()


def reached(visit, **extra):
    return {"version": visit.version, "outcome": "reached", "channel": "phone", **extra}


# --- the page -------------------------------------------------------------------------


def test_page_shows_the_customers_context_beside_the_form(client, ticket_world, survey):
    w = ticket_world
    cls = CustomerClassFactory(code="A", name="A 类", visits_per_month=1)
    customer = make_customer(
        w["manager"],
        name="王业主",
        phone="13812345678",
        region=w["north"],
        customer_class=cls,
        is_key_account=True,
        notes="业主白天不方便接电话",
    )
    ticket = make_ticket(w["agent"], customer=customer, title="墙面开裂")
    earlier = [finish(plan(w, customer=customer), satisfaction=4, notes=f"第{n}次") for n in range(6)]
    visit = plan(w, survey=survey, customer=customer, due=today() - datetime.timedelta(days=2))

    response = login(client, w["agent"]).get(work(visit))
    html = response.content.decode()
    assert response.status_code == 200
    assert "王业主" in html and "A 类" in html and 'data-testid="key-account"' in html
    assert "138****5678" in html and "13812345678" not in html
    assert 'data-testid="reveal-phone"' not in html  # agents may not reveal
    assert "业主白天不方便接电话" in html
    assert ticket.number in html and "墙面开裂" in html
    assert [v.pk for v in response.context["history"]] == [v.pk for v in reversed(earlier)][:5]
    assert "逾期 2 天" in html
    # One form: outcomes with access keys 1–5, every question by its type.
    for key, outcome in zip("12345", Outcome.values, strict=True):
        assert (
            f'value="{outcome}" id="id_outcome_{int(key) - 1}" class="form-selectgroup-input" accesskey="{key}"' in html
        )
    assert 'name="q_overall" value="5"' in html and 'name="q_recommend" value="10"' in html
    assert 'type="checkbox" name="q_good" value="质量"' in html
    assert 'type="radio" name="q_attitude" value="很好"' in html
    assert '<textarea name="q_advice"' in html
    assert 'name="problem_title"' in html and 'name="satisfied"' not in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html

    supervisor_html = login(client, w["supervisor"]).get(work(visit)).content.decode()
    assert 'data-testid="reveal-phone"' in supervisor_html


def test_reached_with_answers_saves_and_goes_to_the_next_due_visit(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey, name="甲", due=today() - datetime.timedelta(days=1))
    following = plan(w, survey=survey, name="乙")
    data = reached(
        visit,
        q_overall="4",
        q_attitude="很好",
        q_good=["态度", "质量"],
        q_recommend="9",
        q_advice="继续保持",
        notes="客户满意",
        next_action="下月再访",
        channel="onsite",
    )
    response = login(client, w["agent"]).post(work(visit), data)
    assert response.status_code == 302 and response["Location"] == work(following)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE and visit.channel == VisitChannel.ONSITE
    assert visit.answers == {
        "overall": 4,
        "attitude": "很好",
        "good": ["态度", "质量"],
        "recommend": 9,
        "advice": "继续保持",
    }
    assert visit.satisfaction == 4 and visit.nps == 9 and visit.notes == "客户满意" and visit.next_action == "下月再访"
    page = client.get(response["Location"])
    assert "已记录：甲，已接通。" in page.content.decode()


def test_the_last_visit_goes_back_to_the_list(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    response = login(client, w["agent"]).post(work(visit), reached(visit, q_overall="5"))
    assert response.status_code == 302 and response["Location"] == reverse("visits:list")


def test_no_answer_reschedules_and_moves_on(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey, name="甲")
    following = plan(w, survey=survey, name="乙")
    response = login(client, w["agent"]).post(
        work(visit), {"version": visit.version, "outcome": "no_answer", "channel": "phone"}
    )
    assert response["Location"] == work(following)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED and visit.attempts == 1 and visit.due_date > today()
    assert "已改到" in client.get(response["Location"]).content.decode()


def test_missing_required_answer_is_refused_on_its_question(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    response = login(client, w["agent"]).post(work(visit), reached(visit, q_attitude="很好", notes="未填满意度"))
    assert response.status_code == 422
    assert response.context["form"].errors["q_overall"] == ["您对本次服务满意吗？：必答"]
    assert 'data-field="q_overall"' in response.content.decode()
    # What was typed is still there.
    assert 'value="很好" id="id_q_attitude_0" class="form-selectgroup-input" checked' in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED and visit.attempts == 0 and visit.notes == ""


def test_a_stale_version_is_a_409_in_chinese(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    stale = visit.version
    Visit.objects.filter(pk=visit.pk).update(version=stale + 1)
    response = login(client, w["agent"]).post(work(visit), reached(visit, version=stale, q_overall="5"))
    assert response.status_code == 409
    assert "该回访已被他人处理，请刷新后重试。" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED and visit.attempts == 0
    # The form now carries the current version: sending again works.
    assert response.context["form"].data["version"] == stale + 1
    again = client.post(work(visit), reached(visit, version=stale + 1, q_overall="5"))
    assert again.status_code == 302


def test_a_visit_already_recorded_is_a_409(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    finish(visit, satisfaction=5)
    data = reached(visit, q_overall="3")
    data["version"] = ""  # no version sent: the service's state check answers
    response = login(client, w["agent"]).post(work(visit), data)
    assert response.status_code == 409
    assert "不能再记录" in response.content.decode()
    assert response.context["form"] is None  # the page shows the result instead
    assert Visit.objects.get(pk=visit.pk).satisfaction == 5


def test_call_back_needs_a_time(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    client = login(client, w["agent"])
    response = client.post(work(visit), {"version": visit.version, "outcome": "call_back", "channel": "phone"})
    assert response.status_code == 422
    assert "请填写约定回拨的时间" in response.context["form"].errors["call_back_at"][0]
    later = timezone.localtime() + datetime.timedelta(days=2)
    response = client.post(
        work(visit),
        {
            "version": visit.version,
            "outcome": "call_back",
            "channel": "phone",
            "call_back_at": later.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.due_date == later.date() and visit.call_back_at is not None


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "maybe", "channel": "phone"},
        {"outcome": "reached", "channel": "carrier-pigeon", "q_overall": "5"},
        {"outcome": "reached", "channel": "phone", "q_overall": "6"},
        {"outcome": "reached", "channel": "phone", "q_overall": "5", "version": "abc"},
        {"outcome": "reached", "channel": "phone", "q_overall": "5", "deal_amount": "很多"},
        {"outcome": "reached", "channel": "phone", "q_overall": "5", "notes": "长" * 5001},
        {"outcome": "call_back", "channel": "phone", "call_back_at": "明天下午"},
    ],
)
def test_garbage_is_a_422_and_nothing_changes(client, ticket_world, survey, data):
    w = ticket_world
    visit = plan(w, survey=survey)
    response = login(client, w["agent"]).post(work(visit), {"version": visit.version, **data})
    assert response.status_code == 422
    assert 'data-testid="visit-error"' in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED and visit.attempts == 0
    assert not AuditEvent.objects.filter(code="visit.recorded").exists()


def test_problem_found_creates_a_linked_ticket(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    data = reached(
        visit,
        q_overall="2",
        problem="on",
        problem_kind=Ticket._meta.get_field("kind").related_model.objects.get(code="repair").pk,
        problem_severity="normal",
        problem_title="阳台门关不严",
        problem_description="回访中客户反映阳台门变形。",
    )
    response = login(client, w["agent"]).post(work(visit), data)
    assert response.status_code == 302
    visit.refresh_from_db()
    ticket = visit.created_ticket
    assert ticket is not None and ticket.title == "阳台门关不严" and ticket.customer == visit.customer
    assert ticket.number in client.get(response["Location"]).content.decode()


def test_problem_without_title_creates_nothing(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    response = login(client, w["agent"]).post(work(visit), reached(visit, q_overall="2", problem="on"))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"problem_kind", "problem_title", "problem_description"} <= set(errors)
    assert 'data-testid="visit-problem" open' in response.content.decode()
    assert not Ticket.objects.exists()
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.PLANNED


def _confirmation_visit(w):
    VisitRule.objects.create(
        name="工单回访确认",
        kind=RuleKind.EVENT,
        trigger=Trigger.TICKET_RESOLVED,
        visit_type="投诉回访",
        assign_to=AssignTo.TICKET_ASSIGNEE,
    )
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="已修复")
    flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复")
    return Visit.objects.get(ticket=ticket)


def test_confirmation_visit_asks_the_verdict_and_confirms_the_ticket(client, ticket_world):
    w = ticket_world
    visit = _confirmation_visit(w)
    client = login(client, w["agent"])
    html = client.get(work(visit)).content.decode()
    assert 'data-testid="visit-satisfied"' in html and visit.ticket.number in html
    refused = client.post(work(visit), reached(visit))
    assert refused.status_code == 422
    assert "请选择客户是否满意" in refused.context["form"].errors["satisfied"][0]
    response = client.post(work(visit), reached(visit, satisfied="yes", notes="已修好"))
    assert response.status_code == 302
    visit.ticket.refresh_from_db()
    assert visit.ticket.status == TicketStatus.CONFIRMED


def test_out_of_scope_is_404_and_readers_get_no_form(client, ticket_world, survey, make_user):
    w = ticket_world
    visit = plan(w, survey=survey)
    assert login(client, w["agent_south"]).get(work(visit)).status_code == 404
    assert client.post(work(visit), reached(visit, q_overall="5")).status_code == 404
    director = login(client, w["director"]).get(work(visit))
    assert director.status_code == 200 and director.context["form"] is None
    assert client.post(work(visit), reached(visit, q_overall="5")).status_code == 403
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.PLANNED


def test_a_done_visit_shows_its_answers(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    login(client, w["agent"]).post(work(visit), reached(visit, q_overall="5", q_good=["速度"], notes="很好"))
    html = client.get(work(visit)).content.decode()
    assert 'data-testid="visit-result"' in html and 'data-testid="visit-form"' not in html
    assert "哪些方面做得好？" in html and "速度" in html


# --- reschedule -----------------------------------------------------------------------


def test_reschedule_from_the_list_goes_back(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    url = reverse("visits:reschedule", args=[visit.pk])
    back = reverse("visits:list") + "?tab=due"
    client = login(client, w["agent"])
    assert client.get(url, {"back": back}).status_code == 200
    new_date = today() + datetime.timedelta(days=3)
    response = client.post(url, {"due_date": new_date.isoformat(), "reason": "客户出差", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    visit.refresh_from_db()
    assert visit.due_date == new_date
    event = AuditEvent.objects.get(code="visit.rescheduled")
    assert event.data == {"reason": "客户出差"}


def test_reschedule_from_the_work_page_moves_on(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey, name="甲")
    following = plan(w, survey=survey, name="乙")
    response = login(client, w["agent"]).post(
        reverse("visits:reschedule", args=[visit.pk]),
        {"due_date": (today() + datetime.timedelta(days=1)).isoformat(), "then": "next"},
    )
    assert response["Location"] == work(following)


@pytest.mark.parametrize("due", ["", "2020-01-01", "not-a-date"])
def test_reschedule_refusals(client, ticket_world, survey, due):
    w = ticket_world
    visit = plan(w, survey=survey)
    response = login(client, w["agent"]).post(reverse("visits:reschedule", args=[visit.pk]), {"due_date": due})
    assert response.status_code == 422
    assert response.context["form"].errors
    assert Visit.objects.get(pk=visit.pk).due_date == visit.due_date
    assert not AuditEvent.objects.filter(code="visit.rescheduled").exists()


def test_reschedule_a_finished_visit_is_409_and_unsafe_back_is_ignored(client, ticket_world, survey):
    w = ticket_world
    visit = finish(plan(w, survey=survey), satisfaction=3)
    url = reverse("visits:reschedule", args=[visit.pk])
    response = login(client, w["agent"]).post(
        url, {"due_date": (today() + datetime.timedelta(days=1)).isoformat(), "back": "https://evil.example/"}
    )
    assert response.status_code == 409 and "只能调整待回访的计划" in response.content.decode()
    assert "evil.example" not in response.content.decode()


# --- plan a visit by hand -------------------------------------------------------------


def test_agent_plans_a_visit_for_a_customer_found_by_search(client, ticket_world, survey):
    w = ticket_world
    customer = make_customer(w["manager"], name="张三", region=w["north"])
    make_customer(w["manager"], name="南区张三", region=w["south"])
    url = reverse("visits:create")
    client = login(client, w["agent"])
    page = client.get(url, {"q": "张三"})
    assert [c.pk for c in page.context["customers"]] == [customer.pk]
    assert 'name="assignee"' not in page.content.decode()  # an agent plans for themselves
    partial = client.get(url, {"q": "张三"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="create-customer"' in partial.content.decode() and "<html" not in partial.content.decode()

    due = today() + datetime.timedelta(days=2)
    response = client.post(
        url,
        {
            "customer": customer.pk,
            "visit_type": "二次开发",
            "due_date": due.isoformat(),
            "channel": "onsite",
            "questionnaire": survey.pk,
        },
    )
    visit = Visit.objects.get()
    assert response.status_code == 302 and response["Location"] == work(visit)
    assert visit.assignee == w["agent"] and visit.channel == "onsite" and visit.due_date == due
    assert visit.questionnaire_version == survey.current_version()


def test_supervisor_plans_for_an_agent(client, ticket_world):
    w = ticket_world
    customer = make_customer(w["manager"], name="张三", region=w["north"])
    response = login(client, w["supervisor"]).post(
        reverse("visits:create"),
        {
            "customer": customer.pk,
            "visit_type": "跟踪回访",
            "due_date": today().isoformat(),
            "channel": "phone",
            "assignee": w["agent"].pk,
        },
    )
    assert response.status_code == 302
    assert Visit.objects.get().assignee == w["agent"]


@pytest.mark.parametrize(
    "field, value", [("due_date", "2020-01-01"), ("customer", "south"), ("customer", "x"), ("visit_type", "")]
)
def test_plan_refusals_create_nothing(client, ticket_world, field, value):
    w = ticket_world
    customer = make_customer(w["manager"], name="张三", region=w["north"])
    south = make_customer(w["manager"], name="南区", region=w["south"])
    data = {"customer": customer.pk, "visit_type": "跟踪回访", "due_date": today().isoformat(), "channel": "phone"}
    data[field] = south.pk if value == "south" else value
    response = login(client, w["agent"]).post(reverse("visits:create"), data)
    assert response.status_code == 422
    assert response.context["form"].errors
    assert not Visit.objects.exists()
