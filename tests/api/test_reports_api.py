"""/api/v1/reports: the catalogue, a named report as JSON (the same tables as the page
and the files), the figure selectors grouped as asked — and the errors: an unknown
report is a 404 `not_found`, a bad period or dimension a 422 in Chinese, a caller
without the report permission a 403, an anonymous one a 401."""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from kefu.reports.catalog import REPORTS, build_report
from kefu.reports.periods import parse_period
from tests.api.test_tickets_api import Api
from tests.report_world import PERIOD, build_report_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(ticket_world, make_user):
    return build_report_world(ticket_world, make_user)


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


def test_catalogue_lists_every_report(as_user, w):
    response = as_user(w["manager"]).get("/reports")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["key"] for i in items] == list(REPORTS)
    assert items[0]["title"] == "投诉统计报表" and items[0]["description"]


def test_report_json_is_the_report_the_page_and_files_are_drawn_from(as_user, w):
    response = as_user(w["manager"]).get("/reports/complaints", period=PERIOD)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["key"] == "complaints" and data["title"] == "投诉统计报表"
    assert data["company"] == "宏达装饰工程有限公司"
    assert data["period"] == {
        "key": "2026-10",
        "kind": "month",
        "label": "2026年10月",
        "start": "2026-10-01",
        "end": "2026-11-01",
    }
    expected = build_report("complaints", user=w["manager"], period=parse_period(PERIOD)).as_json()
    for key in ("generated_at",):
        data.pop(key), expected.pop(key)
    assert data == expected
    comparison = data["tables"][0]
    assert [r["count"] for r in comparison["rows"]] == [5, 1, 4, 1, 4]
    by_region = next(t for t in data["tables"] if t["title"] == "按片区")
    assert {r["label"]: r["count"] for r in by_region["rows"]} == {"城北": 3, "城南": 2}
    assert by_region["totals"]["count"] == 5


def test_report_is_scoped_to_the_caller(as_user, w):
    data = as_user(w["supervisor"]).get("/reports/complaints", period=PERIOD).json()
    assert data["tables"][0]["rows"][0]["count"] == 3
    by_region = next(t for t in data["tables"] if t["title"] == "按片区")
    assert [r["label"] for r in by_region["rows"]] == ["城北"]


def test_unknown_report_is_a_404_with_a_stable_code(as_user, w):
    response = as_user(w["manager"]).get("/reports/nope", period=PERIOD)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("bad", ["2026-13", "abc", "2026-10-05..2026-10-01", "1999", "2026-02-30..2026-03-01"])
def test_bad_period_is_a_422_in_chinese(as_user, w, bad):
    response = as_user(w["manager"]).get("/reports/complaints", period=bad)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert "统计期间" in body["message"]
    assert body["details"] == {"field": "period"}


@pytest.mark.parametrize("role", ["agent", "engineer", "finance"])
def test_without_the_report_permission_every_endpoint_is_a_403(as_user, w, role):
    api = as_user(w[role])
    for path, params in [
        ("/reports", {}),
        ("/reports/complaints", {"period": PERIOD}),
        ("/reports/figures/tickets", {"period": PERIOD}),
    ]:
        response = api.get(path, **params)
        assert response.status_code == 403, path
        assert response.json()["code"] == "permission_denied"


def test_anonymous_is_a_401(client, w):
    response = client.get("/api/v1/reports/complaints", {"period": PERIOD})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_ticket_figures_grouped_and_filtered_by_kind(as_user, w):
    api = as_user(w["manager"])
    response = api.get("/reports/figures/tickets", period=PERIOD, group_by="region", kinds="complaint")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"]["key"] == "2026-10" and body["group_by"] == ["region"]
    assert {r["region_label"]: r["count"] for r in body["rows"]} == {"城北": 3, "城南": 2}
    repairs = api.get("/reports/figures/tickets", period=PERIOD, kinds="repair").json()["rows"]
    assert [r["count"] for r in repairs] == [1]
    everything = api.get("/reports/figures/tickets", period=PERIOD).json()["rows"]
    assert [r["count"] for r in everything] == [6]


def test_figures_refuse_unknown_dimensions_kinds_and_sources(as_user, w):
    api = as_user(w["manager"])
    bad_dim = api.get("/reports/figures/tickets", period=PERIOD, group_by="colour")
    assert bad_dim.status_code == 422 and "统计维度无效" in bad_dim.json()["message"]
    bad_kind = api.get("/reports/figures/tickets", period=PERIOD, kinds="nonsense")
    assert bad_kind.status_code == 422 and bad_kind.json()["details"] == {"field": "kinds"}
    kinds_elsewhere = api.get("/reports/figures/visits", period=PERIOD, kinds="complaint")
    assert kinds_elsewhere.status_code == 422
    staff_grouped = api.get("/reports/figures/staff", period=PERIOD, group_by="region")
    assert staff_grouped.status_code == 422 and staff_grouped.json()["details"] == {"field": "group_by"}
    unknown = api.get("/reports/figures/weather", period=PERIOD)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    bad_period = api.get("/reports/figures/tickets", period="2026-Q5")
    assert bad_period.status_code == 422


@pytest.mark.parametrize("what", ["visits", "customers", "staff"])
def test_other_figures_answer_json_rows(as_user, w, what):
    from kefu.reports.selectors.customers import customer_figures
    from kefu.reports.selectors.staff import staff_figures
    from kefu.reports.selectors.visits import visit_figures

    selector = {"visits": visit_figures, "customers": customer_figures, "staff": staff_figures}[what]
    response = as_user(w["manager"]).get(f"/reports/figures/{what}", period=PERIOD)
    assert response.status_code == 200, response.content
    # The selector's own rows for the same caller and period, nothing dropped or added.
    expected = selector(user=w["manager"], period=parse_period(PERIOD))
    assert response.json()["rows"] == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))
    if what != "staff":
        assert len(expected) == 1  # ungrouped: the totals row


def test_figures_answer_the_grouping_they_applied(as_user, w):
    body = as_user(w["manager"]).get("/reports/figures/tickets", period=PERIOD, group_by="region,region").json()
    assert body["group_by"] == ["region"]
    assert {r["region_label"]: r["count"] for r in body["rows"]} == {"城北": 4, "城南": 2}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "\x00"}, "period"),
        ({"period": "2026-1\x00"}, "period"),
        ({"period": "9" * 5000}, "period"),
        ({"group_by": "\x00"}, "group_by"),
        ({"group_by": "region," + "x" * 5000}, "group_by"),
        ({"kinds": "\x00"}, "kinds"),
        ({"kinds": "x" * 5000}, "kinds"),
    ],
)
def test_hostile_figure_parameters_are_a_422_never_a_500(as_user, w, params, field):
    response = as_user(w["manager"]).get("/reports/figures/tickets", **params)
    assert response.status_code == 422, response.content[:300]
    body = response.json()
    assert body["code"] == "validation_error" and body["details"]["field"] == field


def test_customer_figures_by_region_are_scoped(as_user, w):
    # The customers were opened today: they exist from this month on.
    rows = as_user(w["am_south"]).get("/reports/figures/customers", group_by="region").json()["rows"]
    assert {r["region_label"]: r["total"] for r in rows} == {"城南": 1}
    everyone = as_user(w["manager"]).get("/reports/figures/customers", group_by="region").json()["rows"]
    assert {r["region_label"]: r["total"] for r in everyone} == {"城北": 1, "城南": 1}


def test_the_dashboard_is_not_taken_for_a_report_key(as_user, w):
    response = as_user(w["manager"]).get("/reports/dashboard")
    assert response.status_code == 200, response.content
    assert "tables" not in response.json()


def test_the_cross_table_is_chosen_with_cross(as_user, w):
    api = as_user(w["manager"])
    crossed = api.get("/reports/complaints", period=PERIOD, cross="channel,severity")
    assert crossed.status_code == 200, crossed.content
    titles = [t["title"] for t in crossed.json()["tables"]]
    assert "受理渠道 × 严重程度" in titles and "分类 × 责任部门" not in titles
    catalogue = {i["key"]: i["crosses"] for i in api.get("/reports").json()["items"]}
    assert catalogue["complaints"] == ["category", "department", "region", "channel", "severity"]
    assert catalogue["visits"] == []
    for bad, key in (("channel,channel", "complaints"), ("nope,region", "repairs"), ("region,channel", "visits")):
        refused = api.get(f"/reports/{key}", period=PERIOD, cross=bad)
        assert refused.status_code == 422 and refused.json()["details"] == {"field": "cross"}
        assert "交叉分析" in refused.json()["message"]
