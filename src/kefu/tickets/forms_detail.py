"""The forms of the ticket page: one per action. They only check the shape of the input
(a number is a number, a date is a date); every rule about the ticket itself is the
service's, so the page, the API and bulk actions refuse the same things."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import access
from kefu.core.forms import StyledForm, VersionField
from kefu.core.models import Department, User
from kefu.core.pii import mask_phone
from kefu.core.selectors.org import staff_list
from kefu.customers.choices import FieldType
from kefu.customers.forms import StaffChoiceField
from kefu.customers.models import Contact
from kefu.tickets.choices import Channel, HandlingOutcome, RefundKind, Severity
from kefu.tickets.fields import KindField, kind_fields
from kefu.tickets.models import Ticket, TicketCategory
from kefu.tickets.services.common import CHANGE, SUPERVISE
from kefu.tickets.services.notifications import holders_of

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
BOOLEAN_CHOICES = [("", "—"), ("是", gettext_lazy("是")), ("否", gettext_lazy("否"))]


def _text(label, *, max_length: int, required: bool = True, rows: int = 0, help_text="") -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else None
    return forms.CharField(label=label, max_length=max_length, required=required, widget=widget, help_text=help_text)


class _NameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class _NameMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def active_departments(keep: Department | None = None):
    condition = Q(is_active=True)
    if keep is not None:
        condition |= Q(pk=keep.pk)
    return Department.objects.filter(condition).order_by("sort_order", "code")


def staff_choices(user, keep: User | None = None):
    """Active staff `user` may see (the current value stays selectable)."""
    condition = Q(pk__in=staff_list(user).filter(is_active=True).values("pk"))
    if keep is not None:
        condition |= Q(pk=keep.pk)
    return User.objects.filter(condition).order_by("username")


# --------------------------------------------------------------------------- editing


def _extra_field(spec: KindField) -> forms.Field:
    common = {"label": spec.label, "required": False}
    if spec.field_type == FieldType.NUMBER:
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if spec.field_type == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec.field_type == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in spec.choices]], **common)
    if spec.field_type == FieldType.BOOLEAN:
        return forms.ChoiceField(choices=BOOLEAN_CHOICES, **common)
    if spec.field_type == FieldType.STAFF:
        return StaffChoiceField(
            queryset=User.objects.filter(is_active=True).order_by("username"), to_field_name="username", **common
        )
    return forms.CharField(max_length=500, **common)


class TicketEditForm(StyledForm):
    """What `ticket_update` may change. The stored caller number is not filled in (the
    page would show it in full without the audited reveal): left empty, it stays."""

    title = _text(gettext_lazy("标题"), max_length=120)
    description = _text(gettext_lazy("问题描述"), max_length=20000, rows=5)
    category = forms.ModelChoiceField(
        label=gettext_lazy("分类"), queryset=TicketCategory.objects.none(), required=False
    )
    severity = forms.ChoiceField(label=gettext_lazy("严重程度"), choices=Severity.choices)
    contact = forms.ModelChoiceField(label=gettext_lazy("联系方式"), queryset=Contact.objects.none(), required=False)
    channel = forms.ChoiceField(label=gettext_lazy("受理渠道"), choices=Channel.choices)
    agency_name = _text(
        gettext_lazy("转交机构"), max_length=60, required=False, help_text=gettext_lazy("如 消协、装协")
    )
    agency_ref = _text(gettext_lazy("机构编号"), max_length=60, required=False)
    agency_deadline = forms.DateField(
        label=gettext_lazy("机构要求答复日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    caller_name = _text(gettext_lazy("来电人"), max_length=60, required=False)
    caller_phone = _text(gettext_lazy("来电号码"), max_length=32, required=False)
    against_staff = StaffChoiceField(label=gettext_lazy("被投诉员工"), queryset=User.objects.none(), required=False)
    version = VersionField()

    def __init__(self, *args, ticket: Ticket, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        self.specs = kind_fields(ticket.kind)
        categories = Q(is_active=True) & (Q(kind__isnull=True) | Q(kind=ticket.kind_id))
        if ticket.category_id:
            categories |= Q(pk=ticket.category_id)
        self.fields["category"].queryset = TicketCategory.objects.filter(categories)
        if ticket.customer_id:
            field = self.fields["contact"]
            field.queryset = ticket.customer.contacts.all()
            field.label_from_instance = lambda c: " ".join(filter(None, [c.name, mask_phone(c.phone)])) or str(c.pk)
        else:
            del self.fields["contact"]
        self.fields["against_staff"].queryset = staff_choices(user, ticket.against_staff)
        if ticket.caller_phone:
            self.fields["caller_phone"].help_text = _("当前：%(masked)s。留空表示不修改。") % {
                "masked": mask_phone(ticket.caller_phone)
            }
        for spec in self.specs:
            self.fields[f"extra.{spec.key}"] = _extra_field(spec)
        # Re-style: the extra fields were added after StyledForm's pass.
        for name in (f"extra.{s.key}" for s in self.specs):
            widget = self.fields[name].widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = css

    @classmethod
    def initial_for(cls, ticket: Ticket) -> dict[str, Any]:
        initial = {
            name: getattr(ticket, name)
            for name in ("title", "description", "severity", "channel", "agency_name", "agency_ref", "caller_name")
        }
        initial.update(
            category=ticket.category_id,
            contact=ticket.contact_id,
            agency_deadline=ticket.agency_deadline,
            against_staff=ticket.against_staff_id,
            version=ticket.version,
        )
        for key, value in (ticket.extra or {}).items():
            if isinstance(value, bool):
                value = "是" if value else "否"
            initial[f"extra.{key}"] = value
        return initial

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = ["title", "description", "category", "severity", "channel", "agency_name", "agency_ref"]
        names += ["agency_deadline", "caller_name", "against_staff"]
        if "contact" in self.fields:
            names.append("contact")
        values = {name: data.get(name) for name in names}
        for name in ("agency_name", "agency_ref", "caller_name"):
            values[name] = values[name] or ""
        if data.get("caller_phone"):
            values["caller_phone"] = data["caller_phone"]
        extra = {}
        for spec in self.specs:
            value = data.get(f"extra.{spec.key}")
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, User):
                value = value.username
            extra[spec.key] = value if value not in ("", None) else None
        if extra:
            values["extra"] = extra
        return values


# --------------------------------------------------------------------------- ticket moves


class AssignForm(StyledForm):
    """A supervisor picks anyone who works tickets; everybody else may take it."""

    assignee = StaffChoiceField(label=gettext_lazy("负责人"), queryset=User.objects.none())
    version = VersionField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if access.sees_everything(user) or access.has_perm(user, SUPERVISE):
            workers = holders_of(CHANGE).values("pk")
            self.fields["assignee"].queryset = staff_choices(user).filter(pk__in=workers)
        else:
            self.fields["assignee"].queryset = User.objects.filter(pk=user.pk)


class RouteForm(StyledForm):
    departments = _NameMultipleChoiceField(
        label=gettext_lazy("责任部门"), queryset=Department.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    instructions = _text(gettext_lazy("处理要求"), max_length=5000, required=False, rows=3)
    due_at = forms.DateTimeField(
        label=gettext_lazy("回复期限"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=gettext_lazy("留空按默认时限（工作时间）计算。"),
    )
    version = VersionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = active_departments()


class ResolveForm(StyledForm):
    """The outcome, and (for those who may) a penalty proposal sent to approval with it."""

    resolution = _text(gettext_lazy("处理结果"), max_length=10000, rows=4)
    cause_analysis = _text(gettext_lazy("原因分析"), max_length=10000, required=False, rows=3)
    responsible_party = _text(gettext_lazy("责任方"), max_length=120, required=False)
    responsible_department = _NameChoiceField(
        label=gettext_lazy("责任部门"), queryset=Department.objects.none(), required=False
    )
    propose_penalty = forms.BooleanField(label=gettext_lazy("同时提出处罚建议（提交审批）"), required=False)
    penalty_staff = StaffChoiceField(label=gettext_lazy("责任人"), queryset=User.objects.none(), required=False)
    penalty_amount = forms.DecimalField(
        label=gettext_lazy("处罚金额"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    penalty_reason = _text(gettext_lazy("处罚理由"), max_length=2000, required=False, rows=2)
    version = VersionField()

    PENALTY_FIELDS = ("propose_penalty", "penalty_staff", "penalty_amount", "penalty_reason")

    def __init__(self, *args, ticket: Ticket, user, may_propose: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_department"].queryset = active_departments(ticket.responsible_department)
        self.fields["responsible_department"].initial = ticket.responsible_department_id
        if may_propose:
            self.fields["penalty_staff"].queryset = staff_choices(user, ticket.against_staff)
        else:
            for name in self.PENALTY_FIELDS:
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if data.get("propose_penalty"):
            if not (data.get("penalty_reason") or "").strip():
                self.add_error("penalty_reason", _("请填写处罚理由。"))
            if data.get("penalty_staff") is None and not (data.get("responsible_party") or "").strip():
                self.add_error("penalty_staff", _("请选择责任人，或填写责任方。"))
        return data


class ConfirmForm(StyledForm):
    """The customer's word in the return visit; not satisfied reopens the ticket."""

    satisfied = forms.TypedChoiceField(
        label=gettext_lazy("客户是否满意"),
        choices=[("1", gettext_lazy("满意")), ("0", gettext_lazy("不满意（重新打开）"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    score = forms.TypedChoiceField(
        label=gettext_lazy("满意度（1–5 分）"),
        choices=[("", "—"), *[(str(n), str(n)) for n in range(5, 0, -1)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    note = _text(gettext_lazy("回访记录"), max_length=5000, required=False, rows=2)
    version = VersionField()


class ReasonForm(StyledForm):
    """A move that only needs a few words of why (reopen, withdraw, pause…)."""

    reason = _text(gettext_lazy("原因"), max_length=2000, rows=2)
    version = VersionField()

    def __init__(self, *args, label=None, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["reason"].label = label
        self.fields["reason"].required = required


class TicketNumberForm(StyledForm):
    """Another ticket, by its number (mark as duplicate of / merge into / relate to)."""

    number = forms.CharField(label=gettext_lazy("工单编号"), max_length=32)
    merge = forms.BooleanField(label=gettext_lazy("合并内容（附件与描述并入目标工单）"), required=False)

    def __init__(self, *args, with_merge: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_merge:
            del self.fields["merge"]


class ImportantForm(StyledForm):
    important = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")
    reason = _text(gettext_lazy("列为重要投诉的原因"), max_length=200, required=False)


class CommentForm(StyledForm):
    body = _text(gettext_lazy("备注内容"), max_length=5000, rows=2)


# --------------------------------------------------------------------------- slips


class HandlingForm(StyledForm):
    note = _text(gettext_lazy("处理记录"), max_length=5000, rows=2)
    outcome = forms.ChoiceField(
        label=gettext_lazy("结果"), choices=HandlingOutcome.choices, initial=HandlingOutcome.PROGRESS
    )


class ReplyForm(StyledForm):
    reply = _text(gettext_lazy("回复内容"), max_length=5000, rows=3)


class ExtensionRequestForm(StyledForm):
    until = forms.DateTimeField(label=gettext_lazy("延期至"), widget=DATETIME_WIDGET)
    reason = _text(gettext_lazy("延期理由"), max_length=2000, rows=2)


class ExtensionDecideForm(StyledForm):
    grant = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")
    note = _text(gettext_lazy("批复意见"), max_length=2000, required=False)


# --------------------------------------------------------------------------- money


class RefundForm(StyledForm):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=RefundKind.choices)
    amount = forms.DecimalField(
        label=gettext_lazy("金额（元）"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    reason = _text(gettext_lazy("理由"), max_length=2000, rows=2)
