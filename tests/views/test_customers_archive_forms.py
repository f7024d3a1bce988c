"""Create and edit forms: contacts, custom fields, Chinese errors on the right field,
the duplicate warning and its confirmation, concurrent edits."""

import pytest
from django.urls import reverse

from kefu.core.models import AuditEvent
from kefu.customers.models import Customer, CustomField
from tests.factories import RegionFactory
from tests.factories_customers import CustomerClassFactory, ProductCategoryFactory, make_customer

pytestmark = pytest.mark.django_db

CONFLICT = "该档案已被他人修改，请刷新后重试。"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def west():
    return RegionFactory(code="west", name="西区")


def login(client, user):
    client.force_login(user)
    return client


def form_data(**fields):
    data = {
        "kind": "person",
        "name": "张三",
        "lifecycle": "active",
        "contacts-TOTAL_FORMS": "3",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "3",
        "contacts-0-name": "张三",
        "contacts-0-phone": "13812345678",
    }
    data.update(fields)
    return data


def create(client, **fields):
    return client.post(reverse("customers:create"), form_data(**fields))


def test_create_page_renders_custom_fields_by_type(manager_client):
    CustomField.objects.create(key="contract_on", label="合同日期", field_type="date")
    CustomField.objects.create(key="style", label="装修风格", field_type="choice", choices=["现代", "中式"])
    CustomField.objects.create(key="member", label="会员", field_type="boolean")
    CustomField.objects.create(key="area", label="面积", field_type="number")
    CustomField.objects.create(key="designer", label="设计师", field_type="staff")
    CustomField.objects.create(key="old", label="停用字段", field_type="text", is_active=False)

    html = manager_client.get(reverse("customers:create")).content.decode()

    assert 'name="extra.contract_on" type="date"' in html or 'type="date" name="extra.contract_on"' in html
    assert "装修风格" in html and '<option value="中式">中式</option>' in html
    assert "会员" in html and "面积" in html and "设计师" in html
    assert "停用字段" not in html
    assert html.count('name="contacts-') >= 3 * 6


def test_create_with_contacts_categories_tags_and_custom_fields(manager_client, manager, east):
    CustomField.objects.create(key="foreman", label="工长", field_type="text")
    CustomField.objects.create(key="contract_on", label="合同日期", field_type="date")
    klass = CustomerClassFactory(code="A")
    category = ProductCategoryFactory()

    response = create(
        manager_client,
        region=east.pk,
        customer_class=klass.pk,
        categories=[category.pk],
        tags="重点，老客户",
        **{
            "contacts-1-name": "李秘书",
            "contacts-1-phone": "029-88886666",
            "contacts-1-is_primary": "on",
            "extra.foreman": "李工",
            "extra.contract_on": "2026-02-03",
        },
    )

    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.region == east and customer.customer_class == klass
    assert customer.extra == {"foreman": "李工", "contract_on": "2026-02-03"}
    assert set(customer.tags.values_list("name", flat=True)) == {"重点", "老客户"}
    assert list(customer.categories.all()) == [category]
    assert sorted(customer.contacts.values_list("phone", "is_primary")) == [
        ("029-88886666", True),
        ("13812345678", False),
    ]
    assert AuditEvent.objects.filter(code="customer.created").count() == 1


def test_errors_show_on_the_right_field_and_nothing_is_created(manager_client):
    CustomField.objects.create(key="area", label="面积", field_type="number")

    response = create(manager_client, **{"contacts-1-phone": "12345"})
    assert response.status_code == 200
    rows = response.context["formset"].forms
    assert "电话号码格式不正确" in str(rows[1].errors["phone"])

    response = create(manager_client, id_number="110105194912310021")
    assert "身份证号码无效" in str(response.context["form"].errors["id_number"])

    response = create(manager_client, kind="organisation", name="某公司", id_number="123")
    form = response.context["form"]
    assert "统一社会信用代码无效" in str(form.errors["id_number"])
    assert form.fields["id_number"].label == "统一社会信用代码"

    response = create(manager_client, **{"extra.area": "很大"})
    assert "面积 必须是数字" in str(response.context["form"].errors["extra.area"])

    response = create(manager_client, name="")
    assert response.context["form"].errors["name"]
    assert not Customer.objects.exists() and not AuditEvent.objects.filter(code="customer.created").exists()


def test_duplicate_warning_then_confirmed_create(client, make_user, manager, east, west):
    visible = make_customer(manager, name="张三", phone="13812345678", region=east)
    make_customer(manager, name="张三", phone="13812345678", region=west)
    agent = make_user("agent", region=east)
    login(client, agent)

    # the first try stops at the warning
    response = create(client, region=east.pk)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="duplicate-warning"' in html
    assert reverse("customers:detail", args=[visible.pk]) in html and visible.archive_no in html
    assert "另有 1 个不在您范围内的档案" in html
    assert "确认不是同一客户，继续建档" in html
    assert Customer.objects.count() == 2

    # confirmed: created
    response = create(client, region=east.pk, allow_duplicate="on")
    assert response.status_code == 302
    assert Customer.objects.count() == 3
    assert AuditEvent.objects.filter(code="customer.created", actor=agent, data__duplicate_confirmed=True).count() == 1


def test_agent_cannot_create_outside_their_region(client, make_user, east, west):
    agent = make_user("agent", region=east)
    response = create(login(client, agent), region=west.pk)
    assert response.status_code == 200
    assert response.context["form"].errors["region"]  # west is not offered to them
    assert not Customer.objects.exists()


def test_edit_saves_and_is_on_the_timeline(manager_client, manager, east):
    CustomField.objects.create(key="foreman", label="工长", field_type="text")
    customer = make_customer(manager, name="张三", region=east, id_number=ID_NUMBER, extra={"foreman": "李工"})
    url = reverse("customers:edit", args=[customer.pk])

    page = manager_client.get(url)
    html = page.content.decode()
    assert ID_NUMBER not in html and "110105********002X" in html  # shown masked, never prefilled
    assert page.context["form"]["extra.foreman"].value() == "李工"
    assert page.context["form"]["version"].value() == customer.version

    response = manager_client.post(
        url,
        {
            "name": "张三丰",
            "id_number": "",
            "lifecycle": "lost",
            "region": east.pk,
            "tags": "武当",
            "extra.foreman": "王工",
            "version": customer.version,
        },
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.lifecycle, customer.id_number) == ("张三丰", "lost", ID_NUMBER)
    assert customer.extra == {"foreman": "王工"}
    assert list(customer.tags.values_list("name", flat=True)) == ["武当"]
    change = customer.timeline.get(kind="customer.lifecycle_changed")
    assert change.data == {"from": "active", "to": "lost"}


def test_stale_version_keeps_the_users_input(manager_client, manager, east):
    customer = make_customer(manager, name="张三", region=east)
    stale = customer.version
    from kefu.customers.services.customers import customer_update

    customer_update(actor=manager, customer=customer, values={"notes": "别人先改了"}, expected_version=stale)

    response = manager_client.post(
        reverse("customers:edit", args=[customer.pk]),
        {"name": "我的改动", "lifecycle": "active", "region": east.pk, "version": stale},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert CONFLICT in html and 'value="我的改动"' in html
    customer.refresh_from_db()
    assert customer.name == "张三" and customer.notes == "别人先改了"


def test_edit_of_a_merged_or_out_of_scope_archive_is_404(client, make_user, manager, east, west):
    survivor = make_customer(manager, region=east)
    merged = make_customer(manager, name="李四", phone="13900000000", region=east)
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    far = make_customer(manager, name="王五", phone="13700000000", region=west)
    agent = make_user("agent", region=east)
    login(client, agent)
    assert client.get(reverse("customers:edit", args=[merged.pk])).status_code == 404
    assert client.get(reverse("customers:edit", args=[far.pk])).status_code == 404
    assert client.get(reverse("customers:edit", args=[survivor.pk])).status_code == 200
