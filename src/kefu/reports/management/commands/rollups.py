"""kefu rollups [--check | --rebuild | --fold]: the state of the report counters."""

from django.core.management.base import BaseCommand, CommandError

from kefu.reports.models import RollupState, TicketRollup
from kefu.reports.rollup import maintain


class Command(BaseCommand):
    help = (
        "The report counters (ticket rollup): show their state, --check them against the tickets, "
        "--fold their delta rows, or --rebuild them (triggers reinstalled, every ticket counted again)."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--check", action="store_true", help="compare every key with the tickets")
        action.add_argument("--fold", action="store_true", help="fold the delta rows now")
        action.add_argument("--rebuild", action="store_true", help="reinstall the triggers and count again")
        parser.add_argument("--database", default="default")

    def handle(self, *args, check, fold, rebuild, database, **options):
        if rebuild:
            if not maintain.install(using=database):
                raise CommandError("SQLite 无法按当前时区（有夏令时）统计月份：报表将直接扫描工单。")
            self.stdout.write("已重建工单统计汇总。")
        elif fold:
            self.stdout.write(f"已合并：现有 {maintain.fold(using=database)} 行汇总。")
        elif check:
            result = maintain.check(using=database)
            for key, counted, stored in result.differing[:20]:
                self.stdout.write(f"不一致 {key}: 工单 {counted} / 汇总 {stored}")
            if not result.ok:
                raise CommandError(
                    f"{len(result.differing)} / {result.keys} 个分组不一致；请运行 kefu rollups --rebuild"
                )
            self.stdout.write(f"一致：{result.keys} 个分组。")
        state = RollupState.objects.using(database).filter(name=maintain.TICKETS).first()
        zone = maintain.installed_zone(using=database)
        rows = TicketRollup.objects.using(database)
        self.stdout.write(
            f"工单汇总：{'已启用' if zone else '未启用'}（时区 {zone or '-'}），"
            f"{rows.count()} 行，其中待合并 {rows.filter(fresh=True).count()} 行；"
            f"重建于 {state.rebuilt_at:%Y-%m-%d %H:%M}"
            if state
            else "工单汇总：未启用"
        )
