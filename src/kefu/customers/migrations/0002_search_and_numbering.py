"""Search indexes for `Customer.search_text` and the archive-number row.

SQLite: an FTS5 table with the trigram tokenizer, kept in step with the customer table
by triggers (external content, so the text is stored once).
PostgreSQL: a pg_trgm GIN index (the extension needs a UTF-8 database; creating it
needs a role allowed to, e.g. the database owner on PostgreSQL 13+)."""

from django.db import migrations

SQLITE = [
    """CREATE VIRTUAL TABLE customers_customer_fts USING fts5(
        search_text, content='customers_customer', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER customers_customer_fts_ai AFTER INSERT ON customers_customer BEGIN
        INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); END""",
    """CREATE TRIGGER customers_customer_fts_ad AFTER DELETE ON customers_customer BEGIN
        INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text); END""",
    """CREATE TRIGGER customers_customer_fts_au AFTER UPDATE OF search_text ON customers_customer BEGIN
        INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS customers_customer_fts_ai",
    "DROP TRIGGER IF EXISTS customers_customer_fts_ad",
    "DROP TRIGGER IF EXISTS customers_customer_fts_au",
    "DROP TABLE IF EXISTS customers_customer_fts",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX customers_customer_search_trgm ON customers_customer USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX customers_contact_phone_trgm ON customers_contact USING gin (phone_digits gin_trgm_ops)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS customers_customer_search_trgm",
    "DROP INDEX IF EXISTS customers_contact_phone_trgm",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRES}.get(vendor, []):
        schema_editor.execute(statement)
    apps.get_model("customers", "ArchiveNumbering").objects.get_or_create(pk=1)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
