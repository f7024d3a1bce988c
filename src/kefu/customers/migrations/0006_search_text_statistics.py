"""PostgreSQL: a finer sample of `search_text` for the planner.

A search's `search_text LIKE '%…%'` is estimated from the column's histogram. With the
default 100 entries a term in 0.03 % of a million archives (`zgq`: 292) matched one
entry in some samples and none in others, so after one ANALYZE the planner read the
trigram index (14 ms for the page) and after the next walked the primary key backwards
filtering every row (108 ms; 233 ms for an account manager). With 1,000 entries such
terms stay on the index and common ones (`张`: 7 %) on the ordered walk — three ANALYZE
samples in a row gave 13–15 ms (bench/README.md, "Searches at 1M with a finer sample").
ANALYZE of the table reads 300,000 rows instead of 30,000 (6 s at 1M)."""

from django.db import migrations

TARGET = 1000


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE customers_customer ALTER COLUMN search_text SET STATISTICS {TARGET}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE customers_customer ALTER COLUMN search_text SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_timeline_customer_index")]
    operations = [migrations.RunPython(forwards, backwards)]
