"""Migration operations Django's own do too slowly on big tables.

`without_own_indexes` gives foreign keys `db_index=False` the cheap way. Altering the
fields would make SQLite rebuild the whole table once per field (minutes at a million
rows, and the rebuild drops the triggers other modules keep on the table); only the
single-column indexes need to go, and the model state learns the new fields.

`without_constraints` gives foreign keys `db_constraint=False` the same way: PostgreSQL
drops their constraints; SQLite keeps its (it checks a key as the row is written, by
primary key, without locking the parent row; removing one means rebuilding the table)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import migrations


def _constraints(schema_editor, model) -> dict[str, dict]:
    """The table's indexes and constraints as the database has them (their names carry a
    hash, so they are found, not spelled)."""
    with schema_editor.connection.cursor() as cursor:
        return schema_editor.connection.introspection.get_constraints(cursor, model._meta.db_table)


def _own_indexes(schema_editor, model, column: str) -> list[str]:
    """The one-column indexes Django made for `column` itself (PostgreSQL adds a
    `varchar_pattern_ops` twin for text): neither unique nor the primary key, and not an
    index the model declares by name in Meta.indexes."""
    declared = {index.name for index in model._meta.indexes}
    return [
        name
        for name, c in _constraints(schema_editor, model).items()
        if c["index"] and not c["unique"] and not c["primary_key"] and c["columns"] == [column] and name not in declared
    ]


def without_own_indexes(
    app_label: str, model_name: str, alter_fields: Sequence[migrations.AlterField]
) -> migrations.SeparateDatabaseAndState:
    """`alter_fields`: the AlterField operations (as makemigrations wrote them) that set
    `db_index=False` on fields of `model_name` (foreign keys, or a column nobody filters
    on). The database loses those fields' own indexes — found by introspection, as their
    names carry a hash — and nothing else; a partial index the model declares on the same
    column keeps its name, whether it exists already or an AddIndex after this adds it."""
    names = [op.name for op in alter_fields]

    def drop(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        for name in names:
            for index in _own_indexes(schema_editor, model, model._meta.get_field(name).column):
                schema_editor.execute(schema_editor._delete_index_sql(model, index))

    def restore(apps, schema_editor):
        # `apps` holds the models as they were before: the fields still indexed.
        model = apps.get_model(app_label, model_name)
        for name in names:
            for statement in schema_editor._field_indexes_sql(model, model._meta.get_field(name)):
                schema_editor.execute(statement)

    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunPython(drop, restore)], state_operations=list(alter_fields)
    )


def _foreign_key_constraints(schema_editor, model, column: str) -> list[str]:
    return [
        name for name, c in _constraints(schema_editor, model).items() if c["foreign_key"] and c["columns"] == [column]
    ]


def without_constraints(
    app_label: str, model_name: str, alter_fields: Sequence[migrations.AlterField]
) -> migrations.SeparateDatabaseAndState:
    """`alter_fields`: the AlterField operations (as makemigrations wrote them) that set
    `db_constraint=False` on foreign keys of `model_name`. On PostgreSQL their
    constraints are dropped (found by introspection) and made again when unapplied; on
    SQLite only the model state changes."""
    names = [op.name for op in alter_fields]

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        for name in names:
            for constraint in _foreign_key_constraints(schema_editor, model, model._meta.get_field(name).column):
                schema_editor.execute(schema_editor._delete_fk_sql(model, constraint))

    def restore(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        # `apps` holds the models as they were before: the keys still constrained.
        model = apps.get_model(app_label, model_name)
        for name in names:
            field = model._meta.get_field(name)
            if not _foreign_key_constraints(schema_editor, model, field.column):
                schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))

    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunPython(drop, restore)], state_operations=list(alter_fields)
    )
