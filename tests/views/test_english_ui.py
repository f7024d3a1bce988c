"""The English interface: the main page of each area renders with English navigation,
titles, headings, table headers and buttons (no Chinese left in the page chrome), and
the English catalogue is complete — every string the code marks for translation is in
src/kefu/locale/en/LC_MESSAGES/django.po, translated, not fuzzy, and compiled into
django.mo. When one of these fails after a change: run `make messages`, translate the
new or fuzzy entries in django.po, and run `make messages` again to compile."""

from __future__ import annotations

import ast
import gettext
import re
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

import kefu
from tests.factories_tickets import make_ticket
from tests.views.visits_support import make_survey, plan

SRC = Path(kefu.__file__).resolve().parent
PO = SRC / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
FIX = (
    "Run `make messages`, translate the new or fuzzy entries in src/kefu/locale/en/LC_MESSAGES/django.po, "
    "then run `make messages` again."
)

# CJK ideographs plus CJK and full-width punctuation (“（”, “：”, “，” …).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


# --- the catalogue -------------------------------------------------------------------


def _unquote(line: str) -> str:
    body = line[line.index('"') + 1 : line.rindex('"')]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def read_po(path: Path = PO) -> list[dict]:
    """The live entries of a PO file: msgid, msgid_plural, msgstr (a list: one item, or
    one per plural form), flags and line number. Obsolete (#~) entries are skipped. Small
    on purpose: the project does not depend on a PO library."""
    entries: list[dict] = []
    entry: dict | None = None
    field = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and entry.get("msgstr") is not None:
                entries.append(entry)
                entry = None
            entry = entry or {"line": number, "flags": set(), "msgstr": None}
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        keyword = line.split(" ", 1)[0] if not line.startswith('"') else None
        if keyword in ("msgctxt", "msgid"):
            if entry is not None and entry.get("msgstr") is not None:
                entries.append(entry)
                entry = None
            entry = entry or {"line": number, "flags": set(), "msgstr": None}
        if keyword is None:  # a continuation line of the current field
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += _unquote(line)
            else:
                entry[field[0]] += _unquote(line)
        elif keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            entry["msgstr"] = entry["msgstr"] or []
            entry["msgstr"].append(_unquote(line))
            field = ("msgstr", index)
        else:
            entry[keyword] = _unquote(line)
            field = (keyword, None)
    if entry is not None and entry.get("msgstr") is not None:
        entries.append(entry)
    return [e for e in entries if e.get("msgid")]  # the header has an empty msgid


def test_every_catalogue_entry_is_translated_and_not_fuzzy():
    entries = read_po()
    assert len(entries) > 1500, "the English catalogue looks truncated"
    fuzzy = [f"line {e['line']}: {e['msgid']!r}" for e in entries if "fuzzy" in e["flags"]]
    empty = [f"line {e['line']}: {e['msgid']!r}" for e in entries if not all(s.strip() for s in e["msgstr"])]
    assert not empty, f"{len(empty)} untranslated entries in the English catalogue. {FIX}\n" + "\n".join(empty[:30])
    assert not fuzzy, (
        f"{len(fuzzy)} fuzzy entries in the English catalogue: check each translation, then remove "
        f"the fuzzy flag. {FIX}\n" + "\n".join(fuzzy[:30])
    )
    # Chinese may appear inside a translation where it names a literal value (import
    # columns, 是/否), but a translation that merely repeats the Chinese is none.
    copied = [
        f"line {e['line']}: {e['msgid']!r}" for e in entries if CJK.search(e["msgid"]) and e["msgid"] in e["msgstr"]
    ]
    assert not copied, f"Entries whose English is the Chinese source. {FIX}\n" + "\n".join(copied[:30])


def test_the_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)._catalog
    stale = []
    for e in read_po():
        key = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            compiled = [catalog.get((key, i)) for i in range(len(e["msgstr"]))]
        else:
            compiled = [catalog.get(key)]
        if compiled != e["msgstr"]:
            stale.append(f"line {e['line']}: {e['msgid']!r}")
    assert not stale, (
        f"django.mo is out of date with django.po ({len(stale)} entries). Run `make messages`.\n"
        + "\n".join(stale[:30])
    )


# Names makemessages (xgettext with Django's keywords) extracts; a translation function
# imported under any other name — or called on a variable — is invisible to it, and its
# strings stay Chinese in the English interface.
KEYWORDS = {"_": 1, "gettext": 1, "gettext_lazy": 1, "gettext_noop": 1, "ngettext": 2, "ngettext_lazy": 2}
TEMPLATE_LITERAL = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"""
    r"""|\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)"""
)
TEMPLATE_BLOCK = re.compile(
    r"\{%\s*(?:blocktranslate|blocktrans)\b([^%]*)%\}(.*?)\{%\s*(?:endblocktranslate|endblocktrans)\s*%\}", re.S
)
TEMPLATE_VAR = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def _python_strings(path: Path) -> tuple[list[str], list[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, problems = [], []
    where = path.relative_to(SRC.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            problems += [
                f"{where}:{node.lineno}: `import {a.name} as {a.asname}` — makemessages does not know "
                f"`{a.asname}`; import it as `_` or under its own name"
                for a in node.names
                if a.asname and a.asname not in KEYWORDS
            ]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS:
            for arg in node.args[: KEYWORDS[node.func.id]]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append(arg.value)
                else:
                    problems.append(
                        f"{where}:{node.lineno}: {node.func.id}() of a non-literal — makemessages cannot see the "
                        'text; mark the literal where it is defined with gettext_lazy("…") and use that value as is'
                    )
    return found, problems


def _template_entries(path: Path) -> list[tuple[str, bool]]:
    """(msgid, plural) of every string a template marks: `plural` for a block with
    `count`, which Django looks up as a plural entry — and only there."""
    text = path.read_text(encoding="utf-8")
    found = [(next(g for g in m.groups() if g is not None), False) for m in TEMPLATE_LITERAL.finditer(text)]
    for m in TEMPLATE_BLOCK.finditer(text):
        args = m.group(1).split()
        body = re.split(r"\{%\s*plural\s*%\}", m.group(2))[0]
        if "trimmed" in args:
            body = " ".join(line.strip() for line in body.strip().splitlines() if line.strip())
        # The msgid Django's templatize makes: literal % doubled, {{ x }} as %(x)s.
        parts, pos = [], 0
        for var in TEMPLATE_VAR.finditer(body):
            parts += [body[pos : var.start()].replace("%", "%%"), f"%({var.group(1)})s"]
            pos = var.end()
        found.append(("".join(parts) + body[pos:].replace("%", "%%"), "count" in args))
    return found


def _template_strings(path: Path) -> list[str]:
    return [msgid for msgid, _plural in _template_entries(path)]


def test_every_chinese_string_in_the_code_is_in_the_catalogue():
    """Adding a Chinese string without `make messages` + a translation fails here."""
    catalogue = {e["msgid"] for e in read_po()}
    missing, problems = {}, []
    for path in sorted(SRC.rglob("*.py")):
        if {"migrations", "locale"} & set(path.parts):
            continue
        found, trouble = _python_strings(path)
        problems += trouble
        missing.update({s: path for s in found if CJK.search(s) and s not in catalogue})
    for path in sorted((SRC / "templates").rglob("*.html")):
        missing.update({s: path for s in _template_strings(path) if CJK.search(s) and s not in catalogue})
    assert not problems, "Strings makemessages cannot extract:\n" + "\n".join(problems)
    listing = "\n".join(f"{path.relative_to(SRC.parent)}: {s!r}" for s, path in list(missing.items())[:30])
    assert not missing, f"{len(missing)} Chinese strings are not in the English catalogue. {FIX}\n{listing}"


def test_no_template_asks_a_plural_entry_in_the_singular():
    """A `{% blocktranslate %}` without `count` whose text the catalogue holds only as a
    plural entry (because another template counts with it) is never translated: gettext
    looks the singular up under another key. Such a block must count too."""
    plural_only = {e["msgid"] for e in read_po() if "msgid_plural" in e}
    wrong = [
        f"{path.relative_to(SRC.parent)}: {msgid!r}"
        for path in sorted((SRC / "templates").rglob("*.html"))
        for msgid, plural in _template_entries(path)
        if not plural and msgid in plural_only
    ]
    assert not wrong, "Use {% blocktranslate count … %}…{% plural %}…:\n" + "\n".join(wrong)


# --- the pages in English ------------------------------------------------------------

CHROME = [
    re.compile(r"<title>(.*?)</title>", re.S),
    re.compile(r'<div class="collapse navbar-collapse" id="navbar-menu">(.*?)</div>\s*</div>\s*</header>', re.S),
    re.compile(r"<h([1-4])\b[^>]*>(.*?)</h\1>", re.S),
    re.compile(r"<th\b[^>]*>(.*?)</th>", re.S),
    re.compile(r"<button\b[^>]*>(.*?)</button>", re.S),
]


def chrome_text(html: str) -> str:
    """Title, menu, headings, table headers and buttons, tags stripped — the words of
    the interface itself, as opposed to the data in it. The language button (中文) is
    the one Chinese word an English page should show."""
    html = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)
    html = re.sub(r'<button[^>]*data-testid="lang-zh"[^>]*>.*?</button>', "", html, flags=re.S)
    pieces = [m.group(m.lastindex) for pattern in CHROME for m in pattern.finditer(html)]
    return unescape(re.sub(r"<[^>]+>", " ", "\n".join(pieces)))


def data_names() -> list[str]:
    """Configuration and people's names are data, Chinese in the seeded profile: they are
    removed before looking for untranslated words (longest first, so a category path
    goes before its parts)."""
    from kefu.core.models import Department, Region, User
    from kefu.tickets.models import TicketCategory, TicketKind

    names = [
        *TicketKind.objects.values_list("name", flat=True),
        *TicketCategory.objects.values_list("name", flat=True),
        *Region.objects.values_list("name", flat=True),
        *Department.objects.values_list("name", flat=True),
    ]
    for user in User.objects.all():
        names += [str(user), user.display_name or "", user.title or ""]
    return sorted({n for n in names if n}, key=len, reverse=True)


def untranslated(html: str) -> list[str]:
    text = chrome_text(html)
    for name in data_names():
        text = text.replace(name, " ")
    return sorted({line.strip() for line in text.splitlines() if CJK.search(line)})


@pytest.fixture
def english(client, ticket_world):
    """The manager, logged in, having switched the interface to English; a ticket, a
    customer and a return visit with English data so the pages have rows to show."""
    w = ticket_world
    client.force_login(w["manager"])
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    ticket = make_ticket(
        w["agent"], region=w["north"], title="Leaking pipe", description="Water on the floor", customer_name="Li Si"
    )
    plan(w, survey=make_survey(name="Satisfaction survey"), name="Wang Wu", region=w["north"])
    return {"client": client, "ticket": ticket}


PERIOD = timezone.localdate().strftime("%Y-%m")
PAGES = {
    "home": (lambda e: reverse("home"), ["Dashboard", "Home"]),
    "dashboard": (lambda e: reverse("reports:dashboard"), ["Manager dashboard", "This month"]),
    "customers": (lambda e: reverse("customers:list"), ["Customers", "Search"]),
    "ticket_queue": (lambda e: reverse("tickets:list"), ["Ticket queue", "Log a call", "Leaking pipe"]),
    "ticket_detail": (
        lambda e: reverse("tickets:detail", args=[e["ticket"].pk]),
        ["Leaking pipe", "Handling history", "Problem description", "Dispatch"],
    ),
    "visits": (lambda e: reverse("visits:list"), ["Return visits", "Schedule return visit"]),
    "reports": (lambda e: reverse("reports:index"), ["Reports", "Complaint statistics report", "Repair statistics"]),
    "report": (
        lambda e: reverse("reports:report", args=["complaints"]) + f"?period={PERIOD}",
        ["Complaint statistics report", "Export Excel", "Previous period"],
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_main_pages_render_in_english(english, page):
    url, words = PAGES[page]
    response = english["client"].get(url(english))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    for word in words:
        assert word in html, f"{word!r} missing from the English {page} page"
    assert "Home" in chrome_text(html)  # the menu itself is there, in English
    leftovers = untranslated(html)
    assert not leftovers, f"Chinese left in the English {page} page's titles, menu, headings or buttons. {FIX}\n" + (
        "\n".join(leftovers)
    )


@pytest.mark.django_db
def test_switching_back_to_chinese_restores_the_chinese_interface(english):
    client = english["client"]
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(reverse("tickets:list")).content.decode()
    assert '<html lang="zh-hans">' in html and "工单队列" in html
