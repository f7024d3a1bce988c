"""A person logs in as the demo manager, sees the Chinese dashboard, switches to English, logs out."""

import re

import pytest
from playwright.sync_api import expect

from kefu.profiles.definitions import DEMO_PASSWORD
from kefu.profiles.services import profile_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_logs_in_sees_chinese_dashboard_switches_to_english_and_logs_out(live_server, page):
    profile_load(code="decoration", demo=True)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("heading", name="登录您的账号")).to_be_visible()

    page.get_by_label("用户名").fill("manager")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()

    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_text("王经理")
    dashboard = page.get_by_test_id("dashboard")
    expect(dashboard).to_contain_text("在岗员工")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.get_by_test_id("lang-en").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(dashboard).to_contain_text("Active staff")

    page.get_by_text("王经理").first.click()
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/"))


def test_static_assets_are_served_locally(live_server, page):
    """No CDN: every script and stylesheet comes from our own server."""
    responses = []
    page.on("response", lambda response: responses.append((response.url, response.status)))
    page.goto(f"{live_server.url}/login/")
    page.wait_for_load_state("networkidle")
    assert len(responses) >= 5  # the page, Tabler css+js, htmx, our js, the icon
    assert all(url.startswith(live_server.url) for url, _status in responses), responses
    assert all(status == 200 for _url, status in responses), responses
    assert page.evaluate("typeof window.htmx") == "object"
