"""The phone agent's call screen: search as you type (scoped), the caller's panel, the
kind's categories and extra fields, inline quick-create through the archive's service,
registering (and routing at once) in one transaction, then the ticket's page."""

import pytest
from django.urls import reverse

from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditEvent, Department
from kefu.customers.models import Customer
from kefu.customers.services.customers import ContactInput
from kefu.tickets.models import Ticket, TicketRouting
from kefu.tickets.views import call
from tests.factories_customers import make_customer
from tests.factories_tickets import category, kind, make_ticket

pytestmark = pytest.mark.django_db

CALL = "tickets:call"


def login(client, user):
    client.force_login(user)
    return client


def complaint(w, customer, **extra):
    data = {
        "customer": customer.pk if customer else "",
        "kind": kind("complaint").pk,
        "category": category("防水渗漏").pk,
        "severity": "important",
        "channel": "phone",
        "title": "卫生间渗水到楼下",
        "description": "业主来电：卫生间地面渗水，楼下天花板有水渍。",
        "extra.project_stage": "完工后",
    }
    data.update(extra)
    return data


# --- the page, the kind's fields ---------------------------------------------------------------


def test_page_offers_kinds_with_the_first_chosen_and_its_categories_and_fields(client, ticket_world):
    response = login(client, ticket_world["agent"]).get(reverse(CALL))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].chosen_kind == kind("complaint")
    assert "施工质量 › 防水渗漏" in html and "其他" in html and "水电维修" not in html
    assert "工程阶段" in html and "需书面答复机构" in html
    assert 'accesskey="s"' in html and 'accesskey="j"' in html
    assert 'data-testid="call-route"' in html


def test_choosing_a_kind_reloads_its_categories_and_fields(client, ticket_world):
    login(client, ticket_world["agent"])
    repair = client.get(reverse("tickets:call_kind"), {"kind": kind("repair").pk}).content.decode()
    assert "水电维修 › 漏水" in repair and "施工质量" not in repair
    assert "是否在保修期内" in repair and "预约上门日期" in repair
    inquiry = client.get(reverse("tickets:call_kind"), {"kind": kind("inquiry").pk}).content.decode()
    assert "可不关联档案" in inquiry and "工程阶段" not in inquiry
    for garbage in ("abc", "99999999999999999999999", "", "-1"):
        assert client.get(reverse("tickets:call_kind"), {"kind": garbage}).status_code == 200


# --- finding the caller ---------------------------------------------------------------------------


def test_search_as_you_type_is_scoped_and_masks_phones(client, ticket_world):
    w = ticket_world
    north = make_customer(w["agent"], name="张三", phone="13812345678", region=w["north"])
    make_customer(w["agent_south"], name="张三丰", phone="13912345678", region=w["south"])
    login(client, w["agent"])
    html = client.get(reverse("tickets:call_customers"), {"q": "张三"}).content.decode()
    assert f'value="{north.pk}" form="call-form"' in html
    assert "张三丰" not in html
    assert "138****5678" in html and "13812345678" not in html
    assert "5678" in client.get(reverse("tickets:call_customers"), {"q": "5678"}).content.decode()
    empty = client.get(reverse("tickets:call_customers"), {"q": "无此人"}).content.decode()
    assert "没有找到匹配的客户" in empty
    assert client.get(reverse("tickets:call_customers"), {"q": "\x00"}).status_code == 200


def test_caller_panel_shows_contacts_open_tickets_and_latest_history(client, ticket_world):
    w = ticket_world
    contacts = [ContactInput(name="张三", phone="13812345678"), ContactInput(name="李秘书", phone="13900001111")]
    customer = make_customer(w["agent"], name="张三", contacts=contacts, region=w["north"])
    open_ticket = make_ticket(w["agent"], customer=customer, title="墙面开裂")
    login(client, w["agent"])
    html = client.get(reverse("tickets:call_caller"), {"customer": customer.pk}).content.decode()
    assert open_ticket.number in html and "墙面开裂" in html
    assert "登记投诉：墙面开裂" in html  # the customer's timeline
    assert "139****1111" in html and "13900001111" not in html
    assert html.count('name="contact"') == 2


def test_caller_panel_reveals_nothing_outside_the_scope(client, ticket_world):
    w = ticket_world
    south = make_customer(w["agent_south"], name="城南客户", region=w["south"])
    login(client, w["agent"])
    for value in (south.pk, "abc", "", "9" * 30):
        response = client.get(reverse("tickets:call_caller"), {"customer": value})
        assert response.status_code == 200 and "城南客户" not in response.content.decode()
    assert "城南客户" not in client.get(reverse(CALL), {"customer": south.pk}).content.decode()


def test_preselected_customer_from_the_address(client, ticket_world):
    w = ticket_world
    customer = make_customer(w["agent"], name="王业主", region=w["north"])
    response = login(client, w["agent"]).get(reverse(CALL), {"customer": customer.pk})
    html = response.content.decode()
    assert f'value="{customer.pk}" form="call-form" checked' in html
    assert 'data-testid="call-caller"' in html


# --- registering --------------------------------------------------------------------------------


def test_register_and_route_at_once_then_the_tickets_page(client, ticket_world):
    w = ticket_world
    customer = make_customer(w["agent"], name="张三", phone="13812345678", region=w["north"])
    contact = customer.contacts.get()
    data = complaint(w, customer, contact=contact.pk, departments=[w["engineering"].pk], instructions="48 小时内上门")
    response = login(client, w["agent"]).post(reverse(CALL), data)
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert ticket.customer == customer and ticket.contact == contact
    assert ticket.category == category("防水渗漏") and ticket.severity == "important"
    assert ticket.extra == {"project_stage": "完工后"} and ticket.status == "routed"
    assert TicketRouting.objects.get(ticket=ticket).department == w["engineering"]
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any(ticket.number in m and "工程部" in m for m in messages)


def test_inquiry_without_an_archive_keeps_the_callers_name_and_phone(client, ticket_world):
    w = ticket_world
    data = {
        "customer": "",
        "kind": kind("inquiry").pk,
        "severity": "normal",
        "channel": "phone",
        "caller_name": "路人甲",
        "caller_phone": "138 1234 5678",
        "title": "咨询保修期",
        "description": "询问厨房台面保修期多长。",
    }
    response = login(client, w["agent"]).post(reverse(CALL), data)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.customer is None and ticket.caller_name == "路人甲" and ticket.caller_phone
    assert ticket.kind == kind("inquiry") and ticket.status == "registered"


def test_a_complaint_without_a_customer_is_refused_on_the_page(client, ticket_world):
    response = login(client, ticket_world["agent"]).post(reverse(CALL), complaint(ticket_world, None))
    assert response.status_code == 422
    assert "必须关联客户档案" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_category_of_another_kind_and_a_customer_outside_the_scope_are_refused(client, ticket_world):
    w = ticket_world
    mine = make_customer(w["agent"], name="张三", region=w["north"])
    theirs = make_customer(w["agent_south"], name="城南客户", region=w["south"])
    login(client, w["agent"])
    wrong_category = client.post(reverse(CALL), complaint(w, mine, category=category("漏水").pk))
    assert wrong_category.status_code == 422 and wrong_category.context["form"].errors["category"]
    foreign = client.post(reverse(CALL), complaint(w, theirs))
    assert foreign.status_code == 422 and foreign.context["form"].errors["customer"]
    assert "城南客户" not in foreign.content.decode()
    assert not Ticket.objects.exists()


def test_agency_channel_needs_the_agency_and_other_channels_drop_it(client, ticket_world):
    w = ticket_world
    customer = make_customer(w["agent"], name="张三", region=w["north"])
    login(client, w["agent"])
    missing = client.post(reverse(CALL), complaint(w, customer, channel="agency"))
    assert missing.status_code == 422 and "转交机构" in str(missing.context["form"].errors["agency_name"])
    ok = client.post(
        reverse(CALL),
        complaint(
            w, customer, channel="agency", agency_name="消协", agency_ref="XH-2026-18", agency_deadline="2026-12-01"
        ),
    )
    assert ok.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.agency_name, ticket.agency_ref, str(ticket.agency_deadline)) == ("消协", "XH-2026-18", "2026-12-01")
    client.post(reverse(CALL), complaint(w, customer, channel="email", agency_name="消协"))
    assert Ticket.objects.order_by("-id").first().agency_name == ""


def test_a_refused_routing_leaves_no_ticket_behind(client, ticket_world, monkeypatch):
    w = ticket_world
    customer = make_customer(w["agent"], name="张三", region=w["north"])

    def refuse(**kwargs):
        raise ValidationFailed("不能派单给已停用的部门。", details={"field": "departments"})

    monkeypatch.setattr(call, "ticket_route", refuse)
    response = login(client, w["agent"]).post(reverse(CALL), complaint(w, customer, departments=[w["repair"].pk]))
    assert response.status_code == 422
    assert "不能派单给已停用的部门" in str(response.context["form"].errors["departments"])
    assert not Ticket.objects.exists()
    assert not AuditEvent.objects.filter(code="ticket.registered").exists()
    # What was typed is still there, the customer still chosen.
    html = response.content.decode()
    assert "卫生间渗水到楼下" in html and f'value="{customer.pk}" form="call-form" checked' in html


def test_roles_without_routing_get_no_route_section_and_departments_cannot_call(client, ticket_world, make_user):
    w = ticket_world
    account_manager = make_user("account_manager", username="am", region=w["north"])
    html = login(client, account_manager).get(reverse(CALL)).content.decode()
    assert 'data-testid="call-route"' not in html
    customer = make_customer(account_manager, name="张三", region=w["north"])
    sneaky = complaint(w, customer, departments=[w["repair"].pk])
    assert client.post(reverse(CALL), sneaky).status_code == 302
    assert not TicketRouting.objects.exists()
    assert login(client, w["engineer"]).get(reverse(CALL)).status_code == 403
    assert Department.objects.filter(code="repair").exists()


# --- quick create -----------------------------------------------------------------------------


def test_quick_create_uses_the_archive_service_and_selects_the_new_customer(client, ticket_world):
    w = ticket_world
    login(client, w["agent"])
    response = client.post(
        reverse("tickets:call_new_customer"),
        {"new-name": "赵新客", "new-phone": "13711112222", "new-region": w["north"].pk},
        HTTP_HX_REQUEST="true",
    )
    customer = Customer.objects.get(name="赵新客")
    html = response.content.decode()
    assert response.status_code == 200 and customer.archive_no in html
    assert f'value="{customer.pk}" form="call-form" checked' in html
    assert 'id="call-caller" hx-swap-oob="true"' in html
    assert AuditEvent.objects.filter(code="customer.created", object_id=str(customer.pk)).exists()
    assert customer.contacts.get().phone == "13711112222"


def test_quick_create_warns_of_a_duplicate_and_offers_it(client, ticket_world):
    w = ticket_world
    existing = make_customer(w["agent"], name="张三", phone="13812345678", region=w["north"])
    login(client, w["agent"])
    data = {"new-name": "张三", "new-phone": "13812345678", "new-region": w["north"].pk}
    warned = client.post(reverse("tickets:call_new_customer"), data).content.decode()
    assert "可能与已有档案重复" in warned and existing.archive_no in warned
    assert f"?customer={existing.pk}" in warned
    assert Customer.objects.count() == 1
    picked = client.get(reverse("tickets:call_customers"), {"customer": existing.pk}).content.decode()
    assert f'value="{existing.pk}" form="call-form" checked' in picked and 'hx-swap-oob="true"' in picked
    client.post(reverse("tickets:call_new_customer"), {**data, "new-allow_duplicate": "on"})
    assert Customer.objects.count() == 2


def test_quick_create_errors_stay_in_the_partial(client, ticket_world):
    login(client, ticket_world["agent"])
    response = client.post(reverse("tickets:call_new_customer"), {"new-name": "", "new-phone": "12"})
    assert response.status_code == 200 and 'data-testid="quick-form"' in response.content.decode()
    assert not Customer.objects.exists()
