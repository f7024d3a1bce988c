"""The approvals engine: policies, requests, step-by-step decisions and module handlers."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from kefu.core.errors import AccessDenied, Conflict, InvalidState, ValidationFailed
from kefu.core.models import (
    ApprovalPolicy,
    ApprovalPolicyStep,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStep,
    AuditEvent,
)
from kefu.core.selectors.approvals import (
    ApprovalFilters,
    approval_request_list,
    approval_requests_awaiting,
)
from kefu.core.services import approvals as svc
from kefu.core.services.approvals import (
    approval_cancel,
    approval_decide,
    approval_policies_seed,
    approval_policy_create,
    approval_policy_update,
    approval_request_create,
    register_approval_handler,
)
from tests.factories import DepartmentFactory
from tests.factories_approvals import make_policy, make_request


@pytest.fixture
def people(make_user):
    from types import SimpleNamespace

    return SimpleNamespace(
        agent=make_user("agent", username="agent"),
        director=make_user("director", username="director", scope_all=True),
        finance=make_user("finance", username="finance"),
        supervisor=make_user("supervisor", username="supervisor"),
        manager=make_user("manager", username="manager", scope_all=True),
        admin=make_user("admin", username="admin"),
    )


@pytest.fixture
def seeded(roles):
    return approval_policies_seed()


@pytest.fixture
def handlers(monkeypatch):
    """Registers recording handlers for every default policy; restored afterwards."""
    monkeypatch.setattr(svc, "_HANDLERS", {})
    calls = []

    def recorder(event):
        def handler(request, actor):
            from django.db import connection as conn

            calls.append((event, request.pk, request.status, actor.username, conn.in_atomic_block))

        return handler

    for code in ("refund", "entertainment", "penalty"):
        register_approval_handler(
            code, on_approved=recorder("approved"), on_rejected=recorder("rejected"), on_cancelled=recorder("cancelled")
        )
    return calls


def _codes(request):
    return list(
        AuditEvent.objects.filter(object_type="core.approvalrequest", object_id=str(request.pk))
        .order_by("id")
        .values_list("code", flat=True)
    )


def _step_roles(request):
    return [s.role.name for s in request.steps.select_related("role").order_by("order")]


# ---------------------------------------------------------------------------- policies


def test_seed_creates_the_default_policies_once(roles):
    # Given no policies, when seeding twice
    first = approval_policies_seed()
    second = approval_policies_seed()

    # Then the three defaults exist with their steps, and the second run did nothing
    assert {p.code for p in first} == {"refund", "entertainment", "penalty"}
    assert second == []
    refund = ApprovalPolicy.objects.get(code="refund")
    assert [(s.role.name, s.min_amount) for s in refund.steps.order_by("order")] == [
        ("director", None),
        ("finance", None),
    ]
    entertainment = ApprovalPolicy.objects.get(code="entertainment")
    assert [(s.role.name, s.min_amount) for s in entertainment.steps.order_by("order")] == [
        ("supervisor", None),
        ("manager", None),
        ("director", Decimal("2000.00")),
    ]
    assert AuditEvent.objects.filter(code="approval_policy.created").count() == 3


def test_seed_leaves_a_changed_policy_alone(seeded, manager):
    # Given a manager changed the penalty policy
    penalty = ApprovalPolicy.objects.get(code="penalty")
    approval_policy_update(actor=manager, policy=penalty, name="处罚", steps=[("director", None)])

    # When seeding again
    approval_policies_seed()

    # Then the change stays
    assert _step_roles_of_policy(penalty) == ["director"]


def _step_roles_of_policy(policy):
    return [s.role.name for s in ApprovalPolicyStep.objects.filter(policy=policy).order_by("order")]


def test_policy_update_replaces_steps_in_order_and_audits(seeded, manager):
    policy = ApprovalPolicy.objects.get(code="penalty")

    approval_policy_update(
        actor=manager,
        policy=policy,
        name="处罚建议",
        description="新说明",
        steps=[("supervisor", None), ("director", "500"), ("manager", None)],
        expected_version=policy.version,
    )

    policy.refresh_from_db()
    assert [(s.role.name, s.min_amount) for s in policy.steps.order_by("order")] == [
        ("supervisor", None),
        ("director", Decimal("500.00")),
        ("manager", None),
    ]
    assert policy.version == 2
    event = AuditEvent.objects.get(code="approval_policy.updated")
    assert event.changes["steps"][1] == [["supervisor", None], ["director", "500.00"], ["manager", None]]
    assert event.changes["description"][1] == "新说明"


def test_policy_update_without_changes_writes_nothing(seeded, manager):
    policy = ApprovalPolicy.objects.get(code="penalty")

    approval_policy_update(
        actor=manager,
        policy=policy,
        name=policy.name,
        description=policy.description,
        steps=[("manager", None), ("director", None)],
    )

    policy.refresh_from_db()
    assert policy.version == 1
    assert not AuditEvent.objects.filter(code="approval_policy.updated").exists()


def test_policy_update_with_stale_version_is_refused(seeded, manager):
    policy = ApprovalPolicy.objects.get(code="penalty")

    with pytest.raises(Conflict):
        approval_policy_update(
            actor=manager, policy=policy, name="改名", steps=[("manager", None)], expected_version=policy.version + 1
        )

    policy.refresh_from_db()
    assert policy.name == "处罚建议"
    assert _step_roles_of_policy(policy) == ["manager", "director"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "至少需要一个步骤"),
        ([("nobody", None)], "不存在"),
        ([("manager", "-1")], "不能为负数"),
        ([("manager", "abc")], "不是有效的金额"),
        ([("manager", "1.234")], "两位小数"),
        ([("manager", "1e30")], "过大"),
        ([("manager", "NaN")], "不是有效的金额"),
        ([("manager", "100")], "不设金额起点"),
    ],
)
def test_policy_steps_are_validated_in_chinese(roles, manager, steps, message):
    with pytest.raises(ValidationFailed) as err:
        approval_policy_create(actor=manager, code="custom", name="自定义", steps=steps)

    assert message in err.value.message
    assert not ApprovalPolicy.objects.filter(code="custom").exists()
    assert not AuditEvent.objects.exists()


def test_policy_code_must_be_unique(seeded, manager):
    with pytest.raises(ValidationFailed) as err:
        approval_policy_create(actor=manager, code="refund", name="重复", steps=[("manager", None)])

    assert err.value.details["field"] == "code"
    assert ApprovalPolicy.objects.filter(code="refund").count() == 1


def test_policy_create_needs_the_permission(roles, make_user):
    agent = make_user("agent")

    with pytest.raises(AccessDenied):
        approval_policy_create(actor=agent, code="custom", name="自定义", steps=[("manager", None)])

    assert not ApprovalPolicy.objects.filter(code="custom").exists()


# ---------------------------------------------------------------------------- requests


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1999.99", ["supervisor", "manager"]),
        ("2000.00", ["supervisor", "manager", "director"]),
        ("2000.01", ["supervisor", "manager", "director"]),
        (None, ["supervisor", "manager", "director"]),  # unknown amount: more approval
    ],
)
def test_request_gets_the_steps_for_its_amount(seeded, people, amount, expected):
    request = make_request(people.agent, policy_code="entertainment", amount=amount, title="请客")

    assert _step_roles(request) == expected
    assert list(request.steps.values_list("order", flat=True)) == list(range(1, len(expected) + 1))
    assert request.status == ApprovalStatus.PENDING


def test_request_is_audited_with_subject(seeded, people):
    subject = DepartmentFactory()

    request = approval_request_create(
        actor=people.agent, policy_code="refund", subject=subject, title="退款", reason="质量问题", amount="88.5"
    )

    assert request.subject_type == "core.department"
    assert request.subject_id == str(subject.pk)
    assert request.amount == Decimal("88.50")
    event = AuditEvent.objects.get(code="approval.requested")
    assert event.actor == people.agent
    assert event.data["steps"] == ["director", "finance"]
    assert event.data["subject_id"] == str(subject.pk)


def test_second_pending_request_for_same_subject_is_refused(seeded, people):
    subject = DepartmentFactory()
    make_request(people.agent, subject=subject)

    with pytest.raises(InvalidState) as err:
        make_request(people.agent, subject=subject)

    assert err.value.code == "approval_pending_exists"
    assert ApprovalRequest.objects.count() == 1
    assert AuditEvent.objects.filter(code="approval.requested").count() == 1


def test_a_new_request_is_allowed_once_the_previous_one_ended(seeded, people):
    subject = DepartmentFactory()
    first = make_request(people.agent, subject=subject)
    approval_cancel(actor=people.agent, request=first)

    second = make_request(people.agent, subject=subject)

    assert second.pk != first.pk


def test_request_for_unknown_or_inactive_policy_is_refused(seeded, people, manager):
    penalty = ApprovalPolicy.objects.get(code="penalty")
    approval_policy_update(actor=manager, policy=penalty, name=penalty.name, steps=[("manager", None)], is_active=False)

    for code in ("nope", "penalty"):
        with pytest.raises(InvalidState) as err:
            make_request(people.agent, policy_code=code)
        assert err.value.code == "approval_no_policy"
    assert not ApprovalRequest.objects.exists()


def test_request_needs_a_title_and_a_valid_amount(seeded, people):
    with pytest.raises(ValidationFailed):
        make_request(people.agent, title="  ")
    with pytest.raises(ValidationFailed):
        make_request(people.agent, amount="-5")

    assert not ApprovalRequest.objects.exists()
    assert not ApprovalStep.objects.exists()


def test_policy_change_does_not_touch_existing_requests(seeded, people, manager):
    request = make_request(people.agent)
    refund = ApprovalPolicy.objects.get(code="refund")

    approval_policy_update(actor=manager, policy=refund, name=refund.name, steps=[("manager", None)])

    assert _step_roles(request) == ["director", "finance"]


# ---------------------------------------------------------------------------- decisions


def test_steps_are_decided_in_order_and_last_approval_approves(seeded, people, handlers):
    request = make_request(people.agent)

    # When finance tries first, it is not their step yet
    with pytest.raises(AccessDenied) as err:
        approval_decide(actor=people.finance, request=request, approve=True)
    assert err.value.code == "approval_not_your_step"
    assert not ApprovalStep.objects.exclude(status=ApprovalStatus.PENDING).exists()

    # When the director approves, then finance approves
    approval_decide(actor=people.director, request=request, approve=True, comment="同意")
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING
    assert handlers == []
    approval_decide(actor=people.finance, request=request, approve=True, expected_version=request.version)

    # Then the request is approved, every step records who and when, the handler ran once
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED
    assert request.decided_at is not None
    steps = list(request.steps.order_by("order"))
    assert [(s.status, s.decided_by) for s in steps] == [
        (ApprovalStatus.APPROVED, people.director),
        (ApprovalStatus.APPROVED, people.finance),
    ]
    assert steps[0].comment == "同意"
    assert all(s.decided_at for s in steps)
    assert handlers == [("approved", request.pk, ApprovalStatus.APPROVED, "finance", True)]
    assert _codes(request) == [
        "approval.requested",
        "approval.step.approved",
        "approval.step.approved",
        "approval.approved",
    ]


def test_wrong_role_is_refused_and_nothing_is_written(seeded, people):
    request = make_request(people.agent)
    before = AuditEvent.objects.count()

    for actor in (people.supervisor, people.manager, people.admin, people.finance):
        with pytest.raises(AccessDenied) as err:
            approval_decide(actor=actor, request=request, approve=True)
        assert err.value.code == "approval_not_your_step"

    request.refresh_from_db()
    assert request.version == 1
    assert not ApprovalStep.objects.filter(request=request).exclude(status=ApprovalStatus.PENDING).exists()
    assert AuditEvent.objects.count() == before


def test_requester_may_not_decide_own_request(seeded, people):
    # Given a director asks for a refund (the director is the first step's role)
    request = make_request(people.director)

    with pytest.raises(AccessDenied) as err:
        approval_decide(actor=people.director, request=request, approve=True)

    assert err.value.code == "approval_self_decision"
    assert not ApprovalStep.objects.filter(request=request, decided_by__isnull=False).exists()
    assert _codes(request) == ["approval.requested"]


def test_one_person_decides_at_most_one_step_of_a_request(seeded, people, make_user):
    # Given someone who is both director and finance
    both = make_user("director", "finance", username="both")
    request = make_request(people.agent)
    approval_decide(actor=both, request=request, approve=True)

    # When they try the finance step too
    with pytest.raises(AccessDenied) as err:
        approval_decide(actor=both, request=request, approve=True)

    # Then refused: "director AND finance" means two people
    assert err.value.code == "approval_not_your_step"
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING
    assert list(request.steps.order_by("order").values_list("status", flat=True)) == ["approved", "pending"]
    # And finance still sees it waiting, the person who decided does not
    assert list(approval_requests_awaiting(people.finance)) == [request]
    assert list(approval_requests_awaiting(both)) == []


def test_rejection_needs_a_comment(seeded, people, handlers):
    request = make_request(people.agent)

    with pytest.raises(ValidationFailed) as err:
        approval_decide(actor=people.director, request=request, approve=False, comment="   ")

    assert err.value.details == {"field": "comment"}
    assert "意见" in err.value.message
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING
    assert _codes(request) == ["approval.requested"]
    assert handlers == []


def test_rejection_ends_the_request_and_cancels_later_steps(seeded, people, handlers):
    request = make_request(people.agent, policy_code="entertainment", amount="5000", title="请客")
    approval_decide(actor=people.supervisor, request=request, approve=True)

    approval_decide(actor=people.manager, request=request, approve=False, comment="超标准")

    request.refresh_from_db()
    assert request.status == ApprovalStatus.REJECTED
    assert request.decided_at is not None
    assert list(request.steps.order_by("order").values_list("status", flat=True)) == [
        "approved",
        "rejected",
        "cancelled",
    ]
    assert request.steps.get(order=2).comment == "超标准"
    # The on_rejected handler ran once; on_approved never
    assert handlers == [("rejected", request.pk, ApprovalStatus.REJECTED, "manager", True)]
    assert _codes(request)[-2:] == ["approval.step.rejected", "approval.rejected"]
    # And nobody can decide it any more
    with pytest.raises(InvalidState) as err:
        approval_decide(actor=people.director, request=request, approve=True)
    assert err.value.code == "approval_already_decided"


def test_double_decision_of_the_same_step_records_one_decision(seeded, people, handlers):
    # Given a one-step request
    make_policy(code="onestep", steps=[("manager", None)])
    register_approval_handler("onestep", on_approved=lambda request, actor: handlers.append(("approved",)))
    request = make_request(people.agent, policy_code="onestep", title="处罚")
    version = request.version

    # When the manager's click arrives twice with the version they saw
    approval_decide(actor=people.manager, request=request, approve=True, expected_version=version)
    with pytest.raises(InvalidState) as err:
        approval_decide(actor=people.manager, request=request, approve=True, expected_version=version)

    # Then exactly one decision, one audit event, one handler call
    assert err.value.code == "approval_already_decided"
    assert ApprovalStep.objects.filter(request=request, decided_by__isnull=False).count() == 1
    assert _codes(request).count("approval.step.approved") == 1
    assert [c[0] for c in handlers] == ["approved"]


def test_stale_version_is_a_conflict_and_writes_nothing(seeded, people, make_user):
    # Given two directors looking at the same request; the first approves
    other_director = make_user("director", username="director2")
    request = make_request(people.agent)
    seen_version = request.version
    approval_decide(actor=people.director, request=request, approve=True, expected_version=seen_version)

    # When finance submits with the version they saw before that
    with pytest.raises(Conflict) as err:
        approval_decide(actor=people.finance, request=request, approve=True, expected_version=seen_version)

    # Then 409, and the finance step is still pending
    assert err.value.status == 409
    assert request.steps.get(order=2).status == ApprovalStatus.PENDING
    # And the second director, double-clicking with the old version, decides nothing either
    with pytest.raises(Conflict):
        approval_decide(actor=other_director, request=request, approve=True, expected_version=seen_version)
    assert ApprovalStep.objects.filter(request=request, decided_by__isnull=False).count() == 1
    assert _codes(request).count("approval.step.approved") == 1


def test_handler_error_rolls_the_decision_back(seeded, people, monkeypatch):
    monkeypatch.setattr(svc, "_HANDLERS", {})

    def explode(request, actor):
        raise InvalidState("付款失败")

    register_approval_handler("refund", on_approved=explode)
    request = make_request(people.agent)
    approval_decide(actor=people.director, request=request, approve=True)

    with pytest.raises(InvalidState):
        approval_decide(actor=people.finance, request=request, approve=True)

    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING
    assert request.steps.get(order=2).status == ApprovalStatus.PENDING
    assert "approval.approved" not in _codes(request)


def test_handler_writes_commit_with_the_decision(seeded, people, monkeypatch):
    # A module's handler creates its own row under the same transaction (here an audit
    # event stands in for e.g. a payout row).
    from kefu.core.audit import audit_record

    monkeypatch.setattr(svc, "_HANDLERS", {})
    register_approval_handler(
        "refund", on_approved=lambda request, actor: audit_record(code="refund.paid", obj=request, actor=actor)
    )
    request = make_request(people.agent)
    approval_decide(actor=people.director, request=request, approve=True)
    approval_decide(actor=people.finance, request=request, approve=True)

    assert AuditEvent.objects.filter(code="refund.paid", object_id=str(request.pk)).count() == 1


# ---------------------------------------------------------------------------- cancel


def test_requester_cancels_a_pending_request(seeded, people, handlers):
    request = make_request(people.agent)

    approval_cancel(actor=people.agent, request=request)

    request.refresh_from_db()
    assert request.status == ApprovalStatus.CANCELLED
    assert set(request.steps.values_list("status", flat=True)) == {"cancelled"}
    assert _codes(request)[-1] == "approval.cancelled"
    assert handlers == [("cancelled", request.pk, ApprovalStatus.CANCELLED, "agent", True)]
    assert list(approval_requests_awaiting(people.director)) == []


def test_manager_may_cancel_others_may_not(seeded, people, make_user):
    request = make_request(people.agent)
    other_agent = make_user("agent", username="agent2")

    for actor in (other_agent, people.director):
        with pytest.raises(AccessDenied):
            approval_cancel(actor=actor, request=request)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING
    assert _codes(request) == ["approval.requested"]

    approval_cancel(actor=people.manager, request=request)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.CANCELLED


def test_a_decided_request_cannot_be_cancelled(seeded, people):
    request = make_request(people.agent)
    approval_decide(actor=people.director, request=request, approve=False, comment="不符合条件")

    with pytest.raises(InvalidState) as err:
        approval_cancel(actor=people.agent, request=request)

    assert err.value.code == "approval_already_decided"
    request.refresh_from_db()
    assert request.status == ApprovalStatus.REJECTED


# ---------------------------------------------------------------------------- selectors


def test_awaiting_lists_current_step_for_my_roles_only(seeded, people):
    refund = make_request(people.agent)
    own = make_request(people.director)  # the director's own request waits for… the director
    done = make_request(people.agent)
    approval_cancel(actor=people.agent, request=done)

    assert list(approval_requests_awaiting(people.director)) == [refund]
    assert list(approval_requests_awaiting(people.finance)) == []
    assert own not in approval_requests_awaiting(people.director)

    approval_decide(actor=people.director, request=refund, approve=True)
    assert list(approval_requests_awaiting(people.director)) == []
    assert list(approval_requests_awaiting(people.finance)) == [refund]


def test_list_is_restricted_by_permission_plus_own(seeded, people, make_user):
    mine = make_request(people.agent)
    theirs = make_request(people.supervisor, policy_code="penalty", title="处罚")
    other_agent = make_user("agent", username="agent2")

    assert set(approval_request_list(people.director)) == {mine, theirs}
    assert set(approval_request_list(people.agent)) == {mine}
    assert set(approval_request_list(other_agent)) == set()
    assert set(approval_request_list(people.admin)) == set()
    assert set(approval_request_list(people.director, ApprovalFilters(policy="penalty"))) == {theirs}
    assert set(approval_request_list(people.director, ApprovalFilters(status="approved"))) == set()
    assert set(approval_request_list(people.supervisor, ApprovalFilters(mine=True))) == {theirs}


def test_list_shows_requests_a_user_takes_part_in_without_the_permission(seeded, people, make_user, roles):
    # Given a custom role without the view permission that approves penalties
    from django.contrib.auth.models import Group

    Group.objects.create(name="foreman")
    foreman = make_user(username="foreman")
    foreman.groups.add(Group.objects.get(name="foreman"))
    penalty = ApprovalPolicy.objects.get(code="penalty")
    approval_policy_update(actor=people.manager, policy=penalty, name=penalty.name, steps=[("foreman", None)])
    request = make_request(people.agent, policy_code="penalty")

    # Then the foreman sees it while it waits for them, and after deciding it
    assert set(approval_request_list(foreman)) == {request}
    approval_decide(actor=foreman, request=request, approve=True)
    assert set(approval_request_list(foreman)) == {request}


def test_list_queries_do_not_grow_with_rows(seeded, people, django_assert_max_num_queries):
    from kefu.core.selectors.approvals import decorate

    for _ in range(5):
        make_request(people.agent)

    with django_assert_max_num_queries(4):
        rows = decorate(list(approval_request_list(people.director)))
        for row in rows:
            [s.role_label for s in row.steps.all()]
            str(row.requested_by), row.policy.name
    assert len(rows) == 5


# ---------------------------------------------------------------------------- concurrency


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_click_produces_one_decision(roles, make_user):
    # Given a one-step request and the same approver clicking twice at the same moment
    approval_policies_seed()
    agent = make_user("agent", username="c-agent")
    manager = make_user("manager", username="c-manager")
    make_policy(code="onestep", steps=[("manager", None)])
    request = make_request(agent, policy_code="onestep")
    barrier = threading.Barrier(2)
    outcomes = []

    def click():
        from django.db import connections

        try:
            barrier.wait()
            approval_decide(actor=manager, request=ApprovalRequest.objects.get(pk=request.pk), approve=True)
            outcomes.append("ok")
        except (InvalidState, Conflict, AccessDenied) as err:
            outcomes.append(err.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["approval_already_decided", "ok"]
    assert ApprovalStep.objects.filter(request=request, decided_by__isnull=False).count() == 1


def test_deciders_and_requester_are_notified_after_commit(seeded, people, django_capture_on_commit_callbacks):
    from kefu.notify.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(people.agent)
    # The refund policy starts with the director: only directors hear of it, not the requester.
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["director"]
    assert Notification.objects.get().link == f"/approvals/{request.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=people.director, request=request, approve=True)
    assert Notification.objects.filter(recipient=people.finance).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=people.finance, request=request, approve=True)
    outcome = Notification.objects.get(recipient=people.agent)
    assert "已批准" in outcome.title


def test_nothing_is_notified_when_the_decision_fails(seeded, people, django_capture_on_commit_callbacks):
    from kefu.notify.models import Notification

    request = make_request(people.agent)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(AccessDenied):
        approval_decide(actor=people.finance, request=request, approve=True)
    assert not Notification.objects.filter(recipient=people.finance).exists()
