"""The audit log page: managers search it; nothing on it can change an event."""

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from kefu.core.errors import ValidationFailed
from kefu.core.forms import StyledForm
from kefu.core.pagination import keyset_page
from kefu.core.selectors.audit import AUDIT_VIEW, AuditFilters, audit_event_list
from kefu.core.views.base import require_perm


class AuditFilterForm(StyledForm):
    actor = forms.CharField(label=_("操作人账号"), required=False)
    code = forms.CharField(label=_("事件代码（前缀）"), required=False)
    object_type = forms.CharField(label=_("对象类型"), required=False)
    object_id = forms.CharField(label=_("对象编号"), required=False)
    request_id = forms.CharField(label=_("请求编号"), required=False)
    ip = forms.GenericIPAddressField(label=_("IP 地址"), required=False)
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return data


@require_GET
@require_perm(AUDIT_VIEW)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    filters = AuditFilters()
    if form.is_bound and form.is_valid():
        filters = AuditFilters(**{k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
    events = audit_event_list(user=request.user, filters=filters)
    try:
        page = keyset_page(events, order=("-created_at", "-id"), cursor=request.GET.get("cursor"), size=50)
    except ValidationFailed:
        page = keyset_page(events, order=("-created_at", "-id"), cursor=None, size=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "core/audit/list.html",
        {"form": form, "page": page, "query_without_cursor": query.urlencode()},
    )
