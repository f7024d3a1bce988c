"""The customer archive API: list/create/read/update, scope, masking, concurrency,
bad input (never a 500) and the OpenAPI document."""

import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.models import AuditEvent
from kefu.core.tokens import token_create
from kefu.customers.models import ClassChange, CreditChange, Customer, CustomField, TimelineEntry
from tests.factories import RegionFactory
from tests.factories_customers import (
    CreditGradeFactory,
    CustomerClassFactory,
    CustomerSourceFactory,
    ProductCategoryFactory,
    make_customer,
)

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


class Api:
    """A client speaking JSON to /api/v1 with a Bearer token."""

    def __init__(self, client, user):
        self.client = client
        self.user = user
        _token, raw = token_create(user=user, name="test")
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def _headers(self, key):
        return {**self.headers, "HTTP_IDEMPOTENCY_KEY": key} if key is not None else self.headers

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def post(self, path, body, *, key=None, raw=None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(f"/api/v1{path}", data=data, content_type="application/json", **self._headers(key))

    def patch(self, path, body, *, raw=None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.patch(f"/api/v1{path}", data=data, content_type="application/json", **self.headers)

    def delete(self, path, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.client.delete(f"/api/v1{path}" + (f"?{query}" if query else ""), **self.headers)


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def west():
    return RegionFactory(code="west", name="西区")


@pytest.fixture
def api(as_user, manager):
    return as_user(manager)


@pytest.fixture
def agent(make_user, east):
    return make_user("agent", username="agent", region=east)


def customer_count():
    return Customer.objects.count()


# --- list ---------------------------------------------------------------------------


def test_list_filters_like_the_html_list_and_pages_with_a_cursor(api, manager, east, west):
    a, b = CustomerClassFactory(code="A"), CustomerClassFactory(code="B")
    for i in range(5):
        make_customer(manager, name=f"东{i}", phone=f"1380000000{i}", region=east, customer_class=a)
    make_customer(manager, name="东B", phone="13800000010", region=east, customer_class=b)
    make_customer(manager, name="西A", phone="13800000011", region=west, customer_class=a)

    first = api.get("/customers", region=east.pk, customer_class=f"{a.pk},{b.pk}", limit=4).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    second = api.get(
        "/customers", region=east.pk, customer_class=f"{a.pk},{b.pk}", limit=4, cursor=first["next_cursor"]
    ).json()
    names = [c["name"] for c in first["items"] + second["items"]]
    assert sorted(names) == sorted(["东0", "东1", "东2", "东3", "东4", "东B"]) and second["next_cursor"] is None
    assert names == sorted(names, key=lambda n: -Customer.objects.get(name=n).pk)  # default sort -id

    only_a = api.get("/customers", region=east.pk, customer_class=a.pk).json()["items"]
    assert len(only_a) == 5 and {c["customer_class"]["id"] for c in only_a} == {a.pk}


def test_list_search_sort_and_custom_field_filter(api, manager):
    CustomField.objects.create(key="foreman", label="工长")
    make_customer(manager, name="张三", phone="13812345678", extra={"foreman": "李工"})
    make_customer(manager, name="李四", phone="13900001111")
    make_customer(manager, name="王五", phone="13700002222", extra={"foreman": "赵工"})

    assert [c["name"] for c in api.get("/customers", q="zs").json()["items"]] == ["张三"]
    assert [c["name"] for c in api.get("/customers", q="0001111").json()["items"]] == ["李四"]
    assert [c["name"] for c in api.get("/customers", **{"extra.foreman": "赵工"}).json()["items"]] == ["王五"]
    by_id = [c["name"] for c in api.get("/customers", sort="id").json()["items"]]
    assert by_id == ["张三", "李四", "王五"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 0},
        {"sort": "password"},
        {"cursor": "!!nonsense"},
        {"cursor": base64.urlsafe_b64encode(b'["not-a-number"]').decode()},
        {"cursor": base64.urlsafe_b64encode(b"[1e999]").decode()},
        {"region": "abc"},
        {"region": "99999999999999999999999999"},
        {"created_from": "2026-13-45"},
        {"q": "字" * 201},
    ],
)
def test_list_bad_parameters_are_422(api, manager, params):
    make_customer(manager)
    response = api.get("/customers", **params)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "values", [b"[99999999999999999999999999]", b"[-1]", b"[null]", b"[true]", b"[[1]]", b'[{"a": 1}]']
)
def test_list_crafted_cursors_never_fail(api, manager, values):
    make_customer(manager)
    response = api.get("/customers", cursor=base64.urlsafe_b64encode(values).decode())
    assert response.status_code in {200, 422}, response.content


def test_list_masks_phone_and_id_number_unless_the_user_may_reveal(as_user, manager, agent, east):
    make_customer(manager, name="张三", phone="13812345678", id_number=ID_NUMBER, region=east)

    [seen_by_agent] = as_user(agent).get("/customers").json()["items"]
    assert seen_by_agent["primary_phone"] == "138****5678"
    assert seen_by_agent["id_number"] == "110105********002X"
    [seen_by_manager] = as_user(manager).get("/customers").json()["items"]
    assert seen_by_manager["primary_phone"] == "13812345678" and seen_by_manager["id_number"] == ID_NUMBER


def test_list_runs_a_constant_number_of_queries(api, manager, east, django_assert_max_num_queries):
    grade, source, category = CreditGradeFactory(), CustomerSourceFactory(), ProductCategoryFactory()
    cls = CustomerClassFactory()

    def add(n, start):
        for i in range(start, start + n):
            make_customer(
                manager,
                name=f"客户{i}",
                phone=f"138{i:08d}",
                region=east,
                owner=manager,
                customer_class=cls,
                credit_grade=grade,
                source=source,
                categories=[category],
                tags=[f"标签{i % 3}"],
            )

    add(3, 0)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/customers").json()["items"]) == 3
    add(30, 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        items = api.get("/customers").json()["items"]
    assert len(items) == 33 and all(c["tags"] and c["category_ids"] and c["owner"] for c in items)


# --- scope --------------------------------------------------------------------------


def test_account_manager_sees_only_own_region(as_user, make_user, manager, east, west):
    mine = make_customer(manager, name="东客户", phone="13800000001", region=east)
    theirs = make_customer(manager, name="西客户", phone="13800000002", region=west)
    account = as_user(make_user("account_manager", region=east))

    assert [c["id"] for c in account.get("/customers").json()["items"]] == [mine.pk]
    assert account.get(f"/customers/{mine.pk}").status_code == 200
    for response in (
        account.get(f"/customers/{theirs.pk}"),
        account.patch(f"/customers/{theirs.pk}", {"version": 1, "name": "改名"}),
        account.get(f"/customers/{theirs.pk}/timeline"),
        account.get(f"/customers/{theirs.pk}/contacts"),
        account.post(f"/customers/{theirs.pk}/reveal", {"field": "phone"}),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.name == "西客户" and theirs.version == 1
    assert not AuditEvent.objects.filter(code__endswith=".revealed").exists()


def test_department_staff_get_403_everywhere(as_user, make_user, manager, east):
    customer = make_customer(manager, region=east)
    staff = as_user(make_user("department_staff", region=east))
    for response in (
        staff.get("/customers"),
        staff.get(f"/customers/{customer.pk}"),
        staff.post("/customers", {"name": "新客户"}),
        staff.get("/customer-settings"),
    ):
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert customer_count() == 1


def test_cannot_create_outside_own_region(as_user, agent, west):
    response = as_user(agent).post("/customers", {"name": "西客户", "region_id": west.pk})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert customer_count() == 0


# --- create -------------------------------------------------------------------------


def test_create_customer(as_user, agent, east):
    CustomField.objects.create(key="member_card", label="会员卡号")
    cls, source, category = CustomerClassFactory(code="A"), CustomerSourceFactory(), ProductCategoryFactory()
    response = as_user(agent).post(
        "/customers",
        {
            "name": "  张三 ",
            "contacts": [{"name": "张三", "phone": "138-1234-5678"}, {"wechat": "zs_wx", "email": "zs@example.com"}],
            "id_number": ID_NUMBER.lower(),
            "customer_class_id": cls.pk,
            "source_id": source.pk,
            "category_ids": [category.pk],
            "tags": ["老客户", "大单"],
            "extra": {"member_card": "M-001"},
            "lifecycle": "potential",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk and body["archive_no"] == customer.archive_no and body["version"] == 1
    assert body["name"] == "张三" and body["region"] == {"id": east.pk, "name": "东区"}
    assert body["customer_class"]["id"] == cls.pk and body["category_ids"] == [category.pk]
    assert body["tags"] == sorted(["老客户", "大单"]) and body["extra"] == {"member_card": "M-001"}
    # The agent may not see full numbers, not even the ones just typed in.
    assert [c["phone"] for c in body["contacts"]] == ["138****5678", ""]
    assert body["id_number"] == "110105********002X"
    assert customer.id_number == ID_NUMBER and customer.contacts.get(is_primary=True).phone == "13812345678"
    assert AuditEvent.objects.filter(code="customer.created", object_id=str(customer.pk)).exists()


def test_create_suspected_duplicate_is_409_unless_confirmed(api, manager):
    existing = make_customer(manager, name="张三", phone="13812345678")
    body = {"name": "张三", "contacts": [{"phone": "13812345678"}]}

    response = api.post("/customers", body)
    assert response.status_code == 409 and response.json()["code"] == "customer_duplicate"
    assert response.json()["details"]["duplicates"][0]["archive_no"] == existing.archive_no
    assert customer_count() == 1

    confirmed = api.post("/customers", {**body, "allow_duplicate": True})
    assert confirmed.status_code == 201 and customer_count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "张三", "contacts": [{"phone": "12345"}]}, "contacts.0.phone"),
        ({"name": "张三", "id_number": "110101199003071235"}, "id_number"),
        ({"name": "张三", "region_id": 999999}, "region_id"),
        ({"name": "张三", "customer_class_id": 999999}, "customer_class_id"),
        ({"name": "张三", "category_ids": [999999]}, "category_ids"),
        ({"name": "张三", "extra": {"no_such_field": "x"}}, "extra.no_such_field"),
        ({"name": "   "}, "name"),
    ],
)
def test_create_service_validation_is_422_with_the_field(api, body, field):
    response = api.post("/customers", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error" and response.json()["details"]["field"] == field
    assert customer_count() == 0 and not AuditEvent.objects.filter(code="customer.created").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": 123},
        {"name": None},
        {"name": ["张三"]},
        {"name": "张三", "unknown_field": 1},
        {"name": "张三", "contacts": [{"phone": "13812345678", "fax": "x"}]},
        {"name": "张三", "contacts": "13812345678"},
        {"name": "张三", "contacts": [{"email": "not-an-email"}]},
        {"name": "张" * 121},
        {"name": "张三", "notes": "x" * 5001},
        {"name": "张三", "address": "路" * 201},
        {"name": "张三", "contacts": [{"phone": "1" * 10_000}]},
        {"name": "张三", "tags": ["标" * 41]},
        {"name": "张三", "kind": "alien"},
        {"name": "张三", "lifecycle": "dead"},
        {"name": "张三", "birthday": "yesterday"},
        {"name": "张三", "region_id": "east"},
        {"name": "张三", "region_id": 10**30},
        {"name": "张三", "region_id": -1},
        {"name": "张三", "extra": {"foreman": {"nested": True}}},
        {"name": "张三", "extra": "x"},
        {"name": "张三", "allow_duplicate": "maybe"},
        ["not", "an", "object"],
    ],
)
def test_create_bad_bodies_are_422_and_create_nothing(api, body):
    response = api.post("/customers", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert customer_count() == 0


@pytest.mark.parametrize("raw", ["{not json", "\x00\x01", '{"name": NaN}x', "null"])
def test_create_garbage_body_is_a_4xx_json_error(api, raw):
    response = api.post("/customers", None, raw=raw)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] in {"bad_request", "validation_error"}
    assert customer_count() == 0


@pytest.mark.parametrize("value", ["NaN", "NaN_json", "-Infinity", "1e999999", 10**16, "abc"])
def test_create_refuses_non_finite_or_huge_numbers_in_custom_fields(api, value):
    CustomField.objects.create(key="area", label="面积", field_type="number")
    raw = (
        '{"name": "张三", "extra": {"area": NaN}}'
        if value == "NaN_json"
        else json.dumps({"name": "张三", "extra": {"area": value}})
    )
    response = api.post("/customers", None, raw=raw)
    assert response.status_code == 422 and response.json()["code"] == "validation_error", response.content
    assert customer_count() == 0


def test_custom_field_filters_never_fail(api, manager):
    CustomField.objects.create(key="area", label="面积", field_type="number")
    make_customer(manager, extra={"area": 120})
    for key in ("extra.area", "extra.area__gte", "extra.area__lte", "extra.area__contains", "extra.area__regex"):
        response = api.get("/customers", **{key: "1"})
        assert response.status_code in {200, 422}, (key, response.content)


# --- read and update ----------------------------------------------------------------


def test_get_customer_detail(as_user, manager, agent, east):
    customer = make_customer(manager, name="张三", phone="13812345678", id_number=ID_NUMBER, region=east)
    body = as_user(agent).get(f"/customers/{customer.pk}").json()
    assert body["archive_no"] == customer.archive_no and body["name"] == "张三"
    assert body["contacts"][0]["phone"] == "138****5678" and body["id_number"] == "110105********002X"
    full = as_user(manager).get(f"/customers/{customer.pk}").json()
    assert full["contacts"][0]["phone"] == "13812345678" and full["id_number"] == ID_NUMBER


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999", "0"])
def test_unknown_customer_is_404(api, pk):
    response = api.get(f"/customers/{pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_non_numeric_id_is_422(api):
    response = api.get("/customers/abc")
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_patch_customer(api, manager, east, west):
    CustomField.objects.create(key="foreman", label="工长")
    category = ProductCategoryFactory()
    customer = make_customer(manager, name="张三", region=east, tags=["旧"], extra={"foreman": "李工"})

    response = api.patch(
        f"/customers/{customer.pk}",
        {
            "version": 1,
            "name": "张三丰",
            "region_id": west.pk,
            "is_key_account": True,
            "birthday": "1990-03-07",
            "categories": [category.pk],
            "tags": ["新", "大客户"],
            "extra": {"foreman": None},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "张三丰" and body["region"]["id"] == west.pk and body["is_key_account"] is True
    assert body["birthday"] == "1990-03-07" and body["category_ids"] == [category.pk]
    assert body["tags"] == ["大客户", "新"] and body["extra"] == {} and body["version"] == 2
    event = AuditEvent.objects.get(code="customer.updated", object_id=str(customer.pk))
    assert event.changes["name"] == ["张三", "张三丰"]


def test_patch_with_a_stale_version_is_409_and_changes_nothing(api, manager):
    customer = make_customer(manager, name="张三")
    assert api.patch(f"/customers/{customer.pk}", {"version": 1, "notes": "第一次"}).status_code == 200
    stale = api.patch(f"/customers/{customer.pk}", {"version": 1, "notes": "旧版本", "tags": ["x"]})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    customer.refresh_from_db()
    assert customer.notes == "第一次" and customer.version == 2 and not customer.tags.exists()


def test_two_editors_with_the_same_version_one_gets_409(as_user, make_user, manager, east):
    customer = make_customer(manager, name="张三", region=east)
    first, second = as_user(manager), as_user(make_user("agent", region=east))
    version = first.get(f"/customers/{customer.pk}").json()["version"]
    assert second.get(f"/customers/{customer.pk}").json()["version"] == version

    assert first.patch(f"/customers/{customer.pk}", {"version": version, "address": "东路 1 号"}).status_code == 200
    late = second.patch(f"/customers/{customer.pk}", {"version": version, "address": "西路 2 号"})
    assert late.status_code == 409 and late.json()["code"] == "conflict"
    customer.refresh_from_db()
    assert customer.address == "东路 1 号"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "无版本"},
        {"version": "one", "name": "x"},
        {"version": 1, "name": None},
        {"version": 1, "lifecycle": None},
        {"version": 1, "customer_class_id": 1},
        {"version": 1, "credit_grade_id": 1},
        {"version": 1, "archive_no": "KH-1"},
        {"version": 1, "notes": "x" * 5001},
        {"version": 1, "region_id": 999999},
        {"version": 1, "owner_id": 999999},
        {"version": 1, "id_number": "123"},
    ],
)
def test_patch_bad_bodies_are_422_and_change_nothing(api, manager, body):
    customer = make_customer(manager, name="张三")
    response = api.patch(f"/customers/{customer.pk}", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    customer.refresh_from_db()
    assert customer.version == 1 and customer.name == "张三"
    assert not AuditEvent.objects.filter(code="customer.updated").exists()


def test_patch_needs_change_permission(as_user, make_user, manager, east):
    customer = make_customer(manager, region=east)
    finance = as_user(make_user("finance", scope_all=True))
    assert finance.get(f"/customers/{customer.pk}").status_code == 200
    response = finance.patch(f"/customers/{customer.pk}", {"version": 1, "notes": "x"})
    assert response.status_code == 403 and Customer.objects.get().version == 1


# --- class and credit ---------------------------------------------------------------


def test_change_class_records_the_reason(as_user, agent, manager, east):
    customer = make_customer(manager, region=east)
    a = CustomerClassFactory(code="A")
    response = as_user(agent).post(
        f"/customers/{customer.pk}/class", {"customer_class_id": a.pk, "reason": "年采购额增长"}
    )
    assert response.status_code == 200 and response.json()["customer_class"]["id"] == a.pk
    change = ClassChange.objects.get(customer=customer)
    assert change.to_class == a and change.reason == "年采购额增长"
    assert response.json()["version"] == 2

    bad = as_user(agent).post(f"/customers/{customer.pk}/class", {"customer_class_id": 999999, "reason": ""})
    assert bad.status_code == 422 and ClassChange.objects.count() == 1


def test_change_credit_needs_permission_and_reason(as_user, agent, manager, east):
    customer = make_customer(manager, region=east)
    grade = CreditGradeFactory(code="AA")
    body = {"credit_grade_id": grade.pk, "reason": "按时回款", "effective_on": "2026-01-01"}

    denied = as_user(agent).post(f"/customers/{customer.pk}/credit", body)
    assert denied.status_code == 403 and not CreditChange.objects.exists()
    no_reason = as_user(manager).post(f"/customers/{customer.pk}/credit", {**body, "reason": "  "})
    assert no_reason.status_code == 422 and not CreditChange.objects.exists()

    response = as_user(manager).post(f"/customers/{customer.pk}/credit", body)
    assert response.status_code == 200 and response.json()["credit_grade"]["id"] == grade.pk
    change = CreditChange.objects.get()
    assert change.reason == "按时回款" and change.effective_on.isoformat() == "2026-01-01"


# --- reveal -------------------------------------------------------------------------


def test_reveal_returns_the_full_number_and_is_audited(as_user, make_user, manager, east):
    customer = make_customer(manager, name="张三", phone="13812345678", id_number=ID_NUMBER, region=east)
    account = as_user(make_user("account_manager", region=east))

    phone = account.post(f"/customers/{customer.pk}/reveal", {"field": "phone"})
    assert phone.status_code == 200
    assert phone.json() == {"field": "phone", "contact_id": customer.contacts.get().pk, "value": "13812345678"}
    id_number = account.post(f"/customers/{customer.pk}/reveal", {"field": "id_number"})
    assert id_number.json()["value"] == ID_NUMBER
    events = AuditEvent.objects.filter(object_id=str(customer.pk), actor=account.user)
    assert set(events.values_list("code", flat=True)) == {"customer.phone.revealed", "customer.id_number.revealed"}


def test_reveal_without_the_right_is_403_and_not_audited(as_user, agent, manager, east):
    customer = make_customer(manager, region=east)
    response = as_user(agent).post(f"/customers/{customer.pk}/reveal", {"field": "phone"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not AuditEvent.objects.filter(code__endswith=".revealed").exists()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"field": "password"}, 422),
        ({"field": "phone", "contact_id": 999999}, 404),
        ({"field": "phone", "extra": 1}, 422),
    ],
)
def test_reveal_bad_requests(api, manager, body, status):
    customer = make_customer(manager)
    other = make_customer(manager, name="李四", phone="13900000000")
    if body.get("contact_id"):
        body = {**body, "contact_id": other.contacts.get().pk}  # another customer's contact
    response = api.post(f"/customers/{customer.pk}/reveal", body)
    assert response.status_code == status, response.content
    assert not AuditEvent.objects.filter(code__endswith=".revealed").exists()


# --- timeline -----------------------------------------------------------------------


def test_timeline_newest_first_with_a_cursor(api, manager):
    customer = make_customer(manager)
    for i in range(3):
        api.patch(f"/customers/{customer.pk}", {"version": i + 1, "notes": f"备注{i}"})
    first = api.get(f"/customers/{customer.pk}/timeline", limit=2).json()
    assert [e["kind"] for e in first["items"]] == ["customer.updated", "customer.updated"] and first["next_cursor"]
    rest = api.get(f"/customers/{customer.pk}/timeline", limit=50, cursor=first["next_cursor"]).json()
    kinds = [e["kind"] for e in first["items"] + rest["items"]]
    assert kinds[-1] == "customer.created" and len(kinds) == TimelineEntry.objects.filter(customer=customer).count()
    assert first["items"][0]["actor"]["id"] == manager.pk and rest["next_cursor"] is None


# --- settings -----------------------------------------------------------------------


def test_customer_settings_lists_what_clients_map_ids_to(as_user, make_user, manager):
    cls = CustomerClassFactory(code="A", visits_per_month=1)
    CustomerClassFactory(code="C", is_active=False)
    grade, source, category = CreditGradeFactory(code="AAA"), CustomerSourceFactory(), ProductCategoryFactory()
    CustomField.objects.create(key="foreman", label="工长")
    CustomField.objects.create(key="old", label="旧字段", is_active=False)

    for user in (manager, make_user("admin")):
        body = as_user(user).get("/customer-settings").json()
        assert {c["code"]: c["is_active"] for c in body["classes"]} == {"A": True, "C": False}
        assert body["classes"][0]["id"] == cls.pk and body["classes"][0]["visits_per_month"] == 1
        assert [g["id"] for g in body["credit_grades"]] == [grade.pk]
        assert [s["id"] for s in body["sources"]] == [source.pk]
        assert [c["id"] for c in body["categories"]] == [category.pk]
        assert [f["key"] for f in body["custom_fields"]] == ["foreman"]


# --- OpenAPI ------------------------------------------------------------------------

ENDPOINTS = {
    ("get", "/api/v1/customers"): {"200", "401", "403", "422"},
    ("post", "/api/v1/customers"): {"201", "401", "403", "409", "422"},
    ("get", "/api/v1/customers/{customer_id}"): {"200", "401", "403", "404"},
    ("patch", "/api/v1/customers/{customer_id}"): {"200", "401", "403", "404", "409", "422"},
    ("get", "/api/v1/customers/{customer_id}/contacts"): {"200", "401", "403", "404"},
    ("post", "/api/v1/customers/{customer_id}/contacts"): {"201", "401", "403", "404", "422"},
    ("patch", "/api/v1/customers/{customer_id}/contacts/{contact_id}"): {"200", "401", "403", "404", "409", "422"},
    ("delete", "/api/v1/customers/{customer_id}/contacts/{contact_id}"): {"204", "401", "403", "404"},
    ("post", "/api/v1/customers/{customer_id}/contacts/{contact_id}/primary"): {"200", "401", "403", "404"},
    ("post", "/api/v1/customers/{customer_id}/class"): {"200", "401", "403", "404", "422"},
    ("post", "/api/v1/customers/{customer_id}/credit"): {"200", "401", "403", "404", "422"},
    ("post", "/api/v1/customers/{customer_id}/reveal"): {"200", "401", "403", "404", "422"},
    ("get", "/api/v1/customers/{customer_id}/timeline"): {"200", "401", "403", "404"},
    ("post", "/api/v1/customers/{customer_id}/merge"): {"200", "401", "403", "404", "409", "422"},
    ("get", "/api/v1/customer-settings"): {"200", "401", "403"},
}


def test_openapi_documents_every_endpoint_and_its_errors(client):
    doc = client.get("/api/v1/openapi.json").json()
    for (method, path), statuses in ENDPOINTS.items():
        operation = doc["paths"][path][method]
        assert statuses <= set(operation["responses"]), (method, path, sorted(operation["responses"]))
        for status in statuses - {"200", "201", "204"}:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorOut"), (method, path, status)
        assert "customers" in operation["tags"]
    create = doc["paths"]["/api/v1/customers"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
