"""The one search box: Chinese name substrings (1–2 characters too), pinyin initials
(`zs` → 张三), any 4+ digits of a phone number, the archive number.

All of it is matched against `Customer.search_text`, which holds the lowercased name,
every initials reading, the archive number(s) and the phone digits — and, for queries
of one or two characters, every 1- and 2-character piece of the name and initials as a
token wrapped in a sentinel (SHORT_MARK). A short query then searches for
SHORT_MARK + query + SHORT_MARK, 3–4 characters long, which the trigram index answers
(SQLite FTS5 `trigram`, PostgreSQL `pg_trgm`) instead of a LIKE scan of every row."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from kefu.customers.pinyin import name_initials
from kefu.customers.validation import phone_digits

FTS_TABLE = "customers_customer_fts"
# A character nobody types (ASCII unit separator): short tokens are found whole.
SHORT_MARK = "\x1f"


def short_tokens(texts: Iterable[str]) -> list[str]:
    """Every distinct 1- and 2-character piece of `texts`, each wrapped in SHORT_MARK."""
    seen: dict[str, None] = {}
    for text in texts:
        text = "".join(text.split())
        for size in (1, 2):
            for start in range(len(text) - size + 1):
                seen.setdefault(text[start : start + size], None)
    return [f"{SHORT_MARK}{token}{SHORT_MARK}" for token in seen]


def build_search_text(
    *,
    name: str,
    person: bool,
    archive_no: str,
    phones: list[str],
    former_numbers: Iterable[str] = (),
    initials: Iterable[str] | None = None,
) -> str:
    """`former_numbers`: archive numbers of archives merged into this one, so an old
    number written on paper still finds the customer. `initials`: the name's initials
    when the caller has them already (imports cache them)."""
    initials = list(initials) if initials is not None else name_initials(name, person=person)
    lowered = name.lower()
    parts = [lowered, *initials, archive_no.lower(), *(n.lower() for n in former_numbers)]
    parts += [phone_digits(p) for p in phones if p]
    parts += short_tokens([lowered, *initials])
    return " ".join(p for p in parts if p)


def normalise_query(query: str) -> str:
    # Control characters (NUL breaks both databases' string literals, SHORT_MARK is ours) go.
    query = "".join(ch for ch in (query or "") if ch.isprintable() or ch.isspace())
    query = " ".join(query.split()).lower()
    # A phone typed with separators (138-1234-5678) searches by its digits.
    if re.fullmatch(r"[\d\s()+-]{4,}", query):
        query = re.sub(r"\D", "", query)
    return query


def search_filter(queryset: QuerySet, query: str) -> QuerySet:
    """`queryset` narrowed to customers matching `query`."""
    query = normalise_query(query)
    if not query:
        return queryset
    if len(query) < 3:
        query = f"{SHORT_MARK}{query}{SHORT_MARK}"
    if connection.vendor == "sqlite":
        phrase = '"' + query.replace('"', '""') + '"'
        # The table name is a constant; the query text is a bound parameter.
        matches = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [phrase])  # noqa: S608, S611
        return queryset.filter(id__in=matches)
    return queryset.filter(Q(search_text__contains=query))
