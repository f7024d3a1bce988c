"""Progress and heartbeat of a running import job."""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from kefu.customers.models import ImportJob

logger = logging.getLogger(__name__)


class Progress:
    """Stores `processed_rows` and the heartbeat (`heartbeat_at`, which tells a live job
    from one whose worker died: see `housekeeping`) on the job as chunks go by. Outside
    a transaction (the dry run) it simply updates the row. Inside the commit's
    transaction an update on the same connection would stay invisible until the end, so
    on PostgreSQL a second connection writes it (it only ever touches the job row, which
    the import itself locks only once every chunk is written); on SQLite, which allows
    one writer at a time, neither is stored during the commit, and the stale-job check
    gives such a commit time in proportion to its rows instead."""

    def __init__(self, job: ImportJob, *, side_channel: bool):
        self.job_id = job.pk
        self.side = None
        if side_channel and connection.vendor == "postgresql":
            try:
                self.side = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.side.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '1s'")
            except Exception:
                logger.warning("no side connection for import progress", exc_info=True)
                self._close()

    def __call__(self, processed: int) -> None:
        now = timezone.now()
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(processed_rows=processed, heartbeat_at=now)
            return
        if self.side is None:
            return
        try:
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET processed_rows = %s, heartbeat_at = %s WHERE id = %s",  # noqa: S608
                    [processed, now, self.job_id],
                )
        except Exception:
            logger.warning("import progress not stored", exc_info=True)
            self._close()

    def _close(self) -> None:
        if self.side is not None:
            try:
                self.side.close()
            finally:
                self.side = None

    def close(self) -> None:
        self._close()
