"""Garbage in the query string of any list page is a message or an empty result, never a 500."""

import pytest

pytestmark = pytest.mark.django_db

GARBAGE = [
    "cursor=%%%garbage",
    "cursor=W1siYSJdXQ",  # well-formed base64 of a wrong-shaped cursor
    "sort=name&cursor=W251bGwsIDFd",  # [null, 1]: a null where a name is expected
    "cursor=WyJ4Il0",  # ["x"]: text for an id
    "cursor=WzEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDBd",  # an id too large for the column
    "customer_class=abc",
    "region=99999999999999999999999",
    "created_from=2026-13-45",
    "sort=;drop table",
    "extra.area=not-a-number",
    "extra.nokey__gte=1",
    "q=%00",
    "ip=not-an-ip",
    "date_from=yesterday",
    "status=nonsense",
    "page=-1",
]
PAGES = [
    "/customers/",
    "/audit/",
    "/org/staff/",
    "/org/departments/",
    "/approvals/all/",
    "/notify/",
    "/customers/loans/",
    "/tickets/",
    "/tickets/important/",
]


@pytest.mark.parametrize("url", PAGES)
def test_list_pages_survive_garbage_parameters(client, make_user, url):
    from kefu.customers.models import CustomField

    CustomField.objects.create(key="area", label="面积", field_type="number")
    client.raise_request_exception = False
    client.force_login(make_user("manager", scope_all=True))
    for query in GARBAGE:
        response = client.get(f"{url}?{query}")
        assert response.status_code < 500, (url, query, response.status_code)


def test_an_unhandled_service_refusal_is_its_4xx_page_with_the_chinese_message(client, make_user):
    client.force_login(make_user("manager", scope_all=True))
    response = client.get("/customers/loans/?cursor=%%%garbage")
    assert response.status_code == 422
    assert "分页游标无效" in response.content.decode()


def test_control_characters_in_a_search_are_ignored(client, make_user):
    from tests.factories_customers import make_customer

    boss = make_user("manager", scope_all=True)
    make_customer(boss, name="张三")
    client.force_login(boss)
    response = client.get("/customers/?q=%00zs%1f")
    assert response.status_code == 200 and "张三" in response.content.decode()
