"""The call list: an agent's own visits due today and overdue (overdue highlighted) and
upcoming ones; the supervisor's team view with filters; keyset pages without per-row
queries; garbage never a 500; bulk reassignment with a confirmation step, all or
nothing; the menu and dashboard registrations."""

import base64
import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.core.navigation import counters_for, menu_for
from kefu.visits import nav
from kefu.visits.choices import RuleKind, VisitStatus
from kefu.visits.models import Visit, VisitRule
from tests.factories_customers import CustomerClassFactory, make_customer
from tests.views.test_bad_input import GARBAGE
from tests.views.visits_support import finish, login, make_survey, plan

pytestmark = pytest.mark.django_db

LIST = reverse("visits:list")
REASSIGN = reverse("visits:reassign")


@pytest.fixture
def survey(ticket_world):
    return make_survey()


def ids(response):
    return [v.pk for v in response.context["page"].items]


def today():
    return timezone.localdate()


# --- the agent's own list -------------------------------------------------------------


def test_agent_sees_own_due_and_overdue_visits_with_overdue_highlighted(client, ticket_world, survey):
    w = ticket_world
    late = plan(w, survey=survey, due=today() - datetime.timedelta(days=3), name="逾期客户")
    due = plan(w, survey=survey, name="今日客户", phone="13912345678")
    later = plan(w, survey=survey, due=today() + datetime.timedelta(days=5), name="下周客户")
    plan(w, survey=survey, assignee=w["agent_south"], name="别人的", region=w["south"])

    response = login(client, w["agent"]).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["tab"] == "due"
    assert ids(response) == [late.pk, due.pk]
    assert response.context["counts"] == {"due": 2, "overdue": 1, "upcoming": 1}
    assert f'data-visit="{late.pk}" class="table-danger" data-overdue="1"' in html
    assert "逾期 3 天" in html
    assert f'data-visit="{due.pk}">' in html  # today's row is not highlighted
    assert "139****5678" in html and "13912345678" not in html
    assert reverse("visits:work", args=[due.pk]) in html
    assert "别人的" not in html

    upcoming = client.get(LIST, {"tab": "upcoming"})
    assert ids(upcoming) == [later.pk]


def test_agent_cannot_open_the_team_view(client, ticket_world, survey):
    w = ticket_world
    mine = plan(w, survey=survey)
    plan(w, survey=survey, assignee=w["supervisor"], name="主管的")
    response = login(client, w["agent"]).get(LIST, {"tab": "team", "status": "all"})
    assert response.context["tab"] == "due"
    assert ids(response) == [mine.pk]
    assert 'data-testid="tab-team"' not in response.content.decode()
    assert 'data-testid="visit-bulk"' not in response.content.decode()


def test_team_view_filters_by_assignee_rule_status_region_and_overdue(client, ticket_world, survey):
    w = ticket_world
    rule = VisitRule.objects.create(name="A类跟踪", kind=RuleKind.CADENCE, visit_type="定期跟踪")
    agents = plan(w, survey=survey, name="甲")
    Visit.objects.filter(pk=agents.pk).update(rule=rule)
    sups = plan(w, survey=survey, assignee=w["supervisor"], name="乙", due=today() - datetime.timedelta(days=2))
    done = finish(plan(w, survey=survey, name="丙"), satisfaction=5)
    south = plan(w, survey=survey, assignee=w["agent_south"], name="丁", region=w["south"])

    client = login(client, w["supervisor"])
    team = client.get(LIST, {"tab": "team"})
    assert team.context["tab"] == "team"
    # Planned by default; the south region is outside the supervisor's scope.
    assert ids(team) == [sups.pk, agents.pk]
    assert south.pk not in ids(client.get(LIST, {"tab": "team", "status": "all"}))
    assert ids(client.get(LIST, {"tab": "team", "assignee": w["agent"].pk})) == [agents.pk]
    assert ids(client.get(LIST, {"tab": "team", "rule": rule.pk})) == [agents.pk]
    assert ids(client.get(LIST, {"tab": "team", "status": "done"})) == [done.pk]
    assert ids(client.get(LIST, {"tab": "team", "overdue": "on"})) == [sups.pk]
    assert ids(client.get(LIST, {"tab": "team", "region": w["north"].pk})) == [sups.pk, agents.pk]
    assert ids(client.get(LIST, {"tab": "team", "due_from": today().isoformat()})) == [agents.pk]
    # The manager sees every region.
    everything = login(client, w["manager"]).get(LIST, {"tab": "team", "status": "all"})
    assert set(ids(everything)) == {agents.pk, sups.pk, done.pk, south.pk}


@pytest.mark.parametrize(
    "params",
    [
        {"tab": "team", "assignee": "abc"},
        {"tab": "team", "status": "lost"},
        {"tab": "team", "due_from": "2026-13-45"},
        {"tab": "team", "region": "99999999999999999999"},
        {"tab": "team", "rule": "\x00"},
        {"tab": "nonsense", "cursor": "%%%"},
        {"cursor": base64.urlsafe_b64encode(json.dumps(["x", "y"]).encode()).decode()},
        {"cursor": base64.urlsafe_b64encode(json.dumps([1]).encode()).decode()},
    ],
)
def test_garbage_parameters_are_a_message_not_a_500(client, ticket_world, survey, params):
    w = ticket_world
    plan(w, survey=survey)
    response = login(client, w["supervisor"]).get(LIST, params)
    assert response.status_code == 200
    if params.get("tab") == "team":
        assert response.context["error"]
        assert ids(response) == []


@pytest.mark.parametrize("base", ["tab=due", "tab=upcoming", "tab=team", "tab=team&status=all"])
def test_the_shared_garbage_list_never_makes_a_500(client, ticket_world, survey, base):
    w = ticket_world
    plan(w, survey=survey, due=today() - datetime.timedelta(days=1))
    client.raise_request_exception = False
    client = login(client, w["supervisor"])
    for query in GARBAGE:
        response = client.get(f"{LIST}?{base}&{query}")
        assert response.status_code < 500, (base, query)
        oversight = client.get(f"{reverse('visits:oversight')}?{query}")
        assert oversight.status_code < 500, query


def test_filters_as_the_user_changes_them_return_only_the_results(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    response = login(client, w["supervisor"]).get(LIST, {"tab": "team"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and f'data-visit="{visit.pk}"' in html
    assert "HX-Request" in response["Vary"]


def test_keyset_pages_follow_the_list_order(client, ticket_world):
    w = ticket_world
    customer = make_customer(w["manager"], name="多次", region=w["north"])
    visits = [plan(w, customer=customer, due=today() - datetime.timedelta(days=n % 7)) for n in range(55)]
    expected = [v.pk for v in sorted(visits, key=lambda v: (v.due_date, v.pk))]
    client = login(client, w["agent"])
    first = client.get(LIST)
    assert ids(first) == expected[:50] and first.context["page"].has_more
    assert "cursor=" in first.content.decode()
    second = client.get(LIST, {"cursor": first.context["page"].next_cursor})
    assert ids(second) == expected[50:] and not second.context["page"].has_more


def _queries(client, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{}, {"tab": "upcoming"}, {"tab": "team", "status": "all"}])
def test_rows_cost_no_extra_queries(client, ticket_world, survey, params):
    w = ticket_world
    cls = CustomerClassFactory(code="A", visits_per_month=1)
    client = login(client, w["supervisor"])

    def add(n, offset):
        for i in range(n):
            due = today() + datetime.timedelta(days=offset) if params.get("tab") == "upcoming" else None
            visit = plan(
                w, survey=survey, assignee=w["supervisor"], name=f"客户{offset}{i}", customer_class=cls, due=due
            )
            Visit.objects.filter(pk=visit.pk).update(due_date=due or today() - datetime.timedelta(days=i % 3))

    add(2, 3)
    few = _queries(client, params)
    add(25, 4)
    many = _queries(client, params)
    assert few == many
    assert many <= 16


# --- bulk reassignment ----------------------------------------------------------------


def test_bulk_reassign_asks_first_then_moves_all(client, ticket_world, survey):
    w = ticket_world
    first = plan(w, survey=survey, name="一")
    second = plan(w, survey=survey, name="二")
    client = login(client, w["supervisor"])
    back = f"{LIST}?tab=team"
    data = {"ids": [first.pk, second.pk], "assignee": w["supervisor"].pk, "back": back}

    preview = client.post(REASSIGN, data)
    assert preview.status_code == 200
    assert "将 2 条回访改派给" in preview.content.decode()
    assert set(Visit.objects.values_list("assignee", flat=True)) == {w["agent"].pk}

    done = client.post(REASSIGN, {**data, "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == back
    assert set(Visit.objects.values_list("assignee", flat=True)) == {w["supervisor"].pk}
    assert AuditEvent.objects.filter(code="visit.reassigned").count() == 2


def test_bulk_reassign_is_all_or_nothing(client, ticket_world, survey):
    w = ticket_world
    open_one = plan(w, survey=survey, name="一")
    closed = finish(plan(w, survey=survey, name="二"), satisfaction=4)
    client = login(client, w["supervisor"])
    data = {"ids": [open_one.pk, closed.pk], "assignee": w["supervisor"].pk, "confirm": "1"}

    response = client.post(REASSIGN, data)
    assert response.status_code == 409
    assert "所有回访均未修改" in response.content.decode()
    assert set(Visit.objects.values_list("assignee", flat=True)) == {w["agent"].pk}
    assert not AuditEvent.objects.filter(code="visit.reassigned").exists()


def test_bulk_reassign_refuses_visits_out_of_scope(client, ticket_world, survey):
    w = ticket_world
    mine = plan(w, survey=survey, name="北")
    south = plan(w, survey=survey, name="南", assignee=w["agent_south"], region=w["south"])
    response = login(client, w["supervisor"]).post(
        REASSIGN, {"ids": [mine.pk, south.pk], "assignee": w["supervisor"].pk, "confirm": "1"}
    )
    assert response.status_code == 404
    assert Visit.objects.get(pk=mine.pk).assignee == w["agent"]
    assert Visit.objects.get(pk=south.pk).assignee == w["agent_south"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"ids": ["x1"]}, "回访编号无效"),
        ({}, "请先勾选"),
        ({"ids": ["1"], "assignee": "abc"}, "请选择改派给谁"),
    ],
)
def test_bulk_reassign_bad_input_goes_back_with_a_message(client, ticket_world, data, message):
    w = ticket_world
    response = login(client, w["supervisor"]).post(REASSIGN, data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_agents_may_not_reassign(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    response = login(client, w["agent"]).post(
        REASSIGN, {"ids": [visit.pk], "assignee": w["agent_south"].pk, "confirm": "1"}
    )
    assert response.status_code == 403
    assert Visit.objects.get(pk=visit.pk).assignee == w["agent"]


def test_reassign_target_must_be_someone_who_records_visits(client, ticket_world, survey):
    w = ticket_world
    visit = plan(w, survey=survey)
    response = login(client, w["supervisor"]).post(
        REASSIGN, {"ids": [visit.pk], "assignee": w["engineer"].pk, "confirm": "1"}, follow=True
    )
    assert "请选择改派给谁" in response.content.decode()
    assert Visit.objects.get(pk=visit.pk).assignee == w["agent"]


# --- menu and dashboard ---------------------------------------------------------------


def test_menu_and_counters(ticket_world, survey):
    w = ticket_world
    nav.register()
    nav.register()  # idempotent
    plan(w, survey=survey, due=today() - datetime.timedelta(days=1))
    plan(w, survey=survey)
    agent_menu = {s["code"]: [i.url_name for i in s["items"]] for s in menu_for(w["agent"])}
    assert agent_menu["visits"] == ["visits:list", "visits:create"]
    supervisor_menu = {s["code"]: [i.url_name for i in s["items"]] for s in menu_for(w["supervisor"])}
    assert "visits:oversight" in supervisor_menu["visits"]
    assert "visits" not in {s["code"] for s in menu_for(w["finance"])}
    agent_counters = {c["label"]: c["value"] for c in counters_for(w["agent"])}
    assert agent_counters["今日待回访"] == 2 and "逾期回访" not in agent_counters
    supervisor_counters = {c["label"]: c["value"] for c in counters_for(w["supervisor"])}
    assert supervisor_counters["逾期回访"] == 1 and supervisor_counters["今日待回访"] == 0
    assert Visit.objects.filter(status=VisitStatus.PLANNED).count() == 2
