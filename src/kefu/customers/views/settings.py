"""Archive settings pages (档案配置): classes with their follow-up cadence, credit grades,
information sources, product categories, custom fields and the archive-number pattern.
Open to whoever holds `customers.manage_archive_settings` (客服部经理, 系统管理员); the
services check it again. No customer data is shown here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.views.base import require_perm
from kefu.customers.choices import CustomerKind, FieldType
from kefu.customers.forms_settings import (
    ArchiveNumberingForm,
    CreditGradeForm,
    CustomerClassForm,
    CustomerSourceForm,
    CustomFieldForm,
    ProductCategoryForm,
)
from kefu.customers.services import config as svc

MANAGE = svc.MANAGE


@dataclass(frozen=True)
class SettingsKind:
    """How one kind of setting is listed and edited on these pages; what it is and how
    its rows are written is `config` (the services' `ConfigKind`)."""

    config: svc.ConfigKind
    title: Any
    form: type[forms.Form]
    columns: tuple[Any, ...]
    cells: Callable[[Any], list[Any]]

    @property
    def slug(self) -> str:
        return self.config.slug

    @property
    def model(self) -> type:
        return self.config.model


def _applies(value: str) -> str:
    return str(CustomerKind(value).label) if value else _("个人与单位")


KINDS: dict[str, SettingsKind] = {
    k.slug: k
    for k in (
        SettingsKind(
            svc.CLASS,
            gettext_lazy("客户分类"),
            CustomerClassForm,
            (gettext_lazy("编码"), gettext_lazy("名称"), gettext_lazy("每月最少跟踪次数"), gettext_lazy("说明")),
            lambda o: [o.code, o.name, o.visits_per_month, o.description],
        ),
        SettingsKind(
            svc.GRADE,
            gettext_lazy("信用等级"),
            CreditGradeForm,
            (gettext_lazy("编码"), gettext_lazy("名称"), gettext_lazy("说明")),
            lambda o: [o.code, o.name, o.description],
        ),
        SettingsKind(
            svc.SOURCE,
            gettext_lazy("信息来源"),
            CustomerSourceForm,
            (gettext_lazy("编码"), gettext_lazy("名称")),
            lambda o: [o.code, o.name],
        ),
        SettingsKind(
            svc.CATEGORY,
            gettext_lazy("产品类别"),
            ProductCategoryForm,
            (gettext_lazy("编码"), gettext_lazy("名称"), gettext_lazy("说明")),
            lambda o: [o.code, o.name, o.description],
        ),
        SettingsKind(
            svc.FIELD,
            gettext_lazy("自定义字段"),
            CustomFieldForm,
            (
                gettext_lazy("字段键"),
                gettext_lazy("名称"),
                gettext_lazy("类型"),
                gettext_lazy("可选值"),
                gettext_lazy("必填"),
                gettext_lazy("适用"),
            ),
            lambda o: [
                o.key,
                o.label,
                FieldType(o.field_type).label if o.field_type in FieldType.values else o.field_type,
                "、".join(o.choices or []),
                _("是") if o.required else _("否"),
                _applies(o.applies_to),
            ],
        ),
    )
}


def _kind(slug: str) -> SettingsKind:
    kind = KINDS.get(slug)
    if kind is None:
        raise Http404
    return kind


def _one(kind: SettingsKind, pk: int):
    obj = kind.model._default_manager.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def _back(kind: SettingsKind | None = None) -> str:
    return reverse("customers:settings") + (f"#{kind.slug}" if kind else "")


@require_perm(MANAGE)
def settings_index(request):
    sections = []
    for kind in KINDS.values():
        rows = [{"obj": obj, "cells": kind.cells(obj)} for obj in kind.model._default_manager.all()]
        sections.append({"kind": kind, "rows": rows, "colspan": len(kind.columns) + 3})
    numbering = svc.archive_numbering()
    try:
        preview = svc.preview_archive_no(numbering.pattern, numbering)
    except KefuError:
        preview = ""
    return render(
        request,
        "customers/settings/index.html",
        {"sections": sections, "numbering": numbering, "preview": preview},
    )


def _values(form) -> dict[str, Any]:
    return {name: value for name, value in form.cleaned_data.items() if not form.fields[name].disabled}


@require_perm(MANAGE)
def settings_create(request, kind: str):
    spec = _kind(kind)
    form = spec.form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            obj = svc.archive_setting_create(actor=request.user, kind=spec.config, values=_values(form))
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("已新建%(kind)s「%(name)s」。") % {"kind": spec.title, "name": obj})
            return redirect(_back(spec))
    return render(
        request,
        "customers/settings/form.html",
        {"form": form, "title": _("新建%(kind)s") % {"kind": spec.title}, "back_url": _back(spec)},
    )


@require_perm(MANAGE)
def settings_edit(request, kind: str, pk: int):
    spec = _kind(kind)
    obj = _one(spec, pk)
    extra = {"locked": svc.field_has_values(obj.key)} if spec.config is svc.FIELD else {}
    if request.method == "POST":
        form = spec.form(request.POST, initial=_initial(obj, spec), **extra)
        if form.is_valid():
            try:
                svc.archive_setting_update(actor=request.user, kind=spec.config, obj=obj, values=_values(form))
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("%(kind)s已保存。") % {"kind": spec.title})
                return redirect(_back(spec))
    else:
        form = spec.form(initial=_initial(obj, spec), **extra)
    return render(
        request,
        "customers/settings/form.html",
        {
            "form": form,
            "title": _("编辑%(kind)s：%(name)s") % {"kind": spec.title, "name": obj},
            "back_url": _back(spec),
        },
    )


def _initial(obj, spec: SettingsKind) -> dict[str, Any]:
    initial = {name: getattr(obj, name) for name in spec.form.base_fields}
    if "choices" in initial:
        initial["choices"] = "\n".join(obj.choices or [])
    return initial


def _toggle(request, kind: str, pk: int, *, active: bool):
    spec = _kind(kind)
    obj = _one(spec, pk)
    try:
        svc.archive_setting_set_active(actor=request.user, kind=spec.config, obj=obj, active=active)
    except KefuError as err:
        messages.error(request, err.message)
    else:
        message = _("已启用「%(name)s」。") if active else _("已停用「%(name)s」。")
        messages.success(request, message % {"name": obj})
    return redirect(_back(spec))


@require_perm(MANAGE)
@require_POST
def settings_deactivate(request, kind: str, pk: int):
    return _toggle(request, kind, pk, active=False)


@require_perm(MANAGE)
@require_POST
def settings_reactivate(request, kind: str, pk: int):
    return _toggle(request, kind, pk, active=True)


@require_perm(MANAGE)
def numbering_edit(request):
    numbering = svc.archive_numbering()
    form = ArchiveNumberingForm(request.POST or None, initial={"pattern": numbering.pattern})
    if request.method == "POST" and form.is_valid():
        try:
            svc.archive_numbering_update(actor=request.user, pattern=form.cleaned_data["pattern"])
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("档案编号规则已保存。"))
            return redirect(reverse("customers:settings") + "#numbering")
    return render(
        request,
        "customers/settings/form.html",
        {
            "form": form,
            "title": _("档案编号规则"),
            "back_url": reverse("customers:settings") + "#numbering",
            "note": _("修改规则不会改动已有档案的编号；新编号从当前流水号继续，已被使用的编号会自动跳过。"),
        },
    )
