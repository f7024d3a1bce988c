"""The staff complaints page and sending a flagged penalty to approval."""

import pytest
from django.urls import reverse

from kefu.core.models import ApprovalRequest
from kefu.core.services.approvals import approval_policies_seed
from kefu.tickets.choices import PenaltyStatus
from kefu.tickets.models import PenaltyProposal
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(ticket_world):
    approval_policies_seed()
    w = ticket_world
    for i in range(3):
        make_ticket(w["agent"], region=w["north"], against_staff=w["agent_south"], customer_name=f"客户{i}")
    return w


def test_manager_sees_counts_and_submits_the_flag(client, flagged):
    w = flagged
    client.force_login(w["manager"])
    page = client.get(reverse("tickets:discipline"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="discipline-row" class="table-danger"' in html
    assert 'data-status="suggested"' in html
    proposal = PenaltyProposal.objects.get()
    response = client.post(reverse("tickets:penalty_submit", args=[proposal.pk]), {"amount": "100"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == PenaltyStatus.PENDING and str(proposal.amount) == "100.00"
    assert ApprovalRequest.objects.filter(policy__code="penalty").count() == 1
    # Submitting twice is refused with a message; no second approval request.
    client.post(reverse("tickets:penalty_submit", args=[proposal.pk]), {"amount": "100"})
    assert ApprovalRequest.objects.filter(policy__code="penalty").count() == 1


def test_bad_month_and_amount_are_harmless(client, flagged):
    w = flagged
    client.force_login(w["manager"])
    assert client.get(reverse("tickets:discipline"), {"month": "garbage-\x00"}).status_code == 200
    proposal = PenaltyProposal.objects.get()
    client.post(reverse("tickets:penalty_submit", args=[proposal.pk]), {"amount": "abc"})
    proposal.refresh_from_db()
    assert proposal.status == PenaltyStatus.SUGGESTED


@pytest.mark.parametrize("role", ["agent", "engineer", "supervisor"])
def test_others_may_not_see_the_page(client, flagged, role):
    client.force_login(flagged[role])
    assert client.get(reverse("tickets:discipline")).status_code == 403
