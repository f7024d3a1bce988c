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
