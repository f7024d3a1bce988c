"""Approval pages: 待我审批, 审批记录, detail with the decision form, policy editing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from kefu.core.models import ApprovalPolicy, ApprovalRequest, ApprovalStatus, ApprovalStep, AuditEvent
from kefu.core.services.approvals import approval_decide, approval_policies_seed
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


def test_awaiting_page_lists_my_current_steps(client, seeded, agent, director, finance, django_assert_max_num_queries):
    for i in range(4):
        make_request(agent, title=f"退款{i}")
    client.force_login(director)

    with django_assert_max_num_queries(9):
        response = client.get(reverse("approvals:awaiting"))

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="approval-row"') == 4
    client.force_login(finance)
    assert "当前没有等待您审批的申请" in client.get(reverse("approvals:awaiting")).content.decode()


def test_list_page_filters_and_paginates(client, seeded, agent, director, monkeypatch):
    from kefu.core.views import approvals as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(3):
        make_request(agent, title=f"退款{i}")
    make_request(agent, policy_code="penalty", title="处罚建议甲")
    client.force_login(director)

    first = client.get(reverse("approvals:list"), {"policy": "refund"})
    assert first.status_code == 200
    assert first.context["page"].has_more
    titles = [a.title for a in first.context["page"].items]
    second = client.get(reverse("approvals:list"), {"policy": "refund", "cursor": first.context["page"].next_cursor})
    titles += [a.title for a in second.context["page"].items]
    assert sorted(titles) == ["退款0", "退款1", "退款2"]
    assert not second.context["page"].has_more

    pending = client.get(reverse("approvals:list"), {"status": "approved"})
    assert list(pending.context["page"].items) == []


def test_list_page_query_count_does_not_grow(client, seeded, agent, director, django_assert_max_num_queries):
    for i in range(10):
        make_request(agent, title=f"退款{i}")
    client.force_login(director)

    with django_assert_max_num_queries(9):
        response = client.get(reverse("approvals:list"))

    assert response.content.decode().count('data-testid="approval-row"') == 10


def test_agent_sees_only_own_requests(client, seeded, agent, make_user):
    own = make_request(agent, title="我的退款")
    other = make_request(make_user("agent", username="agent2"), title="别人的退款")
    client.force_login(agent)

    assert list(client.get(reverse("approvals:list")).context["page"].items) == [own]
    assert client.get(reverse("approvals:detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("approvals:detail", args=[other.pk])).status_code == 404


def test_detail_shows_steps_and_decision_form_to_the_approver(client, seeded, agent, director):
    request = make_request(agent, amount="120.50", reason="商品破损")
    client.force_login(director)

    response = client.get(reverse("approvals:detail", args=[request.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="approval-step"') == 2
    assert 'data-testid="approval-decide"' in body
    assert f'name="version" value="{request.version}"' in body
    assert "商品破损" in body


def test_requester_sees_cancel_not_decide(client, seeded, agent):
    request = make_request(agent)
    client.force_login(agent)

    body = client.get(reverse("approvals:detail", args=[request.pk])).content.decode()

    assert 'data-testid="approval-decide"' not in body
    assert 'data-testid="approval-cancel"' in body


def test_approve_through_the_form(client, seeded, agent, director):
    request = make_request(agent)
    client.force_login(director)

    response = client.post(
        reverse("approvals:decide", args=[request.pk]),
        {"decision": "approve", "comment": "同意退款", "version": request.version},
    )

    assert response.status_code == 302
    step = ApprovalStep.objects.get(request=request, order=1)
    assert (step.status, step.decided_by, step.comment) == (ApprovalStatus.APPROVED, director, "同意退款")


def test_reject_without_comment_shows_the_error(client, seeded, agent, director):
    request = make_request(agent)
    client.force_login(director)

    response = client.post(
        reverse("approvals:decide", args=[request.pk]),
        {"decision": "reject", "comment": "", "version": request.version},
    )

    assert response.status_code == 422
    assert "驳回时必须填写审批意见" in response.content.decode()
    assert not ApprovalStep.objects.filter(request=request, decided_by__isnull=False).exists()


def test_stale_version_on_the_form_is_409(client, seeded, agent, director, make_user):
    request = make_request(agent)
    seen = request.version
    approval_decide(actor=make_user("director", username="director2"), request=request, approve=True)
    client.force_login(make_user("finance", username="finance"))

    response = client.post(
        reverse("approvals:decide", args=[request.pk]), {"decision": "approve", "comment": "", "version": seen}
    )

    assert response.status_code == 409
    assert "已被他人处理" in response.content.decode()
    assert ApprovalStep.objects.get(request=request, order=2).status == ApprovalStatus.PENDING


def test_wrong_role_on_the_form_is_403_and_nothing_changes(client, seeded, agent, finance):
    request = make_request(agent)
    client.force_login(finance)

    response = client.post(
        reverse("approvals:decide", args=[request.pk]),
        {"decision": "approve", "comment": "", "version": request.version},
    )

    assert response.status_code == 403
    assert "当前环节不由您审批" in response.content.decode()
    assert not ApprovalStep.objects.filter(request=request, decided_by__isnull=False).exists()


def test_requester_cancels_through_the_form(client, seeded, agent):
    request = make_request(agent)
    client.force_login(agent)

    response = client.post(reverse("approvals:cancel", args=[request.pk]), {"version": request.version})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == ApprovalStatus.CANCELLED


def test_others_cannot_cancel(client, seeded, agent, director):
    request = make_request(agent)
    client.force_login(director)

    response = client.post(reverse("approvals:cancel", args=[request.pk]), {"version": request.version})

    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING


# ---------------------------------------------------------------------------- policies


def _policy_post(name, steps, *, version=None, code=None, is_active=True, initial_forms=0):
    data = {
        "name": name,
        "description": "",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(initial_forms),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "20",
    }
    if is_active:
        data["is_active"] = "on"
    if version is not None:
        data["version"] = str(version)
    if code is not None:
        data["code"] = code
    for i, step in enumerate(steps):
        role, amount, order, delete = (*step, None, False)[:4]
        data[f"steps-{i}-role"] = role
        data[f"steps-{i}-min_amount"] = amount or ""
        data[f"steps-{i}-ORDER"] = "" if order is None else str(order)
        if delete:
            data[f"steps-{i}-DELETE"] = "on"
    return data


def test_policy_list_and_edit_page_render(manager_client, seeded):
    policy = ApprovalPolicy.objects.get(code="entertainment")

    listing = manager_client.get(reverse("approvals:policy_list"))
    edit = manager_client.get(reverse("approvals:policy_edit", args=[policy.pk]))

    assert listing.content.decode().count('data-testid="policy-row"') == 3
    assert edit.status_code == 200
    assert edit.context["formset"].total_form_count() == 3 + 2  # the steps and two blank rows


def test_policy_edit_replaces_steps_with_order_and_delete(manager_client, seeded):
    policy = ApprovalPolicy.objects.get(code="entertainment")
    data = _policy_post(
        "请客申请",
        [
            ("supervisor", "", 2, False),
            ("manager", "", 1, False),
            ("director", "2000.00", 3, True),  # removed
            ("director", "3000", None, False),  # a new row, no order: goes last
            ("", "", None, False),  # blank row ignored
        ],
        version=policy.version,
        initial_forms=3,
    )

    response = manager_client.post(reverse("approvals:policy_edit", args=[policy.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert [(s.role.name, s.min_amount) for s in policy.steps.order_by("order")] == [
        ("manager", None),
        ("supervisor", None),
        ("director", Decimal("3000.00")),
    ]
    assert AuditEvent.objects.filter(code="approval_policy.updated", object_id=str(policy.pk)).count() == 1


def test_policy_edit_without_steps_is_refused(manager_client, seeded):
    policy = ApprovalPolicy.objects.get(code="penalty")
    data = _policy_post("处罚建议", [("manager", "", 1, True), ("director", "", 2, True)], version=policy.version)

    response = manager_client.post(reverse("approvals:policy_edit", args=[policy.pk]), data)

    assert response.status_code == 422
    assert "至少需要一个步骤" in response.content.decode()
    assert policy.steps.count() == 2
    assert not AuditEvent.objects.filter(code="approval_policy.updated").exists()


def test_policy_edit_with_stale_version_is_refused(manager_client, seeded):
    policy = ApprovalPolicy.objects.get(code="penalty")
    data = _policy_post("新名称", [("manager", "")], version=policy.version + 3)

    response = manager_client.post(reverse("approvals:policy_edit", args=[policy.pk]), data)

    assert response.status_code == 422
    assert "已被他人修改" in response.content.decode()
    policy.refresh_from_db()
    assert policy.name == "处罚建议"


def test_policy_create_page(manager_client, seeded):
    data = _policy_post("赠品申请", [("manager", ""), ("director", "500")], code="gift")

    response = manager_client.post(reverse("approvals:policy_create"), data)

    assert response.status_code == 302
    gift = ApprovalPolicy.objects.get(code="gift")
    assert [(s.role.name, s.min_amount) for s in gift.steps.order_by("order")] == [
        ("manager", None),
        ("director", Decimal("500.00")),
    ]


def test_policy_pages_need_the_permission(client, seeded, director):
    policy = ApprovalPolicy.objects.first()
    client.force_login(director)

    assert client.get(reverse("approvals:policy_list")).status_code == 403
    response = client.post(reverse("approvals:policy_edit", args=[policy.pk]), _policy_post("x", [("manager", "")]))
    assert response.status_code == 403
    assert not ApprovalRequest.objects.exists()
    assert not AuditEvent.objects.filter(code="approval_policy.updated").exists()
