"""The phone agent from the call to the routed slip's PDF: finds the caller on the call
screen, registers a complaint, routes it to 工程部, lands on the ticket, opens its
投诉告知单 link and the PDF that comes back names the ticket and the department (read
back with pypdf)."""

import io
import re

import pypdf
import pytest
from playwright.sync_api import expect

from kefu.core.models import AuditEvent
from kefu.tickets.models import Ticket, TicketRouting
from tests.conftest import PASSWORD
from tests.factories_customers import make_customer
from tests.factories_tickets import build_ticket_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, url, username):
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_agent_goes_from_the_call_to_the_routed_slip_pdf(live_server, page, make_user):
    w = build_ticket_world(make_user)
    wang = make_customer(w["agent"], name="王五", phone="13612345678", region=w["north"])

    _login(page, f"{live_server.url}/tickets/call/", "agent")
    expect(page.get_by_role("heading", name="来电登记")).to_be_visible()
    page.keyboard.type("ww", delay=50)
    expect(page.get_by_test_id("call-customer")).to_have_count(1)
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("call-caller")).to_contain_text(wang.archive_no)

    page.get_by_label("投诉").check()
    page.get_by_label("标题").fill("客厅墙面开裂")
    page.get_by_label("标题").press("Tab")
    page.keyboard.type("客厅墙面出现三条裂缝，业主要求上门查看。")
    page.get_by_test_id("call-route").get_by_label("工程部").check()
    page.get_by_test_id("call-submit").click()

    expect(page).to_have_url(re.compile(r"/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    routing = TicketRouting.objects.get(ticket=ticket)
    assert ticket.kind.code == "complaint" and ticket.customer == wang and routing.department == w["engineering"]
    slip = page.get_by_test_id("slip")
    expect(slip).to_have_attribute("data-slip", routing.slip_no)
    link = slip.get_by_test_id("slip-pdf")
    expect(link).to_be_visible()

    # The browser's own session fetches what the link points at.
    response = page.request.get(live_server.url + link.get_attribute("href"))

    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline; ")
    text = pypdf.PdfReader(io.BytesIO(response.body())).pages[0].extract_text()
    flat = text.replace(" ", "").replace("\n", "")
    assert ticket.number in flat and routing.slip_no in flat
    assert "工程部" in flat and "投诉告知单" in flat and "王五" in flat
    assert "13612345678" not in flat  # the agent may not reveal phones
    assert AuditEvent.objects.filter(code="ticket.slip.printed", actor=w["agent"]).count() == 1
