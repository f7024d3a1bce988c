"""The call list (回访清单): the agent's own visits due today and overdue (overdue ones
highlighted) and upcoming ones, from `call_list`; for supervisors a team view filtered by
assignee / region / rule / status with bulk reassignment (a confirmation step, then the
all-or-nothing `visit_reassign`). Keyset pages; rows without per-row queries."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.pii import may_reveal
from kefu.core.views.base import require_perm
from kefu.visits.choices import VisitStatus
from kefu.visits.forms import VisitFilterForm, VisitReassignForm
from kefu.visits.models import Visit
from kefu.visits.selectors import call_list, visit_base
from kefu.visits.services.visits import visit_reassign
from kefu.visits.views.common import (
    ADD,
    REASSIGN,
    RECORD,
    VIEW,
    VIEW_REGION,
    is_htmx,
    mark_overdue,
    page_of,
    safe_back,
    with_row_related,
)

TAB_LABELS = {
    "due": gettext_lazy("今日及逾期"),
    "upcoming": gettext_lazy("即将回访"),
    "team": gettext_lazy("团队回访"),
}
# visit_reassign locks every row it changes: a batch stays a sensible size.
MAX_BULK = 200
PREVIEW = 50


def _tabs(user) -> list[str]:
    tabs = []
    if access.has_perm(user, RECORD):
        tabs += ["due", "upcoming"]
    if access.has_perm(user, VIEW_REGION):
        tabs.append("team")
    # Somebody who only reads visits still has their own list (empty or not).
    return tabs or ["due", "upcoming"]


def _own_counts(user, today) -> dict[str, int]:
    due = call_list(user=user, today=today, section="due").aggregate(
        total=Count("id"), overdue=Count("id", filter=Q(due_date__lt=today))
    )
    upcoming = call_list(user=user, today=today, section="upcoming").count()
    return {"due": due["total"], "overdue": due["overdue"], "upcoming": upcoming}


@require_perm(VIEW)
def visit_list(request):
    """回访清单. An htmx request (the filters changing) gets only the results partial."""
    user = request.user
    today = timezone.localdate()
    tabs = _tabs(user)
    tab = request.GET.get("tab") or tabs[0]
    if tab not in tabs:
        tab = tabs[0]
    form, error = None, ""
    if tab == "team":
        form = VisitFilterForm(request.GET or None, user=user)
        if form.is_bound and not form.is_valid():
            error, queryset = form.error_text(), Visit.objects.none()
        else:
            queryset = form.apply(visit_base(user), today)
    else:
        queryset = call_list(user=user, today=today, section=tab)
    page = page_of(with_row_related(queryset), request.GET.get("cursor"))
    mark_overdue(page.items, today)
    query = request.GET.copy()
    query.pop("cursor", None)
    query["tab"] = tab
    can_reassign = tab == "team" and access.has_perm(user, REASSIGN)
    context = {
        "tab": tab,
        "tab_label": TAB_LABELS[tab],
        "page": page,
        "form": form,
        "error": error,
        "today": today,
        "query_without_cursor": query.urlencode(),
        "back_url": f"{reverse('visits:list')}?{query.urlencode()}",
        "can_reveal": may_reveal(user),
        "can_add": access.has_perm(user, ADD),
        "can_record": access.has_perm(user, RECORD),
        "can_reassign": can_reassign,
        "reassign_form": VisitReassignForm(user=user) if can_reassign else None,
        "can_oversee": access.has_perm(user, VIEW_REGION),
    }
    if is_htmx(request):
        response = render(request, "visits/_results.html", context)
    else:
        counts = _own_counts(user, today) if "due" in tabs else {}
        context["tabs"] = [
            {"code": code, "label": TAB_LABELS[code], "count": counts.get(code), "url": f"?tab={code}"} for code in tabs
        ]
        context["counts"] = counts
        response = render(request, "visits/list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _posted_ids(request) -> list[int] | None:
    raw = request.POST.getlist("ids")
    if request.POST.get("all_on_page"):
        raw = [*raw, *request.POST.getlist("page_ids")]
    ids: set[int] = set()
    for value in raw:
        value = str(value)
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            return None
        ids.add(int(value))
    return sorted(ids)


@require_perm(REASSIGN)
@require_POST
def visit_reassign_view(request):
    """Step 1 (no `confirm`): the visits and whom they go to; step 2 (`confirm=1`): the
    all-or-nothing service, then back to the list."""
    user = request.user
    back = safe_back(request, request.POST.get("back"), f"{reverse('visits:list')}?tab=team")
    ids = _posted_ids(request)
    if ids is None:
        messages.error(request, _("回访编号无效。"))
        return redirect(back)
    if not ids:
        messages.error(request, _("请先勾选要改派的回访。"))
        return redirect(back)
    if len(ids) > MAX_BULK:
        messages.error(request, _("一次最多改派 %(max)d 条回访。") % {"max": MAX_BULK})
        return redirect(back)
    form = VisitReassignForm(request.POST, user=user)
    if not form.is_valid():
        messages.error(request, _("请选择改派给谁。"))
        return redirect(back)
    visits = list(with_row_related(visit_base(user).filter(pk__in=ids)).order_by("due_date", "id"))
    missing = len(ids) - len(visits)
    assignee = form.cleaned_data["assignee"]
    error, status = "", 200
    if request.POST.get("confirm") == "1":
        if missing:
            error, status = _("有 %(n)d 条回访不存在或不在您的可见范围内，未做任何修改。") % {"n": missing}, 404
        else:
            try:
                count = visit_reassign(actor=user, visits=visits, assignee=assignee)
            except KefuError as err:
                error, status = _("未能改派：%(reason)s 所有回访均未修改。") % {"reason": err.message}, err.status
                visits = list(with_row_related(visit_base(user).filter(pk__in=ids)).order_by("due_date", "id"))
            else:
                messages.success(
                    request,
                    _("已将 %(n)d 条回访改派给 %(who)s。")
                    % {"n": count, "who": assignee.display_name or assignee.username},
                )
                return redirect(back)
    finished = [v for v in visits if v.status != VisitStatus.PLANNED]
    return render(
        request,
        "visits/reassign_confirm.html",
        {
            "form": form,
            "assignee": assignee,
            "ids": ids,
            "count": len(ids),
            "missing": missing,
            "visits": visits[:PREVIEW],
            "more": max(len(visits) - PREVIEW, 0),
            "finished": len(finished),
            "back": back,
            "error": error,
        },
        status=status,
    )
