"""Approval pages: 待我审批, 审批记录, a request with its steps and the decision form,
and the policies (审批流程) for those who configure them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.forms import StyledForm, VersionField, add_service_error
from kefu.core.models import ApprovalStatus
from kefu.core.pagination import keyset_page
from kefu.core.roles import ROLES, role_name
from kefu.core.selectors.approvals import (
    ApprovalFilters,
    approval_can_cancel,
    approval_can_decide,
    approval_policy_choices,
    approval_policy_list,
    approval_request_get,
    approval_request_list,
    approval_requests_awaiting,
    decorate,
)
from kefu.core.services.approvals import (
    MANAGE_APPROVALS,
    approval_cancel,
    approval_decide,
    approval_policy_create,
    approval_policy_update,
)
from kefu.core.views.base import require_perm

PAGE_SIZE = 50

# ---------------------------------------------------------------------------- forms


class ApprovalFilterForm(StyledForm):
    status = forms.ChoiceField(label=_("状态"), required=False)
    policy = forms.ChoiceField(label=_("审批流程"), required=False)
    mine = forms.BooleanField(label=_("只看我提交的"), required=False)

    def __init__(self, *args, policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("全部")), *ApprovalStatus.choices]
        self.fields["policy"].choices = [("", _("全部")), *[(p.code, p.name) for p in policies]]


class ApprovalDecisionForm(StyledForm):
    comment = forms.CharField(
        label=_("审批意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    version = VersionField()


class ApprovalCancelForm(StyledForm):
    version = VersionField()


def _role_choices():
    """Role groups, the seeded roles first in their usual order, then any custom ones."""
    known = [r.code for r in ROLES]
    names = list(Group.objects.order_by("name").values_list("name", flat=True))
    ordered = [n for n in known if n in names] + [n for n in names if n not in known]
    return [("", "——"), *[(n, f"{role_name(n)}（{n}）" if role_name(n) != n else n) for n in ordered]]


class ApprovalPolicyForm(StyledForm):
    code = forms.SlugField(label=_("编码"), max_length=40, help_text=_("业务模块按编码使用流程，创建后不可修改。"))
    name = forms.CharField(label=_("名称"), max_length=80)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    version = VersionField()

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]


class ApprovalPolicyStepForm(StyledForm):
    role = forms.ChoiceField(label=_("审批角色"), required=False)
    min_amount = forms.DecimalField(
        label=_("金额起点"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )

    def __init__(self, *args, role_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices

    def clean(self):
        data = super().clean()
        if data.get("min_amount") is not None and not data.get("role") and not data.get("DELETE"):
            self.add_error("role", _("请选择审批角色。"))
        return data


class BaseApprovalPolicyStepFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        # The formset adds ORDER and DELETE after the form styled its own fields.
        if "ORDER" in form.fields:
            form.fields["ORDER"].widget.attrs["class"] = "form-control"
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"


ApprovalPolicyStepFormSet = forms.formset_factory(
    ApprovalPolicyStepForm,
    formset=BaseApprovalPolicyStepFormSet,
    extra=2,
    can_delete=True,
    can_order=True,
    max_num=20,
    validate_max=True,
)


def _steps_from_formset(formset) -> list[tuple[str, object]]:
    """Rows with a role, in the order the manager gave (ORDER), then as listed; deleted
    and blank rows left out."""
    rows = []
    for index, form in enumerate(formset.forms):
        data = getattr(form, "cleaned_data", None) or {}
        if not data.get("role") or data.get("DELETE"):
            continue
        order = data.get("ORDER")
        rows.append((order if order is not None else 10_000 + index, index, data["role"], data.get("min_amount")))
    return [(role, amount) for _order, _index, role, amount in sorted(rows, key=lambda r: (r[0], r[1]))]


# ---------------------------------------------------------------------------- requests


def _page(request, queryset, order):
    try:
        return keyset_page(queryset, order=order, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    except ValidationFailed:
        return keyset_page(queryset, order=order, cursor=None, size=PAGE_SIZE)


def _query_without_cursor(request) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


@login_required
def awaiting(request):
    """待我审批: what the user can decide now. Open to every member of staff, because
    who approves is decided by the role groups of each policy's steps."""
    page = _page(request, approval_requests_awaiting(request.user), ("created_at", "id"))
    decorate(page.items)
    return render(
        request,
        "core/approvals/awaiting.html",
        {"page": page, "query_without_cursor": _query_without_cursor(request)},
    )


@login_required
def request_list(request):
    """审批记录: every request the user may see (all of them with
    `core.view_approvalrequest`, otherwise their own and those they take part in)."""
    policies = list(approval_policy_choices())
    form = ApprovalFilterForm(request.GET or None, policies=policies)
    filters = ApprovalFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = ApprovalFilters(status=data["status"] or None, policy=data["policy"] or None, mine=data["mine"])
    page = _page(request, approval_request_list(request.user, filters), ("-created_at", "-id"))
    decorate(page.items)
    return render(
        request,
        "core/approvals/list.html",
        {"form": form, "page": page, "query_without_cursor": _query_without_cursor(request)},
    )


def _get_request_or_404(user, pk):
    approval = approval_request_get(user, pk)
    if approval is None:
        raise Http404
    decorate([approval])
    return approval


def _render_detail(request, approval, *, decision_form=None, cancel_form=None, status=200):
    user = request.user
    can_decide = approval_can_decide(user, approval)
    return render(
        request,
        "core/approvals/detail.html",
        {
            "approval": approval,
            "steps": list(approval.steps.all()),
            "can_decide": can_decide,
            "can_cancel": approval_can_cancel(user, approval),
            "decision_form": decision_form or ApprovalDecisionForm(initial={"version": approval.version}),
            "cancel_form": cancel_form or ApprovalCancelForm(initial={"version": approval.version}),
            "subject_url": _subject_url(approval),
        },
        status=status,
    )


def _subject_url(approval) -> str:
    """A link to the thing approved when its model has a page; the page checks access."""
    from django.apps import apps

    try:
        model = apps.get_model(approval.subject_type)
    except (LookupError, ValueError):
        return ""
    if not hasattr(model, "get_absolute_url"):
        return ""
    subject = model._default_manager.filter(pk=approval.subject_id).first()
    return subject.get_absolute_url() if subject is not None else ""


@login_required
def request_detail(request, pk: int):
    return _render_detail(request, _get_request_or_404(request.user, pk))


@login_required
@require_POST
def request_decide(request, pk: int):
    """Approve (button `decision=approve`) or reject the current step."""
    approval = _get_request_or_404(request.user, pk)
    form = ApprovalDecisionForm(request.POST)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        form.is_valid()
        form.add_error(None, gettext("请选择同意或驳回。"))
        return _render_detail(request, approval, decision_form=form, status=422)
    if not form.is_valid():
        return _render_detail(request, approval, decision_form=form, status=422)
    try:
        approval_decide(
            actor=request.user,
            request=approval,
            approve=decision == "approve",
            comment=form.cleaned_data["comment"],
            expected_version=form.cleaned_data["version"],
        )
    except KefuError as err:
        add_service_error(form, err)
        approval = _get_request_or_404(request.user, pk)
        return _render_detail(request, approval, decision_form=form, status=err.status)
    messages.success(request, gettext("已同意。") if decision == "approve" else gettext("已驳回。"))
    return redirect("approvals:detail", pk=pk)


@login_required
@require_POST
def request_cancel(request, pk: int):
    approval = _get_request_or_404(request.user, pk)
    form = ApprovalCancelForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, approval, cancel_form=form, status=422)
    try:
        approval_cancel(actor=request.user, request=approval, expected_version=form.cleaned_data["version"])
    except KefuError as err:
        add_service_error(form, err)
        approval = _get_request_or_404(request.user, pk)
        return _render_detail(request, approval, cancel_form=form, status=err.status)
    messages.success(request, gettext("申请已撤回。"))
    return redirect("approvals:detail", pk=pk)


# ---------------------------------------------------------------------------- policies


@require_perm(MANAGE_APPROVALS)
def policy_list(request):
    policies = list(approval_policy_list(request.user))
    for policy in policies:
        for step in policy.steps.all():
            step.role_label = role_name(step.role.name)
    return render(request, "core/approvals/policy_list.html", {"policies": policies})


def _policy_form_page(request, *, policy=None):
    editing = policy is not None
    role_choices = _role_choices()
    if request.method == "POST":
        form = ApprovalPolicyForm(request.POST, editing=editing)
        formset = ApprovalPolicyStepFormSet(request.POST, prefix="steps", form_kwargs={"role_choices": role_choices})
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            steps = _steps_from_formset(formset)
            try:
                if editing:
                    approval_policy_update(
                        actor=request.user,
                        policy=policy,
                        name=data["name"],
                        description=data["description"],
                        is_active=data["is_active"],
                        steps=steps,
                        expected_version=data["version"],
                    )
                else:
                    policy = approval_policy_create(
                        actor=request.user,
                        code=data["code"],
                        name=data["name"],
                        description=data["description"],
                        is_active=data["is_active"],
                        steps=steps,
                    )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, gettext("审批流程已保存。"))
                return redirect("approvals:policy_list")
        status = 422
    else:
        status = 200
        if editing:
            form = ApprovalPolicyForm(
                initial={
                    "name": policy.name,
                    "description": policy.description,
                    "is_active": policy.is_active,
                    "version": policy.version,
                },
                editing=True,
            )
            initial = [
                {"role": s.role.name, "min_amount": s.min_amount, "ORDER": s.order}
                for s in policy.steps.select_related("role").order_by("order")
            ]
        else:
            form = ApprovalPolicyForm(initial={"is_active": True})
            initial = []
        formset = ApprovalPolicyStepFormSet(initial=initial, prefix="steps", form_kwargs={"role_choices": role_choices})
    return render(
        request,
        "core/approvals/policy_form.html",
        {"form": form, "formset": formset, "policy": policy},
        status=status,
    )


@require_perm(MANAGE_APPROVALS)
def policy_create(request):
    return _policy_form_page(request)


@require_perm(MANAGE_APPROVALS)
def policy_edit(request, pk: int):
    policy = get_object_or_404(approval_policy_list(request.user), pk=pk)
    return _policy_form_page(request, policy=policy)
