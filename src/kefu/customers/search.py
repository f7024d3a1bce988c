"""The one search box: Chinese name substrings (1–2 characters too), pinyin initials
(`zs` → 张三), any 4+ digits of a phone number, the archive number.

All of it is matched against `Customer.search_text`. Queries of 3+ characters use the
trigram index (SQLite FTS5 `trigram`, PostgreSQL `pg_trgm`); shorter ones fall back to
LIKE, which is still bounded by the list's keyset pagination."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from kefu.customers.pinyin import name_initials
from kefu.customers.validation import phone_digits

FTS_TABLE = "customers_customer_fts"


def build_search_text(
    *, name: str, person: bool, archive_no: str, phones: list[str], former_numbers: list[str] = ()
) -> str:
    """`former_numbers`: archive numbers of archives merged into this one, so an old
    number written on paper still finds the customer."""
    parts = [
        name.lower(),
        *name_initials(name, person=person),
        archive_no.lower(),
        *(n.lower() for n in former_numbers),
    ]
    parts += [phone_digits(p) for p in phones if p]
    return " ".join(p for p in parts if p)


def normalise_query(query: str) -> str:
    query = " ".join((query or "").split()).lower()
    # A phone typed with separators (138-1234-5678) searches by its digits.
    if re.fullmatch(r"[\d\s()+-]{4,}", query):
        query = re.sub(r"\D", "", query)
    return query


def search_filter(queryset: QuerySet, query: str) -> QuerySet:
    """`queryset` narrowed to customers matching `query`."""
    query = normalise_query(query)
    if not query:
        return queryset
    if len(query) >= 3 and connection.vendor == "sqlite":
        phrase = '"' + query.replace('"', '""') + '"'
        # The table name is a constant; the query text is a bound parameter.
        matches = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [phrase])  # noqa: S608, S611
        return queryset.filter(id__in=matches)
    return queryset.filter(Q(search_text__contains=query))
