"""Keyset pages (kefu.core.pagination): reading the page's keys first (`ids_first`)
gives the same pages, cursors and related rows as reading the rows at once."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.core.errors import ValidationFailed
from kefu.core.pagination import keyset_page
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import SORTS, TicketFilters, ticket_list, with_list_related
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven_tickets(ticket_world):
    """Seven tickets whose due times tie in pairs, one with no due time."""
    w = ticket_world
    first = make_ticket(w["agent"], region=w["north"])
    tickets = [first, *(make_ticket(w["agent"], region=w["north"], customer=first.customer) for _ in range(6))]
    base = timezone.now() + datetime.timedelta(days=1)
    for offset, ticket in zip([2, 0, 2, 1, 0, 3, None], tickets, strict=True):
        due = None if offset is None else base + datetime.timedelta(hours=offset)
        Ticket.objects.filter(pk=ticket.pk).update(resolve_due_at=due)
    return w


def _walk(queryset, order, *, size: int, ids_first: bool) -> tuple[list[list[int]], list[str | None]]:
    pages, cursors, cursor = [], [], None
    while True:
        page = keyset_page(queryset, order=order, cursor=cursor, size=size, ids_first=ids_first)
        pages.append([t.pk for t in page.items])
        cursors.append(page.next_cursor)
        assert page.has_more == (page.next_cursor is not None)
        if not page.has_more:
            return pages, cursors
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", ["due", "-due", "-id"])
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_ids_first_walks_the_same_pages_with_the_same_cursors(seven_tickets, sort, size):
    queryset = with_list_related(ticket_list(user=seven_tickets["manager"], filters=TicketFilters()))
    order = SORTS[sort]
    plain = _walk(queryset, order, size=size, ids_first=False)
    keys_first = _walk(queryset, order, size=size, ids_first=True)
    assert keys_first == plain
    seen = [pk for page in plain[0] for pk in page]
    assert len(seen) == len(set(seen)) == queryset.count() == 7
    if sort == "-id":
        assert seen == sorted(seen, reverse=True)
    else:
        # Without a due time last, in both directions and on both databases.
        no_due = Ticket.objects.get(resolve_due_at__isnull=True).pk
        assert seen[-1] == no_due
        dues = list(Ticket.objects.in_bulk(seen[:-1]).values())
        by_pk = {t.pk: (t.resolve_due_at, t.pk) for t in dues}
        assert [by_pk[pk] for pk in seen[:-1]] == sorted(by_pk.values(), reverse=sort == "-due")


def test_a_nullable_field_reached_through_a_relation_counts_as_nullable():
    from kefu.core.pagination import _nullable

    assert _nullable(Ticket, "resolve_due_at") and not _nullable(Ticket, "id")
    assert _nullable(Ticket, "customer__id")  # a ticket may have no customer
    assert not _nullable(Ticket, "not_a_field")


def test_ids_first_reads_two_statements_and_keeps_the_related_rows(seven_tickets):
    queryset = with_list_related(ticket_list(user=seven_tickets["manager"], filters=TicketFilters()))
    with CaptureQueriesContext(connection) as ctx:
        page = keyset_page(queryset, order=SORTS["due"], cursor=None, size=5, ids_first=True)
        labels = [(t.kind.name, t.customer.name, t.region.name) for t in page.items]
    assert len(labels) == 5 and page.has_more
    assert len(ctx.captured_queries) == 2
    # The keys' statement has none of the joins select_related adds.
    keys_sql = ctx.captured_queries[0]["sql"].lower()
    assert "customers_customer" not in keys_sql and "tickets_ticketkind" not in keys_sql


def test_ids_first_pages_stay_within_the_viewers_scope(seven_tickets, make_user):
    w = seven_tickets
    outsider = make_user("agent", username="south-agent", region=w["south"])
    queryset = with_list_related(ticket_list(user=outsider, filters=TicketFilters()))
    page = keyset_page(queryset, order=SORTS["due"], cursor=None, size=50, ids_first=True)
    assert page.items == [] and not page.has_more and page.next_cursor is None


def test_a_row_gone_between_the_two_statements_is_left_out(seven_tickets, monkeypatch):
    from kefu.core import pagination

    queryset = with_list_related(ticket_list(user=seven_tickets["manager"], filters=TicketFilters()))
    reads_rows = pagination._rows_of
    # As if the page's second ticket were deleted after its key was read.
    monkeypatch.setattr(pagination, "_rows_of", lambda qs, keys: reads_rows(qs.exclude(pk=keys[1]), keys))
    whole = keyset_page(queryset, order=SORTS["due"], cursor=None, size=3)
    page = keyset_page(queryset, order=SORTS["due"], cursor=None, size=3, ids_first=True)
    assert [t.pk for t in page.items] == [whole.items[0].pk, whole.items[2].pk]
    # The next page still starts after the third key read.
    assert page.has_more and page.next_cursor == whole.next_cursor


def test_a_cursor_of_the_wrong_type_is_refused_on_both_paths(seven_tickets):
    queryset = with_list_related(ticket_list(user=seven_tickets["manager"], filters=TicketFilters()))
    from kefu.core.pagination import _encode

    for ids_first in (False, True):
        with pytest.raises(ValidationFailed):
            keyset_page(queryset, order=("-id",), cursor=_encode(["x"]), size=1, ids_first=ids_first)
        # A nullable leading field: text where a time belongs, a null where an id belongs.
        for values in (["not a time", 1], [None, None], ["2026-11-24T10:00:00+08:00", "x"]):
            with pytest.raises(ValidationFailed):
                keyset_page(queryset, order=SORTS["due"], cursor=_encode(values), size=1, ids_first=ids_first)
