"""Background jobs (Huey). The database is the source of truth; a job takes ids, is
idempotent, and is enqueued only after the transaction that asked for it commits.

Periodic jobs are all registered in `kefu.schedule`, nowhere else."""

from __future__ import annotations

from django.db import transaction


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Enqueue `task(*args, **kwargs)` once the current transaction commits; never if it
    rolls back. Outside a transaction it is enqueued at once."""
    transaction.on_commit(lambda: task(*args, **kwargs))
