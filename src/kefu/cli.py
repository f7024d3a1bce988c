"""The `kefu` command: Django's management commands under one name.

kefu serve              web UI + API + job consumer in one process group
kefu worker             job consumers alone (scale-out)
kefu init --profile P   set up an industry profile (--demo for demo data)
kefu token USER         create, list or revoke API tokens
kefu migrate, kefu createsuperuser, … any Django command
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kefu", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
