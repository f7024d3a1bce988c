"""Rows for the approvals pages and API.

A request made by an agent under the `penalty` policy (first step: manager) is visible
to the roles with `core.view_approvalrequest` (manager, supervisor, finance, director);
to everyone else it does not exist (404). Only a manager may decide its first step."""

from django.urls import reverse

from kefu.core.services.approvals import approval_policies_seed
from tests.factories_approvals import make_request
from tests.permissions.matrix import EVERY_ROLE, Row, roles

VIEWERS = roles("manager", "supervisor", "finance", "director")
MANAGERS = roles("manager", "admin")


def _request(w):
    approval_policies_seed()
    requester = w.make_user("agent", username="matrix-requester")
    return make_request(requester, policy_code="penalty", title="处罚建议")


def _policy(w):
    from kefu.core.models import ApprovalPolicy

    approval_policies_seed()
    return ApprovalPolicy.objects.get(code="penalty")


ROWS = [
    Row("approvals-awaiting", lambda w: reverse("approvals:awaiting"), EVERY_ROLE),
    Row("approvals-list", lambda w: reverse("approvals:list"), EVERY_ROLE),
    Row(
        "approvals-detail",
        lambda w: reverse("approvals:detail", args=[_request(w).pk]),
        VIEWERS,
        denied_status=(404,),
    ),
    Row(
        "approvals-decide",
        lambda w: reverse("approvals:decide", args=[_request(w).pk]),
        roles("manager"),
        method="post",
        data=lambda w: {"decision": "approve", "comment": "", "version": 1},
        denied_status=(403, 404),
    ),
    Row(
        "approvals-cancel",
        lambda w: reverse("approvals:cancel", args=[_request(w).pk]),
        roles("manager"),
        method="post",
        data=lambda w: {"version": 1},
        denied_status=(403, 404),
    ),
    Row("approvals-policy-list", lambda w: reverse("approvals:policy_list"), MANAGERS),
    Row("approvals-policy-create", lambda w: reverse("approvals:policy_create"), MANAGERS),
    Row("approvals-policy-edit", lambda w: reverse("approvals:policy_edit", args=[_policy(w).pk]), MANAGERS),
    Row("api-approvals-list", lambda w: "/api/v1/approvals", EVERY_ROLE, api=True),
    Row("api-approvals-awaiting", lambda w: "/api/v1/approvals/awaiting", EVERY_ROLE, api=True),
    Row(
        "api-approvals-detail",
        lambda w: f"/api/v1/approvals/{_request(w).pk}",
        VIEWERS,
        api=True,
        denied_status=(404,),
    ),
]
