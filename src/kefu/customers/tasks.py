"""Background jobs of the archive: checking and committing large import files, and
tidying import jobs (run periodically from `kefu.schedule`). They take ids; the job's
status is the source of truth (a check or commit claims the job by moving it out of
"uploaded" / into "importing", so running a task twice does nothing twice)."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

from kefu.core.errors import InvalidState
from kefu.customers.models import ImportJob

logger = logging.getLogger(__name__)


@db_task()
def import_check_task(job_id: int) -> None:
    """Dry run of an uploaded file (see `importing.import_check`)."""
    from kefu.customers.io.importing import import_check

    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        return
    try:
        import_check(job=job)
    except InvalidState:
        logger.info("import job %s was already checked", job_id)


@db_task()
def import_commit_task(job_id: int, mode: str) -> None:
    """Commit of a job the user's click already moved to "importing"."""
    from kefu.customers.io.importing import import_commit

    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        return
    try:
        import_commit(job=job, mode=mode, claimed=True)
    except InvalidState:
        logger.info("import job %s is not waiting to be committed", job_id)


def imports_tidy() -> None:
    """Fail import jobs whose worker died; delete uploaded files no longer needed (see
    `io.housekeeping`). Idempotent: a second run finds nothing left to do."""
    from kefu.customers.io.housekeeping import import_jobs_fail_stale, import_uploads_purge

    failed = import_jobs_fail_stale()
    purged = import_uploads_purge()
    if failed or purged:
        logger.info("imports tidied: %d stale jobs failed, %d jobs closed or files deleted", failed, purged)
