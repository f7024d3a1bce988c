"""Per-process copies of configuration read on every ticket or deadline (working hours,
holidays, SLA policies, escalation rules, ticket settings) — six queries of a ticket's
fourteen re-read rows that change a few times a year.

An entry lives at most `TTL` seconds, so a change made by another process (a web worker,
the job consumer) applies there within that time. A change made in this process clears
the cache at once (signals on the models, `invalidate()` after bulk writes that send
none), and while this thread's transaction holds an uncommitted change nothing is cached:
a rolled-back change never leaks into what other requests read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.db import connection, transaction

TTL = 2.0

T = TypeVar("T")

_entries: dict[Hashable, tuple[float, Any]] = {}
_lock = threading.Lock()
# Bumped by every clear: a value another thread read before a change was committed and
# the cache cleared must not be stored after the clear (it would be served for a TTL).
_generation = 0
_local = threading.local()  # .dirty: this thread's transaction changed configuration


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """The value under `key`, loaded by `load()` when missing or older than TTL. Cached
    values are shared between threads: callers must not modify them."""
    if _uncommitted_change():
        return load()
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and now - entry[0] < TTL:
        return entry[1]
    generation = _generation
    value = load()
    with _lock:
        if generation == _generation:
            _entries[key] = (now, value)
    return value


def invalidate(*_args, **_kwargs) -> None:
    """Forget every entry (a signal receiver too). Inside a transaction, stop caching
    for this thread until it commits, and forget again then: other threads may have
    cached the old rows meanwhile."""
    clear()
    if connection.in_atomic_block:
        _local.dirty = True
        transaction.on_commit(_committed)


def clear() -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def _committed() -> None:
    _local.dirty = False
    clear()


def _uncommitted_change() -> bool:
    if not getattr(_local, "dirty", False):
        return False
    if connection.in_atomic_block:
        return True
    # The transaction ended without on_commit: it was rolled back. What we cached
    # before it is still what the database holds, but start clean anyway.
    _local.dirty = False
    clear()
    return False


def watch(*models) -> None:
    """Clear the cache whenever a row of `models` is saved or deleted."""
    from django.db.models.signals import post_delete, post_save

    for model in models:
        post_save.connect(invalidate, sender=model, dispatch_uid=f"configcache.save.{model._meta.label}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"configcache.delete.{model._meta.label}")
