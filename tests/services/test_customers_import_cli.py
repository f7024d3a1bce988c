"""`kefu import customers FILE`: dry-run report, --commit, --valid-only, --user, exit codes."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.customers.models import Customer, ImportJob
from tests.factories_customers_io import write_csv

pytestmark = pytest.mark.django_db

HEADER = ["名称", "手机/电话"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def archivist(make_user):
    return make_user("archivist", username="dangan", scope_all=True)


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_the_report_and_writes_nothing(archivist, tmp_path):
    path = write_csv(tmp_path / "ok.csv", HEADER, [["张三", "13812345678"], ["李四", "13900000000"]])

    out = run("customers", str(path), "--user", "dangan")

    assert "总行数 2，有效 2，被拒绝 0" in out
    assert "预计新建 2" in out and "未写入任何数据" in out
    assert not Customer.objects.exists()


def test_rejected_rows_are_listed_and_the_exit_status_is_not_zero(archivist, tmp_path):
    rows = [["张三", "13812345678"], ["李四", "12345"], *[[f"客户{i}", "999"] for i in range(60)]]
    path = write_csv(tmp_path / "bad.csv", HEADER, rows)

    with pytest.raises(CommandError) as exc:
        run("customers", str(path), "--commit", "--user", "dangan")

    assert exc.value.returncode == 2
    assert "全部成功才导入" in str(exc.value)
    assert not Customer.objects.exists()


def test_the_report_shows_the_first_fifty_rejected_rows(archivist, tmp_path, capsys):
    rows = [[f"客户{i}", "999"] for i in range(60)]
    path = write_csv(tmp_path / "bad.csv", HEADER, rows)
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import", "customers", str(path), stdout=out)
    text = out.getvalue()
    assert "被拒绝的行（前 50 行，共 60 行）" in text
    assert "第 2 行：电话号码格式不正确：999" in text and "第 51 行" in text and "第 52 行" not in text


def test_commit_and_valid_only(archivist, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", HEADER, [["张三", "13812345678"], ["李四", "12345"]])

    out = run("customers", str(path), "--commit", "--valid-only", "--user", "dangan")

    assert "已导入：新建 1，更新 0，无变化 0，未导入 1" in out
    assert list(Customer.objects.values_list("name", flat=True)) == ["张三"]
    assert Customer.objects.get().created_by == archivist
    # again: nothing new
    out = run("customers", str(path), "--commit", "--valid-only", "--user", "dangan")
    assert "新建 0，更新 0，无变化 1" in out and Customer.objects.count() == 1
    assert ImportJob.objects.count() == 2


def test_acting_user_defaults_to_a_superuser_or_an_importer_and_fails_clearly(make_user, tmp_path):
    path = write_csv(tmp_path / "ok.csv", HEADER, [["张三", "13812345678"]])
    agent = make_user("agent", username="agent")
    with pytest.raises(CommandError, match="没有可用的导入账号"):
        run("customers", str(path))
    with pytest.raises(CommandError, match="没有导入客户档案的权限"):
        run("customers", str(path), "--user", agent.username)
    with pytest.raises(CommandError, match="用户不存在"):
        run("customers", str(path), "--user", "nobody")

    importer = make_user("manager", username="jingli", scope_all=True)
    run("customers", str(path), "--commit")
    assert Customer.objects.get().created_by == importer


def test_bad_headers_and_missing_files_fail(archivist, tmp_path):
    with pytest.raises(CommandError, match="文件不存在"):
        run("customers", str(tmp_path / "none.csv"))
    path = write_csv(tmp_path / "bad.csv", ["鞋码"], [["42"]])
    with pytest.raises(CommandError, match="缺少必需的列：名称"):
        run("customers", str(path))
