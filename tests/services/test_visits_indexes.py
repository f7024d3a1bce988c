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
