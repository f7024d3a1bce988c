"""kefu rollups [--check | --rebuild | --fold]: the state of the report counters."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from kefu.reports.models import RollupState
from kefu.reports.rollup import maintain, schema


class Command(BaseCommand):
    help = (
        "The report counters (ticket and visit rollups): show their state, --check them against the tickets "
        "and visits, --fold their delta rows, or --rebuild them (triggers reinstalled, every row counted again)."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--check", action="store_true", help="compare every key with the source rows")
        action.add_argument("--fold", action="store_true", help="fold the delta rows now")
        action.add_argument("--rebuild", action="store_true", help="reinstall the triggers and count again")
        parser.add_argument("--database", default="default")

    def handle(self, *args, check, fold, rebuild, database, **options):
        if rebuild:
            if not maintain.install(using=database):
                raise CommandError("SQLite 无法按当前时区（有夏令时）统计月份：报表将直接扫描工单和回访。")
            self.stdout.write("已重建统计汇总。")
        elif fold:
            rows = maintain.fold(using=database)
            self.stdout.write("已合并：" + "，".join(f"{name} {n} 行" for name, n in rows.items()))
        elif check:
            differing = 0
            for spec in schema.SPECS:
                result = maintain.check(spec, using=database)
                for key, counted, stored in result.differing[:20]:
                    self.stdout.write(f"不一致 {spec.name} {key}: 实际 {counted} / 汇总 {stored}")
                differing += len(result.differing)
                self.stdout.write(f"{spec.name}：{result.keys} 个分组，{len(result.differing)} 个不一致。")
            if differing:
                raise CommandError("汇总与明细不一致；请运行 kefu rollups --rebuild")
        states = {s.name: s for s in RollupState.objects.using(database)}
        for spec in schema.SPECS:
            zone = maintain.installed_zone(spec, using=database)
            state = states.get(spec.name)
            if zone is None or state is None:
                self.stdout.write(f"{spec.name} 汇总：未启用（报表直接扫描明细）")
                continue
            rows = apps.get_model("reports", spec.model).objects.using(database)
            self.stdout.write(
                f"{spec.name} 汇总：已启用（时区 {zone}），{rows.count()} 行，其中待合并 "
                f"{rows.filter(fresh=True).count()} 行；重建于 {state.rebuilt_at:%Y-%m-%d %H:%M}"
            )
