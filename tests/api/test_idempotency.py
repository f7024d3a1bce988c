"""`Idempotency-Key` on API creates: a retry returns the first answer, a reused key
with another body is refused, concurrent duplicates create exactly one row."""

import datetime
import json
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from kefu.core.idempotency import idempotency_purge
from kefu.core.models import AuditEvent, IdempotencyRecord
from kefu.customers.models import Contact, Customer
from tests.api.test_customers_api import Api
from tests.factories_customers import make_customer

BODY = {"name": "张三", "contacts": [{"phone": "13812345678"}]}


@pytest.fixture
def api(client, manager):
    return Api(client, manager)


@pytest.mark.django_db
def test_retry_with_the_same_key_returns_the_same_answer_and_creates_nothing(api):
    first = api.post("/customers", BODY, key="order-2026-0001")
    assert first.status_code == 201, first.content
    again = api.post("/customers", BODY, key="order-2026-0001")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Customer.objects.count() == 1
    assert AuditEvent.objects.filter(code="customer.created").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.method, record.path, record.response_status) == ("POST", "/api/v1/customers", 201)
    assert record.response_body["id"] == first.json()["id"]


@pytest.mark.django_db
def test_key_order_and_whitespace_of_the_body_do_not_matter(api):
    first = api.post("/customers", None, key="k1", raw='{"name": "张三", "contacts": [{"phone": "13812345678"}]}')
    again = api.post("/customers", None, key="k1", raw='{ "contacts":[{"phone":"13812345678"}],  "name":"张三" }')
    assert again.status_code == 201 and again.json() == first.json()
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_another_body_is_422_and_creates_nothing(api):
    api.post("/customers", BODY, key="k1")
    response = api.post("/customers", {**BODY, "name": "李四"}, key="k1")
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert list(Customer.objects.values_list("name", flat=True)) == ["张三"]


@pytest.mark.django_db
def test_same_key_on_another_endpoint_is_422(api):
    created = api.post("/customers", BODY, key="k1").json()
    response = api.post(f"/customers/{created['id']}/contacts", {"phone": "13900000000"}, key="k1")
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_create_stores_no_answer_so_the_client_may_fix_it(api, manager):
    make_customer(manager, name="张三", phone="13812345678")
    refused = api.post("/customers", BODY, key="k1")
    assert refused.status_code == 409 and not IdempotencyRecord.objects.exists()
    confirmed = api.post("/customers", {**BODY, "allow_duplicate": True}, key="k1")
    assert confirmed.status_code == 201 and Customer.objects.count() == 2
    assert api.post("/customers", {**BODY, "allow_duplicate": True}, key="k1").json() == confirmed.json()
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_keys_belong_to_their_user(client, api, make_user):
    other = Api(client, make_user("manager", username="other", scope_all=True))
    mine = api.post("/customers", BODY, key="k1")
    theirs = other.post("/customers", {**BODY, "allow_duplicate": True}, key="k1")
    assert mine.status_code == theirs.status_code == 201 and mine.json()["id"] != theirs.json()["id"]
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_without_a_key_every_post_creates(api):
    api.post("/customers", BODY)
    api.post("/customers", {**BODY, "allow_duplicate": True})
    assert Customer.objects.count() == 2 and not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_contact_add_is_idempotent_too(api, manager):
    customer = make_customer(manager)
    first = api.post(f"/customers/{customer.pk}/contacts", {"phone": "13900000000"}, key="c1")
    again = api.post(f"/customers/{customer.pk}/contacts", {"phone": "13900000000"}, key="c1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert customer.contacts.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["x" * 201, "", "   ", "bad\nkey"])
def test_bad_keys_are_422(api, key):
    response = api.post("/customers", BODY, key=key)
    assert response.status_code == 422 and response.json()["code"] == "validation_error", response.content
    assert not Customer.objects.exists() and not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_200_character_key_is_fine(api):
    assert api.post("/customers", BODY, key="k" * 200).status_code == 201


@pytest.mark.django_db
def test_purge_removes_records_older_than_a_day(api):
    api.post("/customers", BODY, key="old")
    api.post("/customers", {**BODY, "allow_duplicate": True}, key="new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    # After the purge the key is free again: a new request, a new answer.
    assert api.post("/customers", {**BODY, "name": "李四"}, key="old").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_exactly_one(make_user, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    from kefu.core.tokens import token_create
    from kefu.customers.services import customers as services

    user = make_user("manager", scope_all=True)
    _token, raw = token_create(user=user, name="race")
    original = services.customer_create

    def slow_create(**kwargs):
        customer = original(**kwargs)
        time.sleep(1.0)  # hold the claim while the twin arrives
        return customer

    monkeypatch.setattr(services, "customer_create", slow_create)
    from kefu.core import idempotency

    finds = []
    original_find = idempotency._find

    def counting_find(user, key):
        finds.append(key)
        return original_find(user, key)

    monkeypatch.setattr(idempotency, "_find", counting_find)
    barrier = threading.Barrier(2)
    results = []

    def post():
        try:
            barrier.wait()
            response = Client().post(
                "/api/v1/customers",
                data=json.dumps(BODY),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {raw}",
                HTTP_IDEMPOTENCY_KEY="race-1",
            )
            results.append((response.status_code, response.json(), response.has_header("Idempotent-Replayed")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [status for status, _body, _replayed in results] == [201, 201]
    assert results[0][1] == results[1][1]
    assert sorted(replayed for _status, _body, replayed in results) == [False, True]
    assert Customer.objects.count() == 1 and IdempotencyRecord.objects.count() == 1
    assert AuditEvent.objects.filter(code="customer.created").count() == 1
    # Both looked first and found nothing; the twin then waited on the unique index,
    # lost, and looked again: the race really happened (3 lookups, not 2).
    assert len(finds) == 3, finds
