"""The form managers use to subscribe a role or a person to a scheduled report. It only
collects the choice; `subscription_create` decides what is allowed and says why not."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kefu.core.forms import StyledForm
from kefu.core.roles import ROLES
from kefu.reports.catalog import REPORTS
from kefu.reports.models import Frequency


class RecipientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj}（{obj.username}）"


class ReportSubscriptionForm(StyledForm):
    # Plain text fields under a select: an unknown report or role is refused by the
    # service with its own message, the same one the API and tests see.
    report_key = forms.CharField(label=_("报表"), widget=forms.Select)
    frequency = forms.ChoiceField(label=_("频率"), choices=Frequency.choices, initial=Frequency.MONTHLY)
    role = forms.CharField(
        label=_("接收角色"), required=False, widget=forms.Select, help_text=_("角色与接收人二选一。")
    )
    user = RecipientChoiceField(
        label=_("接收人"),
        queryset=get_user_model().objects.none(),
        required=False,
        help_text=_("只列出可查看统计报表的在岗员工。"),
    )
    by_email = forms.BooleanField(label=_("同时发送邮件（员工须填写邮箱）"), required=False)

    def __init__(self, *args, **kwargs):
        from kefu.reports.subscriptions import report_holders

        super().__init__(*args, **kwargs)
        self.fields["report_key"].widget.choices = [("", "—")] + [(k, spec.title) for k, spec in REPORTS.items()]
        self.fields["role"].widget.choices = [("", "—")] + [(r.code, r.name) for r in ROLES]
        self.fields["user"].queryset = report_holders().order_by("display_name", "username")
