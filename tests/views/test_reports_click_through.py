"""The report pages' charts click through to exactly the rows behind each bar: the
ticket list for the complaint / repair charts by category and responsible department,
the customer archive for the customer charts by class and source — the empty group
(未分类, 未指定部门, 未知来源) included, through the lists' `none`, instead of the
unfiltered list it used to open."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse

from kefu.reports.catalog import build_report
from kefu.reports.periods import parse_period
from tests.views.dashboard_support import add_empty_groups, build_dashboard_world, rows_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(make_user):
    return add_empty_groups(build_dashboard_world(make_user))


def _charts(report):
    return [t for t in report.tables if t.chart and t.chart_link]


def _segments(table):
    """(label, value, list address) of every bar, as app.js opens it."""
    series = table.chart["series"][0]
    labels = table.chart["xAxis"]["data"]
    return [
        (label, item["value"], table.chart_link + quote(str(item["key"]), safe=""))
        for label, item in zip(labels, series["data"], strict=True)
    ]


@pytest.mark.parametrize(
    ("key", "empty"), [("complaints", {"未分类", "未指定部门"}), ("customers", {"未分类", "未知来源"})]
)
def test_every_bar_lands_on_exactly_its_rows(client, w, key, empty):
    manager = w["manager"]
    report = build_report(key, user=manager, period=parse_period(None))
    charts = _charts(report)
    assert len(charts) == 2
    client.force_login(manager)
    seen = set()
    for table in charts:
        for label, value, url in _segments(table):
            assert rows_on(client, url) == value, (table.title, label, url)
            if url.endswith("=none"):
                seen.add(label)
    assert seen == empty


def test_the_empty_group_is_none_not_an_open_filter(w):
    report = build_report("complaints", user=w["manager"], period=parse_period(None))
    by_department = next(t for t in _charts(report) if "responsible_department=" in t.chart_link)
    keys = {
        label: item["key"]
        for label, item in zip(
            by_department.chart["xAxis"]["data"], by_department.chart["series"][0]["data"], strict=True
        )
    }
    assert keys["未指定部门"] == "none"
    assert keys["工程部"] == str(w["engineering"].pk)


def test_a_chart_without_a_list_keeps_its_keys_unlinked(w):
    # The staff chart has no list of its own: no click base, the empty key stays empty.
    report = build_report("staff", user=w["manager"], period=parse_period(None))
    charts = [t for t in report.tables if t.chart]
    assert charts and all(not t.chart_link for t in charts)
    assert all(item["key"] != "none" for t in charts for item in t.chart["series"][0]["data"])


def test_report_page_carries_the_click_base(client, w):
    client.force_login(w["manager"])
    response = client.get(reverse("reports:report", args=["complaints"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-click-base="/tickets/?created_from=' in html
    assert "responsible_department=" in html
