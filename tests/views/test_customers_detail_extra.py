"""The customer page's additions: lending card, points card and form, possible
duplicates, and the merge flow."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, Customer, PointsEntry
from kefu.customers.services.loans import archive_loan_create
from kefu.customers.services.points import points_add
from kefu.customers.timeline import timeline_add
from tests.factories import RegionFactory
from tests.factories_customers import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def west():
    return RegionFactory(code="west", name="西区")


@pytest.fixture
def zhang(manager, east):
    return make_customer(manager, name="张三", phone="13812345678", region=east)


@pytest.fixture
def twin(manager, east):
    return make_customer(manager, name="张三", phone="13812345678", region=east)


def login(client, user):
    client.force_login(user)
    return client


def detail(client, customer):
    return client.get(reverse("customers:detail", args=[customer.pk]))


def token_of(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "the points form carries a one-time token"
    return match.group(1)


def merge_url(survivor, source=None):
    url = reverse("customers:merge", args=[survivor.pk])
    return f"{url}?source={source.pk}" if source else url


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- lending ----------------------------------------------------------------------------


def test_loans_card_for_lending_roles_with_register_link(manager_client, manager, zhang):
    archive_loan_create(
        actor=manager,
        customer=zhang,
        borrower=manager,
        purpose="审计抽查",
        due_on=timezone.localdate() + datetime.timedelta(days=3),
    )

    html = detail(manager_client, zhang).content.decode()

    assert 'data-testid="customer-loans"' in html
    assert "审计抽查" in html
    assert "登记借阅" in html and f"?customer={zhang.pk}" in html


def test_director_sees_loans_without_register_link(client, make_user, zhang):
    director = make_user("director", scope_all=True)

    html = detail(login(client, director), zhang).content.decode()

    assert 'data-testid="customer-loans"' in html
    assert "登记借阅" not in html


def test_agent_without_loan_permission_sees_no_loans(client, make_user, zhang, east):
    agent = make_user("agent", region=east)

    html = detail(login(client, agent), zhang).content.decode()

    assert 'data-testid="customer-loans"' not in html


# --- points -----------------------------------------------------------------------------


def test_points_card_shows_balance_and_last_ten_entries(manager_client, manager, zhang):
    for i in range(12):
        points_add(actor=manager, customer=zhang, delta=1, reason=f"签到{i:02d}", key=f"t:{i}")

    response = detail(manager_client, zhang)
    html = response.content.decode()
    card = html.split('data-testid="customer-points"', 1)[1].split('data-testid="points-form"', 1)[0]

    assert card.count('data-testid="points-entry"') == 10
    assert "签到11" in card and "签到01" not in card
    assert re.search(r'data-testid="points-balance">12<', html)
    assert 'data-testid="points-form"' in html


def test_points_form_hidden_from_view_only_roles(client, make_user, zhang):
    finance = make_user("finance", scope_all=True)

    html = detail(login(client, finance), zhang).content.decode()

    assert 'data-testid="customer-points"' in html
    assert 'data-testid="points-form"' not in html


def test_double_submit_of_points_form_counts_once(manager_client, zhang):
    token = token_of(detail(manager_client, zhang))
    url = reverse("customers:points_add", args=[zhang.pk])
    body = {"delta": 50, "reason": "活动奖励", "token": token}

    first = manager_client.post(url, body)
    second = manager_client.post(url, body)

    assert first.status_code == 302 and second.status_code == 302
    zhang.refresh_from_db()
    assert zhang.points_balance == 50
    assert PointsEntry.objects.filter(customer=zhang).count() == 1
    assert AuditEvent.objects.filter(code="customer.points_changed").count() == 1


def test_each_rendering_gets_a_new_token(manager_client, zhang):
    assert token_of(detail(manager_client, zhang)) != token_of(detail(manager_client, zhang))


def test_redemption_below_zero_is_refused_in_chinese(manager_client, manager, zhang):
    points_add(actor=manager, customer=zhang, delta=5, reason="签到", key="seed")

    response = manager_client.post(
        reverse("customers:points_add", args=[zhang.pk]), {"delta": -10, "reason": "兑换", "token": "abc"}
    )

    assert response.status_code == 200
    assert "积分不足" in response.content.decode()
    zhang.refresh_from_db()
    assert zhang.points_balance == 5
    assert PointsEntry.objects.filter(customer=zhang).count() == 1
    assert AuditEvent.objects.filter(code="customer.points_changed").count() == 1


def test_points_post_forbidden_without_change_permission(client, make_user, zhang):
    finance = make_user("finance", scope_all=True)

    response = login(client, finance).post(
        reverse("customers:points_add", args=[zhang.pk]), {"delta": 10, "reason": "x", "token": "abc"}
    )

    assert response.status_code == 403
    assert not PointsEntry.objects.exists()


def test_points_on_merged_archive_is_404(manager_client, manager, zhang, twin):
    from kefu.customers.services.merge import customer_merge

    customer_merge(actor=manager, survivor=zhang, source=twin)

    response = manager_client.post(
        reverse("customers:points_add", args=[twin.pk]), {"delta": 10, "reason": "x", "token": "abc"}
    )

    assert response.status_code == 404
    assert not PointsEntry.objects.exists()


# --- duplicates -------------------------------------------------------------------------


def test_duplicates_card_lists_visible_duplicates_with_merge_link(manager_client, manager, zhang, twin, west):
    hidden = make_customer(manager, name="张三", phone="13812345678", region=west)
    make_customer(manager, name="李四", phone="13900009999", region=zhang.region)

    html = detail(manager_client, zhang).content.decode()

    assert html.count('data-testid="customer-duplicate"') == 2  # twin and the west one (manager sees all)
    assert twin.archive_no in html and hidden.archive_no in html
    assert "138****5678" in html and "13812345678" not in html
    assert f"{merge_url(zhang)}?source={twin.pk}" in html
    assert 'data-testid="merge-number-form"' in html


def test_duplicates_restricted_to_the_users_scope(client, make_user, manager, zhang, twin, east, west):
    hidden = make_customer(manager, name="张三", phone="13812345678", region=west)
    agent = make_user("agent", region=east)

    html = detail(login(client, agent), zhang).content.decode()

    assert twin.archive_no in html
    assert hidden.archive_no not in html
    assert 'data-testid="merge-link"' not in html
    assert 'data-testid="merge-number-form"' not in html


# --- merge ------------------------------------------------------------------------------


def test_merge_confirm_page_shows_what_moves(manager_client, manager, zhang, twin):
    points_add(actor=manager, customer=twin, delta=30, reason="签到", key="twin")
    timeline_add(customer=twin, kind="note", title="来电咨询", actor=manager)

    response = manager_client.get(merge_url(zhang, twin))
    html = response.content.decode()

    assert response.status_code == 200
    assert 'data-testid="merge-confirm"' in html
    assert re.search(r'data-testid="merge-source-contacts">1<', html)
    assert re.search(r'data-testid="merge-source-points">30<', html)
    assert re.search(rf'data-testid="merge-source-timeline">{twin.timeline.count()}<', html)
    assert f'name="source_version" value="{twin.version}"' in html
    assert not Customer.objects.filter(merged_into__isnull=False).exists()


def test_merge_by_archive_number_redirects_to_confirm(manager_client, zhang, twin):
    response = manager_client.get(merge_url(zhang), {"archive_no": twin.archive_no})

    assert response.status_code == 302
    assert response["Location"] == merge_url(zhang, twin)


def test_merge_by_unknown_archive_number_shows_error(manager_client, zhang):
    response = manager_client.get(merge_url(zhang), {"archive_no": "NOPE-1"})

    assert response.status_code == 200
    assert "找不到该档案编号" in response.content.decode()


def test_merge_post_moves_contacts_and_marks_source_merged(manager_client, zhang, twin):
    response = manager_client.post(
        merge_url(zhang),
        {"source": twin.pk, "survivor_version": zhang.version, "source_version": twin.version},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[zhang.pk])
    twin.refresh_from_db()
    assert twin.merged_into_id == zhang.pk
    assert Contact.objects.filter(customer=zhang).count() == 2
    assert not Contact.objects.filter(customer=twin).exists()
    assert AuditEvent.objects.filter(code="customer.merged").count() == 1
    assert any("合并到本档案" in m for m in texts(response))


def test_merge_with_stale_version_shows_message_and_changes_nothing(manager_client, zhang, twin):
    response = manager_client.post(
        merge_url(zhang),
        {"source": twin.pk, "survivor_version": zhang.version, "source_version": twin.version + 5},
        follow=True,
    )

    assert response.status_code == 200
    assert any("已被他人修改" in m for m in texts(response))
    twin.refresh_from_db()
    assert twin.merged_into_id is None
    assert Contact.objects.filter(customer=twin).count() == 1
    assert not AuditEvent.objects.filter(code="customer.merged").exists()


def test_merge_of_already_merged_source_is_refused_with_message(manager_client, manager, east, zhang, twin):
    other = make_customer(manager, name="张三", phone="13812345678", region=east)
    manager_client.post(
        merge_url(other), {"source": twin.pk, "survivor_version": other.version, "source_version": twin.version}
    )
    twin.refresh_from_db()

    response = manager_client.post(
        merge_url(zhang),
        {"source": twin.pk, "survivor_version": zhang.version, "source_version": twin.version},
        follow=True,
    )

    assert response.status_code == 200
    assert any("已合并到其他档案" in m for m in texts(response))
    assert AuditEvent.objects.filter(code="customer.merged").count() == 1


def test_out_of_scope_source_is_404(client, make_user, manager, east, west, zhang):
    archivist = make_user("archivist", region=east)
    hidden = make_customer(manager, name="张三", phone="13812345678", region=west)
    login(client, archivist)

    page = client.get(merge_url(zhang, hidden))
    post = client.post(
        merge_url(zhang), {"source": hidden.pk, "survivor_version": zhang.version, "source_version": hidden.version}
    )

    assert page.status_code == 404
    assert post.status_code == 404
    hidden.refresh_from_db()
    assert hidden.merged_into_id is None
    assert not AuditEvent.objects.filter(code="customer.merged").exists()


def test_merge_pages_forbidden_without_merge_permission(client, make_user, zhang, twin, east):
    agent = make_user("agent", region=east)
    login(client, agent)

    assert client.get(merge_url(zhang, twin)).status_code == 403
    response = client.post(
        merge_url(zhang), {"source": twin.pk, "survivor_version": zhang.version, "source_version": twin.version}
    )
    assert response.status_code == 403
    twin.refresh_from_db()
    assert twin.merged_into_id is None


def test_detail_query_count_does_not_grow_with_duplicates(
    manager_client, manager, zhang, django_assert_max_num_queries
):
    for _i in range(5):
        make_customer(manager, name="张三", phone="13812345678", region=zhang.region)

    with django_assert_max_num_queries(60):
        response = detail(manager_client, zhang)

    assert response.content.decode().count('data-testid="customer-duplicate"') == 5
