"""Pinyin initials for searching names by their first letters (`zs` finds 张三).

Surnames are often polyphonic, and read differently as surnames (单 shàn, 解 xiè,
仇 qiú, 区 ōu, 曾 zēng): every reading of the surname is stored, so whichever one the
agent types finds the customer. The given name uses its common reading."""

from __future__ import annotations

from functools import lru_cache
from itertools import product

from pypinyin import Style, lazy_pinyin, pinyin

# Two-character surnames whose second character must not be read as a given name.
COMPOUND_SURNAMES = {
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐",
}  # fmt: skip
MAX_VARIANTS = 8


def _letters(text: str) -> str:
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default") if p).lower()


@lru_cache(maxsize=4096)
def _surname_variants(surname: str) -> tuple[str, ...]:
    readings = [
        sorted({r.lower() for r in item if r}) for item in pinyin(surname, style=Style.FIRST_LETTER, heteronym=True)
    ]
    return tuple("".join(combo) for combo in product(*readings)) or ("",)


def name_initials(name: str, *, person: bool = True) -> list[str]:
    """Every initials string the name can be searched by, most common reading first.
    Non-Chinese characters (letters, digits) are kept as they are, lowercased."""
    name = "".join(name.split())
    if not name:
        return []
    if not person:
        return [_letters(name)]
    surname_len = 2 if name[:2] in COMPOUND_SURNAMES else 1
    surname, given = name[:surname_len], name[surname_len:]
    common = _letters(name)
    rest = _letters(given)
    variants = [common, *(s + rest for s in _surname_variants(surname))]
    seen: dict[str, None] = {}
    for variant in variants:
        if variant:
            seen.setdefault(variant, None)
    return list(seen)[:MAX_VARIANTS]
