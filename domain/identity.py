"""Validation of the identifiers users type: resident ID card numbers and unified social credit codes.

Resident ID card number (居民身份证号, GB 11643-1999), DOMAIN.md R18. Hard rules, which raise
`IdNumberError` with one of these codes:

- ``empty``: nothing was typed.
- ``characters`` (char, position): a character other than a half-width digit 0-9, or an X that is
  not the last character. Full-width digits (typed with a Chinese input method) land here, and the
  message asks for half-width ones.
- ``lowercase_x``: the last character is a lowercase x. It is refused, not silently corrected,
  so that what is stored is exactly what the person typed and confirmed.
- ``length`` (length): not 18 characters. Old 15-digit numbers are refused; the message asks
  for the 18-digit number.
- ``checksum``: the last character is not the ISO 7064 MOD 11-2 check digit of the first 17.
- ``birth_date`` (birth_date): digits 7-14 are not a real date, or it is before 1900-01-01 or
  after today.

Checked in that order, so the person fixes one thing at a time. Spaces anywhere are removed first.

Soft rule, reported in `IdNumber.warnings` and never refused:

- ``area_code_unknown``: the first 6 digits are not an administrative division code that has
  ever existed, as far as python-stdnum's table knows. Codes are created, merged and retired over
  the years and the table lags behind. Unlike ``stdnum.cn.ric.validate`` the code is not checked
  against the birth year: the code is that of the place where the number was first issued, often
  years after birth (a person born in 1975 in 新华区 holds 410402 although the code dates from 1983).

Unified social credit code (统一社会信用代码, GB 32100-2015), refused with `CreditCodeError`:

- ``credit_empty``: nothing was typed.
- ``credit_characters`` (char, position): a character outside the code's alphabet (digits and
  capital letters without I, O, Z, S, V), or a letter in positions 3-8 (the region code).
- ``credit_lowercase`` (char, position): a lowercase letter; capital letters are required.
- ``credit_length`` (length): not 18 characters.
- ``credit_checksum``: the last character is not the check character of the first 17.

The first two positions (registering authority, entity type) may be letters, as the standard
allows (e.g. N for 农业 registrations), which ``stdnum.cn.uscc.validate`` would refuse.

Messages never reveal the expected check character: a wrong check usually means a typing error
elsewhere, and "fixing" the last character would store a wrong number that looks valid.

Every code has its message in the Babel catalogs (``forms.messages.DOMAIN_MESSAGES``).
"""

import functools
from dataclasses import dataclass
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from domain.refusals import Refusal

AREA_CODE_UNKNOWN = "area_code_unknown"
AREA_CODE_NOT_AT_BIRTH = "area_code_not_at_birth"
BIRTH_YEAR_IMPLAUSIBLE = "birth_year_implausible"
# the working ages of a professional: a birth date outside them is more likely a typing error
YOUNGEST_AGE = 16
OLDEST_AGE = 75

_DIGITS = frozenset("0123456789")
_CREDIT_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")
_EARLIEST_BIRTH = date(1900, 1, 1)


class IdentifierError(Refusal):
    """A typed identifier that is refused; `code` names the rule, `params` fill its message."""


class IdNumberError(IdentifierError):
    """A resident ID card number that cannot be accepted."""


class CreditCodeError(IdentifierError):
    """A unified social credit code that cannot be accepted."""


@dataclass(frozen=True)
class IdNumber:
    """A valid resident ID card number and what it tells about its holder."""

    value: str
    birth_date: date
    gender: str  # "M" or "F", from the parity of the 17th digit
    area_code: str
    warnings: tuple[str, ...] = ()


def parse_id_number(text: str, today: date) -> IdNumber:
    """Check a typed resident ID card number and return it normalised, or raise IdNumberError."""
    number = _without_spaces(text)
    _check_id_shape(number)
    if ric.calc_check_digit(number) != number[-1]:
        raise IdNumberError("checksum")
    area_code = number[:6]
    warnings = () if _area_is_known(area_code) else (AREA_CODE_UNKNOWN,)
    return IdNumber(
        value=number,
        birth_date=_birth_date(number, today),
        gender="M" if int(number[16]) % 2 else "F",
        area_code=area_code,
        warnings=warnings,
    )


def parse_credit_code(text: str) -> str:
    """Check a typed unified social credit code and return it without spaces, or raise CreditCodeError."""
    code = _without_spaces(text)
    if not code:
        raise CreditCodeError("credit_empty")
    for position, char in enumerate(code, start=1):
        if char.upper() not in _CREDIT_ALPHABET or (3 <= position <= 8 and char not in _DIGITS):
            raise CreditCodeError("credit_characters", char=char, position=position)
    for position, char in enumerate(code, start=1):
        if char.islower():
            raise CreditCodeError("credit_lowercase", char=char, position=position)
    if len(code) != 18:
        raise CreditCodeError("credit_length", length=len(code))
    if uscc.calc_check_digit(code[:17]) != code[-1]:
        raise CreditCodeError("credit_checksum")
    return code


def _without_spaces(text: str) -> str:
    # People paste numbers grouped by spaces, sometimes full-width ones (U+3000): drop them all.
    return "".join(text.split())


def _check_id_shape(number: str) -> None:
    if not number:
        raise IdNumberError("empty")
    last = len(number)
    for position, char in enumerate(number, start=1):
        if char not in _DIGITS and not (position == last and char in "Xx"):
            raise IdNumberError("characters", char=char, position=position)
    if number[-1] == "x":
        raise IdNumberError("lowercase_x")
    if len(number) != 18:
        raise IdNumberError("length", length=len(number))


def _birth_date(number: str, today: date) -> date:
    digits = number[6:14]
    shown = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise IdNumberError("birth_date", birth_date=shown) from None
    if not _EARLIEST_BIRTH <= born <= today:
        raise IdNumberError("birth_date", birth_date=shown)
    return born


def review_warnings(number: str, today: date) -> tuple[str, ...]:
    """Return what a reviewer should look at twice in a valid ID number; warnings inform, never refuse.

    ``area_code_unknown``: no such code ever existed (as far as python-stdnum knows).
    ``area_code_not_at_birth``: the code exists, but not in the birth year (python-stdnum's
    ``cn.ric`` dates each code): often fine (the number was issued later), sometimes a typo.
    ``birth_year_implausible``: the holder would be younger than 16 or older than 75 today.
    """
    found = []
    if not _area_is_known(number[:6]):
        found.append(AREA_CODE_UNKNOWN)
    else:
        try:
            ric.get_birth_place(number)
        except ValidationError:
            found.append(AREA_CODE_NOT_AT_BIRTH)
    born = ric.get_birth_date(number)
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if not YOUNGEST_AGE <= age <= OLDEST_AGE:
        found.append(BIRTH_YEAR_IMPLAUSIBLE)
    return tuple(found)


@functools.lru_cache(maxsize=8192)  # a score file repeats a few hundred area codes over 100 000 rows
def _area_is_known(area_code: str) -> bool:
    # The table marks each county with the years it existed; any era counts (see module docstring).
    parts = numdb.get("cn/loc").info(area_code)
    return any("county" in properties for _part, properties in parts)
