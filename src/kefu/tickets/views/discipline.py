"""员工被投诉统计: complaints against each staff member per month (seed 003: the third
complaint flags a penalty) and the penalty proposals, flagged or proposed on tickets,
with the form that sends a flagged one to approval."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.models import User
from kefu.core.views.base import require_perm
from kefu.tickets.models import PenaltyProposal, TicketSettings
from kefu.tickets.selectors import ticket_base
from kefu.tickets.services.discipline import PROPOSE, VIEW_PENALTIES, complaints_against, penalty_submit


def _month(raw: str | None) -> datetime.date:
    """`2026-11` → 1 Nov 2026; anything else → this month."""
    try:
        year, month = (int(part) for part in (raw or "").split("-", 1))
        return datetime.date(year, month, 1)
    except (TypeError, ValueError):
        return timezone.localdate().replace(day=1)


@require_perm(VIEW_PENALTIES)
def discipline(request):
    month = _month(request.GET.get("month"))
    counts = list(complaints_against(month, tickets=ticket_base(request.user)))
    staff = User.objects.in_bulk([row["against_staff"] for row in counts])
    limit = TicketSettings.current().complaints_per_month_limit
    rows = [{"staff": staff.get(row["against_staff"]), "count": row["n"], "over": row["n"] >= limit} for row in counts]
    proposals = PenaltyProposal.objects.select_related("staff", "ticket", "approval").order_by("-created_at")[:200]
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "tickets/discipline.html",
        {
            "month": month,
            "previous": previous,
            "following": following,
            "rows": rows,
            "limit": limit,
            "proposals": proposals,
            "can_submit": access.has_perm(request.user, PROPOSE),
        },
    )


@require_POST
@require_perm(PROPOSE)
def penalty_submit_view(request, pk: int):
    proposal = get_object_or_404(PenaltyProposal, pk=pk)
    try:
        penalty_submit(
            actor=request.user,
            proposal=proposal,
            amount=request.POST.get("amount", ""),
            reason=request.POST.get("reason", ""),
        )
    except KefuError as err:
        messages.error(request, err.message)
        return redirect(reverse("tickets:discipline"))
    messages.success(request, _("处罚建议已提交审批。"))
    return redirect(reverse("tickets:discipline"))
