"""Migration operations Django's own do too slowly on big tables.

`without_own_indexes` gives foreign keys `db_index=False` the cheap way. Altering the
fields would make SQLite rebuild the whole table once per field (minutes at a million
rows, and the rebuild drops the triggers other modules keep on the table); only the
single-column indexes need to go, and the model state learns the new fields."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import migrations


def _single_column_indexes(schema_editor, table: str) -> dict[str, str]:
    """Column → name of its one-column index that is neither unique nor the primary key."""
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, table)
    return {
        c["columns"][0]: name
        for name, c in found.items()
        if c["index"] and not c["unique"] and not c["primary_key"] and len(c["columns"]) == 1
    }


def without_own_indexes(
    app_label: str, model_name: str, alter_fields: Sequence[migrations.AlterField]
) -> migrations.SeparateDatabaseAndState:
    """`alter_fields`: the AlterField operations (as makemigrations wrote them) that set
    `db_index=False` on foreign keys of `model_name`. The database loses those fields'
    own indexes — found by introspection, as their names carry a hash — and nothing else;
    a partial index the model declares on the same column has a name of its own and a
    condition, and is added by its AddIndex operation after this one."""
    names = [op.name for op in alter_fields]

    def drop(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        existing = _single_column_indexes(schema_editor, model._meta.db_table)
        for name in names:
            column = model._meta.get_field(name).column
            if column in existing:
                schema_editor.execute(schema_editor._delete_index_sql(model, existing[column]))

    def restore(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        for name in names:
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field(name)]))

    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunPython(drop, restore)], state_operations=list(alter_fields)
    )
