"""Rows for the staff complaints page: those granted `tickets.view_penaltyproposal`
(经理, 总经理) see it; submitting a flagged proposal needs `tickets.add_penaltyproposal`
(经理, 主管); without the penalty policy the submit is refused with a message (302)."""

from django.urls import reverse
from django.utils import timezone

from tests.permissions.matrix import Row, roles


def _flag(w):
    from kefu.tickets.models import PenaltyProposal

    staff = w.make_user("agent", username="matrix-complained-about")
    return PenaltyProposal.objects.create(staff=staff, reason="三次投诉", created_at=timezone.now())


ROWS = [
    Row("tickets-discipline", lambda w: reverse("tickets:discipline"), roles("manager", "director")),
    Row(
        "tickets-penalty-submit",
        lambda w: reverse("tickets:penalty_submit", args=[_flag(w).pk]),
        roles("manager", "supervisor"),
        method="post",
        data=lambda w: {"amount": ""},
    ),
]
