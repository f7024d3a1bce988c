"""API schemas shared by every module."""

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    details: Any | None = None


# Merge into an endpoint's `response=` so OpenAPI documents every error it can answer.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    return {status: ErrorOut for status in (401, *statuses)}
