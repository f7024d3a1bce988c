"""Excel downloads of the desk: the current queue (with its filters and sort) and the
important complaints archive. Both read the query string exactly as their pages do."""

from __future__ import annotations

import io
from pathlib import Path

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kefu.core.errors import ValidationFailed
from kefu.core.views.base import require_perm
from kefu.tickets.export import XLSX_CONTENT_TYPE, tickets_export
from kefu.tickets.params import filters_from_params, params_for_audit, sort_from_params

EXPORT = "tickets.export_ticket"


class _DeletedOnClose(io.FileIO):
    """The exported temporary file, removed once the response has been sent."""

    def close(self) -> None:
        try:
            super().close()
        finally:
            Path(self.name).unlink(missing_ok=True)


def _export(request, *, queue: str | None, page_name: str, sheet: str, filename: str):
    query = request.GET.copy()
    query.pop("cursor", None)
    try:
        filters = filters_from_params(query, queue=queue)
    except ValidationFailed as err:
        messages.error(request, err.message)
        return redirect(reverse(page_name) + (f"?{query.urlencode()}" if query else ""))
    _sort, order = sort_from_params(query)
    params = params_for_audit(query)
    path = tickets_export(actor=request.user, filters=filters, order=order, params=params, sheet_name=sheet)
    name = f"{filename}_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    return FileResponse(
        _DeletedOnClose(str(path), "rb"), as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE
    )


@require_GET
@require_perm(EXPORT)
def queue_export(request):
    """The queue's query string → the same tickets as an .xlsx download."""
    return _export(request, queue=None, page_name="tickets:list", sheet=_("工单"), filename=_("工单"))


@require_GET
@require_perm(EXPORT)
def important_export(request):
    """The important complaints archive (its filters too) as an .xlsx download."""
    return _export(
        request, queue="important", page_name="tickets:important", sheet=_("重要投诉档案"), filename=_("重要投诉档案")
    )
