"""Rows for the archive's Excel export and import pages: export for the roles granted
`customers.export_customer` (经理, 档案管理员, 总经理); import pages for those granted
`customers.import_customer` (经理, 档案管理员). A job is seen by its uploader and by
importers who see everything; only its uploader may commit it."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kefu.customers.models import ImportJob
from kefu.customers.models.imports import ImportStatus
from tests.permissions.matrix import Row, roles

EXPORTERS = roles("manager", "archivist", "director")
IMPORTERS = roles("manager", "archivist")


def _job(w, **fields):
    owner = w.make_user("manager", username="matrix-import-owner", scope_all=True)
    # The pages shown here never open the file; the commit is refused before it would.
    return ImportJob.objects.create(
        original_name="客户.csv",
        file="imports/matrix.csv",
        file_hash="0" * 64,
        created_by=owner,
        status=ImportStatus.CHECKED,
        total_rows=1,
        valid_rows=1,
        **fields,
    )


def _url(name, *args):
    return reverse(f"customers:{name}", args=args)


ROWS = [
    Row("customers-export", lambda w: _url("export") + "?lifecycle=active", EXPORTERS),
    Row("customers-import-page", lambda w: _url("import"), IMPORTERS),
    Row("customers-import-template", lambda w: _url("import_template"), IMPORTERS),
    # A .txt is refused on the form (200) for importers: the row stores no file anywhere.
    Row(
        "customers-import-upload",
        lambda w: _url("import"),
        IMPORTERS,
        method="post",
        data=lambda w: {"file": SimpleUploadedFile("客户.txt", "名称\n张三\n".encode())},
    ),
    Row("customers-import-job", lambda w: _url("import_job", _job(w).pk), IMPORTERS),
    Row("customers-import-job-status", lambda w: _url("import_job_status", _job(w).pk), IMPORTERS),
    # Someone else's job: nobody but its uploader commits it (403 for everyone here).
    Row(
        "customers-import-commit",
        lambda w: _url("import_commit", _job(w).pk),
        roles(),
        method="post",
        data=lambda w: {"mode": "valid"},
    ),
]
