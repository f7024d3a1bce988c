"""Who is acting and from where, for the audit log: set per request by middleware,
per job or command by `acting_as`."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    user: object | None = None


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("kefu_request", default=RequestContext())  # noqa: B039 (frozen)


def current() -> RequestContext:
    return _current.get()


def set_current(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


@contextmanager
def acting_as(*, user=None, request_id: str = "", ip: str | None = None):
    token = _current.set(RequestContext(request_id=request_id, ip=ip, user=user))
    try:
        yield
    finally:
        _current.reset(token)
