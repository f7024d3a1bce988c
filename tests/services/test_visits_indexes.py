"""Planning writes millions of visits: each planned visit must enter only the indexes
the lists and constraints need (see Visit.Meta.indexes)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

LEAD_COLUMNS = {"customer_id", "rule_id", "assignee_id", "region_id", "campaign_id", "questionnaire_version_id"}
PARTIAL_SINGLE = {"ticket_id", "created_ticket_id", "done_by_id"}


def test_foreign_keys_have_no_index_of_their_own_and_sparse_columns_partial_ones():
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "visits_visit")
    single = {
        c["columns"][0]
        for c in found.values()
        if c["index"] and not c["unique"] and not c["primary_key"] and len(c["columns"]) == 1
    }
    assert single == PARTIAL_SINGLE
    assert not single & LEAD_COLUMNS
    composites = {tuple(c["columns"]) for c in found.values() if c["index"] and len(c["columns"]) > 1}
    # Each dropped foreign-key index is the prefix of one of these.
    assert ("customer_id", "done_at") in composites
    assert ("rule_id", "status") in composites
    assert ("assignee_id", "status", "due_date", "id") in composites
    assert ("region_id", "status", "due_date", "id") in composites
    assert ("team_id", "status", "due_date", "id") in composites
    # A planned visit (done_at null) does not enter the staff statistics' index.
    done = [c for c in found.values() if c["columns"][:1] == ["done_at"]]
    assert [c["columns"] for c in done] == [["done_at", "done_by_id", "status", "region_id", "assignee_id", "team_id"]]


PLANNER_KEYS = {"customer_id", "rule_id", "campaign_id", "assignee_id", "team_id", "region_id"}
PLANNER_KEYS |= {"questionnaire_version_id"}
PEOPLES_KEYS = {"ticket_id", "created_ticket_id", "done_by_id"}


def _constrained_columns() -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "visits_visit")
    return {c["columns"][0] for c in found.values() if c["foreign_key"]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL drops them; SQLite keeps its cheap checks")
def test_postgresql_checks_only_the_keys_people_set_one_visit_at_a_time():
    # Each constraint checked at COMMIT cost a planned visit ~2–8 µs (the customer's
    # locked every customer row): half of planning a million customers.
    assert _constrained_columns() == PEOPLES_KEYS


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_sqlite_keeps_every_constraint():
    assert _constrained_columns() == PLANNER_KEYS | PEOPLES_KEYS


def test_what_a_visit_points_to_is_protected_by_django(ticket_world):
    from django.db.models import ProtectedError

    from kefu.customers.models import Customer
    from kefu.visits.models import Visit, VisitRule
    from tests.factories_customers import make_customer

    w = ticket_world
    customer = make_customer(w["manager"], name="有回访", phone="", owner=w["agent"], region=w["north"])
    rule = VisitRule.objects.create(name="月度跟踪", kind="cadence", visit_type="定期跟踪", visits_per_month=1)
    Visit.objects.create(
        customer=customer,
        rule=rule,
        period_key="2026-11#1",
        visit_type="定期跟踪",
        due_date="2026-11-25",
        assignee=w["agent"],
        region=w["north"],
    )
    for parent in (customer, rule, w["agent"], w["north"]):
        with pytest.raises(ProtectedError):
            parent.delete()
    assert Customer.objects.filter(pk=customer.pk).exists()
