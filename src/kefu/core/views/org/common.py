"""What the organisation pages share: the permission that changes things, reading the
filter and version a page sends, and the two shapes every page that writes has — a form
page, and a button."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.selectors import org as selectors

MANAGE = "core.manage_organisation"


def filters(form) -> dict:
    return form.cleaned_data if form.is_valid() else {}


def posted_version(request) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def one(queryset, pk):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def tree_page(request, template: str, filter_form, rows: Callable[..., Any]):
    """A list of departments or regions, children below their parent."""
    tree = selectors.as_tree(rows(request.user, filters(filter_form), staff_counts=True))
    return render(
        request,
        template,
        {"rows": tree, "filter_form": filter_form, "can_manage": selectors.may_manage(request.user)},
    )


def form_page(
    request,
    form,
    *,
    title: str,
    back_url: str,
    save: Callable[[], Any],
    success: str | Callable[[Any], str],
    done: str | Callable[[Any], str],
    renamed: Mapping[str, str] | None = None,
):
    """A page with one form: a valid POST runs `save()` (a service call). Its refusal is
    shown on the form (on `renamed[field]` where the service names a field differently);
    on success a message (`success`, or made from what `save` returned) and a redirect to
    `done`. Otherwise the form, with its errors if it was posted."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save()
        except KefuError as err:
            field = err.details.get("field") if isinstance(err.details, dict) else None
            if renamed and field in renamed:
                err.details = {**err.details, "field": renamed[field]}
            add_service_error(form, err)
        else:
            messages.success(request, success(result) if callable(success) else success)
            return redirect(done(result) if callable(done) else done)
    return render(request, "core/org/form.html", {"form": form, "title": title, "back_url": back_url})


def run_button(request, action, success: str) -> bool:
    """Call a service for a button (no form): its refusal becomes an error message."""
    try:
        action()
    except KefuError as err:
        messages.error(request, err.message)
        return False
    messages.success(request, success)
    return True
