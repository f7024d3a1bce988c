"""Working one visit (回访办理): the customer's context and ONE form on the same screen —
outcome by access key 1–5, the questionnaire's questions, notes, next action, call-back
time, the verdict on a ticket-confirmation visit, arrival/deal, the channel and an
optional "problem found → ticket" — posted to `visit_record` with the version the page
showed (a stale one is a 409 with the service's Chinese message). Saved → the next visit
of the agent's due list. The same page is the account manager's on-site form on a phone.

Rescheduling has its own small form (here and on its own page from the list)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kefu.core import access
from kefu.core.errors import Conflict, KefuError
from kefu.core.forms import add_service_error
from kefu.core.pii import may_reveal
from kefu.core.views.base import require_perm
from kefu.customers.selectors import customer_base
from kefu.visits.choices import VisitStatus
from kefu.visits.forms import VisitRecordForm, VisitRescheduleForm, add_record_error
from kefu.visits.models import Visit
from kefu.visits.selectors import visit_base
from kefu.visits.services.visits import visit_record, visit_reschedule
from kefu.visits.views.common import RECORD, VIEW, next_due, next_url, safe_back, visible_visit

OPEN_TICKETS = 10
LAST_VISITS = 5
# Access keys of the outcomes, in the order of Outcome (reached, no answer, wrong number,
# refused, call back).
OUTCOME_KEYS = "12345"


def _history(user, visit: Visit, *, customer_visible: bool) -> list[Visit]:
    """The customer's last worked visits. Whoever may see the customer sees them all (the
    customer's timeline shows the same outcomes); otherwise only visits in their own
    visit scope."""
    base = Visit.objects.filter(customer_id=visit.customer_id) if customer_visible else visit_base(user)
    return list(
        base.filter(customer_id=visit.customer_id, status__in=(VisitStatus.DONE, VisitStatus.FAILED))
        .exclude(pk=visit.pk)
        .select_related("done_by", "assignee")
        .order_by("-done_at", "-id")[:LAST_VISITS]
    )


def _answered(visit: Visit) -> list[tuple[str, str]]:
    """The recorded answers beside their questions (as the version asked them)."""
    version = visit.questionnaire_version
    rows = []
    for question in version.questions if version else []:
        value = (visit.answers or {}).get(question["key"])
        if value in (None, "", []):
            continue
        rows.append((question["text"], "、".join(map(str, value)) if isinstance(value, list) else str(value)))
    return rows


def _context(request, visit: Visit, *, form, reschedule_form, error: str = "") -> dict:
    from kefu.tickets.selectors import open_tickets_of_customer

    user = request.user
    customer = visit.customer
    customer_visible = customer_base(user).filter(pk=customer.pk).exists()
    may_record = visit.status == VisitStatus.PLANNED and access.has_perm(user, RECORD)
    following = next_due(user, after=visit) if may_record else None
    outcomes = []
    if form is not None:
        for key, option in zip(OUTCOME_KEYS, form["outcome"], strict=False):
            outcomes.append({"key": key, "option": option})
    return {
        "visit": visit,
        "error": error,
        "answered": _answered(visit),
        "customer": customer,
        "customer_visible": customer_visible,
        "contacts": list(customer.contacts.order_by("-is_primary", "id")),
        "can_reveal": may_reveal(user) and customer_visible,
        "open_tickets": list(open_tickets_of_customer(user=user, customer_id=customer.pk)[:OPEN_TICKETS]),
        "history": _history(user, visit, customer_visible=customer_visible),
        "form": form if may_record else None,
        "outcomes": outcomes,
        "reschedule_form": reschedule_form if may_record else None,
        "next_visit": following,
        "overdue_days": max((timezone.localdate() - visit.due_date).days, 0)
        if visit.status == VisitStatus.PLANNED
        else 0,
    }


def _reschedule_form(visit: Visit, data=None) -> VisitRescheduleForm:
    return VisitRescheduleForm(data, initial={"due_date": visit.due_date})


@require_perm(VIEW)
@require_http_methods(["GET", "HEAD", "POST"])
def visit_work(request, pk: int):
    user = request.user
    visit = visible_visit(request, pk)
    status, error = 200, ""
    if request.method != "POST":
        form = VisitRecordForm(visit=visit, user=user)
        context = _context(request, visit, form=form, reschedule_form=_reschedule_form(visit))
        return render(request, "visits/work.html", context)
    if not access.has_perm(user, RECORD):
        raise PermissionDenied
    form = VisitRecordForm(request.POST, visit=visit, user=user)
    if not form.is_valid():
        status, error = 422, _("请检查标红的项目。")
    else:
        data = form.cleaned_data
        was_due = visit.due_date
        try:
            saved = visit_record(
                actor=user,
                visit=visit,
                outcome=data["outcome"],
                channel=data["channel"],
                answers=form.answers(),
                notes=data.get("notes") or "",
                next_action=data.get("next_action") or "",
                call_back_at=data.get("call_back_at"),
                satisfied=form.satisfied_value() if "satisfied" in form.fields else None,
                arrived=bool(data.get("arrived")),
                deal=bool(data.get("deal")),
                deal_amount=data.get("deal_amount"),
                problem=form.problem_input() if form.may_create_ticket else None,
                expected_version=data.get("version"),
            )
        except KefuError as err:
            add_record_error(form, err)
            status, error = err.status, err.message
            visit = visible_visit(request, pk)
            if isinstance(err, Conflict):
                # The page now shows the visit as stored; what was typed may be sent
                # again against the current version if the visit is still open.
                form.data = form.data.copy()
                form.data["version"] = visit.version
        else:
            messages.success(request, _saved_message(saved))
            return redirect(next_url(user, after=saved, due_date=was_due))
    context = _context(request, visit, form=form, reschedule_form=_reschedule_form(visit), error=error)
    return render(request, "visits/work.html", context, status=status)


def _saved_message(visit: Visit) -> str:
    text = _("已记录：%(customer)s，%(outcome)s。") % {
        "customer": visit.customer.name,
        "outcome": visit.get_outcome_display(),
    }
    if visit.status == VisitStatus.PLANNED:
        text += _("已改到 %(date)s 再联系。") % {"date": visit.due_date.isoformat()}
    if visit.created_ticket_id:
        text += _("已创建工单 %(number)s。") % {"number": visit.created_ticket.number}
    return text


@require_perm(RECORD)
@require_http_methods(["GET", "HEAD", "POST"])
def visit_reschedule_view(request, pk: int):
    """改期: a new due date with a reason. From the work page (`then=next`: on to the
    next visit) or from the list (`back`)."""
    user = request.user
    visit = visible_visit(request, pk)
    form = _reschedule_form(visit, request.POST if request.method == "POST" else None)
    back = safe_back(request, request.POST.get("back") or request.GET.get("back"), reverse("visits:work", args=[pk]))
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        else:
            was_due = visit.due_date
            try:
                saved = visit_reschedule(
                    actor=user,
                    visit=visit,
                    due_date=form.cleaned_data["due_date"],
                    reason=form.cleaned_data.get("reason") or "",
                )
            except KefuError as err:
                add_service_error(form, err)
                status = err.status
            else:
                messages.success(
                    request,
                    _("已改期：%(customer)s 改到 %(date)s。")
                    % {"customer": saved.customer.name, "date": saved.due_date.isoformat()},
                )
                if request.POST.get("then") == "next":
                    return redirect(next_url(user, after=saved, due_date=was_due))
                return redirect(back)
    return render(request, "visits/reschedule.html", {"visit": visit, "form": form, "back": back}, status=status)
