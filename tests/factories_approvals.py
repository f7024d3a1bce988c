"""Factories for the approvals engine: policies and requests go through the services,
so a test's starting point obeys the same rules as production data."""

from kefu.core.services.approvals import approval_policy_create, approval_request_create
from tests.factories import DepartmentFactory


def make_policy(code="refund", steps=(("director", None), ("finance", None)), **fields):
    """A policy with `steps` [(role_code, min_amount)…] (the role groups must exist)."""
    fields.setdefault("name", f"流程 {code}")
    return approval_policy_create(actor=None, code=code, steps=list(steps), **fields)


def make_request(requester, policy_code="refund", subject=None, amount=None, title="退款申请", **fields):
    """A pending request by `requester` about `subject` (a fresh department if none)."""
    subject = subject if subject is not None else DepartmentFactory()
    return approval_request_create(
        actor=requester, policy_code=policy_code, subject=subject, title=title, amount=amount, **fields
    )
