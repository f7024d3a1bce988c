"""An agent works three visits of the call list from the keyboard and the mouse: the first
reached with answers, the second unanswered (rescheduled by the rule), the third
reached with a problem that becomes a ticket; each save lands on the next visit and the
last one back on the list. Then the account manager records an on-site visit on a
phone-sized screen."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kefu.tickets.models import Ticket
from kefu.visits.choices import VisitStatus
from kefu.visits.models import Visit
from tests.conftest import PASSWORD
from tests.factories_customers import make_customer
from tests.factories_tickets import build_ticket_world
from tests.views.visits_support import make_survey, plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, url, username):
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_agent_works_three_visits(live_server, page, make_user):
    w = build_ticket_world(make_user)
    survey = make_survey()
    first = plan(w, survey=survey, name="甲业主", phone="13800000001")
    second = plan(w, survey=survey, name="乙业主", phone="13800000002")
    third = plan(w, survey=survey, name="丙业主", phone="13800000003")

    _login(page, f"{live_server.url}/visits/", "agent")
    expect(page.get_by_role("heading", name="回访清单")).to_be_visible()
    rows = page.get_by_test_id("visit-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("138****0001")
    rows.first.get_by_test_id("visit-work").click()

    # 1. Reached, with answers. The first outcome has the focus: Space picks it.
    expect(page).to_have_url(re.compile(rf"/visits/{first.pk}/$"))
    expect(page.get_by_test_id("visit-customer")).to_contain_text("甲业主")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("outcome-reached")).to_be_checked()
    page.locator('[data-key="overall"]').get_by_text("5", exact=True).click()
    page.locator('[data-key="attitude"]').get_by_text("很好").click()
    page.locator('[data-key="good"]').get_by_text("质量").click()
    page.locator('[data-key="recommend"]').get_by_text("10", exact=True).click()
    page.get_by_label("回访记录").fill("客户对施工质量满意")
    page.get_by_test_id("visit-save").click()

    # 2. No answer: the arrow key moves from 已接通 to 无人接听.
    expect(page).to_have_url(re.compile(rf"/visits/{second.pk}/$"))
    expect(page.get_by_role("alert").first).to_contain_text("已记录：甲业主，已接通。")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("outcome-no_answer")).to_be_checked()
    page.get_by_test_id("visit-save").click()

    # 3. Reached, and the customer raises a problem: a repair ticket in the same step.
    expect(page).to_have_url(re.compile(rf"/visits/{third.pk}/$"))
    expect(page.get_by_role("alert").first).to_contain_text("已改到")
    page.get_by_test_id("outcome-reached").focus()
    page.keyboard.press("Space")
    page.locator('[data-key="overall"]').get_by_text("2", exact=True).click()
    page.get_by_test_id("visit-problem").locator("summary").click()
    page.get_by_label("发现问题，创建工单").check()
    page.get_by_label("工单类型").select_option(label="报修")
    page.get_by_label("问题标题").fill("阳台门关不严")
    page.get_by_label("问题描述").fill("回访中客户反映阳台门变形，关不严。")
    page.get_by_test_id("visit-save").click()

    expect(page).to_have_url(re.compile(r"/visits/$"))
    ticket = Ticket.objects.get()
    expect(page.get_by_role("alert").first).to_contain_text(f"已创建工单 {ticket.number}")
    expect(page.get_by_test_id("visit-empty")).to_be_visible()

    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert first.status == VisitStatus.DONE and first.satisfaction == 5 and first.nps == 10
    assert first.answers == {"overall": 5, "attitude": "很好", "good": ["质量"], "recommend": 10}
    assert first.notes == "客户对施工质量满意"
    assert second.status == VisitStatus.PLANNED and second.attempts == 1
    assert second.due_date > timezone.localdate()
    assert third.status == VisitStatus.DONE and third.created_ticket == ticket
    assert ticket.customer == third.customer and ticket.kind.code == "repair"


def test_account_manager_records_an_onsite_visit_on_a_phone(live_server, page, make_user):
    w = build_ticket_world(make_user)
    survey = make_survey()
    account = make_user("account_manager", username="am", region=w["north"], department=w["service"])
    customer = make_customer(account, name="大客户公司", region=w["north"], is_key_account=True, owner=account)
    visit = plan(w, survey=survey, customer=customer, assignee=account)

    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, f"{live_server.url}/visits/{visit.pk}/", "am")
    expect(page.get_by_test_id("key-account")).to_be_visible()
    # Nothing wider than the screen; the choices are finger-sized.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    onsite = page.get_by_test_id("visit-channel").get_by_text("上门/面对面")
    assert onsite.bounding_box()["height"] >= 44
    page.get_by_test_id("visit-outcome").get_by_text("已接通").click()
    onsite.click()
    page.locator('[data-key="overall"]').get_by_text("4", exact=True).click()
    page.get_by_label("回访记录").fill("上门拜访，客户提出增购需求")
    page.get_by_label("后续安排").fill("下周报价")
    save = page.get_by_test_id("visit-save")
    expect(save).to_be_in_viewport()  # the save button stays at hand (sticky footer)
    save.click()

    expect(page).to_have_url(re.compile(r"/visits/$"))
    visit = Visit.objects.get(pk=visit.pk)
    assert visit.status == VisitStatus.DONE and visit.channel == "onsite" and visit.done_by == account
    assert visit.next_action == "下周报价"
