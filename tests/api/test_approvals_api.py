"""Approvals API: list, awaiting, detail, decide, cancel — errors as JSON with codes."""

import json

import pytest

from kefu.core.models import ApprovalStatus, ApprovalStep, AuditEvent
from kefu.core.services.approvals import approval_decide, approval_policies_seed
from kefu.core.tokens import token_create
from tests.factories_approvals import make_request


@pytest.fixture
def seeded(roles):
    return approval_policies_seed()


@pytest.fixture
def agent(make_user):
    return make_user("agent", username="agent")


@pytest.fixture
def director(make_user):
    return make_user("director", username="director", scope_all=True)


@pytest.fixture
def finance(make_user):
    return make_user("finance", username="finance")


@pytest.fixture
def api(client):
    """api(user).get(path) / .post(path, body) with the user's Bearer token."""

    class Caller:
        def __init__(self, user):
            _token, raw = token_create(user=user, name="test")
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

        def get(self, path, params=None):
            return client.get(f"/api/v1{path}", params or {}, **self.headers)

        def post(self, path, body):
            return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", **self.headers)

    return Caller


def test_list_with_cursor(api, seeded, agent, director, django_assert_max_num_queries):
    for i in range(5):
        make_request(agent, title=f"退款{i}", amount="10")
    caller = api(director)

    with django_assert_max_num_queries(8):
        first = caller.get("/approvals", {"size": 3})
    second = caller.get("/approvals", {"size": 3, "cursor": first.json()["next_cursor"]})

    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 3 and body["next_cursor"]
    assert second.json()["next_cursor"] is None
    titles = [i["title"] for i in body["items"] + second.json()["items"]]
    assert sorted(titles) == [f"退款{i}" for i in range(5)]
    item = body["items"][0]
    assert item["status"] == "pending" and item["current_step"] == 1
    assert [s["role"] for s in item["steps"]] == ["director", "finance"]
    assert item["amount"] == "10.00"


def test_list_bad_cursor_is_422(api, seeded, director):
    response = api(director).get("/approvals", {"cursor": "not-a-cursor"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_list_for_agent_is_own_only(api, seeded, agent, make_user):
    mine = make_request(agent)
    make_request(make_user("agent", username="agent2"))

    items = api(agent).get("/approvals").json()["items"]

    assert [i["id"] for i in items] == [mine.pk]


def test_awaiting(api, seeded, agent, director, finance):
    request = make_request(agent)

    assert [i["id"] for i in api(director).get("/approvals/awaiting").json()["items"]] == [request.pk]
    assert api(finance).get("/approvals/awaiting").json()["items"] == []


def test_detail_and_404_out_of_sight(api, seeded, agent, director, make_user):
    request = make_request(agent)

    assert api(director).get(f"/approvals/{request.pk}").json()["id"] == request.pk
    response = api(make_user("agent", username="agent2")).get(f"/approvals/{request.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_decide_approve_then_finance_approves(api, seeded, agent, director, finance):
    request = make_request(agent)

    first = api(director).post(f"/approvals/{request.pk}/decide", {"approve": True, "comment": "可以", "version": 1})
    second = api(finance).post(
        f"/approvals/{request.pk}/decide", {"approve": True, "comment": "", "version": first.json()["version"]}
    )

    assert first.status_code == 200, first.content
    assert first.json()["current_step"] == 2
    assert second.status_code == 200
    body = second.json()
    assert body["status"] == "approved" and body["current_step"] is None
    assert [s["decided_by"]["username"] for s in body["steps"]] == ["director", "finance"]


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("finance", {"approve": True, "comment": "", "version": None}, 403, "approval_not_your_step"),
        ("agent", {"approve": True, "comment": "", "version": None}, 403, "approval_self_decision"),
        ("director", {"approve": False, "comment": "", "version": None}, 422, "validation_error"),
        ("director", {"approve": True, "comment": "", "version": 99}, 409, "conflict"),
        ("director", {"approve": "maybe"}, 422, "validation_error"),
    ],
)
def test_decide_errors_change_nothing(api, seeded, make_user, who, body, status, code):
    users = {
        "agent": make_user("agent", "director", username="agent"),  # requester who also holds the role
        "director": make_user("director", username="director"),
        "finance": make_user("finance", username="finance"),
    }
    request = make_request(users["agent"])

    response = api(users[who]).post(f"/approvals/{request.pk}/decide", body)

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not ApprovalStep.objects.filter(request=request, decided_by__isnull=False).exists()
    assert not AuditEvent.objects.filter(code__startswith="approval.step").exists()


def test_decide_after_the_end_is_409_already_decided(api, seeded, agent, director):
    request = make_request(agent)
    approval_decide(actor=director, request=request, approve=False, comment="不予退款")

    response = api(director).post(f"/approvals/{request.pk}/decide", {"approve": True, "comment": ""})

    assert response.status_code == 409
    assert response.json()["code"] == "approval_already_decided"


def test_decide_invisible_is_404(api, seeded, agent, make_user):
    request = make_request(agent)

    response = api(make_user("quality_officer")).post(f"/approvals/{request.pk}/decide", {"approve": True})

    assert response.status_code == 404


def test_cancel(api, seeded, agent, director):
    request = make_request(agent)

    denied = api(director).post(f"/approvals/{request.pk}/cancel", {"version": 1})
    done = api(agent).post(f"/approvals/{request.pk}/cancel", {"version": 1})
    again = api(agent).post(f"/approvals/{request.pk}/cancel", {"version": None})

    assert denied.status_code == 403
    assert done.status_code == 200 and done.json()["status"] == ApprovalStatus.CANCELLED
    assert again.status_code == 409 and again.json()["code"] == "approval_already_decided"


def test_openapi_documents_the_errors(client, manager_client):
    schema = manager_client.get("/api/v1/openapi.json").json()

    responses = schema["paths"]["/api/v1/approvals/{approval_id}/decide"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(responses)
