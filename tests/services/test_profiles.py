"""`kefu init --profile NAME [--demo]` for the five industry profiles."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.core.models import AuditEvent, Department, Region, SiteConfig, User
from kefu.core.roles import ROLES
from kefu.profiles.definitions import DEMO_PASSWORD, PROFILES
from kefu.profiles.services import demo_logins, profile_load

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", sorted(PROFILES))
def test_each_profile_creates_its_organisation_and_a_demo_login_per_role(code):
    profile = PROFILES[code]
    result = profile_load(code=code, demo=True)

    assert set(Department.objects.values_list("code", flat=True)) == {d.code for d in profile.departments}
    assert Region.objects.count() == len(profile.regions)
    assert Department.objects.filter(kind="service").exists()
    roles_with_login = {
        g for u in User.objects.prefetch_related("groups") for g in u.groups.values_list("name", flat=True)
    }
    assert roles_with_login == {r.code for r in ROLES}
    assert User.objects.get(username="manager").check_password(DEMO_PASSWORD)
    assert User.objects.get(username="manager").scope_all
    assert not User.objects.get(username="agent").scope_all
    assert SiteConfig.current().profile == code and SiteConfig.current().company_name == profile.company_name
    assert AuditEvent.objects.filter(code="profile.loaded").count() == 1
    assert len(result.staff_created) == len(profile.demo_staff)


def test_loading_twice_changes_nothing_and_keeps_edits():
    profile_load(code="decoration", demo=True)
    Department.objects.filter(code="design").update(name="设计中心")
    User.objects.filter(username="agent").update(display_name="改过的名字")
    counts = (Department.objects.count(), Region.objects.count(), User.objects.count())

    result = profile_load(code="decoration", demo=True)

    assert (Department.objects.count(), Region.objects.count(), User.objects.count()) == counts
    assert Department.objects.get(code="design").name == "设计中心"
    assert User.objects.get(username="agent").display_name == "改过的名字"
    assert result.staff_created == [] and result.departments_created == 0


def test_another_profile_can_be_loaded_on_top():
    profile_load(code="decoration", demo=True)
    profile_load(code="clinic")
    config = SiteConfig.current()
    assert config.profile == "clinic" and config.profiles_loaded == ["decoration", "clinic"]
    assert Department.objects.filter(code="consulting").exists()
    assert config.company_name == PROFILES["decoration"].company_name  # the company stays


def test_without_demo_no_staff_is_created():
    profile_load(code="retail")
    assert not User.objects.exists()


def test_init_command_prints_demo_logins_and_if_new_skips(capsys):
    call_command("init", "--profile", "health_check", "--demo")
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out and "manager" in out and "体检中心" in out
    call_command("init", "--profile", "clinic", "--demo", "--if-new")
    assert "已加载行业模板" in capsys.readouterr().out
    assert SiteConfig.current().profile == "health_check"
    assert ("manager", "王经理", "客服部经理") in demo_logins()


def test_unknown_profile_is_refused():
    with pytest.raises(CommandError):
        call_command("init", "--profile", "bakery")
