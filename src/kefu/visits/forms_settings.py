"""Forms of the visit configuration pages (rules, questionnaires, campaigns). They only
shape input; the rules live in `services/config/`, whose refusals land on the field
they name."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.forms import StampedForm, StyledForm
from kefu.core.models import Department, User
from kefu.customers.forms import StaffChoiceField
from kefu.customers.models import CustomerClass
from kefu.visits.choices import AssignTo, QuestionType, RuleKind, Trigger, VisitChannel
from kefu.visits.forms import DATE, visit_staff
from kefu.visits.models import Campaign, Questionnaire, VisitRule
from kefu.visits.services.config import MAX_OFFSETS, date_field_choices

SEPARATORS = re.compile(r"[,，、;；\s]+")
MAX_QUESTIONS = 30


def _model_field(model, name: str, **kwargs) -> forms.Field:
    """The form field the model declares for `name` (label, limits, default)."""
    return model._meta.get_field(name).formfield(**kwargs)


def split_list(raw: str) -> list[str]:
    """「1, 7，30」 or 「很好、一般」: commas of either width, 、, semicolons or spaces."""
    return [part for part in SEPARATORS.split(raw or "") if part]


class _NamedChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        label = getattr(obj, "name", str(obj))
        return label if getattr(obj, "is_active", True) else _("%(name)s（已停用）") % {"name": label}


def _active_or(model, current) -> Any:
    condition = Q(is_active=True)
    if current is not None:
        condition |= Q(pk=current.pk)
    return model.objects.filter(condition)


def questionnaire_choices(current: Questionnaire | None = None):
    """Active questionnaires with a published version (the current one stays listed)."""
    condition = Q(is_active=True, versions__isnull=False)
    if current is not None:
        condition |= Q(pk=current.pk)
    return Questionnaire.objects.filter(condition).distinct().order_by("name")


# --- rules ----------------------------------------------------------------------------


class OffsetsField(forms.CharField):
    """Days after the event, typed as 「1, 7, 30」; the service checks the range."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value):
        parts = split_list(super().to_python(value))
        if any(not p.isdigit() for p in parts):
            raise forms.ValidationError(_("间隔天数只能填写整数，用逗号分隔，如 1, 7, 30。"))
        if len(parts) > MAX_OFFSETS:
            raise forms.ValidationError(_("间隔天数最多 %(n)s 个。") % {"n": MAX_OFFSETS})
        return [int(p) for p in parts]


class VisitRuleForm(StampedForm):
    name = _model_field(VisitRule, "name")
    kind = forms.ChoiceField(label=_("类型"), choices=RuleKind.choices)
    visit_type = _model_field(VisitRule, "visit_type")
    channel = forms.ChoiceField(label=_("默认方式"), choices=VisitChannel.choices)
    questionnaire = _NamedChoice(
        label=_("问卷"), queryset=Questionnaire.objects.none(), required=False, empty_label=_("（不用问卷）")
    )
    customer_class = _NamedChoice(
        label=_("客户分类"), queryset=CustomerClass.objects.none(), required=False, empty_label=_("（不限分类）")
    )
    key_accounts_only = forms.BooleanField(label=_("仅大客户"), required=False)
    visits_per_month = _model_field(VisitRule, "visits_per_month", required=False)
    trigger = forms.ChoiceField(label=_("触发事件"), choices=[("", "—"), *Trigger.choices], required=False)
    offsets_days = OffsetsField(
        label=_("间隔天数"),
        required=False,
        max_length=200,
        help_text=_("事件发生后第几天回访，可填多个，如 1, 7, 30；0 表示当天。"),
    )
    date_field = forms.ChoiceField(
        label=_("日期字段"), required=False, help_text=_("工程阶段回访从客户档案的哪个日期字段起算。")
    )
    assign_to = forms.ChoiceField(label=_("分配给"), choices=AssignTo.choices)
    team = _NamedChoice(label=_("班组"), queryset=Department.objects.none(), required=False)
    assignee = StaffChoiceField(label=_("回访人"), queryset=User.objects.none(), required=False)
    max_attempts = _model_field(VisitRule, "max_attempts")
    retry_working_days = _model_field(VisitRule, "retry_working_days")

    GROUPS = (
        (_("基本信息"), ("name", "kind", "visit_type", "channel", "questionnaire")),
        (_("覆盖的客户"), ("customer_class", "key_accounts_only", "visits_per_month")),
        (_("事件触发"), ("trigger", "offsets_days", "date_field")),
        (_("由谁回访"), ("assign_to", "team", "assignee")),
        (_("未接通时"), ("max_attempts", "retry_working_days")),
    )

    def __init__(self, *args, user, rule: VisitRule | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questionnaire"].queryset = questionnaire_choices(getattr(rule, "questionnaire", None))
        self.fields["customer_class"].queryset = _active_or(CustomerClass, getattr(rule, "customer_class", None))
        self.fields["customer_class"].help_text = _("定期跟踪：覆盖该分类的客户；事件触发：只对该分类的客户生效。")
        self.fields["team"].queryset = _active_or(Department, getattr(rule, "team", None)).order_by("code")
        self.fields["assignee"].queryset = visit_staff(user, keep=getattr(rule, "assignee", None))
        dates = date_field_choices()
        if rule is not None and rule.date_field and rule.date_field not in dict(dates):
            dates.append((rule.date_field, _("%(key)s（已停用）") % {"key": rule.date_field}))
        self.fields["date_field"].choices = [("", "—"), *dates]
        if rule is not None:
            # The service never changes a rule's kind; the field only shows it.
            self.fields["kind"].disabled = True

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]


# --- questionnaires -------------------------------------------------------------------


class QuestionnaireForm(StyledForm):
    code = _model_field(
        Questionnaire, "code", help_text=_("小写字母、数字、下划线或连字符，如 satisfaction；创建后不能修改。")
    )
    name = _model_field(Questionnaire, "name")


class QuestionForm(StyledForm):
    """One question of the editor (a row of the formset)."""

    key = forms.CharField(label=_("代码"), max_length=40, required=False)
    text = forms.CharField(label=_("题目"), max_length=200, required=False)
    type = forms.ChoiceField(label=_("题型"), choices=QuestionType.choices, initial=QuestionType.SCORE)
    choices = forms.CharField(label=_("选项"), max_length=1000, required=False)
    required = forms.BooleanField(label=_("必答"), required=False)


class _QuestionRows(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:  # added after StyledFormMixin styled the rest
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"


QuestionFormSet = forms.formset_factory(
    QuestionForm, formset=_QuestionRows, extra=3, can_delete=True, max_num=MAX_QUESTIONS, validate_max=True
)


def questions_initial(version) -> list[dict]:
    return [
        {**q, "choices": "、".join(q.get("choices") or [])} for q in (version.questions if version is not None else [])
    ]


def questions_posted(formset) -> list[dict]:
    """The rows of a valid formset in order: those it opened with and the blank ones
    filled in, less those marked for deletion. The service checks each question."""
    kept = formset.initial_form_count()
    return [
        {
            "key": form.cleaned_data.get("key", ""),
            "text": form.cleaned_data.get("text", ""),
            "type": form.cleaned_data.get("type"),
            "choices": split_list(form.cleaned_data.get("choices", "")),
            "required": bool(form.cleaned_data.get("required")),
        }
        for index, form in enumerate(formset.forms)
        if (index < kept or form.has_changed()) and not form.cleaned_data.get("DELETE")
    ]


# --- campaigns ------------------------------------------------------------------------


def list_query(raw: str) -> QueryDict:
    """The archive list's parameters from what the manager pasted: its whole address,
    the path with its query string, `?customer_class=3&region=1` or the bare query.
    An address of another page is refused (its parameters would mean something else)."""
    text = (raw or "").strip()
    if not text:
        return QueryDict()
    parts = urlsplit(text)
    if "?" not in text and "=" in text and not parts.scheme:
        return QueryDict(text.split("#", 1)[0])
    path = parts.path
    if path and path.strip("/") != reverse("customers:list").strip("/"):
        raise forms.ValidationError(_("这不是客户档案列表的地址：请在客户档案中筛选后复制地址栏。"))
    return QueryDict(parts.query)


class ListField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 2})

    def to_python(self, value):
        return list_query(super().to_python(value))


class CampaignForm(StyledForm):
    name = _model_field(Campaign, "name", help_text=_("如 2026 年春季二次开发、未成交咨询回访。"))
    visit_type = _model_field(Campaign, "visit_type")
    customers = ListField(
        label=_("客户名单"),
        required=False,
        max_length=4000,
        help_text=_(
            "在客户档案中筛选好名单后，把地址栏的地址（或 ?customer_class=3&region=1 这样的查询条件）粘贴到这里；"
            "留空表示您可见的全部客户。流失客户不计入。"
        ),
    )
    due_date = forms.DateField(label=_("回访日期"), widget=DATE)
    questionnaire = _NamedChoice(
        label=_("问卷"), queryset=Questionnaire.objects.none(), required=False, empty_label=_("（不用问卷）")
    )
    assign_to = forms.ChoiceField(
        label=_("分配给"), choices=[(c, AssignTo(c).label) for c in (AssignTo.OWNER, AssignTo.USER)]
    )
    assignee = StaffChoiceField(
        label=_("回访人"), queryset=User.objects.none(), required=False, help_text=_("分配给指定人员时选择。")
    )

    def __init__(self, *args, user, preview_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questionnaire"].queryset = questionnaire_choices()
        self.fields["assignee"].queryset = visit_staff(user)
        self.fields["due_date"].initial = timezone.localdate()
        if preview_url:
            self.fields["customers"].widget.attrs.update(
                {
                    "hx-get": preview_url,
                    "hx-trigger": "input changed delay:400ms, load",
                    "hx-target": "#campaign-preview",
                    "hx-swap": "innerHTML",
                }
            )
