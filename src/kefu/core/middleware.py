"""Request id and audit context for every request."""

import re
import uuid

from kefu.core import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is trivially forged unless a proxy is configured.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Gives each request an id (kept from a well-formed X-Request-ID) echoed in the
    response, and makes it and the client address available to the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = context.set_current(context.RequestContext(request_id=request.id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request.id
        return response


class AuditUserMiddleware:
    """After authentication: records the user on the audit context (lazily, so requests
    that write nothing do not load the user)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ctx = context.current()
        token = context.set_current(context.RequestContext(request_id=ctx.request_id, ip=ctx.ip, user=request.user))
        try:
            return self.get_response(request)
        finally:
            context.reset(token)


class LanguageMiddleware:
    """Simplified Chinese unless the user chose another language (the language cookie
    set by the switch). Unlike Django's LocaleMiddleware the browser's Accept-Language is
    ignored: a 客服部's PCs often run an English browser, and the UI must still be Chinese."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        response.headers["Vary"] = ", ".join(filter(None, [response.headers.get("Vary"), "Cookie"]))
        return response


class ServiceErrorMiddleware:
    """A service refusal that an HTML view did not handle itself (a bad cursor, a stale
    version…) becomes a page with its Chinese message and its 4xx status, never a 500.
    The API answers these in JSON through its own handlers before this is reached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from kefu.core.errors import KefuError

        if is_database_busy(exception):
            response = render(request, "error.html", {"message": BUSY_MESSAGE}, status=503)
            response["Retry-After"] = "5"
            return response
        if not isinstance(exception, KefuError):
            return None
        return render(request, "error.html", {"message": exception.message}, status=exception.status)


BUSY_MESSAGE = "系统繁忙，请稍后重试。"


def is_database_busy(exception) -> bool:
    """SQLite's writer lock still held after the busy timeout: the request may simply be
    retried (a 503 with Retry-After, not a 500)."""
    from django.db import OperationalError

    return isinstance(exception, OperationalError) and "database is locked" in str(exception)
