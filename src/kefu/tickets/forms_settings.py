"""Forms of the ticket configuration pages. They only shape input (labels and limits come
from the models); the rules live in `services/config/`, whose refusals are shown on
the form."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from kefu.core.forms import StampedForm, StyledForm
from kefu.core.roles import ROLES_BY_CODE, role_name
from kefu.customers.choices import FieldType
from kefu.tickets.choices import Severity
from kefu.tickets.models import EscalationRule, SlaPolicy, TicketCategory, TicketKind, TicketSettings
from kefu.tickets.services.config import MAX_ESCALATION_LEVEL, PATH_SEP
from kefu.tickets.services.config.kinds import MAX_KIND_FIELDS

MINUTES_HINT = _("工作分钟，按工作日历计算（默认工作时间下 1 个工作日 = 450 分钟）。")


def _model_field(model, name: str, **kwargs) -> forms.Field:
    """The form field the model declares for `name` (label, limits, default)."""
    return model._meta.get_field(name).formfield(**kwargs)


class _KindChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.is_active else _("%(name)s（已停用）") % {"name": obj.name}


class _CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.path if obj.is_active else _("%(name)s（已停用）") % {"name": obj.path}


class _RoleChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return role_name(obj.name)


def _kinds() -> _KindChoice:
    return _KindChoice(
        label=_("工单类型"), queryset=TicketKind.objects.all(), required=False, empty_label=_("全部类型")
    )


class TicketKindForm(StampedForm):
    code = _model_field(
        TicketKind, "code", help_text=_("小写字母、数字、下划线或连字符，如 complaint；创建后不能修改。")
    )
    name = _model_field(TicketKind, "name")
    prefix = _model_field(
        TicketKind, "prefix", help_text=_("1–6 个大写字母，如 TS，编号形如 TS-20260301-0001；已有工单后不能修改。")
    )
    requires_customer = _model_field(TicketKind, "requires_customer", help_text=_("登记时必须选择客户档案。"))
    requires_routing = _model_field(
        TicketKind, "requires_routing", help_text=_("不勾选时可在来电中直接答复并处理完毕。")
    )
    requires_confirmation = _model_field(
        TicketKind, "requires_confirmation", help_text=_("处理后须回访客户确认才能关闭。")
    )
    allows_refund = _model_field(TicketKind, "allows_refund")
    counts_against_staff = _model_field(TicketKind, "counts_against_staff", help_text=_("针对员工的投诉按月累计。"))
    sort_order = _model_field(TicketKind, "sort_order", required=False)

    def __init__(self, *args, editing: bool = False, prefix_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # The service never changes the code; the field only shows it.
            self.fields["code"].disabled = True
        if prefix_locked:
            self.fields["prefix"].disabled = True
            self.fields["prefix"].help_text = _("已有该类型的工单，编号前缀不能再修改。")


class KindFieldForm(StyledForm):
    """One extra form field of a kind (a row of the formset)."""

    key = forms.CharField(label=_("字段键"), max_length=40, required=False)
    label = forms.CharField(label=_("名称"), max_length=60, required=False)
    type = forms.ChoiceField(label=_("类型"), choices=FieldType.choices, initial=FieldType.TEXT)
    choices = forms.CharField(label=_("可选值"), max_length=2000, required=False)
    required = forms.BooleanField(label=_("必填"), required=False)


class _KindFieldRows(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:  # added after StyledFormMixin styled the rest
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"


KindFieldFormSet = forms.formset_factory(
    KindFieldForm, formset=_KindFieldRows, extra=3, can_delete=True, max_num=MAX_KIND_FIELDS, validate_max=True
)


def kind_fields_initial(kind: TicketKind | None) -> list[dict]:
    rows = []
    for spec in (kind.fields if kind else None) or []:
        rows.append({**spec, "choices": "、".join(spec.get("choices") or [])})
    return rows


def kind_fields_posted(formset) -> list[dict]:
    """The rows of a valid formset, in order: those it was opened with and the blank
    ones filled in, less those marked for deletion."""
    kept = formset.initial_form_count()
    return [
        {name: form.cleaned_data.get(name) for name in ("key", "label", "type", "choices", "required")}
        for index, form in enumerate(formset.forms)
        if (index < kept or form.has_changed()) and not form.cleaned_data.get("DELETE")
    ]


class TicketCategoryForm(StampedForm):
    name = _model_field(TicketCategory, "name", help_text=_("同一上级下不能重名。"))
    parent = _CategoryChoice(
        label=_("上级分类"), queryset=TicketCategory.objects.none(), required=False, empty_label=_("（顶级分类）")
    )
    kind = _kinds()
    sort_order = _model_field(TicketCategory, "sort_order", required=False)

    def __init__(self, *args, node: TicketCategory | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = TicketCategory.objects.order_by("path")
        if node is not None:
            # Its own subtree cannot hold it (the service refuses a cycle as well).
            parents = parents.exclude(pk=node.pk).exclude(path__startswith=f"{node.path}{PATH_SEP}")
        self.fields["parent"].queryset = parents
        self.fields["kind"].help_text = _("上级分类只适用于某一类型时，下级分类随之适用于该类型。")


class SlaPolicyForm(StampedForm):
    name = _model_field(SlaPolicy, "name")
    kind = _kinds()
    severity = forms.ChoiceField(label=_("严重程度"), choices=[("", _("任意"))] + Severity.choices, required=False)
    category = _CategoryChoice(
        label=_("分类"),
        queryset=TicketCategory.objects.order_by("path"),
        required=False,
        empty_label=_("任意分类"),
        help_text=_("也适用于该分类的下级分类。"),
    )
    response_minutes = _model_field(SlaPolicy, "response_minutes", help_text=MINUTES_HINT)
    resolve_minutes = _model_field(SlaPolicy, "resolve_minutes", help_text=MINUTES_HINT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].empty_label = _("任意类型")


class EscalationRuleForm(StampedForm):
    level = _model_field(EscalationRule, "level", max_value=MAX_ESCALATION_LEVEL)
    role = _RoleChoice(label=_("通知角色"), queryset=Group.objects.filter(name__in=list(ROLES_BY_CODE)).order_by("id"))
    after_minutes = _model_field(
        EscalationRule, "after_minutes", help_text=_("超过解决时限后再过多少工作分钟升级到这一级；0 表示一超时就升级。")
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # A level keeps its number; add or deactivate levels instead.
            del self.fields["level"]
        else:
            top = EscalationRule.objects.aggregate(top=Max("level"))["top"] or 0
            self.fields["level"].initial = top + 1


class TicketSettingsForm(StampedForm):
    failed_attempts_limit = _model_field(
        TicketSettings, "failed_attempts_limit", help_text=_("部门处理未能解决达到此次数时自动升级。")
    )
    warn_percent = _model_field(TicketSettings, "warn_percent", help_text=_("解决时限用去此比例时发出预警。"))
    complaints_per_month_limit = _model_field(
        TicketSettings, "complaints_per_month_limit", help_text=_("员工当月被投诉达到此次数时提出处罚建议。")
    )
    default_response_minutes = _model_field(
        TicketSettings, "default_response_minutes", min_value=1, help_text=_("没有匹配的时限规则时使用。")
    )
    default_resolve_minutes = _model_field(
        TicketSettings, "default_resolve_minutes", min_value=1, help_text=_("没有匹配的时限规则时使用。")
    )
    slip_minutes = _model_field(TicketSettings, "slip_minutes", min_value=1, help_text=MINUTES_HINT)
    attachment_max_mb = _model_field(TicketSettings, "attachment_max_mb")
