"""What the three counter readers share: which rows of a viewer's scope the counters
can give, and the counters' key and average conventions."""

from __future__ import annotations

from typing import Any

from kefu.core import access

EVERY_REGION = None


def counted_regions(user, *, view: str, view_region: str | None = None) -> set[int] | None | bool:
    """Which rows the counters can give this viewer: EVERY_REGION (None) for one who
    sees everything; the viewer's regions when the scope is by region (`view_region`:
    the permission that grants the region part of the scope, when one does); False when
    it is not — the viewer then sees single rows (their slips, their own list)."""
    if not access.has_perm(user, view):
        return False
    if access.sees_everything(user):
        return EVERY_REGION
    by_region = view_region is None or user.has_perm(view_region)
    regions = access.user_region_ids(user) if by_region else set()
    return set(regions) if regions else False


def key_value(dim: str, value: Any, *, ids: bool) -> Any:
    """A counter key as the scan gives it: a month as "YYYY-MM", an id column's 0 as
    None ("none" is 0 in the counters, whose keys are not nullable)."""
    if dim == "month":
        return f"{value:%Y-%m}"
    return (value or None) if ids else value


def average(total, n) -> float | None:
    return float(total) / float(n) if n else None
