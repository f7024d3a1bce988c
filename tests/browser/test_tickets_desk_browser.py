"""The phone agent at the call screen, by keyboard: types the caller's initials, picks
them from the results (their open ticket appears), switches the kind to 报修 (its
categories follow), fills in the ticket, routes it to the repair department and lands
on the ticket's page; then finds it in the queue. A new caller is created inline."""

import re

import pytest
from playwright.sync_api import expect

from kefu.customers.models import Customer
from kefu.tickets.models import Ticket, TicketRouting
from tests.conftest import PASSWORD
from tests.factories_customers import make_customer
from tests.factories_tickets import build_ticket_world, make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, url, username):
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_agent_registers_and_routes_a_repair_from_the_call_screen(live_server, page, make_user):
    w = build_ticket_world(make_user)
    zhang = make_customer(w["agent"], name="张三", phone="13812345678", region=w["north"])
    earlier = make_ticket(w["agent"], customer=zhang, title="墙面开裂")
    make_customer(w["agent"], name="李四", phone="13900001111", region=w["north"])

    _login(page, f"{live_server.url}/tickets/call/", "agent")
    expect(page.get_by_role("heading", name="来电登记")).to_be_visible()
    # The search box has the focus: the agent just types.
    page.keyboard.type("zs", delay=50)
    result = page.get_by_test_id("call-customer")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("138****5678")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    caller = page.get_by_test_id("call-caller")
    expect(caller).to_contain_text(earlier.number)
    expect(caller.get_by_test_id("call-contact")).to_be_checked()

    page.get_by_label("报修").check()
    expect(page.get_by_label("分类")).to_contain_text("水电维修 › 漏水")
    expect(page.get_by_test_id("call-kind-fields")).to_contain_text("是否在保修期内")
    page.get_by_label("分类").select_option(label="水电维修 › 漏水")
    # (Alt+T / Alt+M are the page's access keys; automation cannot send them.)
    page.get_by_label("标题").focus()
    page.keyboard.type("厨房水管漏水")
    page.keyboard.press("Tab")
    page.keyboard.type("厨房水槽下方水管接头漏水，需上门维修。")
    page.get_by_test_id("call-route").get_by_label("维修部").check()
    page.get_by_test_id("call-submit").click()

    expect(page).to_have_url(re.compile(r"/tickets/\d+/$"))
    ticket = Ticket.objects.exclude(pk=earlier.pk).get()
    assert page.url.endswith(f"/tickets/{ticket.pk}/")
    assert ticket.customer == zhang and ticket.kind.code == "repair" and ticket.status == "routed"
    assert TicketRouting.objects.get(ticket=ticket).department == w["repair"]

    page.goto(f"{live_server.url}/tickets/?queue=mine")
    expect(page.get_by_test_id("ticket-row")).to_have_count(2)
    page.get_by_test_id("ticket-search").press_sequentially("水管", delay=50)
    expect(page.get_by_test_id("ticket-row")).to_have_count(1)
    expect(page.get_by_test_id("ticket-row")).to_contain_text(ticket.number)


def test_agent_creates_a_new_caller_inline(live_server, page, make_user):
    w = build_ticket_world(make_user)
    _login(page, f"{live_server.url}/tickets/call/", "agent")
    page.keyboard.type("赵新客", delay=30)
    expect(page.get_by_test_id("call-customers-empty")).to_contain_text("没有找到匹配的客户")
    page.get_by_test_id("quick-toggle").click()
    page.get_by_label("客户姓名").fill("赵新客")
    page.get_by_label("电话").fill("13711112222")
    page.get_by_test_id("quick-submit").click()
    expect(page.get_by_test_id("quick-created")).to_be_visible()
    customer = Customer.objects.get(name="赵新客")
    expect(page.get_by_test_id("call-customer")).to_have_count(1)
    expect(page.locator(f'input[name="customer"][value="{customer.pk}"]')).to_be_checked()
    expect(page.get_by_test_id("call-caller")).to_contain_text(customer.archive_no)
    assert customer.region == w["north"]
