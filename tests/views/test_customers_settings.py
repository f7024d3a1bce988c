"""Archive settings pages and the lending log page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.customers.models import ArchiveLoan, ArchiveNumbering, CustomerClass, CustomField
from kefu.customers.services import config as svc
from kefu.customers.services.loans import archive_loan_create, archive_loan_return
from tests.factories import RegionFactory
from tests.factories_customers import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("admin", username="sysadmin"))
    return client


# --- settings --------------------------------------------------------------------------


def test_settings_page_lists_every_kind_in_a_constant_number_of_queries(
    manager, manager_client, django_assert_max_num_queries
):
    # Given a few rows of every kind
    for i in range(3):
        svc.customer_class_create(actor=manager, code=f"K{i}", name=f"类{i}", visits_per_month=i)
        svc.credit_grade_create(actor=manager, code=f"G{i}", name=f"等级{i}")
        svc.customer_source_create(actor=manager, code=f"s{i}", name=f"来源{i}")
        svc.product_category_create(actor=manager, code=f"c{i}", name=f"类别{i}")
        svc.custom_field_create(actor=manager, key=f"f{i}", label=f"字段{i}", field_type="choice", choices=["甲"])
    # When the page is opened
    with django_assert_max_num_queries(11):
        response = manager_client.get(reverse("customers:settings"))
    # Then every section is there with its rows, and the numbering preview
    assert response.status_code == 200
    html = response.content.decode()
    for slug in ("classes", "grades", "sources", "categories", "fields", "numbering"):
        assert f'data-testid="settings-{slug}"' in html
    assert html.count('data-testid="settings-row"') == 15
    assert "KH-" in html and "类2" in html and "单选" in html


def test_admin_creates_a_class_and_sees_errors_in_chinese(admin_client):
    url = reverse("customers:settings_create", args=["classes"])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"code": "A", "name": "A类", "visits_per_month": 1, "description": "", "sort_order": 0}
    )
    assert response.status_code == 302 and response["Location"].endswith("#classes")
    assert CustomerClass.objects.get().name == "A类"
    # A duplicate code is shown on the form, nothing is created
    response = admin_client.post(url, {"code": "a", "name": "重复", "visits_per_month": 1, "sort_order": 0})
    assert response.status_code == 200 and "编码 a 已存在" in response.content.decode()
    assert CustomerClass.objects.count() == 1


def test_edit_deactivate_and_reactivate(manager, manager_client):
    cls = svc.customer_class_create(actor=manager, code="B", name="B类", visits_per_month=2)
    url = reverse("customers:settings_edit", args=["classes", cls.pk])
    assert 'value="B类"' in manager_client.get(url).content.decode()
    response = manager_client.post(url, {"code": "B", "name": "B类客户", "visits_per_month": 3, "sort_order": 5})
    assert response.status_code == 302
    cls.refresh_from_db()
    assert (cls.name, cls.visits_per_month, cls.sort_order) == ("B类客户", 3, 5)
    manager_client.post(reverse("customers:settings_deactivate", args=["classes", cls.pk]))
    assert not CustomerClass.objects.get(pk=cls.pk).is_active
    manager_client.post(reverse("customers:settings_reactivate", args=["classes", cls.pk]))
    assert CustomerClass.objects.get(pk=cls.pk).is_active
    assert manager_client.get(reverse("customers:settings_deactivate", args=["classes", cls.pk])).status_code == 405


def test_every_kind_has_working_forms(manager_client):
    posts = {
        "grades": {"code": "AAA", "name": "AAA", "sort_order": 0},
        "sources": {"code": "expo", "name": "展会", "sort_order": 0},
        "categories": {"code": "c1", "name": "一类", "sort_order": 0},
        "fields": {"key": "level", "label": "等级", "field_type": "choice", "choices": "金卡\n银卡", "sort_order": 0},
    }
    for slug, data in posts.items():
        response = manager_client.post(reverse("customers:settings_create", args=[slug]), data)
        assert response.status_code == 302, (slug, response.content.decode()[:2000])
    assert CustomField.objects.get().choices == ["金卡", "银卡"]
    assert manager_client.get(reverse("customers:settings_create", args=["nope"])).status_code == 404
    assert manager_client.get(reverse("customers:settings_edit", args=["grades", 9999])).status_code == 404


def test_custom_field_key_is_locked_on_the_form_once_used(manager, manager_client):
    field = svc.custom_field_create(actor=manager, key="foreman", label="工长")
    make_customer(manager, extra={"foreman": "王工"})
    url = reverse("customers:settings_edit", args=["fields", field.pk])
    html = manager_client.get(url).content.decode()
    assert "字段键与类型不能修改" in html and "disabled" in html
    # A tampered POST cannot change the key: disabled fields keep their value
    response = manager_client.post(
        url, {"key": "boss", "label": "施工工长", "field_type": "number", "choices": "", "sort_order": 0}
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.key, field.field_type, field.label) == ("foreman", "text", "施工工长")


def test_numbering_page(manager_client):
    url = reverse("customers:settings_numbering")
    assert "KH-{year}-{seq:06d}" in manager_client.get(url).content.decode()
    response = manager_client.post(url, {"pattern": "KH-{year}"})
    assert response.status_code == 200 and "必须包含流水号" in response.content.decode()
    assert manager_client.post(url, {"pattern": "DA-{year}-{seq:05d}"}).status_code == 302
    assert ArchiveNumbering.objects.get().pattern == "DA-{year}-{seq:05d}"
    assert AuditEvent.objects.filter(code="archive_numbering.updated").count() == 1


# --- lending log ------------------------------------------------------------------------


@pytest.fixture
def borrower(make_user):
    return make_user("agent", username="borrower", display_name="小王")


def _loans(manager, borrower, count, *, overdue=0, returned=0):
    loans = []
    for i in range(count):
        customer = make_customer(manager, name=f"客户{i}", phone=f"138{i:08d}")
        loan = archive_loan_create(
            actor=manager,
            customer=customer,
            borrower=borrower,
            purpose="核对",
            due_on=timezone.localdate() + datetime.timedelta(days=3),
        )
        loans.append(loan)
    late = [loan.pk for loan in loans[:overdue]]
    ArchiveLoan.objects.filter(pk__in=late).update(due_on=timezone.localdate() - datetime.timedelta(days=2))
    for loan in loans[overdue : overdue + returned]:
        archive_loan_return(actor=manager, loan=loan)
    return loans


def test_loans_page_filters_and_highlights_overdue(manager, manager_client, borrower, django_assert_max_num_queries):
    loans = _loans(manager, borrower, 6, overdue=2, returned=1)
    url = reverse("customers:loans")
    with django_assert_max_num_queries(6):
        response = manager_client.get(url)
    html = response.content.decode()
    assert html.count('data-testid="loan-row"') == 6
    assert html.count('data-overdue="1"') == 2 and "逾期 2 天" in html
    assert html.count('data-testid="loan-return"') == 5
    overdue = manager_client.get(url, {"status": "overdue"}).content.decode()
    assert overdue.count('data-testid="loan-row"') == 2
    returned = manager_client.get(url, {"status": "returned"}).content.decode()
    assert returned.count('data-testid="loan-row"') == 1 and f'data-loan="{loans[2].pk}"' in returned
    assert manager_client.get(url, {"status": "open"}).content.decode().count('data-testid="loan-row"') == 5


def test_loans_page_is_paged_with_a_constant_number_of_queries(
    manager, manager_client, borrower, django_assert_max_num_queries
):
    from kefu.customers.views import loans as views

    _loans(manager, borrower, 7)
    views_page_size = views.PAGE_SIZE
    views.PAGE_SIZE = 3
    try:
        with django_assert_max_num_queries(6):
            first = manager_client.get(reverse("customers:loans"))
        page = first.context["page"]
        second = manager_client.get(reverse("customers:loans"), {"cursor": page.next_cursor})
    finally:
        views.PAGE_SIZE = views_page_size
    assert len(page.items) == 3 and page.has_more
    assert not {loan.pk for loan in page.items} & {loan.pk for loan in second.context["page"].items}


def test_register_and_return_through_the_page(manager, manager_client, borrower):
    customer = make_customer(manager, name="张三", phone="13812345678")
    url = reverse("customers:loan_create")
    page = manager_client.get(url, {"customer": customer.pk}).content.decode()
    assert customer.archive_no in page
    due = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    data = {"archive_no": customer.archive_no, "borrower": borrower.pk, "purpose": "核对合同", "due_on": due}
    response = manager_client.post(url, data)
    assert response.status_code == 302 and response["Location"] == reverse("customers:loans")
    loan = ArchiveLoan.objects.get()
    # A second loan of the same archive is refused on the form
    response = manager_client.post(url, data)
    assert response.status_code == 200 and "该档案已借出" in response.content.decode()
    # An unknown archive number too
    response = manager_client.post(url, {**data, "archive_no": "KH-0000"})
    assert "找不到该档案编号" in response.content.decode() and ArchiveLoan.objects.count() == 1
    # Return, going back to where the button was (a local path only)
    response = manager_client.post(reverse("customers:loan_return", args=[loan.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("customers:loans")
    loan.refresh_from_db()
    assert loan.returned_at is not None
    response = manager_client.post(reverse("customers:loan_return", args=[loan.pk]), follow=True)
    assert "已于" in response.content.decode()


def test_register_goes_back_to_the_customer_page(manager, manager_client, borrower):
    customer = make_customer(manager)
    due = timezone.localdate().isoformat()
    response = manager_client.post(
        reverse("customers:loan_create"),
        {"archive_no": customer.archive_no, "borrower": borrower.pk, "purpose": "复印", "due_on": due, "next": "/x/"},
    )
    assert response["Location"] == "/x/"


def test_director_sees_the_log_but_cannot_lend(make_user, client, manager, borrower):
    _loans(manager, borrower, 1)
    client.force_login(make_user("director", username="director", scope_all=True))
    html = client.get(reverse("customers:loans")).content.decode()
    assert 'data-testid="loan-row"' in html
    assert 'data-testid="loan-create"' not in html and 'data-testid="loan-return"' not in html


def test_out_of_scope_loans_are_not_listed_nor_returnable(make_user, client, manager, borrower):
    [loan] = _loans(manager, borrower, 1)
    west = make_user("archivist", username="west", region=RegionFactory(code="west"), scope_all=False)
    client.force_login(west)
    assert 'data-testid="loan-row"' not in client.get(reverse("customers:loans")).content.decode()
    assert client.post(reverse("customers:loan_return", args=[loan.pk])).status_code == 404
    loan.refresh_from_db()
    assert loan.returned_at is None


def test_customer_loans_partial_renders(rf, manager, borrower):
    from django.template.loader import render_to_string

    from kefu.customers.services.loans import loans_for_customer

    [loan] = _loans(manager, borrower, 1, overdue=1)
    request = rf.get("/customers/1/")
    request.user = manager
    html = render_to_string(
        "customers/loans/_for_customer.html",
        {
            "customer": loan.customer,
            "loans": loans_for_customer(manager, loan.customer),
            "today": timezone.localdate(),
            "can_lend": True,
        },
        request=request,
    )
    assert "逾期未还" in html and "小王" in html and "归还" in html
