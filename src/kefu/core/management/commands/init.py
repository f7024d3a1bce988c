from django.core.management.base import BaseCommand, CommandError

from kefu.core.errors import KefuError
from kefu.core.models import SiteConfig
from kefu.profiles.definitions import DEMO_PASSWORD, PROFILES
from kefu.profiles.services import demo_logins, profile_load


class Command(BaseCommand):
    help = "Set up an industry profile (departments, regions, roles, calendar, policies; --demo adds demo data)."

    def add_arguments(self, parser):
        parser.add_argument("--profile", required=True, choices=sorted(PROFILES))
        parser.add_argument("--demo", action="store_true", help="also create demo staff and demo data")
        parser.add_argument(
            "--if-new", action="store_true", help="do nothing when a profile has already been loaded (make run)"
        )

    def handle(self, *args, profile, demo, if_new, **options):
        if if_new and SiteConfig.objects.exclude(profile="").exists():
            self.stdout.write(
                f"已加载行业模板：{SiteConfig.current().profile}（kefu init --profile NAME 可加载其他模板）"
            )
            return
        try:
            result = profile_load(code=profile, demo=demo)
        except KefuError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"行业模板 {result.profile.name}（{profile}）已加载：新增部门 {result.departments_created} 个，"
            f"片区 {result.regions_created} 个，演示账号 {len(result.staff_created)} 个。"
        )
        for note in result.notes:
            self.stdout.write(self.style.WARNING(note))
        if demo:
            print_demo_logins(self.stdout)


def print_demo_logins(out) -> None:
    logins = demo_logins()
    if not logins:
        return
    out.write(f"演示账号（密码均为 {DEMO_PASSWORD}） / demo logins (password {DEMO_PASSWORD}):")
    for username, name, roles in logins:
        out.write(f"  {username:<12} {name:<8} {roles}")
