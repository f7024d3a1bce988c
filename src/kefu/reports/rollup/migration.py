"""The RunPython steps of the migrations that create or change a rollup table: install
the triggers and count every source row, or drop them — with the migration's historical
`RollupState` (`kefu.reports.rollup.maintain`)."""

from __future__ import annotations

from collections.abc import Callable

Step = Callable[..., None]


def _spec(name: str):
    from kefu.reports.rollup import schema

    return next(spec for spec in schema.SPECS if spec.name == name)


def install_step(name: str) -> Step:
    """A RunPython function installing the rollup `name` (tickets, visits, customers)."""

    def install(apps, schema_editor) -> None:
        from kefu.reports.rollup import maintain

        maintain.install(
            using=schema_editor.connection.alias,
            specs=[_spec(name)],
            state_model=apps.get_model("reports", "RollupState"),
        )

    return install


def uninstall_step(name: str) -> Step:
    """A RunPython function dropping the triggers of the rollup `name`."""

    def uninstall(apps, schema_editor) -> None:
        from kefu.reports.rollup import maintain

        maintain.uninstall(
            using=schema_editor.connection.alias,
            specs=[_spec(name)],
            state_model=apps.get_model("reports", "RollupState"),
        )

    return uninstall
