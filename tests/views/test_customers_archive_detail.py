"""The customer page: facts, masking and the audited reveal, timeline pages, class and
credit forms, contacts, merged archives."""

import pytest
from django.urls import reverse

from kefu.core.models import AuditEvent
from kefu.customers.models import ClassChange, Contact, CreditChange, Customer, CustomField, TimelineEntry
from kefu.customers.services.contacts import ContactInput
from kefu.customers.timeline import timeline_add
from tests.factories import RegionFactory
from tests.factories_customers import (
    CreditGradeFactory,
    CustomerClassFactory,
    ProductCategoryFactory,
    make_customer,
)

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def west():
    return RegionFactory(code="west", name="西区")


@pytest.fixture
def agent(make_user, east):
    return make_user("agent", username="agent", region=east)


@pytest.fixture
def zhang(manager, east):
    return make_customer(manager, name="张三", phone="13812345678", region=east, id_number=ID_NUMBER)


def login(client, user):
    client.force_login(user)
    return client


def detail(client, customer):
    return client.get(reverse("customers:detail", args=[customer.pk]))


def reveals():
    return AuditEvent.objects.filter(code__endswith=".revealed")


# --- the page -------------------------------------------------------------------------


def test_detail_shows_the_archive(manager_client, manager, east):
    CustomField.objects.create(key="foreman", label="工长", field_type="text")
    CustomField.objects.create(key="vip", label="会员", field_type="boolean")
    category = ProductCategoryFactory(name="一类 计重收费设备")
    customer = make_customer(
        manager,
        name="张三",
        region=east,
        owner=manager,
        customer_class=CustomerClassFactory(code="A"),
        credit_grade=CreditGradeFactory(code="AAA"),
        is_key_account=True,
        lifecycle="potential",
        categories=[category],
        tags=["重点"],
        marketing_consent=True,
        consent_channel="wechat",
        notes="喜欢上午来电",
        extra={"foreman": "李工", "vip": "是"},
    )

    html = detail(manager_client, customer).content.decode()

    for text in [
        "张三",
        customer.archive_no,
        "个人",
        "A类",
        "大客户",
        "AAA",
        "潜在",
        "东区",
        str(manager),
        "一类 计重收费设备",
        "重点",
        "已同意",
        "微信",
        "喜欢上午来电",
        "工长",
        "李工",
        "会员",
        "积分余额",
        "建立档案",
    ]:
        assert text in html, text


def test_timeline_newest_first_with_more_button(manager_client, manager, zhang):
    from django.db import transaction

    with transaction.atomic():
        for i in range(25):
            timeline_add(customer=zhang, kind="test.note", title=f"记录{i:02d}")

    response = detail(manager_client, zhang)
    page = response.context["timeline"]
    assert [e.title for e in page.items][:2] == ["记录24", "记录23"]
    assert len(page.items) == 20 and page.has_more
    assert 'data-testid="timeline-more"' in response.content.decode()

    more = manager_client.get(
        reverse("customers:timeline", args=[zhang.pk]), {"cursor": page.next_cursor}, HTTP_HX_REQUEST="true"
    )
    titles = [e.title for e in more.context["timeline"].items]
    assert titles == ["记录04", "记录03", "记录02", "记录01", "记录00", "建立档案"]
    assert "<html" not in more.content.decode() and 'data-testid="timeline-more"' not in more.content.decode()


def test_out_of_scope_customer_is_404(client, agent, manager, west):
    customer = make_customer(manager, region=west)
    assert detail(login(client, agent), customer).status_code == 404
    assert client.get(reverse("customers:timeline", args=[customer.pk])).status_code == 404


def test_merged_archive_points_to_its_successor(manager_client, manager, zhang):
    old = make_customer(manager, name="张三", phone="13812345678")
    Customer.objects.filter(pk=old.pk).update(merged_into=zhang)

    response = detail(manager_client, old)
    html = response.content.decode()
    assert "已合并至" in html and reverse("customers:detail", args=[zhang.pk]) in html
    assert reverse("customers:edit", args=[old.pk]) not in html
    assert 'data-testid="class-form"' not in html and 'data-testid="contact-add"' not in html


# --- masking and reveal ---------------------------------------------------------------


def test_agent_sees_masked_numbers_and_no_reveal_button(client, agent, zhang):
    html = detail(login(client, agent), zhang).content.decode()
    assert "138****5678" in html and "13812345678" not in html
    assert "110105********002X" in html and ID_NUMBER not in html
    assert 'data-testid="reveal-phone"' not in html and 'data-testid="reveal-id-number"' not in html


def test_manager_sees_masked_numbers_with_reveal_buttons(manager_client, zhang):
    html = detail(manager_client, zhang).content.decode()
    assert "138****5678" in html and "13812345678" not in html
    assert ID_NUMBER not in html
    assert 'data-testid="reveal-phone"' in html and 'data-testid="reveal-id-number"' in html


def test_reveal_phone_is_audited(manager_client, manager, zhang):
    contact = zhang.contacts.get()
    response = manager_client.post(
        reverse("customers:reveal_phone", args=[zhang.pk, contact.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "13812345678" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    event = reveals().get()
    assert event.code == "customer.phone.revealed" and event.actor == manager and event.object_id == str(zhang.pk)


def test_reveal_id_number_is_audited(manager_client, zhang):
    response = manager_client.post(reverse("customers:reveal_id_number", args=[zhang.pk]))
    assert ID_NUMBER in response.content.decode()
    assert reveals().get().code == "customer.id_number.revealed"


def test_reveal_is_refused_to_an_agent_and_nothing_is_recorded(client, agent, zhang):
    login(client, agent)
    contact = zhang.contacts.get()
    assert client.post(reverse("customers:reveal_phone", args=[zhang.pk, contact.pk])).status_code == 403
    assert client.post(reverse("customers:reveal_id_number", args=[zhang.pk])).status_code == 403
    assert not reveals().exists()


def test_reveal_needs_post_and_scope(client, make_user, manager, west, east):
    supervisor = make_user("supervisor", region=east)
    far = make_customer(manager, region=west)
    login(client, supervisor)
    contact = far.contacts.get()
    assert client.get(reverse("customers:reveal_phone", args=[far.pk, contact.pk])).status_code == 405
    assert client.post(reverse("customers:reveal_phone", args=[far.pk, contact.pk])).status_code == 404
    assert not reveals().exists()


# --- class and credit ---------------------------------------------------------------------


def test_change_class_from_the_page(manager_client, zhang):
    b = CustomerClassFactory(code="B")
    response = manager_client.post(
        reverse("customers:change_class", args=[zhang.pk]), {"customer_class": b.pk, "reason": "消费增加"}
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=zhang.pk).customer_class == b
    assert ClassChange.objects.get(customer=zhang).reason == "消费增加"


def test_credit_change_needs_a_reason_and_the_permission(client, manager, agent, zhang):
    grade = CreditGradeFactory(code="AA")
    url = reverse("customers:change_credit", args=[zhang.pk])

    response = login(client, manager).post(url, {"grade": grade.pk, "reason": ""})
    assert response.status_code == 200
    assert "请填写信用等级调整原因" in response.content.decode()
    assert not CreditChange.objects.exists()

    response = client.post(url, {"grade": grade.pk, "reason": "按时付款", "effective_on": "2026-01-02"})
    assert response.status_code == 302
    change = CreditChange.objects.get()
    assert change.to_grade == grade and change.reason == "按时付款" and str(change.effective_on) == "2026-01-02"

    assert login(client, agent).post(url, {"grade": "", "reason": "x"}).status_code == 403
    assert CreditChange.objects.count() == 1
    assert 'data-testid="credit-form"' not in detail(client, zhang).content.decode()


def test_credit_service_refusal_shows_on_the_form(manager_client, zhang):
    response = manager_client.post(reverse("customers:change_credit", args=[zhang.pk]), {"grade": "", "reason": "无"})
    assert response.status_code == 200
    assert "信用等级没有变化" in response.content.decode()


# --- contacts -----------------------------------------------------------------------------


def test_add_contact_with_htmx_returns_the_card(manager_client, zhang):
    response = manager_client.post(
        reverse("customers:contact_add", args=[zhang.pk]),
        {"contact-name": "李秘书", "contact-phone": "13900001111", "contact-wechat": "li"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="contacts-card"' in html and "<html" not in html
    assert "139****1111" in html and "13900001111" not in html
    assert zhang.contacts.count() == 2


def test_bad_contact_phone_is_shown_on_the_field(manager_client, zhang):
    response = manager_client.post(
        reverse("customers:contact_add", args=[zhang.pk]), {"contact-phone": "12345"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "电话号码格式不正确" in response.content.decode()
    assert zhang.contacts.count() == 1
    # without htmx: the whole page with the error
    response = manager_client.post(reverse("customers:contact_add", args=[zhang.pk]), {"contact-phone": "12345"})
    assert "电话号码格式不正确" in response.content.decode() and "<html" in response.content.decode()


def test_set_primary_and_remove(manager_client, manager, zhang):
    from kefu.customers.services.contacts import contact_add

    second = contact_add(actor=manager, customer=zhang, data=ContactInput(name="李秘书", phone="13900001111"))
    first = zhang.contacts.get(is_primary=True)

    response = manager_client.post(reverse("customers:contact_primary", args=[zhang.pk, second.pk]))
    assert response.status_code == 302
    assert Contact.objects.get(pk=second.pk).is_primary and not Contact.objects.get(pk=first.pk).is_primary

    response = manager_client.post(
        reverse("customers:contact_remove", args=[zhang.pk, second.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="contacts-card"' in response.content.decode()
    assert list(zhang.contacts.values_list("pk", "is_primary")) == [(first.pk, True)]


def test_edit_contact_keeps_the_phone_when_left_empty(manager_client, zhang):
    contact = zhang.contacts.get()
    url = reverse("customers:contact_edit", args=[zhang.pk, contact.pk])
    page = manager_client.get(url).content.decode()
    assert "13812345678" not in page and "138****5678" in page

    response = manager_client.post(url, {"name": "张先生", "phone": "", "email": "z@example.com"})

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.email) == ("张先生", "13812345678", "z@example.com")


def test_contact_buttons_refused_without_change_permission(client, make_user, zhang):
    officer = make_user("quality_officer", scope_all=True)
    login(client, officer)
    contact = zhang.contacts.get()
    assert client.post(reverse("customers:contact_remove", args=[zhang.pk, contact.pk])).status_code == 403
    assert zhang.contacts.count() == 1
    assert not TimelineEntry.objects.filter(kind="customer.contact_removed").exists()


def test_a_refused_contact_button_shows_its_reason_in_the_card(manager_client, zhang):
    response = manager_client.post(reverse("customers:contact_remove", args=[zhang.pk, 999999]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="contacts-error"' in html and "联系方式不存在" in html
    assert zhang.contacts.count() == 1
    # a full page request gets the same refusal as a message
    response = manager_client.post(reverse("customers:contact_remove", args=[zhang.pk, 999999]), follow=True)
    assert "联系方式不存在" in response.content.decode()
