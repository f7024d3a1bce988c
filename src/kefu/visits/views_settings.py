"""Visit configuration pages (回访配置) at /visits/settings/: the rules with pause and
resume, the rule form, questionnaires with their versions and the question editor that
publishes a new version — for whoever holds `visits.manage_visit_settings`. And the
campaign lists at /visits/campaigns/: a filtered archive list pasted in, its count
previewed live, turned into visits — for `visits.add_campaign`. The services check the
permissions again; their refusals are shown on the form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.pagination import keyset_page
from kefu.core.views.base import require_perm
from kefu.core.views.org.common import one, run_button
from kefu.customers.models import CustomField
from kefu.visits.choices import QuestionType, VisitStatus
from kefu.visits.forms_settings import (
    CampaignForm,
    QuestionFormSet,
    QuestionnaireForm,
    VisitRuleForm,
    list_query,
    questions_initial,
    questions_posted,
)
from kefu.visits.models import Campaign, Questionnaire, VisitRule
from kefu.visits.selectors import visit_base
from kefu.visits.services import config as svc

MANAGE = svc.MANAGE
ADD_CAMPAIGN = svc.ADD_CAMPAIGN
CAMPAIGN_PAGE = 30
TYPE_LABELS = dict(QuestionType.choices)


def _back(anchor: str = "") -> str:
    return reverse("visits:settings") + (f"#{anchor}" if anchor else "")


def _values(form) -> dict[str, Any]:
    """What the form posted for the service: enabled fields, the stamp apart."""
    return {
        name: value for name, value in form.cleaned_data.items() if not form.fields[name].disabled and name != "stamp"
    }


# --- rules ----------------------------------------------------------------------------


@require_perm(MANAGE)
@require_GET
def settings_index(request):
    labels = dict(CustomField.objects.values_list("key", "label"))
    rules = VisitRule.objects.select_related("customer_class", "team", "assignee", "questionnaire").order_by(
        "-is_active", "kind", "name"
    )
    questionnaires = Questionnaire.objects.annotate(
        latest=Max("versions__number"),
        rule_count=Count("visitrule", filter=Q(visitrule__is_active=True), distinct=True),
    ).order_by("-is_active", "name")
    context = {
        "rules": [{"obj": rule, "date_label": labels.get(rule.date_field, rule.date_field)} for rule in rules],
        "questionnaires": questionnaires,
    }
    return render(request, "visits/settings/index.html", context)


def _rule_page(request, form, *, title: str, save) -> Any:
    if request.method == "POST" and form.is_valid():
        try:
            message = save(_values(form), form.cleaned_data.get("stamp"))
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, message)
            return redirect(_back("rules"))
    return render(request, "visits/settings/rule_form.html", {"form": form, "title": title, "back_url": _back("rules")})


@require_perm(MANAGE)
def rule_create(request):
    form = VisitRuleForm(request.POST or None, user=request.user, initial={"kind": request.GET.get("kind", "")})

    def save(values, _stamp):
        rule = svc.visit_rule_create(actor=request.user, **values)
        return _("已新建回访规则「%(name)s」，下次生成回访计划时生效。") % {"name": rule}

    return _rule_page(request, form, title=_("新建回访规则"), save=save)


@require_perm(MANAGE)
def rule_edit(request, pk: int):
    rule = one(VisitRule.objects.all(), pk)
    initial = {name: getattr(rule, name) for name in svc.RULE_FIELDS}
    initial["stamp"] = rule.updated_at
    form = VisitRuleForm(request.POST or None, user=request.user, rule=rule, initial=initial)

    def save(values, stamp):
        svc.visit_rule_update(actor=request.user, rule=rule, values=values, expected_updated_at=stamp)
        return _("回访规则「%(name)s」已保存。") % {"name": rule}

    return _rule_page(request, form, title=_("编辑回访规则：%(name)s") % {"name": rule}, save=save)


@require_perm(MANAGE)
@require_POST
def rule_pause(request, pk: int):
    rule = one(VisitRule.objects.all(), pk)
    try:
        cancelled = svc.visit_rule_pause(actor=request.user, rule=rule)
    except KefuError as err:
        messages.error(request, err.message)
    else:
        messages.success(
            request,
            _("已暂停「%(name)s」，取消了 %(n)s 条待回访计划。") % {"name": rule, "n": cancelled},
        )
    return redirect(_back("rules"))


@require_perm(MANAGE)
@require_POST
def rule_resume(request, pk: int):
    rule = one(VisitRule.objects.all(), pk)
    try:
        reopened = svc.visit_rule_resume(actor=request.user, rule=rule)
    except KefuError as err:
        messages.error(request, err.message)
    else:
        messages.success(
            request,
            _("已恢复「%(name)s」，恢复了 %(n)s 条本月起的回访计划，其余在下次生成计划时补上。")
            % {"name": rule, "n": reopened},
        )
    return redirect(_back("rules"))


# --- questionnaires -------------------------------------------------------------------


@require_perm(MANAGE)
def questionnaire_create(request):
    posted = request.POST if request.method == "POST" else None
    form = QuestionnaireForm(posted)
    formset = QuestionFormSet(posted, prefix="questions")
    errors: list[str] = []
    if posted is not None and form.is_valid() and formset.is_valid():
        try:
            questionnaire = svc.questionnaire_create(
                actor=request.user,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                questions=questions_posted(formset),
            )
        except KefuError as err:
            if isinstance(err.details, dict) and err.details.get("field") == "questions":
                errors.append(err.message)
            else:
                add_service_error(form, err)
        else:
            messages.success(request, _("已新建问卷「%(name)s」。") % {"name": questionnaire})
            return redirect("visits:questionnaire", pk=questionnaire.pk)
    context = {
        "form": form,
        "formset": formset,
        "errors": errors,
        "title": _("新建问卷"),
        "back_url": _back("questionnaires"),
        "note": _("题目可以现在填写，也可以稍后在问卷页面发布。"),
    }
    return render(request, "visits/settings/questionnaire_form.html", context)


@require_perm(MANAGE)
@require_GET
def questionnaire_detail(request, pk: int):
    questionnaire = one(Questionnaire.objects.all(), pk)
    versions = list(questionnaire.versions.select_related("created_by").order_by("-number"))
    for version in versions:
        version.rows = [{**q, "type_label": TYPE_LABELS.get(q.get("type"), q.get("type"))} for q in version.questions]
    rules = VisitRule.objects.filter(questionnaire=questionnaire).order_by("-is_active", "name")
    return render(
        request,
        "visits/settings/questionnaire.html",
        {"questionnaire": questionnaire, "versions": versions, "rules": rules, "back_url": _back("questionnaires")},
    )


@require_perm(MANAGE)
def questionnaire_publish(request, pk: int):
    """The question editor: opens with the current version's questions; saving
    publishes them as a new version (unless nothing changed)."""
    questionnaire = one(Questionnaire.objects.all(), pk)
    current = questionnaire.current_version()
    posted = request.POST if request.method == "POST" else None
    formset = QuestionFormSet(posted, initial=questions_initial(current), prefix="questions")
    errors: list[str] = []
    if posted is not None and formset.is_valid():
        try:
            version = svc.questionnaire_publish(
                actor=request.user, questionnaire=questionnaire, questions=questions_posted(formset)
            )
        except KefuError as err:
            errors.append(err.message)
        else:
            if current is not None and version.pk == current.pk:
                messages.info(request, _("题目没有变化，未发布新版本。"))
            else:
                messages.success(request, _("已发布第 %(n)s 版。") % {"n": version.number})
            return redirect("visits:questionnaire", pk=questionnaire.pk)
    context = {
        "formset": formset,
        "errors": errors,
        "title": _("编辑题目：%(name)s") % {"name": questionnaire},
        "back_url": reverse("visits:questionnaire", args=[questionnaire.pk]),
        "note": _("保存后发布为新版本；已完成的回访仍按其回答时的版本显示和统计。"),
    }
    return render(request, "visits/settings/questionnaire_form.html", context)


def _questionnaire_toggle(request, pk: int, *, active: bool):
    questionnaire = one(Questionnaire.objects.all(), pk)
    message = _("已启用问卷「%(name)s」。") if active else _("已停用问卷「%(name)s」。")
    run_button(
        request,
        lambda: svc.questionnaire_set_active(actor=request.user, questionnaire=questionnaire, active=active),
        message % {"name": questionnaire},
    )
    return redirect("visits:questionnaire", pk=questionnaire.pk)


@require_perm(MANAGE)
@require_POST
def questionnaire_deactivate(request, pk: int):
    return _questionnaire_toggle(request, pk, active=False)


@require_perm(MANAGE)
@require_POST
def questionnaire_reactivate(request, pk: int):
    return _questionnaire_toggle(request, pk, active=True)


# --- campaigns ------------------------------------------------------------------------


def archive_url(filters: dict) -> str:
    query = svc.filters_as_params(filters).urlencode()
    return reverse("customers:list") + (f"?{query}" if query else "")


@require_perm(ADD_CAMPAIGN)
@require_GET
def campaign_list(request):
    """Campaigns, newest first, with the progress of the visits the user may see."""
    queryset = Campaign.objects.select_related("questionnaire", "assignee", "created_by")
    try:
        page = keyset_page(queryset, order=("-id",), cursor=request.GET.get("cursor"), size=CAMPAIGN_PAGE)
    except KefuError:
        page = keyset_page(queryset, order=("-id",), cursor=None, size=CAMPAIGN_PAGE)
    progress = {
        row["campaign"]: row
        for row in visit_base(request.user)
        .filter(campaign__in=[c.pk for c in page.items])
        .values("campaign")
        .annotate(
            seen=Count("id"),
            done=Count("id", filter=Q(status=VisitStatus.DONE)),
            planned=Count("id", filter=Q(status=VisitStatus.PLANNED)),
        )
    }
    rows = [{"obj": c, "progress": progress.get(c.pk), "archive_url": archive_url(c.filters)} for c in page.items]
    return render(request, "visits/settings/campaigns.html", {"rows": rows, "page": page})


@require_perm(ADD_CAMPAIGN)
def campaign_create(request):
    preview_url = reverse("visits:campaign_preview")
    initial = {"customers": request.GET.get("list", "")}
    form = CampaignForm(request.POST or None, user=request.user, preview_url=preview_url, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = svc.campaign_create(
                actor=request.user,
                name=data["name"],
                visit_type=data["visit_type"],
                filters=data["customers"],
                due_date=data["due_date"],
                questionnaire=data["questionnaire"],
                assign_to=data["assign_to"],
                assignee=data["assignee"],
            )
        except KefuError as err:
            if isinstance(err.details, dict) and err.details.get("field") == "filters":
                err.details = {**err.details, "field": "customers"}
            add_service_error(form, err)
        else:
            messages.success(
                request,
                _("已创建回访活动「%(name)s」，为 %(n)s 位客户安排了回访。")
                % {"name": campaign, "n": campaign.visit_count},
            )
            return redirect("visits:campaigns")
    return render(
        request,
        "visits/settings/campaign_form.html",
        {"form": form, "title": _("新建回访活动"), "back_url": reverse("visits:campaigns")},
    )


@require_perm(ADD_CAMPAIGN)
@require_GET
def campaign_preview(request):
    """The htmx fragment beside the campaign form: how many customers the pasted list
    holds now, and the link to see them in the archive."""
    context: dict[str, Any] = {"max": svc.MAX_CUSTOMERS}
    try:
        params = list_query(request.GET.get("customers", ""))
        filters = svc.clean_campaign_filters(params)
        context["preview"] = svc.campaign_preview(actor=request.user, filters=filters)
        context["archive_url"] = archive_url(filters)
    except KefuError as err:
        context["error"] = err.message
    except ValidationError as err:  # an address of another page
        context["error"] = " ".join(err.messages)
    return render(request, "visits/settings/_campaign_preview.html", context)
