"""Rows written in bulk — tickets with their event, audit entry and timeline line, archives
by the thousand in an import — must not keep indexes nobody reads: a foreign key an index
already leads with, or that is empty on most rows, has no index of its own (tickets
migration 0009, core 0005, customers 0005 and 0007)."""

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


def test_customer_keys_are_indexed_once():
    indexes = _indexes("customers_customer")
    for column in ("region_id", "owner_id", "credit_grade_id", "source_id"):
        assert (column,) not in indexes, column
        assert any(cols[0] == column and len(cols) > 1 for cols in indexes), column
    assert indexes[("merged_into_id",)] == ["customers_merged_into"]
    # Shown on the archive, never searched by (the search box reads search_text).
    assert ("name_initials",) not in indexes
    # Filtered on alone (the class filter without a region): kept.
    assert "customer_class_id" in _single("customers_customer")


def test_contact_phone_digits_have_no_trigram_index():
    # Phone searches go through the customer's search_text; duplicates match whole digits.
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "customers_contact")
    on_digits = [c for c in found.values() if c["columns"] == ["phone_digits"]]
    assert on_digits and all(c["type"] != "gin" for c in on_digits)
