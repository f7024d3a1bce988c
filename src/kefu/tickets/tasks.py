"""Background jobs of the tickets app that are not periodic (those are registered in
`kefu.schedule`). They take ids; the job row is the source of truth."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task()
def archive_render_task(job_id: int) -> None:
    """Render a monthly archive PDF (see `kefu.tickets.archive.archive_render`); a second
    run finds the job no longer queued and does nothing."""
    from kefu.tickets.archive import archive_render

    archive_render(job_id=job_id)
