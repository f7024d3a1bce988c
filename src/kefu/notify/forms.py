"""Forms of the notify pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.core.forms import StyledForm
from kefu.notify.models import Channel, OutboxStatus


class OutboxFilterForm(StyledForm):
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=[("", _("全部")), *Channel.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部")), *OutboxStatus.choices])
    to = forms.CharField(label=_("收件人（完整地址）"), required=False, max_length=200)
