"""The customer archive API: contacts (list, add, change, remove, primary) and merge."""

import pytest

from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, Customer, TimelineEntry
from kefu.customers.services.customers import ContactInput
from tests.api.test_customers_api import Api
from tests.factories import RegionFactory
from tests.factories_customers import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def api(client, manager):
    return Api(client, manager)


@pytest.fixture
def customer(manager, east):
    return make_customer(
        manager,
        name="张三",
        region=east,
        contacts=[ContactInput(name="张三", phone="13812345678"), ContactInput(name="李秘书", phone="13900001111")],
    )


def contacts_of(customer):
    return list(Contact.objects.filter(customer=customer).order_by("id").values_list("name", "phone", "is_primary"))


def test_list_contacts_primary_first_masked_for_an_agent(client, make_user, customer, east):
    agent = Api(client, make_user("agent", region=east))
    body = agent.get(f"/customers/{customer.pk}/contacts").json()
    assert [(c["name"], c["phone"], c["is_primary"]) for c in body["items"]] == [
        ("张三", "138****5678", True),
        ("李秘书", "139****1111", False),
    ]
    assert body["next_cursor"] is None
    first = agent.get(f"/customers/{customer.pk}/contacts", limit=1).json()
    rest = agent.get(f"/customers/{customer.pk}/contacts", limit=1, cursor=first["next_cursor"]).json()
    assert [c["name"] for c in first["items"] + rest["items"]] == ["张三", "李秘书"]


def test_add_contact(api, customer):
    response = api.post(
        f"/customers/{customer.pk}/contacts", {"name": "王经理", "phone": "021-6666 8888转12", "is_primary": True}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "021-6666 8888转12" and body["is_primary"] is True
    assert [c[2] for c in contacts_of(customer)] == [False, False, True]
    customer.refresh_from_db()
    assert customer.version == 2
    assert AuditEvent.objects.filter(code="customer.contact_added", object_id=str(customer.pk)).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "123"},
        {"name": "只有名字"},
        {"phone": "13800000000", "fax": "x"},
        {"email": "not-an-email"},
        {"phone": "1" * 33},
        {"name": 5, "phone": "13800000000"},
    ],
)
def test_add_contact_bad_bodies_are_422(api, customer, body):
    before = contacts_of(customer)
    response = api.post(f"/customers/{customer.pk}/contacts", body)
    assert response.status_code == 422 and response.json()["code"] == "validation_error", response.content
    assert contacts_of(customer) == before
    assert not AuditEvent.objects.filter(code="customer.contact_added").exists()


def test_patch_contact_changes_only_what_was_sent(api, customer):
    secretary = customer.contacts.get(name="李秘书")
    response = api.patch(f"/customers/{customer.pk}/contacts/{secretary.pk}", {"wechat": "li_wx"})
    assert response.status_code == 200, response.content
    secretary.refresh_from_db()
    assert (secretary.name, secretary.phone, secretary.wechat) == ("李秘书", "13900001111", "li_wx")
    event = AuditEvent.objects.get(code="customer.contact_updated")
    assert event.data["fields"] == ["wechat"]


def test_patch_contact_with_a_stale_version_is_409(api, customer):
    secretary = customer.contacts.get(name="李秘书")
    ok = api.patch(f"/customers/{customer.pk}/contacts/{secretary.pk}", {"version": 1, "role": "秘书"})
    assert ok.status_code == 200
    stale = api.patch(f"/customers/{customer.pk}/contacts/{secretary.pk}", {"version": 1, "role": "助理"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    secretary.refresh_from_db()
    assert secretary.role == "秘书"


@pytest.mark.parametrize(
    ("body", "status"),
    [({"phone": "abc"}, 422), ({"phone": None}, 422), ({"is_primary": True}, 422), ({"email": "x@"}, 422)],
)
def test_patch_contact_bad_bodies(api, customer, body, status):
    secretary = customer.contacts.get(name="李秘书")
    response = api.patch(f"/customers/{customer.pk}/contacts/{secretary.pk}", body)
    assert response.status_code == status, response.content
    assert contacts_of(customer)[1] == ("李秘书", "13900001111", False)


def test_contact_of_another_customer_is_404(api, manager, customer):
    other = make_customer(manager, name="李四", phone="13700000000")
    foreign = other.contacts.get()
    for response in (
        api.patch(f"/customers/{customer.pk}/contacts/{foreign.pk}", {"name": "x"}),
        api.delete(f"/customers/{customer.pk}/contacts/{foreign.pk}"),
        api.post(f"/customers/{customer.pk}/contacts/{foreign.pk}/primary", {}),
        api.delete(f"/customers/{customer.pk}/contacts/99999999999999999999999"),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Contact.objects.filter(pk=foreign.pk, name="李四").exists()


def test_remove_the_primary_contact_promotes_the_next(api, customer):
    primary = customer.contacts.get(is_primary=True)
    response = api.delete(f"/customers/{customer.pk}/contacts/{primary.pk}", version=1)
    assert response.status_code == 204
    assert contacts_of(customer) == [("李秘书", "13900001111", True)]
    assert TimelineEntry.objects.filter(customer=customer, kind="customer.contact_removed").exists()

    stale = api.delete(f"/customers/{customer.pk}/contacts/{customer.contacts.get().pk}", version=1)
    assert stale.status_code == 409 and len(contacts_of(customer)) == 1


def test_set_primary(api, customer):
    secretary = customer.contacts.get(name="李秘书")
    response = api.post(f"/customers/{customer.pk}/contacts/{secretary.pk}/primary", {})
    assert response.status_code == 200 and response.json()["is_primary"] is True
    assert [c[2] for c in contacts_of(customer)] == [False, True]


def test_contacts_need_the_change_permission(client, make_user, customer):
    finance = Api(client, make_user("finance", scope_all=True))
    secretary = customer.contacts.get(name="李秘书")
    assert finance.get(f"/customers/{customer.pk}/contacts").status_code == 200
    for response in (
        finance.post(f"/customers/{customer.pk}/contacts", {"phone": "13600000000"}),
        finance.patch(f"/customers/{customer.pk}/contacts/{secretary.pk}", {"name": "x"}),
        finance.delete(f"/customers/{customer.pk}/contacts/{secretary.pk}"),
        finance.post(f"/customers/{customer.pk}/contacts/{secretary.pk}/primary", {}),
    ):
        assert response.status_code == 403, response.content
    assert (
        len(contacts_of(customer)) == 2 and not AuditEvent.objects.filter(code__startswith="customer.contact").exists()
    )


# --- merge --------------------------------------------------------------------------


def test_merge_moves_the_source_into_the_survivor(api, manager, customer):
    pytest.importorskip("kefu.customers.services.merge")
    source = make_customer(manager, name="张三", phone="13700000000", region=customer.region)

    response = api.post(f"/customers/{customer.pk}/merge", {"source_id": source.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == customer.pk
    assert "13700000000" in [c["phone"] for c in body["contacts"]]
    source.refresh_from_db()
    assert source.merged_into_id == customer.pk
    assert AuditEvent.objects.filter(code__startswith="customer.merge").exists()
    # The merged-away archive is gone from lists but still readable, pointing at the survivor.
    assert [c["id"] for c in api.get("/customers").json()["items"]] == [customer.pk]
    assert api.get(f"/customers/{source.pk}").json()["merged_into"]["id"] == customer.pk


def test_merge_refusals_change_nothing(client, api, make_user, manager, customer):
    pytest.importorskip("kefu.customers.services.merge")
    west = RegionFactory(code="west", name="西区")
    elsewhere = make_customer(manager, name="西客户", phone="13600000000", region=west)
    same_region = make_customer(manager, name="东客户", phone="13500000000", region=customer.region)
    account = Api(client, make_user("account_manager", region=customer.region))

    denied = account.post(f"/customers/{customer.pk}/merge", {"source_id": same_region.pk})
    assert denied.status_code == 403
    archivist_scope = Api(client, make_user("archivist", region=customer.region, scope_all=False))
    hidden = archivist_scope.post(f"/customers/{customer.pk}/merge", {"source_id": elsewhere.pk})
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    itself = api.post(f"/customers/{customer.pk}/merge", {"source_id": customer.pk})
    assert itself.status_code == 422
    stale = api.post(f"/customers/{customer.pk}/merge", {"source_id": same_region.pk, "version": 99})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    bad = api.post(f"/customers/{customer.pk}/merge", {"source_id": "x"})
    assert bad.status_code == 422
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
    assert not AuditEvent.objects.filter(code__startswith="customer.merge").exists()
