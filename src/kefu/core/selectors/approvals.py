"""Reads of the approvals engine, already scoped to the user.

Who sees a request: holders of `core.view_approvalrequest` see them all (the model has
no region or department); everyone else sees the requests they made, the ones waiting
for them and the ones they decided a step of."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from kefu.core import access
from kefu.core.models import ApprovalPolicy, ApprovalRequest, ApprovalStatus, ApprovalStep
from kefu.core.roles import role_name
from kefu.core.services.approvals import VIEW_APPROVALS, current_step, decision_refusal


def _with_related(queryset: QuerySet) -> QuerySet:
    """What a list row or a detail page shows, in a fixed number of queries."""
    return queryset.select_related("policy", "requested_by").prefetch_related(
        Prefetch("steps", queryset=ApprovalStep.objects.select_related("role", "decided_by").order_by("order"))
    )


def _current_role_subquery() -> Subquery:
    return Subquery(
        ApprovalStep.objects.filter(request=OuterRef("pk"), status=ApprovalStatus.PENDING)
        .order_by("order")
        .values("role_id")[:1]
    )


def _awaiting_q(user) -> Q:
    """Pending requests whose current step is for one of `user`'s roles, which they did
    not make and of which they decided no earlier step (the rules of `approval_decide`).
    Needs the `current_role_id` annotation."""
    decided_by_user = ApprovalStep.objects.filter(request=OuterRef("pk"), decided_by=user.pk)
    return (
        Q(status=ApprovalStatus.PENDING, current_role_id__in=user.groups.values("pk"))
        & ~Q(requested_by=user.pk)
        & ~Q(Exists(decided_by_user))
    )


def approval_requests_awaiting(user) -> QuerySet[ApprovalRequest]:
    """The requests `user` can decide now ("待我审批"), oldest first."""
    if not (user and user.is_authenticated and user.is_active):
        return ApprovalRequest.objects.none()
    qs = ApprovalRequest.objects.annotate(current_role_id=_current_role_subquery()).filter(_awaiting_q(user))
    return _with_related(qs).order_by("created_at", "id")


def approval_request_visible(user) -> QuerySet[ApprovalRequest]:
    """Every request `user` may open (see the module docstring)."""
    if not (user and user.is_authenticated and user.is_active):
        return ApprovalRequest.objects.none()
    qs = ApprovalRequest.objects.all()
    if access.has_perm(user, VIEW_APPROVALS):
        return access.restrict(qs, user, VIEW_APPROVALS)
    involved = ApprovalStep.objects.filter(request=OuterRef("pk"), decided_by=user.pk)
    return qs.annotate(current_role_id=_current_role_subquery()).filter(
        Q(requested_by=user.pk) | Q(Exists(involved)) | _awaiting_q(user)
    )


@dataclass(frozen=True)
class ApprovalFilters:
    status: str | None = None
    policy: str | None = None  # policy code
    subject_type: str | None = None
    subject_id: str | None = None
    mine: bool = False  # only the requests `user` made


def approval_request_list(user, filters: ApprovalFilters | None = None) -> QuerySet[ApprovalRequest]:
    """The requests `user` may see, filtered, newest first (key: `-created_at, -id`)."""
    filters = filters or ApprovalFilters()
    qs = approval_request_visible(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.policy:
        qs = qs.filter(policy__code=filters.policy)
    if filters.subject_type:
        qs = qs.filter(subject_type=filters.subject_type)
    if filters.subject_id:
        qs = qs.filter(subject_id=filters.subject_id)
    if filters.mine:
        qs = qs.filter(requested_by=user.pk)
    return _with_related(qs).order_by("-created_at", "-id")


def approval_request_get(user, pk) -> ApprovalRequest | None:
    """One request with its steps, or None when absent or not visible."""
    return _with_related(approval_request_visible(user)).filter(pk=pk).first()


def approval_policy_list(user) -> QuerySet[ApprovalPolicy]:
    """Policies with their steps, for those who manage them."""
    qs = access.restrict(ApprovalPolicy.objects.all(), user, "core.manage_approvals")
    return qs.prefetch_related("steps__role").order_by("code")


def approval_policy_choices() -> QuerySet[ApprovalPolicy]:
    """Policy codes and names for filters (no steps: not a configuration view)."""
    return ApprovalPolicy.objects.only("code", "name").order_by("name")


def approval_can_decide(user, request: ApprovalRequest) -> bool:
    """Whether to offer `user` the approve/reject buttons (the service decides again)."""
    return decision_refusal(actor=user, request=request, steps=list(request.steps.all())) is None


def approval_can_cancel(user, request: ApprovalRequest) -> bool:
    return request.status == ApprovalStatus.PENDING and (
        request.requested_by_id == user.pk or access.has_perm(user, "core.manage_approvals")
    )


def decorate(requests):
    """Give each request (steps prefetched) `current` (its current step or None) and each
    step `role_label` (the role's display name), for templates and API output."""
    for request in requests:
        steps = list(request.steps.all())
        for step in steps:
            step.role_label = role_name(step.role.name)
        request.current = current_step(steps)
    return requests
