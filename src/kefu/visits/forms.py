"""Forms of the return-visit pages: the team list's filters, the one form an agent fills
in per call (questions rendered from the visit's questionnaire version), rescheduling,
bulk reassignment and planning a visit by hand. They only shape input; the rules (who
may record, which answers fit, when a call-back is valid) live in the services, whose
Chinese refusals land on the right field through `add_record_error`."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.forms import StyledForm, VersionField
from kefu.core.models import User
from kefu.core.selectors import org as org_selectors
from kefu.customers.forms import StaffChoiceField, region_choices
from kefu.customers.selectors import customer_base
from kefu.visits.choices import Outcome, QuestionType, VisitChannel, VisitStatus
from kefu.visits.models import Questionnaire, Visit, VisitRule
from kefu.visits.selectors import STATUS_FINISHED, UNASSIGNED, filter_status

RECORD = "visits.record_visit"
ADD_TICKET = "tickets.add_ticket"
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def visit_staff(user, *, keep: User | None = None) -> QuerySet[User]:
    """Active staff who may record visits (their role grants it), among the staff `user`
    may see — the people a supervisor filters by or hands visits to."""
    holders = User.objects.filter(
        groups__permissions__codename="record_visit", groups__permissions__content_type__app_label="visits"
    )
    visible = org_selectors.staff_list(user).filter(is_active=True, pk__in=holders.values("pk"))
    condition = Q(pk__in=visible.values("pk"))
    if keep is not None:
        condition |= Q(pk=keep.pk)
    return User.objects.filter(condition).order_by("username")


class _NameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


# --- the team list --------------------------------------------------------------------

STATUS_ALL = "all"
YES_NO = [("", _("全部")), ("1", _("是")), ("0", _("否"))]


class _UnassignedFirst(ModelChoiceIterator):
    """The staff choices with 未分配 (`none`) right after 全部."""

    def __iter__(self):
        choices = super().__iter__()
        if self.field.empty_label is not None:
            yield next(choices)
        yield (UNASSIGNED, _("未分配"))
        yield from choices

    def __len__(self):
        return super().__len__() + 1


class AssigneeFilterField(StaffChoiceField):
    """A visible staff member, or `none` for the visits nobody is assigned to (a team's
    visits; the statistics' 未分配 group clicks through here)."""

    iterator = _UnassignedFirst

    def to_python(self, value):
        if value == UNASSIGNED:
            return UNASSIGNED
        return super().to_python(value)


class VisitFilterForm(StyledForm):
    """The supervisor's team view: by assignee, region, rule, status, outcome, the
    clinic funnel's arrival and deal, due dates. Every value the report figures group by
    has a filter here, so each chart segment lands on exactly its visits."""

    assignee = AssigneeFilterField(label=_("回访人"), queryset=User.objects.none(), required=False)
    region = _NameChoiceField(label=_("片区"), queryset=None, required=False)
    rule = _NameChoiceField(label=_("回访规则"), queryset=VisitRule.objects.order_by("name"), required=False)
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[*VisitStatus.choices, (STATUS_FINISHED, _("已回访（已完成或未能联系）")), (STATUS_ALL, _("全部"))],
        required=False,
    )
    outcome = forms.ChoiceField(label=_("回访结果"), choices=[("", _("全部")), *Outcome.choices], required=False)
    arrived = forms.ChoiceField(label=_("已到院/到店"), choices=YES_NO, required=False)
    deal = forms.ChoiceField(label=_("已成交"), choices=YES_NO, required=False)
    overdue = forms.BooleanField(label=_("仅逾期"), required=False)
    due_from = forms.DateField(label=_("计划日期从"), required=False, widget=DATE)
    due_to = forms.DateField(label=_("至"), required=False, widget=DATE)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = visit_staff(user)
        self.fields["region"].queryset = region_choices(user)
        self.fields["assignee"].empty_label = self.fields["region"].empty_label = _("全部")
        self.fields["rule"].empty_label = _("全部")

    def clean(self):
        data = super().clean()
        if data.get("due_from") and data.get("due_to") and data["due_from"] > data["due_to"]:
            self.add_error("due_from", _("开始日期不能晚于结束日期。"))
        return data

    def apply(self, queryset: QuerySet[Visit], today: datetime.date) -> QuerySet[Visit]:
        """The queryset narrowed by the (valid) filters; planned visits by default."""
        data = self.cleaned_data if self.is_bound else {}
        queryset = filter_status(queryset, data.get("status") or VisitStatus.PLANNED)
        if data.get("assignee") == UNASSIGNED:
            queryset = queryset.filter(assignee__isnull=True)
        elif data.get("assignee"):
            queryset = queryset.filter(assignee=data["assignee"])
        if data.get("region"):
            queryset = queryset.filter(region=data["region"])
        if data.get("rule"):
            queryset = queryset.filter(rule=data["rule"])
        if data.get("outcome"):
            queryset = queryset.filter(outcome=data["outcome"])
        for flag in ("arrived", "deal"):
            if data.get(flag):
                queryset = queryset.filter(**{flag: data[flag] == "1"})
        if data.get("overdue"):
            queryset = queryset.filter(status=VisitStatus.PLANNED, due_date__lt=today)
        if data.get("due_from"):
            queryset = queryset.filter(due_date__gte=data["due_from"])
        if data.get("due_to"):
            queryset = queryset.filter(due_date__lte=data["due_to"])
        return queryset

    def error_text(self) -> str:
        return "；".join(
            f"{self.fields[name].label if name in self.fields else ''}：{error}".lstrip("：")
            for name, errors in self.errors.items()
            for error in errors
        )


# --- recording a call -----------------------------------------------------------------

SATISFIED_CHOICES = [("yes", _("满意，确认结案")), ("no", _("不满意，重新处理"))]
SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]
NPS_CHOICES = [(str(n), str(n)) for n in range(0, 11)]


def _question_field(question: dict) -> forms.Field:
    kind, label = question["type"], question["text"]
    if kind == QuestionType.SINGLE:
        return forms.ChoiceField(
            label=label, required=False, choices=[(c, c) for c in question["choices"]], widget=forms.RadioSelect
        )
    if kind == QuestionType.MULTIPLE:
        return forms.MultipleChoiceField(
            label=label,
            required=False,
            choices=[(c, c) for c in question["choices"]],
            widget=forms.CheckboxSelectMultiple,
        )
    if kind == QuestionType.SCORE:
        return forms.ChoiceField(label=label, required=False, choices=SCORE_CHOICES, widget=forms.RadioSelect)
    if kind == QuestionType.NPS:
        return forms.ChoiceField(label=label, required=False, choices=NPS_CHOICES, widget=forms.RadioSelect)
    return forms.CharField(label=label, required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class VisitRecordForm(StyledForm):
    """One call (or on-site visit, or message): outcome, channel, the questionnaire's
    questions (`q_<key>`), notes, next action, call-back time, the customer's verdict on
    a confirmation visit, the clinic funnel, and an optional problem → ticket."""

    version = VersionField()
    outcome = forms.ChoiceField(label=_("回访结果"), choices=Outcome.choices, widget=forms.RadioSelect)
    channel = forms.ChoiceField(label=_("回访方式"), choices=VisitChannel.choices, widget=forms.RadioSelect)
    satisfied = forms.ChoiceField(
        label=_("客户对工单处理是否满意"), choices=SATISFIED_CHOICES, required=False, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=_("回访记录"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_action = forms.CharField(label=_("后续安排"), required=False, max_length=200)
    call_back_at = forms.DateTimeField(
        label=_("约定回拨时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    arrived = forms.BooleanField(label=_("已到院/到店"), required=False)
    deal = forms.BooleanField(label=_("已成交"), required=False)
    deal_amount = forms.DecimalField(label=_("成交金额"), required=False, min_value=0, max_digits=12, decimal_places=2)
    problem = forms.BooleanField(label=_("发现问题，创建工单"), required=False)
    problem_kind = _NameChoiceField(label=_("工单类型"), queryset=None, required=False)
    problem_severity = forms.ChoiceField(label=_("严重程度"), choices=(), required=False)
    problem_title = forms.CharField(label=_("问题标题"), required=False, max_length=120)
    problem_description = forms.CharField(
        label=_("问题描述"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, visit: Visit, user, **kwargs):
        from kefu.tickets.choices import Severity
        from kefu.tickets.models import TicketKind

        kwargs.setdefault(
            "initial", {"version": visit.version, "channel": visit.channel, "problem_severity": Severity.NORMAL}
        )
        super().__init__(*args, **kwargs)
        self.visit = visit
        if not visit.ticket_id:
            del self.fields["satisfied"]
        if access.has_perm(user, ADD_TICKET):
            self.fields["problem_kind"].queryset = TicketKind.objects.filter(is_active=True)
            self.fields["problem_severity"].choices = Severity.choices
        else:
            for name in ("problem", "problem_kind", "problem_severity", "problem_title", "problem_description"):
                del self.fields[name]
        version = visit.questionnaire_version
        self.questions = list(version.questions) if version else []
        for question in self.questions:
            self.fields[f"q_{question['key']}"] = _question_field(question)

    @property
    def may_create_ticket(self) -> bool:
        return "problem" in self.fields

    @property
    def question_fields(self) -> list[tuple[dict, forms.BoundField]]:
        return [(q, self[f"q_{q['key']}"]) for q in self.questions]

    def clean(self):
        data = super().clean()
        if data.get("problem"):
            for name, message in (
                ("problem_kind", _("请选择工单类型。")),
                ("problem_title", _("请填写问题标题。")),
                ("problem_description", _("请填写问题描述。")),
            ):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
        return data

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            q["key"]: data[f"q_{q['key']}"] for q in self.questions if data.get(f"q_{q['key']}") not in (None, "", [])
        }

    def satisfied_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("satisfied") or "")

    def problem_input(self):
        from kefu.visits.services.visits import ProblemInput

        data = self.cleaned_data
        if not data.get("problem"):
            return None
        return ProblemInput(
            kind_code=data["problem_kind"].code,
            title=data["problem_title"],
            description=data["problem_description"],
            severity=data.get("problem_severity") or "normal",
        )


# Where a service's `details.field` lands on the record form (ticket_create's refusals
# name the ticket's fields).
_RECORD_FIELDS = {
    "problem.kind": "problem_kind",
    "kind": "problem_kind",
    "title": "problem_title",
    "description": "problem_description",
    "severity": "problem_severity",
}


def add_record_error(form: VisitRecordForm, error: KefuError) -> None:
    field = error.details.get("field") if isinstance(error.details, dict) else None
    name = None
    if isinstance(field, str):
        name = f"q_{field.split('.', 1)[1]}" if field.startswith("answers.") else _RECORD_FIELDS.get(field, field)
    form.add_error(name if name in form.fields else None, error.message)


# --- reschedule, reassign, plan by hand ------------------------------------------------


class VisitRescheduleForm(StyledForm):
    due_date = forms.DateField(label=_("新的计划日期"), widget=DATE)
    reason = forms.CharField(label=_("原因"), required=False, max_length=200)


class VisitReassignForm(StyledForm):
    assignee = StaffChoiceField(label=_("改派给"), queryset=User.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = visit_staff(user)


class VisitCreateForm(StyledForm):
    """A visit planned by hand. The customer is picked from a search (radio buttons the
    template renders), so the field never lists the whole archive."""

    customer = forms.ModelChoiceField(
        label=_("客户"),
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={"required": _("请先查找并选择客户。"), "invalid_choice": _("请先查找并选择客户。")},
    )
    visit_type = forms.CharField(label=_("回访类型"), max_length=40, initial=_("跟踪回访"))
    due_date = forms.DateField(label=_("计划日期"), widget=DATE)
    assignee = StaffChoiceField(label=_("回访人"), queryset=User.objects.none(), required=False)
    channel = forms.ChoiceField(
        label=_("回访方式"), choices=VisitChannel.choices, initial=VisitChannel.PHONE, widget=forms.RadioSelect
    )
    questionnaire = _NameChoiceField(label=_("问卷"), queryset=None, required=False)

    def __init__(self, *args, user, may_assign: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customer_base(user)
        self.fields["questionnaire"].queryset = Questionnaire.objects.filter(is_active=True).order_by("name")
        self.fields["questionnaire"].empty_label = _("不使用问卷")
        self.fields["due_date"].initial = timezone.localdate()
        if may_assign:
            self.fields["assignee"].queryset = visit_staff(user)
            self.fields["assignee"].empty_label = _("我自己")
        else:
            del self.fields["assignee"]
