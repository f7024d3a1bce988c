"""The role dashboards: which one a user sees, what each shows, that every count a
dashboard links equals the rows of the list it links to (same user, same scope), the
click-through redirect, the home page, and a bounded number of queries each."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from kefu.reports.dashboards import build_dashboard, dashboard_for
from kefu.reports.dashboards.widgets import chart_option
from tests.views.dashboard_support import (
    add_empty_groups,
    assert_counts_match,
    build_dashboard_world,
    figure,
    linked_counts,
    point,
    query_of,
    rows_on,
    widget,
)

pytestmark = pytest.mark.django_db

# Queries per dashboard, whatever the data: the user's groups and scope, one GROUP BY
# per widget, the label lookups of the report selectors (SQLite adds one window query
# per p90) — a budget that a per-row query would break at once. The management
# dashboards read the counters: one readiness query per read here, where the test's
# transaction changed configuration and the process cache stays off until a commit (in
# a request: cached per process); and the key accounts at risk take a second query
# when fewer than ten have an open complaint.
AGENT_QUERIES = 10
SUPERVISOR_QUERIES = 25
MANAGEMENT_QUERIES = 47


@pytest.fixture
def w(make_user):
    return build_dashboard_world(make_user)


def _build(user, **kwargs):
    return build_dashboard(dashboard_for(user), user=user, **kwargs)


def _fresh(user):
    """The user as a request loads it: no cached groups, permissions or scope."""
    from kefu.core.models import User

    return User.objects.get(pk=user.pk)


# ---------------------------------------------------------------------------- who sees which


def test_each_role_sees_its_dashboard(make_user, roles):
    assert dashboard_for(make_user("agent")).code == "agent"
    assert dashboard_for(make_user("supervisor")).code == "supervisor"
    assert dashboard_for(make_user("manager", scope_all=True)).code == "manager"
    assert dashboard_for(make_user("director", scope_all=True)).code == "director"
    assert dashboard_for(make_user("quality_officer")).code == "supervisor"
    assert dashboard_for(make_user("account_manager")).code == "agent"
    assert dashboard_for(make_user("department_staff")).code == "agent"
    assert dashboard_for(make_user("finance")) is None
    assert dashboard_for(make_user("admin")) is None


def test_several_roles_see_the_most_senior_one(make_user, roles):
    assert dashboard_for(make_user("agent", "supervisor")).code == "supervisor"
    assert dashboard_for(make_user("supervisor", "manager", scope_all=True)).code == "manager"
    assert dashboard_for(make_user("manager", "director", scope_all=True)).code == "director"
    assert dashboard_for(make_user("finance", "agent")).code == "agent"


def test_a_role_without_the_permission_falls_back_to_what_the_permissions_allow(make_user, roles):
    from django.contrib.auth.models import Permission

    # A manager whose role lost the report permission no longer gets the manager's
    # dashboard, but still the agent's (the queues are still theirs).
    roles["manager"].permissions.remove(Permission.objects.get(codename="view_reports"))
    assert dashboard_for(make_user("manager", scope_all=True)).code == "agent"


def test_a_superuser_without_roles_gets_a_dashboard_by_permission(make_user, roles):
    boss = make_user(is_superuser=True)
    assert dashboard_for(boss).code == "manager"


# ---------------------------------------------------------------------------- the agent


def test_agent_dashboard_shows_own_queue_and_visits(client, w, django_assert_max_num_queries):
    agent = _fresh(w["agent"])
    with django_assert_max_num_queries(AGENT_QUERIES):
        dashboard = _build(agent)
    assert dashboard.code == "agent"
    # Four complaints and a repair registered by the agent, one of them resolved.
    assert figure(dashboard, "my_tickets", "mine").value == 5
    assert figure(dashboard, "my_tickets", "mine_warning").value == 1
    assert figure(dashboard, "my_tickets", "mine_breached").value == 2
    assert figure(dashboard, "my_visits", "visits_due").value == 2  # today's and yesterday's
    assert figure(dashboard, "my_visits", "visits_overdue").value == 1
    queue = widget(dashboard, "my_queue")
    assert dict(zip(queue.categories, [p.value for p in queue.series[0].points], strict=True)) == {
        "已派单": 3,
        "已登记": 1,
        "已处理": 1,
    }
    client.force_login(agent)
    assert assert_counts_match(client, dashboard) >= 8


def test_agent_due_today_lists_tickets_due_before_tomorrow(w):
    from datetime import timedelta

    from django.utils import timezone

    from kefu.tickets.models import Ticket

    t1, t2 = w["tickets"][0], w["tickets"][1]
    Ticket.objects.filter(pk=t1.pk).update(resolve_due_at=timezone.now() - timedelta(hours=2))
    Ticket.objects.filter(pk=t2.pk).update(resolve_due_at=timezone.now() + timedelta(days=3))
    rows = widget(_build(w["agent"]), "due_today").rows
    assert [r["number"] for r in rows] == [t1.number]


def test_department_staff_see_their_slips(client, w):
    dashboard = _build(w["engineer"])
    assert dashboard.code == "agent"
    assert figure(dashboard, "department_slips", "department").value == 2
    client.force_login(w["engineer"])
    assert_counts_match(client, dashboard)


# ---------------------------------------------------------------------------- the supervisor


def test_supervisor_dashboard_counts_their_region_only(client, w, django_assert_max_num_queries):
    supervisor = _fresh(w["supervisor"])
    with django_assert_max_num_queries(SUPERVISOR_QUERIES):
        dashboard = _build(supervisor)
    assert dashboard.code == "supervisor"
    # North: t1 and t4 breached; the south ticket is outside the supervisor's scope.
    assert figure(dashboard, "team_queues", "overdue").value == 2
    assert figure(dashboard, "team_queues", "open").value == 4
    assert figure(dashboard, "team_queues", "escalated").value == 1
    assert figure(dashboard, "team_queues", "visits_overdue").value == 1
    load = widget(dashboard, "team_load")
    assert load.categories[0] in (w["agent"].display_name, w["agent"].username)
    assert [s.points[0].value for s in load.series] == [4, 2]
    week = widget(dashboard, "week_visits")
    # Yesterday's overdue visit is planned this week too, except on a Monday.
    overdue_this_week = 0 if w["today"].weekday() == 0 else 1
    assert {s.name: s.points[0].value for s in week.series} == {
        "已完成": 1,
        "未能联系": 1,
        "待回访": 1 + overdue_this_week,
    }
    client.force_login(supervisor)
    assert assert_counts_match(client, dashboard) >= 10


def test_supervisor_overdue_by_department_links_the_responsible_department(client, w):
    dashboard = _build(w["supervisor"])
    chart = widget(dashboard, "overdue_by_department")
    by_label = {c: p for c, p in zip(chart.categories, chart.series[0].points, strict=True)}
    # t1 was routed to engineering (its responsible department); t4 was never routed.
    assert by_label["工程部"].value == 1
    assert query_of(by_label["工程部"].url)["responsible_department"] == str(w["engineering"].pk)
    # t4: the list's `none` selects exactly the tickets without a responsible department.
    assert by_label["未指定部门"].value == 1
    assert query_of(by_label["未指定部门"].url)["responsible_department"] == "none"
    client.force_login(w["supervisor"])
    assert rows_on(client, by_label["未指定部门"].url) == 1


# ---------------------------------------------------------------------------- managers


@pytest.mark.parametrize("role", ["manager", "director"])
def test_management_dashboards_match_their_lists(client, w, role, django_assert_max_num_queries):
    user = _fresh(w[role])
    with django_assert_max_num_queries(MANAGEMENT_QUERIES):
        dashboard = _build(user)
    assert dashboard.code == role
    keys = {x.key for x in dashboard.widgets}
    assert {
        "key_figures",
        "complaints_by_category",
        "complaints_by_department",
        "sla_trend",
        "satisfaction_trend",
        "visit_funnel",
        "top_causes",
        "customers_by_class",
        "customers_by_region",
        "customers_by_source",
        "key_accounts_at_risk",
    } <= keys
    assert ("team_queues" in keys) == (role == "manager")
    causes = widget(dashboard, "top_causes")
    assert causes.categories[0].endswith("墙面开裂")
    assert causes.series[0].points[0].value == 3  # two in the north, one in the south
    client.force_login(user)
    assert assert_counts_match(client, dashboard) >= 15


def test_complaint_trend_segment_links_category_and_month(w):
    dashboard = _build(w["manager"])
    chart = widget(dashboard, "complaints_by_category")
    month = chart.categories[-1]
    cracks = next(s for s in chart.series if s.name.endswith("墙面开裂"))
    point = cracks.points[-1]
    assert point.value == 3
    query = query_of(point.url)
    assert query["category"] == str(cracks_id(w))
    assert query["created_from"].startswith(month) and query["created_to"].startswith(month)
    assert "kind" in query


def cracks_id(w) -> int:
    from tests.factories_tickets import category

    return category("墙面开裂").pk


def test_management_dashboard_takes_a_period(client, w):
    client.force_login(w["manager"])
    response = client.get(reverse("reports:dashboard"), {"period": "2020-01"})
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert dashboard.period.key() == "2020-01"
    assert figure(dashboard, "key_figures", "tickets").value == 0


def test_director_key_figures_compute_a_years_previous_period_once(w, monkeypatch):
    # For a year the previous period IS the same period last year: one computation.
    from kefu.reports.dashboards import management

    asked = []
    real = management.ticket_totals

    def spy(*, user, period, **kwargs):
        asked.append(period.key())
        return real(user=user, period=period, **kwargs)

    monkeypatch.setattr(management, "ticket_totals", spy)
    dashboard = _build(w["director"], period="2026")
    assert sorted(asked) == ["2025", "2026"]
    assert "同比" in figure(dashboard, "key_figures", "tickets").hint
    asked.clear()
    _build(w["director"], period="2026-10")
    assert sorted(asked) == ["2025-10", "2026-09", "2026-10"]


def test_a_bad_period_is_a_chinese_error_not_a_500(client, w):
    client.force_login(w["manager"])
    response = client.get(reverse("reports:dashboard"), {"period": "2026-13"})
    assert response.status_code == 422
    assert "统计期间格式不正确" in response.content.decode()
    assert response.context["dashboard"].period is not None


@pytest.mark.parametrize("role", ["agent", "supervisor", "manager", "director"])
def test_queries_do_not_grow_with_the_data(w, role, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories_tickets import category, make_ticket

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            _build(_fresh(w[role]))
        return len(ctx.captured_queries)

    before = count()
    other = make_user("agent", username="agent3", department=w["service"], region=w["north"])
    for name in ("开工延误", "设计师", "材料质量", "增项费用"):
        customer = w["tickets"][0].customer
        make_ticket(other, customer=customer, category=category(name), title=name)
        make_ticket(w["agent"], customer=customer, category=category(name), title=name)
    assert count() == before


# ---------------------------------------------------------------------------- pages


def test_dashboard_page_renders_charts_with_click_through(client, w):
    client.force_login(w["supervisor"])
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="chart-team_load"' in html
    assert f'data-click-base="{reverse("reports:dashboard_go")}?to="' in html
    assert "echarts.min.js" in html
    option = json.loads(html.split('id="dashboard-chart-team_load" type="application/json">')[1].split("</script>")[0])
    assert option["series"][0]["data"][0]["key"].startswith("/tickets/?")


def test_chart_option_marks_unlinked_points_not_clickable(w):
    # The rate line of the SLA trend is no list of rows: its points lead nowhere.
    chart = widget(_build(w["manager"]), "sla_trend")
    option = chart_option(chart)
    rate = next(s for s in option["series"] if s["name"] == "达标率")
    assert all("key" not in item and "url" not in item and item["cursor"] == "default" for item in rate["data"])
    met = next(s for s in option["series"] if s["name"] == "按时处理")
    assert all(item["url"].startswith("/tickets/?") for item in met["data"])


def test_roles_without_a_dashboard_get_403(client, make_user, roles):
    client.force_login(make_user("finance"))
    assert client.get(reverse("reports:dashboard")).status_code == 403


def test_home_shows_the_dashboard_under_the_counters(client, w):
    client.force_login(w["agent"])
    response = client.get("/")
    html = response.content.decode()
    assert response.context["dashboard"].code == "agent"
    assert html.index('data-testid="dashboard"') < html.index('data-testid="role-dashboard"')
    assert 'data-testid="widget-my_tickets"' in html


def test_home_without_a_dashboard_still_works(client, make_user, roles):
    client.force_login(make_user("finance"))
    response = client.get("/")
    assert response.status_code == 200 and "dashboard" not in response.context


# ---------------------------------------------------------------------------- click-through


def test_go_forwards_to_a_list(client, w):
    client.force_login(w["agent"])
    target = "/tickets/?queue=mine&status=routed"
    response = client.get(reverse("reports:dashboard_go"), {"to": target})
    assert response.status_code == 302 and response["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/tickets/",
        "//evil.example/tickets/",
        "////evil.example/tickets/",
        "/\\evil.example/tickets/",
        "/%2F%2Fevil.example/tickets/",
        "http:/tickets/",
        "javascript:alert(1)//tickets/",
        "/tickets/\x00",
        "/admin/",
        "/tickets/1/",
        "已派单",
        "",
    ],
)
def test_go_refuses_anything_but_a_list(client, w, target):
    client.force_login(w["agent"])
    response = client.get(reverse("reports:dashboard_go"), {"to": target})
    assert response.status_code == 302 and response["Location"] == reverse("reports:dashboard")


def test_go_needs_a_login(client):
    response = client.get(reverse("reports:dashboard_go"), {"to": "/tickets/"})
    assert response.status_code == 302 and "/login/" in response["Location"]


# ---------------------------------------------------------------------------- empty groups, exactly


@pytest.fixture
def gaps(w):
    return add_empty_groups(w)


def _checked(dashboard) -> set[str]:
    return {url for _what, _value, url in linked_counts(dashboard)}


def test_supervisor_links_the_empty_groups_exactly(client, gaps):
    w = gaps
    dashboard = _build(_fresh(w["supervisor"]))
    unassigned_tickets = point(dashboard, "team_load", "未完结工单", "未分配")
    unassigned_visits = point(dashboard, "team_load", "今日及逾期待回访", "未分配")
    assert (unassigned_tickets.value, unassigned_visits.value) == (1, 1)
    assert query_of(unassigned_tickets.url)["assignee"] == "none"
    assert query_of(unassigned_visits.url)["assignee"] == "none"
    no_department = point(dashboard, "overdue_by_department", "已超时", "未指定部门")
    assert no_department.value == 2  # t4 and the uncategorised complaint
    week = point(dashboard, "week_visits", "待回访", "未分配")
    assert week.value == 1 and query_of(week.url)["assignee"] == "none"
    # SLA: t3 handled on time, the withdrawn one late — still counted as resolved, and
    # the list's `resolved=1` still holds it (a status list could not).
    sla = widget(dashboard, "sla_compliance")
    assert all(s.counts for s in sla.series)
    met, breached = (s.points[0] for s in sla.series)
    assert (met.value, breached.value) == (1, 1)
    assert query_of(breached.url)["resolved"] == "1" and "status" not in query_of(breached.url)
    urls = _checked(dashboard)
    for linked in (unassigned_tickets, unassigned_visits, no_department, week, met, breached):
        assert linked.url in urls
    client.force_login(_fresh(w["supervisor"]))
    assert_counts_match(client, dashboard)


@pytest.mark.parametrize("role", ["manager", "director"])
def test_management_links_the_empty_groups_exactly(client, gaps, role):
    w = gaps
    dashboard = _build(_fresh(w[role]))
    month = widget(dashboard, "complaints_by_category").categories[-1]
    uncategorised = point(dashboard, "complaints_by_category", "未分类", month)
    no_department = point(dashboard, "complaints_by_department", "未指定部门", month)
    assert query_of(uncategorised.url)["category"] == "none"
    assert query_of(no_department.url)["responsible_department"] == "none"
    assert uncategorised.value == 1
    # t4, the south's complaint and the uncategorised one (the repair has no responsible
    # department either, but this chart counts complaints only).
    assert no_department.value == 3
    breached = point(dashboard, "sla_trend", "超时处理", month)
    assert breached.value == 1 and query_of(breached.url)["resolved"] == "1"
    funnel = widget(dashboard, "visit_funnel")
    stages = dict(zip(funnel.categories, funnel.series[0].points, strict=True))
    assert {name: p.value for name, p in stages.items()} == {"已回访": 3, "已接通": 2, "到院/到店": 1, "成交": 1}
    assert all(p.url for p in stages.values())
    assert query_of(stages["已回访"].url)["status"] == "finished"
    assert query_of(stages["到院/到店"].url)["arrived"] == "1"
    customers = {
        "customers_by_class": ("未分类", "customer_class"),
        "customers_by_region": ("未指定片区", "region"),
        "customers_by_source": ("未知来源", "source"),
    }
    empty_customers = []
    for key, (label, param) in customers.items():
        chart = widget(dashboard, key)
        p = dict(zip(chart.categories, chart.series[0].points, strict=True))[label]
        assert query_of(p.url)[param] == "none"
        empty_customers.append(p)
    urls = _checked(dashboard)
    for linked in (uncategorised, no_department, breached, *stages.values(), *empty_customers):
        assert linked.url in urls
    client.force_login(_fresh(w[role]))
    assert assert_counts_match(client, dashboard) >= 25


def test_other_series_links_the_union_of_its_groups(client, w):
    from tests.factories_tickets import category, make_ticket

    customer = w["tickets"][0].customer
    for n, name in enumerate(("设计师", "材料质量", "增项费用", "水电问题", "木作/油漆", "竣工延误", "工长/工人")):
        for _i in range(n + 2):  # bigger than the smallest groups of the world
            make_ticket(w["agent"], customer=customer, category=category(name), title=name)
    dashboard = _build(_fresh(w["manager"]))
    chart = widget(dashboard, "complaints_by_category")
    other = point(dashboard, "complaints_by_category", "其他", chart.categories[-1])
    assert other.value == 2  # 防水渗漏 and 开工延误, one each
    assert len(query_of(other.url)["category"].split("%2C")) == 2
    client.force_login(_fresh(w["manager"]))
    assert rows_on(client, other.url) == 2


def test_agent_due_today_more_lists_exactly_the_table(client, w):
    from datetime import timedelta

    from django.utils import timezone

    from kefu.tickets.models import Ticket

    t1, t2, t4 = w["tickets"][0], w["tickets"][1], w["tickets"][3]
    Ticket.objects.filter(pk=t1.pk).update(resolve_due_at=timezone.now() - timedelta(hours=2))
    Ticket.objects.filter(pk=t4.pk).update(resolve_due_at=timezone.now() - timedelta(days=2))
    Ticket.objects.filter(pk=t2.pk).update(resolve_due_at=timezone.now() + timedelta(days=3))
    due = widget(_build(w["agent"]), "due_today")
    assert [r["number"] for r in due.rows] == [t4.number, t1.number]
    assert query_of(due.more_url)["due_to"] == w["today"].isoformat()
    client.force_login(w["agent"])
    html = client.get(due.more_url).content.decode()
    assert html.count('data-testid="ticket-row"') == 2
    assert html.index(t4.number) < html.index(t1.number)
