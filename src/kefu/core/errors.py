"""Errors with stable codes. Services raise them; the API turns them into 4xx JSON
(`{"code": ..., "message": ...}`), HTML views into a message on the page."""

from enum import StrEnum


class ErrorCode(StrEnum):
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    VALIDATION_ERROR = "validation_error"
    CONFLICT = "conflict"  # stale version: somebody else saved first
    INVALID_STATE = "invalid_state"
    UNAUTHENTICATED = "unauthenticated"
    APPROVAL_NOT_YOUR_STEP = "approval_not_your_step"
    APPROVAL_ALREADY_DECIDED = "approval_already_decided"
    APPROVAL_SELF_DECISION = "approval_self_decision"
    APPROVAL_NO_POLICY = "approval_no_policy"
    CALENDAR_NO_DATA = "calendar_no_data"


class KefuError(Exception):
    """Base of every domain error. `status` is the HTTP status the API answers with."""

    code: str = ErrorCode.VALIDATION_ERROR
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None, details: object = None):
        super().__init__(message)
        self.message = str(message)
        if code is not None:
            self.code = code
        self.details = details


class AccessDenied(KefuError):
    code = ErrorCode.PERMISSION_DENIED
    status = 403


class NotFound(KefuError):
    code = ErrorCode.NOT_FOUND
    status = 404


class ValidationFailed(KefuError):
    code = ErrorCode.VALIDATION_ERROR
    status = 422


class Conflict(KefuError):
    code = ErrorCode.CONFLICT
    status = 409


class InvalidState(KefuError):
    code = ErrorCode.INVALID_STATE
    status = 409
