"""The REST API under /api/v1/: one NinjaAPI, token (Bearer) or session auth, JSON
errors with a stable `code`. Each app contributes a router."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from kefu.core.errors import ErrorCode, KefuError
from kefu.core.middleware import BUSY_MESSAGE, is_database_busy
from kefu.core.tokens import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ControlCharacters(ValueError):
    """A JSON body holding control characters."""


class StrictJsonParser(Parser):
    """JSON bodies without control characters (other than tab and line breaks):
    PostgreSQL refuses NUL in text, and the others are never meant. Refused for every
    endpoint at once, as a 422, before any schema or service sees them."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if _has_control(data):
            raise ControlCharacters("control characters in the request body")
        return data


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _has_control(value) -> bool:
    if isinstance(value, str):
        return bool(_CONTROL.search(value))
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_control(v) for v in value)
    return False


api = NinjaAPI(
    title="Kefu API",
    version="1",
    description="客服管理系统 REST API。认证：`Authorization: Bearer <token>`（`kefu token USER` 创建）。"
    "错误以 JSON 返回，含稳定的 `code`。",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    parser=StrictJsonParser(),
)


def _error(request, status: int, code: str, message: str, details=None):
    body = {"code": str(code), "message": message}
    if details is not None:
        body["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(KefuError)
def _kefu_error(request, exc: KefuError):
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    return _error(request, 422, ErrorCode.VALIDATION_ERROR, "请求数据无效。", exc.errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, ErrorCode.UNAUTHENTICATED, "未认证：请提供有效的令牌。")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, ErrorCode.PERMISSION_DENIED, "您没有执行此操作的权限。")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, ErrorCode.NOT_FOUND, "对象不存在或不在您的可见范围内。")


@api.exception_handler(OperationalError)
def _database_error(request, exc: OperationalError):
    if not is_database_busy(exc):
        raise exc
    response = _error(request, 503, "busy", BUSY_MESSAGE)
    response["Retry-After"] = "5"
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {
        400: "bad_request",
        401: "unauthenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
    }
    if isinstance(exc.__cause__, ControlCharacters):
        return _error(request, 422, ErrorCode.VALIDATION_ERROR, "请求中含有不允许的控制字符。")
    message = str(exc.message)
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        message = "请求内容无法解析：须为合法的 JSON。"
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), message)


def _register_routers() -> None:
    from kefu.core.api import router as core_router
    from kefu.core.api_approvals import router as approvals_router
    from kefu.core.api_org import router as org_router
    from kefu.customers.api import router as customers_router
    from kefu.notify.api import router as notify_router
    from kefu.reports.api import router as reports_router
    from kefu.tickets.api import router as tickets_router
    from kefu.visits.api import router as visits_router

    api.add_router("", core_router)
    api.add_router("", approvals_router)
    api.add_router("", org_router)
    api.add_router("", notify_router)
    api.add_router("", customers_router)
    api.add_router("", tickets_router)
    api.add_router("", visits_router)
    api.add_router("", reports_router)


_register_routers()
