"""The manager opens the dashboard, clicks the biggest bar of 投诉主要原因 (an ECharts
canvas, clicked where the bar is drawn) and lands on the ticket list filtered by that
category, the complaint kind and the period's dates — with as many rows as the bar."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from kefu.tickets.models import TicketKind
from tests.conftest import PASSWORD
from tests.factories_tickets import category
from tests.views.dashboard_support import build_dashboard_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where the first bar of the horizontal bar chart is drawn, in page pixels: ECharts
# converts (value / 2, category 0) to canvas pixels, offset by the chart's box.
BAR_CENTRE = """
(el) => {
  const chart = window.echarts.getInstanceByDom(el);
  const value = chart.getOption().series[0].data[0].value;
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, [value / 2, 0]);
  const box = el.getBoundingClientRect();
  return {x: box.left + x, y: box.top + y};
}
"""


def _login(page, url, username):
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_manager_clicks_a_chart_segment_and_lands_on_the_filtered_list(live_server, page, make_user):
    w = build_dashboard_world(make_user)
    _login(page, f"{live_server.url}/reports/dashboard/", "mgr")
    expect(page.get_by_role("heading", name=re.compile("经理看板"))).to_be_visible()
    chart = page.get_by_test_id("chart-top_causes")
    chart.scroll_into_view_if_needed()
    expect(chart.locator("canvas")).to_be_visible()
    point = chart.evaluate(BAR_CENTRE)
    page.mouse.click(point["x"], point["y"])

    expect(page).to_have_url(re.compile(r"/tickets/\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["category"] == [str(category("墙面开裂").pk)]
    assert query["kind"] == [str(TicketKind.objects.get(code="complaint").pk)]
    first = w["today"].replace(day=1)
    assert query["created_from"] == [first.isoformat()]
    # Two complaints about cracked walls in the north, one in the south: the manager sees all.
    expect(page.get_by_test_id("ticket-row")).to_have_count(3)
