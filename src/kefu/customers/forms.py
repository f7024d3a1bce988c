"""Forms of the archive pages. They only shape input; the rules (validation of phones,
ID numbers, custom fields, scope, duplicates) live in the services, whose Chinese
refusals are shown on the right field through `add_service_error`."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import access
from kefu.core.forms import StyledForm, VersionField
from kefu.core.models import Region, User
from kefu.core.selectors import org as org_selectors
from kefu.customers.choices import ConsentChannel, CustomerKind, FieldType, Lifecycle
from kefu.customers.fields import active_fields
from kefu.customers.models import (
    CreditGrade,
    Customer,
    CustomerClass,
    CustomerSource,
    CustomField,
    ProductCategory,
)
from kefu.customers.selectors import SORTS
from kefu.customers.services.customers import ContactInput

GENDER_CHOICES = [("", "—"), ("男", _("男")), ("女", _("女"))]
BOOLEAN_CHOICES = [("", "—"), ("true", _("是")), ("false", _("否"))]
KEY_ACCOUNT_CHOICES = [("", _("全部")), ("1", _("是")), ("0", _("否"))]
SORT_LABELS = {
    "-id": _("最新建档"),
    "id": _("最早建档"),
    "name": _("名称"),
    "-updated_at": _("最近更新"),
    "archive_no": _("档案编号"),
}
ID_LABELS = {
    CustomerKind.PERSON: _("身份证号"),
    CustomerKind.ORGANISATION: _("统一社会信用代码"),
}


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name or obj.username


class _ActiveChoiceField(forms.ModelChoiceField):
    """Configured lists (classes, grades, sources…) show their name only."""

    def label_from_instance(self, obj):
        return obj.name


class _ActiveMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def active_or(model, keep=None):
    """Active rows to pick from, plus the current values even if deactivated since."""
    keep_ids = [k.pk for k in keep if k is not None] if keep else []
    return model.objects.filter(Q(is_active=True) | Q(pk__in=keep_ids))


def owner_choices(user, keep: User | None = None):
    """Staff who can hold customers (their role lets them see the archive), among the
    staff `user` may see; the current owner stays selectable."""
    holders = User.objects.filter(
        groups__permissions__codename="view_customer", groups__permissions__content_type__app_label="customers"
    )
    visible = org_selectors.staff_list(user).filter(is_active=True, pk__in=holders.values("pk"))
    condition = Q(pk__in=visible.values("pk"))
    if keep is not None:
        condition |= Q(pk=keep.pk)
    return User.objects.filter(condition).order_by("username")


def region_choices(user, keep: Region | None = None):
    """Regions a customer may be put in by `user`: all for those who see everything,
    else their own (a customer placed elsewhere would leave their sight)."""
    condition = Q(is_active=True)
    if not access.sees_everything(user):
        condition &= Q(pk__in=access.user_region_ids(user))
    if keep is not None:
        condition |= Q(pk=keep.pk)
    return Region.objects.filter(condition).order_by("sort_order", "code")


def split_tags(raw: str) -> list[str]:
    """Tags typed as 「重要, 老客户，VIP」: commas (either width), semicolons or spaces."""
    for sep in "，,；;、":
        raw = raw.replace(sep, " ")
    return [t for t in raw.split() if t]


# --- the list ---------------------------------------------------------------------


class CustomerFilterForm(StyledForm):
    """The list's filter panel. Its field names are exactly the parameters
    `kefu.customers.params.filters_from_params` reads, so the same query string drives
    the list, the export and the API; the form itself only renders the panel."""

    q = forms.CharField(label=_("搜索"), required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=[("", _("全部")), *CustomerKind.choices], required=False)
    customer_class = _ActiveChoiceField(
        label=_("客户分类"), queryset=CustomerClass.objects.all(), required=False, empty_label=_("全部")
    )
    region = forms.ModelChoiceField(
        label=_("片区"), queryset=Region.objects.all(), required=False, empty_label=_("全部")
    )
    owner = StaffChoiceField(label=_("客户经理"), queryset=User.objects.none(), required=False, empty_label=_("全部"))
    credit_grade = _ActiveChoiceField(
        label=_("信用等级"), queryset=CreditGrade.objects.all(), required=False, empty_label=_("全部")
    )
    lifecycle = forms.ChoiceField(label=_("生命周期"), choices=[("", _("全部")), *Lifecycle.choices], required=False)
    tags = forms.CharField(label=_("标签"), required=False, help_text=_("多个标签用逗号分隔"))
    source = _ActiveChoiceField(
        label=_("信息来源"), queryset=CustomerSource.objects.all(), required=False, empty_label=_("全部")
    )
    category = _ActiveChoiceField(
        label=_("产品类别"), queryset=ProductCategory.objects.all(), required=False, empty_label=_("全部")
    )
    key_account = forms.ChoiceField(label=_("大客户"), choices=KEY_ACCOUNT_CHOICES, required=False)
    created_from = forms.DateField(
        label=_("建档日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(label=_("建档日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    updated_from = forms.DateField(
        label=_("更新日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    updated_to = forms.DateField(label=_("更新日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(label=_("排序"), choices=[(k, SORT_LABELS.get(k, k)) for k in SORTS], required=False)

    # Fields always visible next to the search box; the rest sit in the folding panel.
    MAIN = ("q", "sort")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = org_selectors.region_list(user).order_by("sort_order", "code")
        self.fields["owner"].queryset = owner_choices(user)
        self.fields["sort"].widget.attrs.update(
            {
                "hx-get": reverse("customers:list"),
                "hx-trigger": "change",
                "hx-target": "#customer-results",
                "hx-include": "#customer-filters",
                "hx-push-url": "true",
            }
        )
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("姓名、拼音首字母、电话（4 位以上）或档案编号"), "autocomplete": "off"}
        )
        self.custom_fields: list[CustomField] = active_fields()
        for cf in self.custom_fields:
            if cf.field_type == FieldType.DATE:
                for op, suffix in (("gte", _("从")), ("lte", _("至"))):
                    self.fields[f"extra.{cf.key}__{op}"] = forms.DateField(
                        label=f"{cf.label}{suffix}", required=False, widget=forms.DateInput(attrs={"type": "date"})
                    )
            else:
                self.fields[f"extra.{cf.key}"] = _custom_filter_field(cf)
        for name, field in self.fields.items():
            if name.startswith("extra."):
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    def panel_fields(self):
        return [self[name] for name in self.fields if name not in self.MAIN]

    def active_count(self) -> int:
        """How many panel filters are set (shown on the panel's toggle)."""
        if not self.is_bound:
            return 0
        return sum(1 for name in self.fields if name not in self.MAIN and self.data.get(name))


def _custom_filter_field(cf: CustomField) -> forms.Field:
    if cf.field_type == FieldType.CHOICE:
        return forms.ChoiceField(
            label=cf.label, required=False, choices=[("", _("全部")), *[(c, c) for c in cf.choices]]
        )
    if cf.field_type == FieldType.BOOLEAN:
        return forms.ChoiceField(label=cf.label, required=False, choices=[("", _("全部")), *BOOLEAN_CHOICES[1:]])
    return forms.CharField(label=cf.label, required=False)


# --- bulk actions -----------------------------------------------------------------


class BulkAction:
    OWNER = "owner"
    CLASS = "class"
    ADD_TAGS = "add_tags"
    REMOVE_TAGS = "remove_tags"
    CHOICES = [
        (OWNER, _("修改客户经理")),
        (CLASS, _("修改客户分类")),
        (ADD_TAGS, _("添加标签")),
        (REMOVE_TAGS, _("移除标签")),
    ]


class CustomerBulkForm(StyledForm):
    """What to do with the selected customers; the ids travel as repeated `ids`."""

    action = forms.ChoiceField(label=_("批量操作"), choices=[("", _("选择批量操作…")), *BulkAction.CHOICES])
    owner = StaffChoiceField(
        label=_("客户经理"), queryset=User.objects.none(), required=False, empty_label=_("（清空）")
    )
    customer_class = _ActiveChoiceField(
        label=_("客户分类"), queryset=CustomerClass.objects.none(), required=False, empty_label=_("（清空）")
    )
    tags = forms.CharField(label=_("标签"), required=False, max_length=400)
    reason = forms.CharField(label=_("原因"), required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        # Its fields share names with the filter panel on the same page, not ids.
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(user)
        self.fields["customer_class"].queryset = CustomerClass.objects.filter(is_active=True)
        self.fields["tags"].widget.attrs["placeholder"] = _("标签，多个用逗号分隔")
        for name in ("action", "owner", "customer_class", "tags"):
            self.fields[name].widget.attrs["aria-label"] = self.fields[name].label
        self.fields["owner"].empty_label = _("客户经理：（清空）")
        self.fields["customer_class"].empty_label = _("客户分类：（清空）")

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action in (BulkAction.ADD_TAGS, BulkAction.REMOVE_TAGS) and not split_tags(data.get("tags") or ""):
            self.add_error("tags", _("请填写标签。"))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        action = data["action"]
        if action == BulkAction.OWNER:
            return {"owner": data.get("owner")}
        if action == BulkAction.CLASS:
            return {"customer_class": data.get("customer_class")}
        if action == BulkAction.ADD_TAGS:
            return {"add_tags": split_tags(data["tags"])}
        return {"remove_tags": split_tags(data["tags"])}

    def describe(self) -> str:
        """The action in words, for the confirmation step."""
        data = self.cleaned_data
        action = data["action"]
        label = dict(BulkAction.CHOICES)[action]
        if action == BulkAction.OWNER:
            value = data.get("owner") or _("（清空）")
        elif action == BulkAction.CLASS:
            value = data.get("customer_class") or _("（清空）")
        else:
            value = "、".join(split_tags(data["tags"]))
        return f"{label}：{value}"


# --- create / edit ----------------------------------------------------------------


class CustomerForm(StyledForm):
    """Create or edit an archive. Class and credit grade are set here only on create;
    later changes go through their own forms (with a reason) on the detail page.
    Custom fields come from the active `CustomField`s as `extra.<key>`."""

    kind = forms.ChoiceField(
        label=_("类型"), choices=CustomerKind.choices, initial=CustomerKind.PERSON, widget=forms.RadioSelect
    )
    name = forms.CharField(label=_("名称"), max_length=120)
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        required=False,
        help_text=_("个人填身份证号；单位填统一社会信用代码"),
    )
    gender = forms.ChoiceField(label=_("性别"), choices=GENDER_CHOICES, required=False)
    birthday = forms.DateField(label=_("生日"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    region = forms.ModelChoiceField(label=_("片区"), queryset=Region.objects.none(), required=False)
    owner = StaffChoiceField(label=_("客户经理"), queryset=User.objects.none(), required=False)
    customer_class = _ActiveChoiceField(label=_("客户分类"), queryset=CustomerClass.objects.none(), required=False)
    credit_grade = _ActiveChoiceField(label=_("信用等级"), queryset=CreditGrade.objects.none(), required=False)
    is_key_account = forms.BooleanField(label=_("大客户"), required=False)
    source = _ActiveChoiceField(label=_("信息来源"), queryset=CustomerSource.objects.none(), required=False)
    lifecycle = forms.ChoiceField(label=_("生命周期"), choices=Lifecycle.choices, initial=Lifecycle.ACTIVE)
    categories = _ActiveMultipleChoiceField(
        label=_("产品类别"),
        queryset=ProductCategory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.CharField(label=_("标签"), required=False, max_length=400, help_text=_("多个标签用逗号分隔"))
    marketing_consent = forms.BooleanField(label=_("同意营销联系"), required=False)
    consent_channel = forms.ChoiceField(
        label=_("同意渠道"), choices=[("", "—"), *ConsentChannel.choices], required=False
    )
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    allow_duplicate = forms.BooleanField(label=_("确认不是同一客户，继续建档"), required=False)
    version = VersionField()

    SECTIONS = [
        (_("基本信息"), ("kind", "name", "id_number", "gender", "birthday", "address")),
        (
            _("归属与分级"),
            ("region", "owner", "customer_class", "credit_grade", "is_key_account", "source", "lifecycle"),
        ),
        (_("类别与标签"), ("categories", "tags")),
        (_("营销与备注"), ("marketing_consent", "consent_channel", "notes")),
    ]

    def __init__(self, *args, user, instance: Customer | None = None, may_set_credit: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["region"].queryset = region_choices(user, keep=instance.region if instance else None)
        self.fields["owner"].queryset = owner_choices(user, keep=instance.owner if instance else None)
        self.fields["source"].queryset = active_or(CustomerSource, [instance.source] if instance else None)
        self.fields["categories"].queryset = active_or(
            ProductCategory, list(instance.categories.all()) if instance else None
        )
        self.fields["customer_class"].queryset = CustomerClass.objects.filter(is_active=True)
        self.fields["credit_grade"].queryset = CreditGrade.objects.filter(is_active=True)
        if instance is not None:
            # Kind never changes after creation; class and grade have their own forms.
            for name in ("kind", "customer_class", "credit_grade", "allow_duplicate"):
                del self.fields[name]
            kind = instance.kind
        else:
            del self.fields["version"]
            if not may_set_credit:
                del self.fields["credit_grade"]
            kind = self.data.get("kind") if self.is_bound else None
        for name in ("region", "owner", "customer_class", "credit_grade", "source"):
            if name in self.fields:
                self.fields[name].empty_label = "—"
        if kind in ID_LABELS:
            self.fields["id_number"].label = ID_LABELS[kind]
        self.custom_fields = active_fields(instance.kind if instance else None)
        for cf in self.custom_fields:
            field = _custom_input_field(cf)
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )
            self.fields[f"extra.{cf.key}"] = field

    @classmethod
    def initial_for(cls, customer: Customer) -> dict[str, Any]:
        initial = {
            name: getattr(customer, name)
            for name in ("name", "id_number", "gender", "birthday", "address", "is_key_account", "lifecycle")
        }
        initial.update(
            region=customer.region_id,
            owner=customer.owner_id,
            source=customer.source_id,
            categories=[c.pk for c in customer.categories.all()],
            tags="，".join(t.name for t in customer.tags.all()),
            marketing_consent=customer.marketing_consent,
            consent_channel=customer.consent_channel,
            notes=customer.notes,
            version=customer.version,
        )
        for key, value in (customer.extra or {}).items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            initial[f"extra.{key}"] = value
        return initial

    def sections(self):
        """[(title, [bound field…])…] for the page; custom fields get their own card."""
        out = []
        for title, names in self.SECTIONS:
            fields = [self[n] for n in names if n in self.fields]
            if fields:
                out.append((title, fields))
        extra = [self[n] for n in self.fields if n.startswith("extra.")]
        if extra:
            out.append((_("扩展信息"), extra))
        return out

    def extra_values(self, kind: str) -> dict[str, Any]:
        """Custom-field values for the service; fields of the other kind are left out
        (the service refuses a key that does not apply)."""
        values = {}
        for cf in self.custom_fields:
            if cf.applies_to and cf.applies_to != kind:
                continue
            value = self.cleaned_data.get(f"extra.{cf.key}")
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, User):
                value = value.username
            values[cf.key] = value if value not in ("", None) else None
        return values

    def values(self) -> dict[str, Any]:
        """Plain fields for `customer_update`."""
        data = self.cleaned_data
        names = (
            "name",
            "id_number",
            "gender",
            "birthday",
            "address",
            "region",
            "owner",
            "is_key_account",
            "source",
            "lifecycle",
            "marketing_consent",
            "consent_channel",
            "notes",
        )
        values = {n: data.get(n) for n in names}
        if not values["marketing_consent"]:
            values["consent_channel"] = ""
        return values


def _custom_input_field(cf: CustomField) -> forms.Field:
    label = cf.label
    help_text = ""
    if cf.applies_to:
        help_text = _("仅适用于%(kind)s客户") % {"kind": dict(CustomerKind.choices).get(cf.applies_to, cf.applies_to)}
    common = {"label": label, "required": False, "help_text": help_text}
    if cf.field_type == FieldType.NUMBER:
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if cf.field_type == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if cf.field_type == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in cf.choices]], **common)
    if cf.field_type == FieldType.BOOLEAN:
        return forms.ChoiceField(choices=BOOLEAN_CHOICES, **common)
    if cf.field_type == FieldType.STAFF:
        return StaffChoiceField(
            queryset=User.objects.filter(is_active=True).order_by("username"), to_field_name="username", **common
        )
    return forms.CharField(max_length=500, **common)


class ContactForm(StyledForm):
    name = forms.CharField(label=_("联系人"), max_length=60, required=False)
    role = forms.CharField(label=_("职务/关系"), max_length=60, required=False)
    phone = forms.CharField(label=_("电话"), max_length=32, required=False)
    wechat = forms.CharField(label=_("微信"), max_length=60, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)
    is_primary = forms.BooleanField(label=_("主要联系方式"), required=False)

    def to_input(self) -> ContactInput:
        data = self.cleaned_data
        return ContactInput(
            name=data.get("name") or "",
            role=data.get("role") or "",
            phone=data.get("phone") or "",
            wechat=data.get("wechat") or "",
            email=data.get("email") or "",
            is_primary=bool(data.get("is_primary")),
        )


ContactFormSet = forms.formset_factory(ContactForm, extra=3, max_num=3, absolute_max=3)


# --- detail-page forms --------------------------------------------------------------


class ClassChangeForm(StyledForm):
    customer_class = _ActiveChoiceField(
        label=_("客户分类"), queryset=CustomerClass.objects.none(), required=False, empty_label=_("（无）")
    )
    reason = forms.CharField(label=_("原因"), max_length=500, required=False)

    def __init__(self, *args, current: CustomerClass | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_class"].queryset = active_or(CustomerClass, [current])


class CreditChangeForm(StyledForm):
    grade = _ActiveChoiceField(
        label=_("信用等级"), queryset=CreditGrade.objects.none(), required=False, empty_label=_("（无）")
    )
    reason = forms.CharField(label=_("调整原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    effective_on = forms.DateField(label=_("生效日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, current: CreditGrade | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].queryset = active_or(CreditGrade, [current])
        self.fields["reason"].error_messages["required"] = _("请填写信用等级调整原因。")
