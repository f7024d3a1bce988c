"""Forms of the service desk: the queue's filter panel, the bulk actions and the phone
agent's call screen. They only shape input; the rules (which move is allowed, who may
assign, which category fits a kind, required extra fields) live in the services, whose
Chinese refusals are shown on the right field through `add_service_error`."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import access
from kefu.core.forms import StyledForm
from kefu.core.models import Department, User
from kefu.core.selectors import org as org_selectors
from kefu.customers.choices import FieldType
from kefu.customers.forms import StaffChoiceField, region_choices
from kefu.customers.models import Contact
from kefu.customers.selectors import customer_base
from kefu.tickets.choices import Channel, Severity, SlaState, TicketStatus
from kefu.tickets.fields import KindField, kind_fields
from kefu.tickets.models import TicketCategory, TicketKind
from kefu.tickets.selectors import SORTS

CHANGE = "tickets.change_ticket"
SUPERVISE = "tickets.supervise_ticket"
SORT_LABELS = {
    "-id": _("最新登记"),
    "id": _("最早登记"),
    "due": _("解决期限（最近在前）"),
    "-due": _("解决期限（最远在前）"),
    "-updated_at": _("最近更新"),
}
# The default order first: a bound panel without `sort` shows the first option.
SORT_CHOICES = [(k, SORT_LABELS[k]) for k in SORT_LABELS if k in SORTS] + [
    (k, k) for k in SORTS if k not in SORT_LABELS
]
BOOLEAN_CHOICES = [("", "—"), ("true", _("是")), ("false", _("否"))]


class _NameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class _PathChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.path or obj.name


class _DepartmentsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def ticket_staff(user, *, keep: User | None = None):
    """Active staff who work tickets (their role may change one), among the staff `user`
    may see."""
    holders = User.objects.filter(
        groups__permissions__codename="change_ticket", groups__permissions__content_type__app_label="tickets"
    )
    visible = org_selectors.staff_list(user).filter(is_active=True, pk__in=holders.values("pk"))
    condition = Q(pk__in=visible.values("pk"))
    if keep is not None:
        condition |= Q(pk=keep.pk)
    return User.objects.filter(condition).order_by("username")


def assignable_staff(user):
    """Whom `user` may hand tickets to: anybody working tickets for a supervisor (or
    somebody who sees everything), else only themselves (ticket_assign's rule)."""
    if access.sees_everything(user) or access.has_perm(user, SUPERVISE):
        return ticket_staff(user)
    return User.objects.filter(pk=user.pk)


def active_departments(user):
    return org_selectors.department_list(user, {"active": True})


def categories_for(kind: TicketKind | None):
    """Active categories of `kind` (and those for every kind), in tree order."""
    qs = TicketCategory.objects.filter(is_active=True)
    if kind is not None:
        qs = qs.filter(Q(kind__isnull=True) | Q(kind=kind))
    return qs.order_by("path")


# --- the queue ----------------------------------------------------------------------


class TicketFilterForm(StyledForm):
    """The queue's filter panel. Its field names are exactly the parameters
    `kefu.tickets.params.filters_from_params` reads; the form only renders the panel."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    kind = _NameChoiceField(label=_("类型"), queryset=TicketKind.objects.none(), required=False, empty_label=_("全部"))
    status = forms.ChoiceField(label=_("状态"), choices=[("", _("全部")), *TicketStatus.choices], required=False)
    severity = forms.ChoiceField(label=_("严重程度"), choices=[("", _("全部")), *Severity.choices], required=False)
    category = _PathChoiceField(
        label=_("分类"), queryset=TicketCategory.objects.none(), required=False, empty_label=_("全部")
    )
    department = _NameChoiceField(
        label=_("责任部门"), queryset=Department.objects.none(), required=False, empty_label=_("全部")
    )
    region = _NameChoiceField(label=_("片区"), queryset=None, required=False, empty_label=_("全部"))
    channel = forms.ChoiceField(label=_("受理渠道"), choices=[("", _("全部")), *Channel.choices], required=False)
    sla_state = forms.ChoiceField(label=_("时限状态"), choices=[("", _("全部")), *SlaState.choices], required=False)
    assignee = StaffChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False, empty_label=_("全部"))
    created_from = forms.DateField(
        label=_("登记日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(label=_("登记日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(label=_("排序"), choices=SORT_CHOICES, required=False)

    MAIN = ("q", "sort")

    def __init__(self, *args, user, url_name: str = "tickets:list", target: str = "#ticket-results", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = TicketKind.objects.filter(is_active=True)
        self.fields["category"].queryset = categories_for(None)
        self.fields["department"].queryset = active_departments(user)
        self.fields["region"].queryset = org_selectors.region_list(user)
        self.fields["assignee"].queryset = ticket_staff(user)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("工单编号、标题关键字或客户姓名"), "autocomplete": "off"}
        )
        self.fields["sort"].widget.attrs.update(
            {
                "hx-get": reverse(url_name),
                "hx-trigger": "change",
                "hx-target": target,
                "hx-include": "closest form",
                "hx-push-url": "true",
            }
        )

    def panel_fields(self):
        return [self[name] for name in self.fields if name not in self.MAIN]

    def active_count(self) -> int:
        if not self.is_bound:
            return 0
        return sum(1 for name in self.fields if name not in self.MAIN and self.data.get(name))


# --- bulk actions -------------------------------------------------------------------


class BulkAction:
    ROUTE = "route"
    ASSIGN = "assign"
    CLOSE = "close"
    CHOICES = [(ROUTE, _("派单给责任部门")), (ASSIGN, _("指定负责人")), (CLOSE, _("关闭工单"))]
    # The move of transitions.ALLOWED each action makes.
    TRANSITION = {ROUTE: "route", ASSIGN: "assign", CLOSE: "close"}


class TicketBulkForm(StyledForm):
    """What to do with the selected tickets; the ids travel as repeated `ids`."""

    action = forms.ChoiceField(label=_("批量操作"), choices=[("", _("选择批量操作…")), *BulkAction.CHOICES])
    departments = _DepartmentsField(
        label=_("责任部门"), queryset=Department.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    instructions = forms.CharField(label=_("处理要求"), required=False, max_length=5000)
    assignee = StaffChoiceField(
        label=_("负责人"), queryset=User.objects.none(), required=False, empty_label=_("选择负责人…")
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=2000)

    def __init__(self, *args, user, **kwargs):
        # Its fields share names with the filter panel on the same page, not ids.
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = active_departments(user)
        self.fields["assignee"].queryset = assignable_staff(user)
        self.fields["action"].widget.attrs["aria-label"] = self.fields["action"].label

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == BulkAction.ROUTE and not data.get("departments"):
            self.add_error("departments", _("请至少选择一个责任部门。"))
        if action == BulkAction.ASSIGN and not data.get("assignee"):
            self.add_error("assignee", _("请选择负责人。"))
        return data

    def describe(self) -> str:
        data = self.cleaned_data
        action = data["action"]
        label = dict(BulkAction.CHOICES)[action]
        if action == BulkAction.ROUTE:
            return f"{label}：{'、'.join(d.name for d in data['departments'])}"
        if action == BulkAction.ASSIGN:
            return f"{label}：{data['assignee']}"
        return str(label)


# --- the call screen ----------------------------------------------------------------


def kind_input_field(spec: KindField) -> forms.Field:
    """A form field for one of the kind's extra fields (values checked by the service)."""
    common = {"label": spec.label, "required": False}
    if spec.field_type == FieldType.NUMBER:
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if spec.field_type == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec.field_type == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in spec.choices]], **common)
    if spec.field_type == FieldType.BOOLEAN:
        return forms.ChoiceField(choices=BOOLEAN_CHOICES, **common)
    return forms.CharField(max_length=500, **common)


class TicketCallForm(StyledForm):
    """Registering a ticket while the customer is on the line. `customer` and `contact`
    are picked from the search results (radio buttons rendered by the partials); the
    kind decides the categories offered and the extra fields (`extra.<key>`)."""

    customer = forms.ModelChoiceField(queryset=None, required=False, widget=forms.HiddenInput)
    contact = forms.ModelChoiceField(queryset=None, required=False, widget=forms.HiddenInput)
    caller_name = forms.CharField(label=_("来电人"), max_length=60, required=False)
    caller_phone = forms.CharField(label=_("来电号码"), max_length=32, required=False)
    kind = _NameChoiceField(
        label=_("工单类型"), queryset=TicketKind.objects.none(), empty_label=None, widget=forms.RadioSelect
    )
    category = _PathChoiceField(label=_("分类"), queryset=TicketCategory.objects.none(), required=False)
    severity = forms.ChoiceField(
        label=_("严重程度"),
        choices=Severity.choices,
        initial=Severity.NORMAL,
        widget=forms.RadioSelect,
        help_text=_("紧急工单登记后立即逐级上报。"),
    )
    channel = forms.ChoiceField(label=_("受理渠道"), choices=Channel.choices, initial=Channel.PHONE)
    agency_name = forms.CharField(label=_("转交机构"), max_length=60, required=False)
    agency_ref = forms.CharField(label=_("机构编号"), max_length=60, required=False)
    agency_deadline = forms.DateField(
        label=_("机构要求答复日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    title = forms.CharField(label=_("标题"), max_length=120)
    description = forms.CharField(label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 4}))
    departments = _DepartmentsField(
        label=_("立即派单给"), queryset=Department.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    instructions = forms.CharField(
        label=_("处理要求"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, may_route: bool, **kwargs):
        super().__init__(*args, **kwargs)
        customers = customer_base(user)
        self.fields["customer"].queryset = customers
        self.fields["contact"].queryset = Contact.objects.filter(customer__in=customers.values("pk"))
        kinds = TicketKind.objects.filter(is_active=True)
        self.fields["kind"].queryset = kinds
        # Not `self.kind`: templates would read the bound field of that name instead.
        self.chosen_kind = self._chosen_kind(kinds)
        if not self.is_bound and self.chosen_kind is not None:
            self.fields["kind"].initial = self.chosen_kind.pk
        self.fields["category"].queryset = categories_for(self.chosen_kind)
        self.fields["category"].empty_label = "—"
        if may_route:
            self.fields["departments"].queryset = active_departments(user)
        else:
            del self.fields["departments"], self.fields["instructions"]
        self.kind_fields = kind_fields(self.chosen_kind) if self.chosen_kind else []
        for spec in self.kind_fields:
            field = kind_input_field(spec)
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            self.fields[f"extra.{spec.key}"] = field
        # Choosing a kind reloads its categories and extra fields (the call screen's htmx).
        self.fields["kind"].widget.attrs.update(
            {"hx-get": reverse("tickets:call_kind"), "hx-trigger": "change", "hx-target": "#kind-fields"}
        )
        self.fields["kind"].widget.attrs["hx-include"] = "this"
        accesskeys = {"kind": "k", "title": "t", "description": "m", "caller_name": "c"}
        for name, key in accesskeys.items():
            self.fields[name].widget.attrs["accesskey"] = key

    def _chosen_kind(self, kinds) -> TicketKind | None:
        raw = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        raw = getattr(raw, "pk", raw)
        if raw in (None, ""):
            return kinds.first()
        if not str(raw).isdigit() or len(str(raw)) > 18:
            return None
        return kinds.filter(pk=int(raw)).first()

    def clean(self):
        data = super().clean()
        customer, contact = data.get("customer"), data.get("contact")
        if contact is not None and (customer is None or contact.customer_id != customer.pk):
            data["contact"] = None
        return data

    def extra_values(self) -> dict[str, Any]:
        values = {}
        for spec in self.kind_fields:
            value = self.cleaned_data.get(f"extra.{spec.key}")
            if isinstance(value, datetime.date):
                value = value.isoformat()
            values[spec.key] = value if value not in ("", None) else None
        return values

    def extra_fields(self):
        """The kind's extra fields, bound, for the template."""
        return [self[f"extra.{spec.key}"] for spec in self.kind_fields]


class QuickCustomerForm(StyledForm):
    """The inline 快速建档 on the call screen: name, phone and region only; the rest is
    filled in on the archive later."""

    name = forms.CharField(label=_("客户姓名"), max_length=120)
    phone = forms.CharField(label=_("电话"), max_length=32, required=False)
    region = _NameChoiceField(label=_("片区"), queryset=None, required=False, empty_label="—")
    allow_duplicate = forms.BooleanField(label=_("确认不是同一客户，继续建档"), required=False)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("prefix", "new")
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = region_choices(user)
