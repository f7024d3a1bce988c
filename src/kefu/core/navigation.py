"""The menu and the home dashboard are built from what modules register here, so the
navigation shows only modules that exist, and only to those who may use them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from kefu.core import access


@dataclass(frozen=True)
class NavItem:
    section: str  # the top-level menu it belongs to
    label: str
    url_name: str
    perm: str | None = None
    order: int = 100

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class Counter:
    """A figure on the home dashboard: `count(user)` must go through a scoped selector."""

    label: str
    count: Callable[[object], int]
    url_name: str | None = None
    perm: str | None = None
    order: int = 100


SECTIONS: dict[str, tuple[str, int]] = {}
_items: list[NavItem] = []
_counters: list[Counter] = []


def register_section(code: str, label: str, order: int) -> None:
    SECTIONS[code] = (label, order)


def register_nav(item: NavItem) -> None:
    if item not in _items:
        _items.append(item)


def register_counter(counter: Counter) -> None:
    if counter not in _counters:
        _counters.append(counter)


def _allowed(user, perm: str | None) -> bool:
    return access.has_perm(user, perm) if perm else bool(user.is_authenticated)


def menu_for(user) -> list[dict]:
    """[{label, items: [NavItem…]}…] in order, sections without a visible item left out."""
    sections: dict[str, list[NavItem]] = {}
    for item in sorted(_items, key=lambda i: i.order):
        if _allowed(user, item.perm):
            sections.setdefault(item.section, []).append(item)
    ordered = sorted(sections, key=lambda code: SECTIONS.get(code, (code, 999))[1])
    return [{"code": code, "label": SECTIONS.get(code, (code, 0))[0], "items": sections[code]} for code in ordered]


def counters_for(user) -> list[dict]:
    return [
        {"label": c.label, "value": c.count(user), "url": reverse(c.url_name) if c.url_name else ""}
        for c in sorted(_counters, key=lambda c: c.order)
        if _allowed(user, c.perm)
    ]
