"""The REST API under /api/v1/: one NinjaAPI, token (Bearer) or session auth, JSON
errors with a stable `code`. Each app contributes a router."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from kefu.core.errors import ErrorCode, KefuError
from kefu.core.tokens import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Kefu API",
    version="1",
    description="客服管理系统 REST API。认证：`Authorization: Bearer <token>`（`kefu token USER` 创建）。"
    "错误以 JSON 返回，含稳定的 `code`。",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
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


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {
        400: "bad_request",
        401: "unauthenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
    }
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc.message))


def _register_routers() -> None:
    from kefu.core.api import router as core_router
    from kefu.core.api_approvals import router as approvals_router
    from kefu.core.api_org import router as org_router
    from kefu.customers.api import router as customers_router
    from kefu.notify.api import router as notify_router

    api.add_router("", core_router)
    api.add_router("", approvals_router)
    api.add_router("", org_router)
    api.add_router("", notify_router)
    api.add_router("", customers_router)


_register_routers()
