"""Valid identifiers for demo customers: resident ID numbers, unified social credit
codes, and mobile numbers that never repeat."""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence

from stdnum.cn import ric, uscc

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157",
    "158", "159", "166", "170", "173", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188",
    "189", "191", "198", "199",
)  # fmt: skip
# A bijection on 8-digit numbers (the multiplier is coprime with 10**8): the n-th mobile
# number generated gets a distinct suffix, whatever prefix it draws, so numbers never repeat.
_PHONE_MULTIPLIER = 7_654_321
_PHONE_SPACE = 100_000_000
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def resident_id(*, area_codes: Sequence[str], birthday: datetime.date, male: bool, seq: int) -> str:
    """A valid 18-digit resident ID number. python-stdnum only knows a district code
    from the year it was introduced, so older people fall back to the city's code."""
    order = (seq % 500) * 2 + (1 if male else 0)  # the 17th digit is odd for men
    for area in area_codes:
        body = f"{area}{birthday:%Y%m%d}{order:03d}"
        number = body + ric.calc_check_digit(body + "0")
        try:
            if ric.is_valid(number):
                return number
        except (KeyError, ValueError):  # python-stdnum 2.2 raises on some retired district codes
            continue
    raise ValueError(f"no valid area code among {area_codes} for {birthday}")


def _org_code(rng: random.Random, *, modern: bool) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    if modern:  # codes given since 2015 begin with MA
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body = f"{rng.randint(10_000_000, 99_999_999)}"
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, *, area: str, authority_type: str) -> str:
    """A valid unified social credit code: authority+type ("91" company, "11" 机关,
    "12" 事业单位), the registration area, the organisation code and the check character."""
    body = f"{authority_type}{area}{_org_code(rng, modern=authority_type == '91')}"
    return body + uscc.calc_check_digit(body)


def mobile_number(rng: random.Random, index: int) -> str:
    """The `index`-th demo mobile number: distinct indexes give distinct 8-digit suffixes
    (two affine bijections modulo 10**8 around a digit reversal, so that neighbours do
    not look alike), whatever prefix is drawn."""
    first = f"{(index * _PHONE_MULTIPLIER + 13_579_113) % _PHONE_SPACE:08d}"[::-1]
    suffix = (int(first) * 1_234_567 + 24_681_357) % _PHONE_SPACE
    return f"{rng.choice(MOBILE_PREFIXES)}{suffix:08d}"
