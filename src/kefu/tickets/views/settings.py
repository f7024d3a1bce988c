"""Ticket configuration pages (工单配置) at /tickets/settings/: kinds with their extra
fields and flow options, the category tree, SLA policies with the deadlines a ticket
registered now would get, the escalation chain and the module's settings. Open to
whoever holds `tickets.manage_ticket_settings` (客服部经理, 系统管理员); the services
check it again. No ticket data is shown here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.roles import role_name
from kefu.core.views.base import require_perm
from kefu.core.views.org.common import one, run_button
from kefu.core.workcal import WorkingCalendar, missing_year_message
from kefu.tickets import sla
from kefu.tickets.forms_settings import (
    EscalationRuleForm,
    KindFieldFormSet,
    SlaPolicyForm,
    TicketCategoryForm,
    TicketKindForm,
    TicketSettingsForm,
    kind_fields_initial,
    kind_fields_posted,
)
from kefu.tickets.models import EscalationRule, SlaPolicy, TicketCategory, TicketKind, TicketSettings
from kefu.tickets.services import config as svc

MANAGE = svc.MANAGE


@dataclass(frozen=True)
class Section:
    """One kind of configuration row: how it is listed, edited and written (the
    services take the values of its form)."""

    slug: str
    title: Any
    model: type
    form: type[forms.Form]
    create: Callable[[Any, dict], Any]
    update: Callable[..., dict]
    set_active: Callable[[Any, Any, bool], Any]
    form_kwargs: Callable[[Any], dict] = field(default=lambda obj: {})


SECTIONS: dict[str, Section] = {
    s.slug: s
    for s in (
        Section(
            "kinds",
            gettext_lazy("工单类型"),
            TicketKind,
            TicketKindForm,
            create=lambda actor, v: svc.ticket_kind_create(actor=actor, **v),
            update=lambda actor, obj, v, stamp: svc.ticket_kind_update(
                actor=actor, kind=obj, values=v, expected_updated_at=stamp
            ),
            set_active=lambda actor, obj, on: svc.ticket_kind_set_active(actor=actor, kind=obj, active=on),
            form_kwargs=lambda obj: {"editing": True, "prefix_locked": svc.kind_has_tickets(obj)} if obj else {},
        ),
        Section(
            "categories",
            gettext_lazy("工单分类"),
            TicketCategory,
            TicketCategoryForm,
            create=lambda actor, v: svc.ticket_category_create(actor=actor, **v),
            update=lambda actor, obj, v, stamp: svc.ticket_category_update(
                actor=actor, category=obj, values=v, expected_updated_at=stamp
            ),
            set_active=lambda actor, obj, on: svc.ticket_category_set_active(actor=actor, category=obj, active=on),
            form_kwargs=lambda obj: {"node": obj},
        ),
        Section(
            "policies",
            gettext_lazy("时限规则"),
            SlaPolicy,
            SlaPolicyForm,
            create=lambda actor, v: svc.sla_policy_create(actor=actor, **v),
            update=lambda actor, obj, v, stamp: svc.sla_policy_update(
                actor=actor, policy=obj, values=v, expected_updated_at=stamp
            ),
            set_active=lambda actor, obj, on: svc.sla_policy_set_active(actor=actor, policy=obj, active=on),
        ),
        Section(
            "rules",
            gettext_lazy("升级规则"),
            EscalationRule,
            EscalationRuleForm,
            create=lambda actor, v: svc.escalation_rule_create(actor=actor, **v),
            update=lambda actor, obj, v, stamp: svc.escalation_rule_update(
                actor=actor, rule=obj, values=v, expected_updated_at=stamp
            ),
            set_active=lambda actor, obj, on: svc.escalation_rule_set_active(actor=actor, rule=obj, active=on),
            form_kwargs=lambda obj: {"editing": obj is not None},
        ),
    )
}


def _section(slug: str) -> Section:
    section = SECTIONS.get(slug)
    if section is None:
        raise Http404
    return section


def _back(anchor: str = "") -> str:
    return reverse("tickets:settings") + (f"#{anchor}" if anchor else "")


# --- deadlines shown to the manager ----------------------------------------------------


def duration_label(minutes: int, day_minutes: int) -> str:
    """Working minutes as a manager reads them: 3 个工作日, 2 小时 30 分钟 …"""
    days, rest = divmod(minutes, day_minutes) if day_minutes else (0, minutes)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%(n)s 个工作日") % {"n": days})
    if hours:
        parts.append(_("%(n)s 小时") % {"n": hours})
    if mins or not parts:
        parts.append(_("%(n)s 分钟") % {"n": mins})
    return " ".join(parts)


class Preview:
    """When a ticket registered now would be due under a policy (or the settings'
    defaults), from `sla.compute_deadlines` over the working calendar. One instance
    reads the calendar, settings and rules once for every policy on the page."""

    def __init__(self):
        self.now = timezone.now()
        self.calendar = WorkingCalendar()
        self.settings = TicketSettings.current()
        self.rules = sla.active_rules()

    def deadlines(self, policy: SlaPolicy | None) -> sla.Deadlines | None:
        try:
            return sla.compute_deadlines(
                policy=policy, start=self.now, settings=self.settings, rules=self.rules, calendar=self.calendar
            )
        except KefuError:  # a calendar without any working day
            return None

    def duration(self, minutes: int) -> str:
        return duration_label(minutes, self.calendar.schedule.day_minutes)

    def warnings(self) -> list[str]:
        return [missing_year_message(year) for year in sorted(self.calendar.missing_years)]


# --- pages ---------------------------------------------------------------------------


@require_perm(MANAGE)
@require_GET
def settings_index(request):
    preview = Preview()
    policies = [
        {
            "obj": p,
            "due": preview.deadlines(p),
            "response": preview.duration(p.response_minutes),
            "resolve": preview.duration(p.resolve_minutes),
        }
        for p in SlaPolicy.objects.select_related("kind", "category").order_by("-is_active", "kind__sort_order", "id")
    ]
    current = preview.settings
    context = {
        "sections": SECTIONS,
        "kinds": TicketKind.objects.all(),
        "categories": svc.category_tree_rows(),
        "policies": policies,
        "default_due": preview.deadlines(None),
        "default_response": preview.duration(current.default_response_minutes),
        "default_resolve": preview.duration(current.default_resolve_minutes),
        "rules": [
            {
                "obj": r,
                "role_name": role_name(r.role.name),
                "after": preview.duration(r.after_minutes) if r.after_minutes else "",
            }
            for r in EscalationRule.objects.select_related("role")
        ],
        "current": current,
        "slip": preview.duration(current.slip_minutes),
        "now": preview.now,
        "calendar_warnings": preview.warnings(),
    }
    return render(request, "tickets/settings/index.html", context)


def _initial(section: Section, obj) -> dict[str, Any]:
    initial = {name: getattr(obj, name) for name in section.form.base_fields if name != "stamp"}
    initial["stamp"] = obj.updated_at
    return initial


def _values(form) -> dict[str, Any]:
    return {name: value for name, value in form.cleaned_data.items() if not form.fields[name].disabled}


def _form_page(request, section: Section, obj=None):
    """Create (`obj` None) or edit a row of `section`: its form, for kinds with the
    formset of extra fields, for policies with the live deadline preview."""
    posted = request.POST if request.method == "POST" else None
    initial = _initial(section, obj) if obj is not None else {"parent": request.GET.get("parent")}
    form = section.form(posted, initial=initial, **section.form_kwargs(obj))
    formset = None
    if section.slug == "kinds":
        formset = KindFieldFormSet(posted, initial=kind_fields_initial(obj), prefix="fields")
    if posted is not None and form.is_valid() and (formset is None or formset.is_valid()):
        values = _values(form)
        stamp = values.pop("stamp", None)
        if formset is not None:
            values["fields"] = kind_fields_posted(formset)
        try:
            saved = section.update(request.user, obj, values, stamp) if obj else section.create(request.user, values)
        except KefuError as err:
            add_service_error(form, err)
        else:
            name = obj if obj is not None else saved
            message = _("%(kind)s「%(name)s」已保存。") if obj else _("已新建%(kind)s「%(name)s」。")
            messages.success(request, message % {"kind": section.title, "name": name})
            return redirect(_back(section.slug))
    title = (
        _("编辑%(kind)s：%(name)s") % {"kind": section.title, "name": obj}
        if obj is not None
        else _("新建%(kind)s") % {"kind": section.title}
    )
    context = {"form": form, "formset": formset, "title": title, "back_url": _back(section.slug)}
    if section.slug == "policies":
        context["preview_url"] = reverse("tickets:settings_preview")
        context.update(_preview_context(obj.response_minutes, obj.resolve_minutes) if obj else {})
    return render(request, "tickets/settings/form.html", context)


@require_perm(MANAGE)
def settings_create(request, section: str):
    return _form_page(request, _section(section))


@require_perm(MANAGE)
def settings_edit(request, section: str, pk: int):
    spec = _section(section)
    return _form_page(request, spec, one(spec.model._default_manager.all(), pk))


def _toggle(request, section: str, pk: int, *, active: bool):
    spec = _section(section)
    obj = one(spec.model._default_manager.all(), pk)
    message = _("已启用「%(name)s」。") if active else _("已停用「%(name)s」。")
    run_button(request, lambda: spec.set_active(request.user, obj, active), message % {"name": obj})
    return redirect(_back(spec.slug))


@require_perm(MANAGE)
@require_POST
def settings_deactivate(request, section: str, pk: int):
    return _toggle(request, section, pk, active=False)


@require_perm(MANAGE)
@require_POST
def settings_reactivate(request, section: str, pk: int):
    return _toggle(request, section, pk, active=True)


@require_perm(MANAGE)
def settings_general(request):
    current = TicketSettings.current()
    initial = {name: getattr(current, name) for name in svc.SETTINGS_FIELDS}
    initial["stamp"] = current.updated_at
    form = TicketSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        values = dict(form.cleaned_data)
        stamp = values.pop("stamp", None)
        try:
            svc.ticket_settings_update(actor=request.user, values=values, expected_updated_at=stamp)
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("工单设置已保存。"))
            return redirect(_back("general"))
    return render(
        request,
        "tickets/settings/form.html",
        {"form": form, "title": _("工单设置"), "back_url": _back("general")},
    )


def _preview_context(response_minutes: int, resolve_minutes: int) -> dict[str, Any]:
    preview = Preview()
    policy = SlaPolicy(response_minutes=response_minutes, resolve_minutes=resolve_minutes)
    return {
        "preview": preview.deadlines(policy),
        "preview_now": preview.now,
        "preview_warnings": preview.warnings(),
    }


@require_perm(MANAGE)
@require_GET
def settings_preview(request):
    """The htmx fragment under the policy form: the deadlines of a ticket registered
    now with the minutes being typed."""
    minutes = []
    for name in ("response_minutes", "resolve_minutes"):
        try:
            value = int(request.GET.get(name, ""))
        except ValueError:
            value = 0
        minutes.append(value if 1 <= value <= svc.MAX_MINUTES else None)
    context = _preview_context(*minutes) if None not in minutes else {"preview_invalid": True}
    return render(request, "tickets/settings/_preview.html", context)
