"""A manager searches the archive by pinyin initials as they type, opens the customer and
reveals the masked phone number; the reveal is in the audit log."""

import re

import pytest
from playwright.sync_api import expect

from kefu.core.models import AuditEvent
from tests.conftest import PASSWORD
from tests.factories_customers import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_searches_zs_opens_zhang_san_and_reveals_the_phone(live_server, page, make_user):
    manager = make_user("manager", username="boss", display_name="王经理", scope_all=True)
    zhang = make_customer(manager, name="张三", phone="13812345678")
    make_customer(manager, name="李四", phone="13900001111")
    make_customer(manager, name="赵六", phone="13700002222")

    page.goto(f"{live_server.url}/customers/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("用户名").fill("boss")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="客户档案")).to_be_visible()
    expect(page.get_by_test_id("customer-row")).to_have_count(3)

    # typing narrows the list without a page load (htmx), and the address follows
    page.get_by_test_id("customer-search").press_sequentially("zs", delay=50)
    expect(page.get_by_test_id("customer-row")).to_have_count(1)
    expect(page.get_by_test_id("customer-row")).to_contain_text("张三")
    expect(page).to_have_url(re.compile(r"q=zs"))
    expect(page.get_by_test_id("customer-phone")).to_have_text(re.compile(r"138\*{4}5678"))

    page.get_by_test_id("customer-link").filter(has_text="张三").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("张三")
    expect(page.get_by_test_id("customer-archive-no")).to_have_text(zhang.archive_no)
    contacts = page.get_by_test_id("contacts-card")
    expect(contacts.get_by_test_id("contact-phone")).to_contain_text("138****5678")
    assert not AuditEvent.objects.filter(code="customer.phone.revealed").exists()

    contacts.get_by_test_id("reveal-phone").click()
    expect(contacts.get_by_test_id("revealed-phone")).to_have_text("13812345678")

    event = AuditEvent.objects.get(code="customer.phone.revealed")
    assert event.actor_id == manager.pk and event.object_id == str(zhang.pk)
