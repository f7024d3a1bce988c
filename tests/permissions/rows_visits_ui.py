"""Rows for the return-visit pages: the call list for every role that sees visits; the
work page for those whose scope reaches a visit of their region assigned to somebody
else (an agent sees only their own: 404); recording and rescheduling for those who
record visits in that scope; planning by hand, oversight, the monthly archive and bulk
reassignment for the roles granted them."""

from django.urls import reverse
from django.utils import timezone

from kefu.core.models import User
from kefu.visits.services.visits import visit_create
from tests.factories_customers import make_customer
from tests.permissions.matrix import Row, roles

VIEWERS = roles("manager", "supervisor", "agent", "account_manager", "quality_officer", "director")
REGION_VIEWERS = roles("manager", "supervisor", "account_manager", "quality_officer", "director")
RECORDERS_IN_SCOPE = roles("manager", "supervisor", "account_manager")
PLANNERS = roles("manager", "supervisor", "agent", "account_manager")
EXPORTERS = roles("manager", "supervisor", "director")
REASSIGNERS = roles("manager", "supervisor")
OWNER = "matrix-visit-owner"


def _owner(w):
    return User.objects.filter(username=OWNER).first() or w.make_user("manager", username=OWNER, scope_all=True)


def _customer(w):
    return make_customer(_owner(w), name="矩阵回访客户", region=w.region)


def _visit(w):
    """A visit in the matrix users' region, assigned to somebody else."""
    visit = visit_create(
        actor=_owner(w),
        customer=_customer(w),
        visit_type="满意度回访",
        due_date=timezone.localdate(),
        assignee=_owner(w),
    )
    w.visit = visit
    return visit


def _acting_user(w):
    """The role's matrix user (the owner when the row runs anonymously)."""
    return User.objects.filter(username__startswith="matrix-").exclude(username=OWNER).first() or _owner(w)


def _url(name):
    return lambda w: reverse(f"visits:{name}")


def _visit_url(name):
    return lambda w: reverse(f"visits:{name}", args=[_visit(w).pk])


ROWS = [
    Row("visits-list", _url("list"), VIEWERS),
    Row("visits-list-team", lambda w: reverse("visits:list") + "?tab=team", VIEWERS),
    Row("visits-work", _visit_url("work"), REGION_VIEWERS, denied_status=(403, 404)),
    Row(
        "visits-record",
        _visit_url("work"),
        RECORDERS_IN_SCOPE,
        method="post",
        data=lambda w: {"version": w.visit.version, "outcome": "no_answer", "channel": "phone"},
        denied_status=(403, 404),
    ),
    Row(
        "visits-reschedule",
        _visit_url("reschedule"),
        RECORDERS_IN_SCOPE,
        method="post",
        data=lambda w: {"due_date": timezone.localdate().isoformat(), "reason": "矩阵"},
        denied_status=(403, 404),
    ),
    Row("visits-create", _url("create"), PLANNERS),
    Row(
        "visits-create-post",
        _url("create"),
        PLANNERS,
        method="post",
        data=lambda w: {
            "customer": _customer(w).pk,
            "visit_type": "跟踪回访",
            "due_date": timezone.localdate().isoformat(),
            "channel": "phone",
        },
    ),
    Row("visits-oversight", _url("oversight"), REGION_VIEWERS),
    Row("visits-archive", lambda w: reverse("visits:archive") + "?month=2026-11", EXPORTERS),
    Row(
        "visits-reassign-preview",
        _url("reassign"),
        REASSIGNERS,
        method="post",
        data=lambda w: {"ids": [_visit(w).pk], "assignee": _acting_user(w).pk},
    ),
    Row(
        "visits-reassign",
        _url("reassign"),
        REASSIGNERS,
        method="post",
        data=lambda w: {"ids": [_visit(w).pk], "assignee": _acting_user(w).pk, "confirm": "1"},
    ),
]
