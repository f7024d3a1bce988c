"""The demo year of visits: planned, worked, answered, idempotent."""

import pytest
from django.utils import timezone

from kefu.profiles.services import profile_load
from kefu.visits.choices import VisitStatus
from kefu.visits.demo import demo_visits_load
from kefu.visits.models import Visit, VisitRule
from kefu.visits.selectors import call_list, visit_stats

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("profile", ["clinic"])
def test_demo_visits_cover_a_year_and_load_once(profile):
    profile_load(code=profile, demo=True)
    assert VisitRule.objects.filter(kind="cadence").count() >= 3
    visits = Visit.objects.all()
    assert visits.filter(status=VisitStatus.DONE).count() > 100
    assert visits.filter(status=VisitStatus.FAILED).exists()
    months = {d.strftime("%Y-%m") for d in visits.filter(status=VisitStatus.DONE).values_list("due_date", flat=True)}
    assert len(months) >= 11
    stats = visit_stats(visits)
    assert 3 <= stats["satisfaction"] <= 5 and stats["reach_rate"] > 0.5
    from kefu.core.models import User

    agent = User.objects.get(username="agent")
    assert call_list(user=agent, today=timezone.localdate()).exists()
    count = visits.count()
    assert demo_visits_load(profile) == 0 and Visit.objects.count() == count
