"""GET /api/v1/reports/dashboard: the viewer's role dashboard as JSON — the same widgets,
figures and list addresses as the page; 403 for roles without a dashboard, 401 without a
token, 422 for a bad period."""

import pytest

from kefu.core.tokens import token_create
from kefu.reports.dashboards import build_dashboard, dashboard_for
from tests.views.dashboard_support import build_dashboard_world, rows_on

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/dashboard"


def _headers(user) -> dict:
    _token, raw = token_create(user=user, name="dashboard")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def w(make_user):
    return build_dashboard_world(make_user)


def _figures(data: dict) -> dict:
    return {
        (widget["key"], f["key"]): (f["value"], f["url"])
        for widget in data["widgets"]
        if widget["kind"] == "figures"
        for f in widget["figures"]
    }


def test_agent_gets_their_dashboard_with_the_page_figures(client, w):
    agent = w["agent"]
    response = client.get(URL, **_headers(agent))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["dashboard"] == "agent" and data["title"] == "我的工作台" and data["period"] is None
    page = build_dashboard(dashboard_for(agent), user=agent).as_json()
    assert [x["key"] for x in data["widgets"]] == [x["key"] for x in page["widgets"]]
    assert _figures(data) == _figures(page)
    value, url = _figures(data)[("my_tickets", "mine")]
    client.force_login(agent)
    assert value == 5 == rows_on(client, url)


def test_supervisor_chart_points_carry_value_and_list_address(client, w):
    supervisor = w["supervisor"]
    data = client.get(URL, **_headers(supervisor)).json()
    load = next(x for x in data["widgets"] if x["key"] == "team_load")
    assert load["kind"] == "hbar" and load["categories"]
    tickets = load["series"][0]
    assert tickets["counts"] is True
    point = tickets["points"][0]
    client.force_login(supervisor)
    assert point["url"].startswith("/tickets/?") and point["value"] == rows_on(client, point["url"])


def test_manager_dashboard_takes_a_period(client, w):
    data = client.get(URL, {"period": "2026-Q4"}, **_headers(w["manager"])).json()
    assert data["dashboard"] == "manager"
    assert data["period"]["key"] == "2026-Q4" and data["period"]["start"] == "2026-10-01"
    assert data["period"]["end"] == "2026-12-31"


def test_a_bad_period_is_422_with_a_code(client, w):
    response = client.get(URL, {"period": "next month"}, **_headers(w["manager"]))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and "统计期间格式不正确" in body["message"]


def test_roles_without_a_dashboard_get_403(client, w):
    response = client.get(URL, **_headers(w["finance"]))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_anonymous_gets_401(client):
    response = client.get(URL)
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
