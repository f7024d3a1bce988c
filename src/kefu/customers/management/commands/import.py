"""`kefu import customers FILE [--commit] [--valid-only] [--user USERNAME]`.

Without --commit: the dry run's report (counts and the first 50 rejected rows).
With --commit: imports all-or-nothing, or only the valid rows with --valid-only.
Exit status: 0 when done (or nothing rejected), 2 when rows were rejected and the mode
is all-or-nothing (nothing written), 1 on any other error."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.models import User
from kefu.customers.io.importing import IMPORT, import_check, import_commit, import_job_create
from kefu.customers.models.imports import ImportMode, ImportStatus

SHOWN_REJECTED = 50
REJECTED_EXIT = 2


class Command(BaseCommand):
    help = "Import customers from an .xlsx or .csv file (dry run unless --commit)."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["customers"], help="what to import")
        parser.add_argument("file", help=".xlsx or .csv with the export's Chinese headers")
        parser.add_argument("--commit", action="store_true", help="write to the archive (default: dry run)")
        parser.add_argument("--valid-only", action="store_true", help="import the valid rows, skip rejected ones")
        parser.add_argument("--user", help="act as this user (default: first superuser or importer)")

    def handle(self, *args, what, file, commit, valid_only, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = self._actor(user)
        mode = ImportMode.VALID_ONLY if valid_only else ImportMode.ALL_OR_NOTHING
        try:
            with path.open("rb") as handle:
                job = import_job_create(actor=actor, upload=File(handle, name=path.name), max_bytes=None)
            job = import_check(job=job)
        except KefuError as err:
            raise CommandError(err.message)
        self._report(job, actor, predicted=True)
        if job.status == ImportStatus.FAILED:
            raise CommandError(job.error)
        rejected = job.rejected_rows and mode == ImportMode.ALL_OR_NOTHING
        if not commit:
            self.stdout.write("（未写入任何数据；加 --commit 导入。）")
            if rejected:
                raise CommandError(
                    "有被拒绝的行（可修正后重试，或加 --valid-only 只导入有效行）。", returncode=REJECTED_EXIT
                )
            return
        if rejected:
            raise CommandError(
                f"有 {job.rejected_rows} 行被拒绝，全部成功才导入：未写入任何数据（可加 --valid-only 只导入有效行）。",
                returncode=REJECTED_EXIT,
            )
        try:
            job = import_commit(job=job, mode=mode)
        except KefuError as err:
            raise CommandError(err.message)
        if job.status != ImportStatus.DONE:
            raise CommandError(job.error or "导入未完成。", returncode=REJECTED_EXIT if job.rejected_rows else 1)
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入：新建 {job.created_count}，更新 {job.updated_count}，"
                f"无变化 {job.skipped_count}，未导入 {job.rejected_rows}（导入任务 #{job.pk}）"
            )
        )

    def _actor(self, username: str | None) -> User:
        if username:
            actor = User.objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"用户不存在：{username}")
            if not actor.is_active:
                raise CommandError(f"用户已停用：{username}")
            if not access.has_perm(actor, IMPORT):
                raise CommandError(f"用户 {username} 没有导入客户档案的权限。")
            return actor
        actor = User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
        if actor is not None:
            return actor
        app_label, codename = IMPORT.split(".")
        granted = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label) | Q(
            user_permissions__codename=codename, user_permissions__content_type__app_label=app_label
        )
        for candidate in User.objects.filter(granted, is_active=True).distinct().order_by("pk"):
            if access.has_perm(candidate, IMPORT):
                return candidate
        raise CommandError("没有可用的导入账号：请用 --user 指定一个具有“导入客户档案”权限的用户。")

    def _report(self, job, actor, *, predicted: bool) -> None:
        out = self.stdout.write
        out(f"文件：{job.original_name}（导入任务 #{job.pk}，操作人 {actor.username}）")
        if job.status == ImportStatus.FAILED:
            return
        out(f"总行数 {job.total_rows}，有效 {job.valid_rows}，被拒绝 {job.rejected_rows}")
        out(f"预计新建 {job.created_count}，更新 {job.updated_count}，无变化 {job.skipped_count}")
        if job.rejected:
            shown = job.rejected[:SHOWN_REJECTED]
            out(f"被拒绝的行（前 {len(shown)} 行，共 {job.rejected_rows} 行）：")
            for item in shown:
                out(f"  第 {item['row']} 行：{'；'.join(item['errors'])}")
