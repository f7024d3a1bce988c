"""The inbox behind the bell, and the outbox log for those who may read it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import ValidationFailed
from kefu.core.pagination import keyset_page
from kefu.core.pii import mask_phone, may_reveal
from kefu.core.views.base import require_perm
from kefu.notify import selectors, services
from kefu.notify.forms import OutboxFilterForm
from kefu.notify.models import Channel

PAGE_SIZE = 50
_ORDER = ("-created_at", "-id")
# htmx stops polling on this status: a bell whose session expired goes quiet instead
# of swapping the login page into the navbar.
HTMX_STOP_POLLING = 286
# Sent with every change to the read state, so the bell (listening on body) refreshes.
CHANGED_EVENT = "notify-changed"


def _page(request, queryset):
    try:
        return keyset_page(queryset, order=_ORDER, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    except ValidationFailed:
        # A mangled cursor (an edited URL) shows the first page rather than an error.
        return keyset_page(queryset, order=_ORDER, cursor=None, size=PAGE_SIZE)


def _query_without_cursor(request) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def is_safe_link(link: str, request) -> bool:
    """Only paths on this site are followed (never an open redirect)."""
    return services.is_internal_link(link) and url_has_allowed_host_and_scheme(
        link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


@login_required
@require_GET
def inbox(request):
    unread_only = request.GET.get("unread") == "1"
    page = _page(request, selectors.inbox_for(request.user, unread_only=unread_only))
    return render(
        request,
        "notify/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            "notify_unread": selectors.unread_count(request.user),
            "query_without_cursor": _query_without_cursor(request),
        },
    )


@never_cache
@require_GET
def bell(request):
    """The bell alone, for htmx polling."""
    if not request.user.is_authenticated:
        return HttpResponse(status=HTMX_STOP_POLLING)
    # Rendered without the request: the menu and other context processors would cost
    # queries on every poll of every open tab, and the fragment needs none of them.
    return HttpResponse(render_to_string("notify/bell.html", {"notify_unread": selectors.unread_count(request.user)}))


@login_required
@require_POST
def read(request, pk: int):
    notification = get_object_or_404(selectors.inbox_for(request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    if _is_htmx(request):
        response = render(request, "notify/_inbox_row.html", {"n": notification})
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    return redirect("notify:inbox")


@login_required
@require_POST
def read_all(request):
    count = services.notification_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("已将 %(count)d 条消息标为已读。") % {"count": count})
    return redirect("notify:inbox")


@login_required
@require_GET
def open_notification(request, pk: int):
    """Opening a message marks it read (as reading a letter does) and follows its link
    when that is a path on this site."""
    notification = get_object_or_404(selectors.inbox_for(request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    if notification.link and is_safe_link(notification.link, request):
        return redirect(notification.link)
    if notification.link:
        messages.warning(request, _("该消息的链接不是本系统内的地址，已忽略。"))
    return redirect("notify:inbox")


def _masked_address(channel: str, to: str) -> str:
    if channel == Channel.SMS:
        return mask_phone(to)
    local, _at, domain = to.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


@require_perm(selectors.OUTBOX_VIEW)
@require_GET
def outbox(request):
    form = OutboxFilterForm(request.GET or None)
    filters = selectors.OutboxFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.OutboxFilters(**{k: v for k, v in form.cleaned_data.items() if v})
    page = _page(request, selectors.outbox_list(request.user, filters))
    # Addresses are personal data: shown in full only to those who may reveal it.
    reveal = may_reveal(request.user)
    for message in page.items:
        message.display_to = message.to if reveal else _masked_address(message.channel, message.to)
    return render(
        request,
        "notify/outbox.html",
        {"form": form, "page": page, "query_without_cursor": _query_without_cursor(request)},
    )
