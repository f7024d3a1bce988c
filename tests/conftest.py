import os

import pytest

# Browser tests run the sync playwright API, which keeps an event loop in this thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Kefu-test-pass-1"


@pytest.fixture(autouse=True)
def _huey_immediate():
    """Tasks run synchronously, in memory, when enqueued (after commit, see jobs)."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _not_across_midnight():
    """Tests read "today" more than once (when they plan a visit and when the page
    answers); one that straddles midnight sees two days and fails for no fault of the
    code (CI did, at 00:00 Asia/Shanghai). None starts in the last minute of a day, local
    or UTC: it waits for the new day instead (at most a minute, once a day)."""
    import datetime
    import time

    from django.utils import timezone

    def seconds_to_midnight(moment: datetime.datetime) -> float:
        next_day = (moment + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return (next_day - moment).total_seconds()

    now = timezone.now()
    left = min(seconds_to_midnight(timezone.localtime(now)), seconds_to_midnight(now))
    if left < MIDNIGHT_MARGIN_SECONDS:
        time.sleep(left + 1)


MIDNIGHT_MARGIN_SECONDS = 60


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    """Chinese by default; a fast password hasher (the real one is deliberately slow)."""
    settings.LANGUAGE_CODE = "zh-hans"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles(db):
    """The seeded role groups."""
    from kefu.core.roles import roles_seed

    return {group.name: group for group in roles_seed()}


@pytest.fixture
def make_user(roles):
    """make_user("manager", department=…, region=…, scope_all=…, scope_regions=[…])."""
    from tests.factories import UserFactory

    def make(*role_codes, scope_regions=(), scope_departments=(), **fields):
        user = UserFactory(roles=list(role_codes), **fields)
        if scope_regions:
            user.scope_regions.add(*scope_regions)
        if scope_departments:
            user.scope_departments.add(*scope_departments)
        return user

    return make


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="manager", scope_all=True)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def ticket_world(roles, make_user):
    """The ticket configuration, regions, departments and one user per role (see
    tests/factories_tickets.py)."""
    from tests.factories_tickets import build_ticket_world

    return build_ticket_world(make_user)
