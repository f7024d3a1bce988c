"""`kefu.core.bulk`: a writer names the table it fills; the guards registered for that
table (and only those) wrap the writing, in order, and leave on error too."""

from contextlib import contextmanager

import pytest

from kefu.core import bulk


@pytest.fixture
def guards(monkeypatch):
    monkeypatch.setattr(bulk, "_guards", {})
    log: list[str] = []

    def guard(name):
        @contextmanager
        def factory():
            log.append(f"enter {name}")
            try:
                yield
            finally:
                log.append(f"exit {name}")

        return factory

    return log, guard


def test_the_table_s_guards_wrap_the_inserts_in_order(guards):
    log, guard = guards
    bulk.register_bulk_insert_guard("visits_visit", "a", guard("a"))
    bulk.register_bulk_insert_guard("visits_visit", "b", guard("b"))
    bulk.register_bulk_insert_guard("tickets_ticket", "c", guard("c"))
    with bulk.bulk_inserts("visits_visit"):
        log.append("insert")
    assert log == ["enter a", "enter b", "insert", "exit b", "exit a"]


def test_registering_a_name_again_replaces_it(guards):
    log, guard = guards
    bulk.register_bulk_insert_guard("visits_visit", "a", guard("first"))
    bulk.register_bulk_insert_guard("visits_visit", "a", guard("second"))
    with bulk.bulk_inserts("visits_visit"):
        pass
    assert log == ["enter second", "exit second"]


def test_an_error_inside_still_leaves_every_guard(guards):
    log, guard = guards
    bulk.register_bulk_insert_guard("visits_visit", "a", guard("a"))
    with pytest.raises(RuntimeError), bulk.bulk_inserts("visits_visit"):
        raise RuntimeError("the INSERT failed")
    assert log == ["enter a", "exit a"]


def test_a_table_nobody_follows_runs_as_is(guards):
    log, guard = guards
    bulk.register_bulk_insert_guard("visits_visit", "a", guard("a"))
    with bulk.bulk_inserts("nobody_follows_this"):
        log.append("insert")
    assert log == ["insert"]  # another table's guard stays out


def test_the_report_counters_follow_tickets_visits_and_customers():
    from kefu.reports.rollup import schema

    for spec in schema.SPECS:
        assert f"reports.{spec.name}" in bulk._guards.get(spec.source, {})
