"""Every ticket registered writes the ticket, an event, an audit entry and a timeline
line: a foreign key an index already leads with, or that is empty on most rows, must not
carry an index of its own (tickets migration 0009, core 0005, customers 0005)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[tuple[str, ...], list[str]]:
    """Columns → names of the table's non-unique, non-primary indexes."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    columns: dict[tuple[str, ...], list[str]] = {}
    for name, c in found.items():
        if c["index"] and not c["unique"] and not c["primary_key"]:
            columns.setdefault(tuple(c["columns"]), []).append(name)
    return columns


def _single(table: str) -> set[str]:
    return {cols[0] for cols in _indexes(table) if len(cols) == 1}


def test_ticket_foreign_keys_are_indexed_once():
    indexes = _indexes("tickets_ticket")
    # Led by a composite index: no index of their own.
    for column, composite in {
        "kind_id": ("kind_id", "created_at"),
        "customer_id": ("customer_id", "created_at"),
        "category_id": ("category_id", "created_at"),
        "against_staff_id": ("against_staff_id", "created_at"),
        "region_id": ("region_id", "status"),
        "assignee_id": ("assignee_id", "status"),
    }.items():
        assert (column,) not in indexes, column
        assert any(cols[: len(composite)] == composite for cols in indexes), composite
    # Sparse keys: one partial index each, by its own name.
    for key in ("contact", "merged_into", "responsible_department", "resolved_by"):
        assert indexes[(f"{key}_id",)] == [f"tickets_{key}"]
    # Always set and looked up alone when their row is deleted: kept.
    assert {"created_by_id", "sla_policy_id"} <= _single("tickets_ticket")


def test_event_audit_and_timeline_keys_are_indexed_once():
    events = _indexes("tickets_ticketevent")
    assert ("ticket_id",) not in events and ("ticket_id", "at", "id") in events
    assert events[("routing_id",)] == ["tickets_event_routing"]
    audit = _indexes("core_auditevent")
    assert ("actor_id",) not in audit and ("actor_id", "created_at") in audit
    timeline = _indexes("customers_timelineentry")
    assert ("customer_id",) not in timeline and ("customer_id", "at", "id") in timeline
