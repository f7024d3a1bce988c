"""The permission matrix: role × endpoint → allowed or not, generated from one table.

Each area adds its rows in a module `rows_<area>.py` here exporting `ROWS`; the runner
in `test_matrix.py` tries every row as every role of PRODUCT.md §1 (and anonymously),
through the HTML page or the API with a Bearer token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

ALL_ROLES = (
    "manager",
    "supervisor",
    "agent",
    "account_manager",
    "quality_officer",
    "archivist",
    "department_staff",
    "finance",
    "director",
    "admin",
)


@dataclass(frozen=True)
class Row:
    """`url(world)` gives the address (it may create the objects it needs through the
    factories); `data(world)` the body of a POST/PATCH. Roles in `allowed` must get a
    status below 400; every other role 403 (or 404 when `denied_status` says so);
    anonymous users are sent to the login page (HTML) or get 401 (API)."""

    name: str
    url: Callable[[SimpleNamespace], str]
    allowed: frozenset[str]
    method: str = "get"
    data: Callable[[SimpleNamespace], Any] | None = None
    api: bool = False
    denied_status: tuple[int, ...] = (403,)
    extra: dict = field(default_factory=dict)


def roles(*codes: str) -> frozenset[str]:
    unknown = set(codes) - set(ALL_ROLES)
    assert not unknown, unknown
    return frozenset(codes)


EVERY_ROLE = frozenset(ALL_ROLES)
