"""Bulk INSERT … SELECT and the modules that keep something in step with a table.

A module whose triggers follow a table (the report counters follow tickets, visits and
customers) may wrap a bulk insert into it: it calls
`register_bulk_insert_guard(table, name, factory)` at start-up, where `factory()` returns
a context manager and `name` says whose it is. The writer only says which table it
fills — `with bulk_inserts("visits_visit"): …` — so a lower module (visit planning) does
not import a higher one (reports)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

_guards: dict[str, dict[str, Callable[[], AbstractContextManager]]] = {}


def register_bulk_insert_guard(table: str, name: str, factory: Callable[[], AbstractContextManager]) -> None:
    """Registering a name again replaces its factory (a second `ready()` adds nothing)."""
    _guards.setdefault(table, {})[name] = factory


@contextmanager
def bulk_inserts(table: str) -> Iterator[None]:
    """Around INSERTs into `table` only (the guards may count the new rows afterwards)."""
    with ExitStack() as stack:
        for factory in _guards.get(table, {}).values():
            stack.enter_context(factory())
        yield
