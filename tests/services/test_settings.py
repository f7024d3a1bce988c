"""Settings come from the environment; production mode passes `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path


def _run(args, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "DJANGO_"))}
    env.update({"KEFU_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "kefu.settings", **env_extra})
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_in_production_mode(tmp_path):
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {"KEFU_SECRET_KEY": secrets.token_urlsafe(64), "KEFU_HTTPS": "1"},
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_is_generated_once_and_kept(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = _run(["shell", "--no-imports", "-c", code], {}, tmp_path)
    second = _run(["shell", "--no-imports", "-c", code], {}, tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = Path(tmp_path) / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert first.stdout.strip() == second.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 50


def test_debug_is_off_by_default_and_database_defaults_to_sqlite_in_data_dir(tmp_path):
    code = (
        "from django.conf import settings; "
        "print(settings.DEBUG, settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'])"
    )
    result = _run(["shell", "--no-imports", "-c", code], {}, tmp_path)
    debug, engine, name = result.stdout.split()
    assert debug == "False" and engine.endswith("sqlite3") and name.startswith(str(tmp_path))


def test_database_url_and_redis_url_are_honoured(tmp_path):
    code = (
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], type(settings.HUEY).__name__)"
    )
    result = _run(
        ["shell", "--no-imports", "-c", code],
        {"KEFU_DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "KEFU_REDIS_URL": "redis://127.0.0.1:6379/0"},
        tmp_path,
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "RedisHuey"], result.stderr
    result = _run(["shell", "--no-imports", "-c", code], {}, tmp_path)
    assert result.stdout.split()[1] == "SqliteHuey"
