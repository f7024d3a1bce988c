"""The audit log: written in the service's transaction, append-only everywhere."""

import pytest
from django.db import DatabaseError, connection, transaction

from kefu.core import context
from kefu.core.audit import audit_record, audit_record_many, audited_update
from kefu.core.errors import Conflict
from kefu.core.models import AuditEvent, Department
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def test_audit_record_captures_actor_object_changes_and_request_context(make_user):
    actor = make_user("manager")
    dept = DepartmentFactory(name="工程部")
    with context.acting_as(user=actor, request_id="req-123", ip="10.1.2.3"), transaction.atomic():
        event = audit_record(code="department.renamed", obj=dept, changes={"name": ("工程部", "工程一部")})

    event.refresh_from_db()
    assert event.actor == actor and event.actor_repr == str(actor)
    assert event.object_type == "core.department" and event.object_id == str(dept.pk)
    assert event.changes == {"name": ["工程部", "工程一部"]}
    assert event.request_id == "req-123" and event.ip == "10.1.2.3"
    assert event.created_at.utcoffset().total_seconds() == 0  # stored and returned in UTC


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit_record(code="x.y")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_event_rolls_back_with_the_write_it_describes():
    dept = DepartmentFactory()
    with pytest.raises(ValueError), transaction.atomic():
        audited_update(dept, values={"name": "新名称"}, code="department.updated")
        raise ValueError("the service failed after writing")
    dept.refresh_from_db()
    assert dept.name != "新名称"
    assert AuditEvent.objects.count() == 0


def test_events_cannot_be_changed_or_deleted_by_the_application():
    with transaction.atomic():
        event = audit_record(code="x.created")
    event.code = "x.forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(code="x.forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).code == "x.created"


def test_database_refuses_update_even_in_raw_sql():
    with transaction.atomic():
        event = audit_record(code="x.created")
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET code = %s WHERE id = %s", ["x.forged", event.pk])  # noqa: S608
    assert AuditEvent.objects.get(pk=event.pk).code == "x.created"


def test_audited_update_records_only_changed_fields_and_bumps_version():
    dept = DepartmentFactory(name="设计部", phone="")
    changes = audited_update(dept, values={"name": "设计一部", "phone": ""}, code="department.updated")
    assert changes == {"name": ("设计部", "设计一部")}
    stored = Department.objects.get(pk=dept.pk)
    assert stored.name == "设计一部" and stored.version == 2 and dept.version == 2
    event = AuditEvent.objects.get(code="department.updated")
    assert event.changes == {"name": ["设计部", "设计一部"]}


def test_audited_update_with_nothing_changed_writes_nothing():
    dept = DepartmentFactory(name="设计部")
    assert audited_update(dept, values={"name": "设计部"}, code="department.updated") == {}
    assert Department.objects.get(pk=dept.pk).version == 1
    assert not AuditEvent.objects.exists()


def test_stale_version_is_a_conflict_and_changes_nothing():
    dept = DepartmentFactory(name="设计部")
    audited_update(dept, values={"name": "A"}, code="department.updated", expected_version=1)
    with pytest.raises(Conflict):
        audited_update(dept, values={"name": "B"}, code="department.updated", expected_version=1)
    assert Department.objects.get(pk=dept.pk).name == "A"
    assert AuditEvent.objects.count() == 1


def test_foreign_key_changes_are_recorded_by_id(make_user):
    parent = DepartmentFactory()
    dept = DepartmentFactory()
    audited_update(dept, values={"parent": parent}, code="department.updated")
    assert AuditEvent.objects.get().changes == {"parent": [None, parent.pk]}


def test_audit_record_many_writes_one_event_per_object_in_one_insert(make_user, django_assert_num_queries):
    actor = make_user("manager")
    first, second = DepartmentFactory(), DepartmentFactory()
    with (
        context.acting_as(user=actor, request_id="bulk-1", ip="10.0.0.9"),
        transaction.atomic(),
        django_assert_num_queries(1),
    ):
        audit_record_many(
            code="department.bulk_updated",
            objects=[first, second],
            changes={first.pk: {"name": ("甲", "乙")}},
            data={"count": 2},
        )
    events = {e.object_id: e for e in AuditEvent.objects.filter(code="department.bulk_updated")}
    assert set(events) == {str(first.pk), str(second.pk)}
    assert events[str(first.pk)].changes == {"name": ["甲", "乙"]} and events[str(second.pk)].changes == {}
    assert all(e.actor == actor and e.request_id == "bulk-1" and e.data == {"count": 2} for e in events.values())
