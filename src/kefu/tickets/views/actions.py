"""The ticket page's moves on the ticket itself: one POST view per action, each calling
its service. Done → a message and back to the page (plain POST + redirect); refused →
the page again with the form as typed and the service's Chinese message, at the
refusal's 4xx status (409 for a stale version or an illegal move), never a 500."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kefu.core.errors import Conflict, KefuError, NotFound, ValidationFailed
from kefu.core.forms import add_service_error
from kefu.core.views.base import require_perm
from kefu.customers.views.archive import is_htmx
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import ticket_by_number
from kefu.tickets.services import escalation, flow
from kefu.tickets.services import tickets as ticket_services
from kefu.tickets.services.common import CHANGE, CONFIRM, MARK_IMPORTANT, RESOLVE, ROUTE, SUPERVISE, VIEW
from kefu.tickets.services.discipline import penalty_propose
from kefu.tickets.views.detail import Failed, history_context, make_form, render_page, visible_ticket


def ticket_action(view):
    """POST only. A GET — the address bar still showing an action after a refused
    form, a bookmark — goes back to the ticket page instead of an error."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method in ("GET", "HEAD"):
            return redirect("tickets:detail", pk=kwargs["pk"])
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, *args, **kwargs)

    return wrapper


def perform(request, ticket: Ticket, name: str, form, run: Callable[[dict], object], success: str, *, target=None):
    """Check the form, run the service; a message and the page on success, else the
    page with the form's or the service's refusal (nothing was written: each service
    runs in one transaction)."""
    if form is not None and not form.is_valid():
        return render_page(request, ticket, failed=Failed(name, form, target=target), status=422)
    try:
        run(form.cleaned_data if form is not None else {})
    except KefuError as err:
        fresh = visible_ticket(request, ticket.pk)
        if form is not None:
            add_service_error(form, err)
            if isinstance(err, Conflict) and "version" in form.fields:
                # The page shows the ticket as it is now, so what was typed may be sent
                # again against the current version (the edit page, which shows only the
                # form, keeps the old one instead).
                form.data = form.data.copy()
                form.data["version"] = fresh.version
        return render_page(request, fresh, failed=Failed(name, form, err.message, target), status=err.status)
    messages.success(request, success)
    return redirect("tickets:detail", pk=ticket.pk)


def _bound(request, name: str, pk: int):
    ticket = visible_ticket(request, pk)
    return ticket, make_form(name, request.POST, ticket=ticket, user=request.user)


def other_ticket(request, number: str) -> Ticket:
    """The ticket a number names, among those the user may see (a 422 on the field
    otherwise: a typo, not a missing page)."""
    try:
        return ticket_by_number(user=request.user, number=number)
    except NotFound:
        raise ValidationFailed(
            _("找不到工单 %(no)s，或该工单不在您的可见范围内。") % {"no": number.strip()}, details={"field": "number"}
        ) from None


@require_perm(CHANGE)
@ticket_action
def ticket_assign_view(request, pk: int):
    ticket, form = _bound(request, "assign", pk)
    return perform(
        request,
        ticket,
        "assign",
        form,
        lambda d: ticket_services.ticket_assign(
            actor=request.user, ticket=ticket, assignee=d["assignee"], expected_version=d.get("version")
        ),
        _("负责人已更新。"),
    )


@require_perm(ROUTE)
@ticket_action
def ticket_route_view(request, pk: int):
    ticket, form = _bound(request, "route", pk)
    return perform(
        request,
        ticket,
        "route",
        form,
        lambda d: flow.ticket_route(
            actor=request.user,
            ticket=ticket,
            departments=list(d["departments"]),
            instructions=d.get("instructions") or "",
            due_at=d.get("due_at"),
            expected_version=d.get("version"),
        ),
        _("已派单，告知单已发给责任部门。"),
    )


@require_perm(RESOLVE)
@ticket_action
def ticket_resolve_view(request, pk: int):
    """The outcome, and the penalty proposal with it when asked: both or neither."""
    ticket, form = _bound(request, "resolve", pk)

    def run(d):
        with transaction.atomic():
            resolved = flow.ticket_resolve(
                actor=request.user,
                ticket=ticket,
                resolution=d["resolution"],
                cause_analysis=d.get("cause_analysis") or "",
                responsible_party=d.get("responsible_party") or "",
                responsible_department=d.get("responsible_department"),
                expected_version=d.get("version"),
            )
            if d.get("propose_penalty"):
                penalty_propose(
                    actor=request.user,
                    ticket=resolved,
                    reason=d.get("penalty_reason") or "",
                    staff=d.get("penalty_staff"),
                    responsible_party=d.get("responsible_party") or "",
                    amount=d.get("penalty_amount"),
                )

    return perform(request, ticket, "resolve", form, run, _("已填写处理结果。"))


@require_perm(CONFIRM)
@ticket_action
def ticket_confirm_view(request, pk: int):
    ticket, form = _bound(request, "confirm", pk)
    satisfied = form.is_valid() and form.cleaned_data["satisfied"]
    return perform(
        request,
        ticket,
        "confirm",
        form,
        lambda d: flow.ticket_confirm(
            actor=request.user,
            ticket=ticket,
            satisfied=d["satisfied"],
            score=d.get("score"),
            note=d.get("note") or "",
            expected_version=d.get("version"),
        ),
        _("已记录回访：客户满意。") if satisfied else _("客户不满意，工单已重新打开。"),
    )


@require_perm(CONFIRM)
@ticket_action
def ticket_reopen_view(request, pk: int):
    ticket, form = _bound(request, "reopen", pk)
    return perform(
        request,
        ticket,
        "reopen",
        form,
        lambda d: flow.ticket_reopen(
            actor=request.user, ticket=ticket, reason=d["reason"], expected_version=d.get("version")
        ),
        _("工单已重新打开。"),
    )


@require_perm(CONFIRM)
@ticket_action
def ticket_close_view(request, pk: int):
    ticket, form = _bound(request, "close", pk)
    return perform(
        request,
        ticket,
        "close",
        form,
        lambda d: flow.ticket_close(
            actor=request.user, ticket=ticket, note=d.get("reason") or "", expected_version=d.get("version")
        ),
        _("工单已关闭。"),
    )


@require_perm(CHANGE)
@ticket_action
def ticket_withdraw_view(request, pk: int):
    ticket, form = _bound(request, "withdraw", pk)
    return perform(
        request,
        ticket,
        "withdraw",
        form,
        lambda d: flow.ticket_withdraw(actor=request.user, ticket=ticket, reason=d["reason"]),
        _("工单已撤销。"),
    )


@require_perm(CHANGE)
@ticket_action
def ticket_duplicate_view(request, pk: int):
    """重复 (this one ends, pointing at the other) or 合并 (its content moves there)."""
    ticket, form = _bound(request, "duplicate", pk)
    merge = form.is_valid() and form.cleaned_data.get("merge")
    return perform(
        request,
        ticket,
        "duplicate",
        form,
        lambda d: flow.ticket_mark_duplicate(
            actor=request.user, ticket=ticket, original=other_ticket(request, d["number"]), merge=bool(d.get("merge"))
        ),
        _("已并入目标工单。") if merge else _("已标记为重复工单。"),
    )


@require_perm(CHANGE)
@ticket_action
def ticket_link_view(request, pk: int):
    ticket, form = _bound(request, "link", pk)
    return perform(
        request,
        ticket,
        "link",
        form,
        lambda d: ticket_services.ticket_link(
            actor=request.user, ticket=ticket, other=other_ticket(request, d["number"])
        ),
        _("已关联工单。"),
    )


@require_perm(CHANGE)
@ticket_action
def ticket_pause_view(request, pk: int):
    ticket, form = _bound(request, "pause", pk)
    return perform(
        request,
        ticket,
        "pause",
        form,
        lambda d: flow.ticket_pause(actor=request.user, ticket=ticket, reason=d["reason"]),
        _("已暂停计时。"),
    )


@require_perm(CHANGE)
@ticket_action
def ticket_resume_view(request, pk: int):
    ticket = visible_ticket(request, pk)
    return perform(
        request,
        ticket,
        "resume",
        None,
        lambda d: flow.ticket_resume(actor=request.user, ticket=ticket),
        _("已恢复计时，期限已顺延。"),
    )


@require_perm(SUPERVISE)
@ticket_action
def ticket_escalate_view(request, pk: int):
    ticket, form = _bound(request, "escalate", pk)
    return perform(
        request,
        ticket,
        "escalate",
        form,
        lambda d: escalation.ticket_escalate(actor=request.user, ticket=ticket, note=d["reason"]),
        _("工单已升级。"),
    )


@require_perm(SUPERVISE)
@ticket_action
def ticket_supervise_view(request, pk: int):
    ticket, form = _bound(request, "supervise", pk)
    return perform(
        request,
        ticket,
        "supervise",
        form,
        lambda d: escalation.ticket_supervise(actor=request.user, ticket=ticket, note=d["reason"]),
        _("已发出督办。"),
    )


@require_perm(MARK_IMPORTANT)
@ticket_action
def ticket_important_view(request, pk: int):
    ticket, form = _bound(request, "important", pk)
    important = form.is_valid() and form.cleaned_data["important"]
    return perform(
        request,
        ticket,
        "important",
        form,
        lambda d: ticket_services.ticket_mark_important(
            actor=request.user, ticket=ticket, important=d["important"], reason=d.get("reason") or ""
        ),
        _("已列入重要投诉档案。") if important else _("已移出重要投诉档案。"),
    )


@require_perm(VIEW)
@ticket_action
def ticket_comment_view(request, pk: int):
    """An internal note. With htmx the history card alone comes back, the note on top;
    a refusal then comes inside the card (htmx does not swap a 4xx answer), while a
    plain POST gets the page with its 4xx status."""
    ticket, form = _bound(request, "comment", pk)
    if not is_htmx(request):
        return perform(
            request,
            ticket,
            "comment",
            form,
            lambda d: ticket_services.ticket_comment(actor=request.user, ticket=ticket, body=d["body"]),
            _("备注已添加。"),
        )
    error = ""
    if form.is_valid():
        try:
            ticket_services.ticket_comment(actor=request.user, ticket=ticket, body=form.cleaned_data["body"])
        except KefuError as err:
            add_service_error(form, err)
            error = err.message
        else:
            form = None
    else:
        error = _("请检查填写的内容。")
    context = history_context(request, ticket, comment_form=form, comment_error=error)
    return render(request, "tickets/detail/_history.html", context)
