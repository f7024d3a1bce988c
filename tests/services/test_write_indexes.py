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
    # Asked only through (against_staff, created_at): no index of its own.
    assert ("against_staff_id",) not in indexes
    assert ("against_staff_id", "created_at") in indexes
    # Sparse keys: one partial index each, by its own name.
    for key in ("contact", "merged_into", "responsible_department", "resolved_by"):
        assert indexes[(f"{key}_id",)] == [f"tickets_{key}"]
    # Lists filtered by these sort by id: on SQLite their one-column index is (key, id);
    # created by and the SLA policy are looked up alone when their row goes.
    kept = {"kind_id", "customer_id", "category_id", "region_id", "assignee_id", "created_by_id", "sla_policy_id"}
    assert kept <= _single("tickets_ticket")


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
    for column in ("owner_id", "credit_grade_id", "source_id"):
        assert (column,) not in indexes, column
        assert (column, "id") in indexes, column
    assert indexes[("merged_into_id",)] == ["customers_merged_into"]
    # Shown on the archive, never searched by (the search box reads search_text).
    assert ("name_initials",) not in indexes
    # Filtered on alone and listed by id (the class without a region; a region, or the
    # archives without one): kept.
    assert {"customer_class_id", "region_id"} <= _single("customers_customer")


def test_contact_phone_digits_have_no_trigram_index():
    # Phone searches go through the customer's search_text; duplicates match whole digits.
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "customers_contact")
    on_digits = [c for c in found.values() if c["columns"] == ["phone_digits"]]
    assert on_digits and all(c["type"] != "gin" for c in on_digits)
