"""PostgreSQL: tell the planner that `is_open` follows from `status`.

Without it the planner multiplies the two selectivities, expects a few dozen open
routed / in-progress tickets where there are thousands, and drives the department's
queue from them, probing each for a live slip (1M tickets: 10,578 probes, 66 ms for the
first page's keys). With the dependency it drives from the department's live slips
(2,132 rows, 7.6 ms) — bench/README.md, "The department's queue with the status
statistics". SQLite has no extended statistics and plans that queue well already."""

from django.db import migrations

CREATE = "CREATE STATISTICS IF NOT EXISTS tickets_status_open (dependencies) ON status, is_open FROM tickets_ticket"
DROP = "DROP STATISTICS IF EXISTS tickets_status_open"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        # Statistics are gathered by ANALYZE (autovacuum would come to it later).
        schema_editor.execute("ANALYZE tickets_ticket")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_statistics_index")]
    operations = [migrations.RunPython(forwards, backwards)]
