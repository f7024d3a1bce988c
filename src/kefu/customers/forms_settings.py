"""Forms of the archive settings pages and the lending log. They only shape input; the
rules live in `services/config/` and `services/loans.py`, whose refusals are shown
on the form."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.forms import StyledForm
from kefu.core.models import User
from kefu.core.selectors import org as org_selectors
from kefu.customers.choices import FieldType
from kefu.customers.services.config import MAX_SORT_ORDER, MAX_VISITS_PER_MONTH
from kefu.customers.services.loans import DEFAULT_DAYS, STATUS_CHOICES

APPLIES_TO_CHOICES = [("", _("个人与单位")), ("person", _("个人")), ("organisation", _("单位"))]


def _code_field(max_length: int) -> forms.CharField:
    return forms.CharField(label=_("编码"), max_length=max_length, help_text=_("唯一，不含空格，如 A、AAA、referral。"))


def _sort_field() -> forms.IntegerField:
    return forms.IntegerField(label=_("排序"), min_value=0, max_value=MAX_SORT_ORDER, initial=0)


class CustomerClassForm(StyledForm):
    code = _code_field(20)
    name = forms.CharField(label=_("名称"), max_length=40)
    visits_per_month = forms.IntegerField(
        label=_("每月最少跟踪次数"),
        min_value=0,
        max_value=MAX_VISITS_PER_MONTH,
        initial=1,
        help_text=_("回访计划按此频次为该类客户安排跟踪（如 A 类每月不少于 1 次）。"),
    )
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    sort_order = _sort_field()


class CreditGradeForm(StyledForm):
    code = _code_field(20)
    name = forms.CharField(label=_("名称"), max_length=40)
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    sort_order = _sort_field()


class CustomerSourceForm(StyledForm):
    code = _code_field(40)
    name = forms.CharField(label=_("名称"), max_length=60)
    sort_order = _sort_field()


class ProductCategoryForm(StyledForm):
    code = _code_field(40)
    name = forms.CharField(label=_("名称"), max_length=80)
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    sort_order = _sort_field()


class CustomFieldForm(StyledForm):
    key = forms.CharField(
        label=_("字段键"),
        max_length=40,
        help_text=_("小写字母、数字、下划线，以字母开头，如 contract_date；已有档案填写后不能修改。"),
    )
    label = forms.CharField(label=_("名称"), max_length=60)
    field_type = forms.ChoiceField(label=_("类型"), choices=FieldType.choices, initial=FieldType.TEXT)
    choices = forms.CharField(
        label=_("可选值"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("仅单选类型使用，每行一个。"),
    )
    required = forms.BooleanField(label=_("必填"), required=False)
    applies_to = forms.ChoiceField(label=_("适用"), choices=APPLIES_TO_CHOICES, required=False)
    sort_order = _sort_field()

    def __init__(self, *args, locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if locked:
            # Archives hold values under this key and of this type (the service checks too).
            for name in ("key", "field_type"):
                self.fields[name].disabled = True
            self.fields["key"].help_text = _("已有档案填写了该字段，字段键与类型不能修改。")

    def clean_choices(self) -> list[str]:
        text = self.cleaned_data.get("choices") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class ArchiveNumberingForm(StyledForm):
    pattern = forms.CharField(
        label=_("编号规则"),
        max_length=60,
        help_text=_(
            "{year} 为年份，{seq:06d} 为 6 位流水号（每年从 1 开始），如 KH-{year}-{seq:06d}。已发出的编号不会被再次使用。"
        ),
    )


# --- lending log -------------------------------------------------------------------------


class LoanFilterForm(StyledForm):
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_CHOICES, required=False)


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.display_name or obj.username}（{obj.username}）"


class LoanCreateForm(StyledForm):
    archive_no = forms.CharField(label=_("档案编号"), max_length=40)
    borrower = _StaffChoice(label=_("借阅人"), queryset=User.objects.none())
    purpose = forms.CharField(label=_("借阅事由"), max_length=200)
    due_on = forms.DateField(label=_("应还日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["borrower"].queryset = org_selectors.staff_list(user).filter(is_active=True)
        self.fields["due_on"].initial = timezone.localdate() + datetime.timedelta(days=DEFAULT_DAYS)

    def clean_archive_no(self) -> str:
        return self.cleaned_data["archive_no"].strip()
