from django.core.management.base import BaseCommand, CommandError

from kefu.core.models import ApiToken, User
from kefu.core.tokens import token_create, token_revoke


class Command(BaseCommand):
    help = "Create an API token for USER (printed once), or --list / --revoke ID."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")
        parser.add_argument("--list", action="store_true", help="list the user's tokens")
        parser.add_argument("--revoke", type=int, metavar="ID", help="revoke the token with this id")

    def handle(self, *args, username, name, list, revoke, **options):  # noqa: A002 (argparse name)
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户不存在：{username}")
        if list:
            for token in ApiToken.objects.filter(user=user):
                state = "吊销于 " + token.revoked_at.isoformat() if token.revoked_at else "有效"
                self.stdout.write(f"{token.pk:>5}  {token.prefix}…  {token.name or '-'}  {state}")
            return
        if revoke is not None:
            token = ApiToken.objects.filter(user=user, pk=revoke).first()
            if token is None:
                raise CommandError(f"令牌不存在：{revoke}")
            if token.revoked_at:
                raise CommandError("该令牌已吊销。")
            token_revoke(token=token)
            self.stdout.write(f"已吊销令牌 {token.pk}")
            return
        if not user.is_active:
            raise CommandError("该用户已停用，不能创建令牌。")
        token, raw = token_create(user=user, name=name)
        self.stdout.write(raw)
        self.stderr.write(f"令牌 {token.pk} 已创建（仅显示这一次）。使用：Authorization: Bearer <令牌>")
