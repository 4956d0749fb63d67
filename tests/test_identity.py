"""The identifiers users type: ID card numbers (GB 11643, DOMAIN.md R18) and credit codes (GB 32100)."""

from datetime import date

import pytest
from stdnum.cn import ric
from stdnum.cn import uscc

from domain.identity import CreditCodeError
from domain.identity import IdNumber
from domain.identity import IdNumberError
from domain.identity import parse_credit_code
from domain.identity import parse_id_number
from domain.identity import review_warnings

TODAY = date(2026, 3, 1)
XINHUA_DISTRICT = "410402"  # 平顶山市新华区
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def with_check_digit(first_17: str) -> str:
    """Append the ISO 7064 MOD 11-2 check digit, computed here independently of the code under test."""
    total = sum(int(digit) * (2 ** (17 - index) % 11) for index, digit in enumerate(first_17))
    check = (12 - total % 11) % 11
    return first_17 + ("X" if check == 10 else str(check))


def id_number(area: str = XINHUA_DISTRICT, born: str = "19850612", sequence: str = "001") -> str:
    return with_check_digit(area + born + sequence)


def refusal(text: str, today: date = TODAY) -> IdNumberError:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(text, today)
    return caught.value


def credit_refusal(text: str) -> CreditCodeError:
    with pytest.raises(CreditCodeError) as caught:
        parse_credit_code(text)
    return caught.value


def test_check_digit_helper_agrees_with_published_examples():
    assert with_check_digit("36042619910101007") == "360426199101010071"
    assert with_check_digit("11010519491231002") == "11010519491231002X"


# ID card numbers: accepted


def test_valid_pingdingshan_number_is_accepted_with_its_birth_date_gender_and_area():
    number = id_number()

    assert number == "410402198506120016"
    assert parse_id_number(number, TODAY) == IdNumber(
        value=number, birth_date=date(1985, 6, 12), gender="M", area_code="410402", warnings=()
    )


def test_number_ending_in_capital_x_is_accepted():
    parsed = parse_id_number("41040219850612018X", TODAY)

    assert parsed.value == "41040219850612018X"
    assert parsed.warnings == ()


def test_published_example_ending_in_x_is_a_woman_born_1949():
    parsed = parse_id_number("11010519491231002X", TODAY)

    assert (parsed.birth_date, parsed.gender, parsed.area_code) == (date(1949, 12, 31), "F", "110105")


@pytest.mark.parametrize(("sequence", "gender"), [("001", "M"), ("002", "F"), ("019", "M"), ("990", "F")])
def test_gender_is_male_for_an_odd_17th_digit_and_female_for_an_even_one(sequence, gender):
    assert parse_id_number(id_number(sequence=sequence), TODAY).gender == gender


def test_spaces_anywhere_are_removed_including_full_width_ones():
    typed = " 410402 19850612\u30000016 "

    assert parse_id_number(typed, TODAY).value == "410402198506120016"


def test_birth_today_and_on_1900_01_01_are_accepted():
    assert parse_id_number(id_number(born="20260301"), TODAY).birth_date == TODAY
    assert parse_id_number(id_number(born="19000101"), TODAY).birth_date == date(1900, 1, 1)


# ID card numbers: the area code is only a warning


def test_unknown_area_code_is_accepted_with_a_warning():
    parsed = parse_id_number(id_number(area="990000"), TODAY)

    assert parsed.area_code == "990000"
    assert parsed.warnings == ("area_code_unknown",)


def test_area_code_is_not_checked_against_the_birth_year():
    # 新华区's code dates from 1983; people born before then were issued it later.
    assert parse_id_number(id_number(born="19750101"), TODAY).warnings == ()


def test_retired_area_code_is_accepted_without_warning():
    # 舞钢区 410412 existed 1982-1990 only.
    assert parse_id_number(id_number(area="410412", born="19880101"), TODAY).warnings == ()


# ID card numbers: refused


@pytest.mark.parametrize("typed", ["", "   ", "\u3000"])
def test_nothing_typed_is_refused(typed):
    assert refusal(typed).code == "empty"


def test_wrong_check_digit_is_refused():
    error = refusal("410402198506120017")

    assert error.code == "checksum"


def test_every_single_digit_typo_is_caught_by_the_check_digit():
    number = id_number()
    for index in range(17):
        for digit in "0123456789":
            if digit != number[index]:
                typo = number[:index] + digit + number[index + 1 :]
                assert refusal(typo).code == "checksum", typo


def test_swapped_neighbouring_digits_are_caught_by_the_check_digit():
    number = id_number()
    for index in range(17):
        swapped = number[:index] + number[index + 1] + number[index] + number[index + 2 :]
        if swapped != number:
            assert refusal(swapped).code == "checksum", swapped


@pytest.mark.parametrize("length", [17, 19])
def test_number_of_wrong_length_is_refused(length):
    typed = (id_number() + "1")[:length]

    error = refusal(typed)

    assert (error.code, error.params) == ("length", {"length": length})


def test_old_15_digit_number_is_refused_asking_for_the_18_digit_one(explain_in):
    error = refusal("410402850612001")

    assert error.code == "length"
    assert "18-digit number" in explain_in(error, "en")
    assert "18位号码" in explain_in(error)


def test_lowercase_x_is_refused_asking_for_a_capital_x():
    error = refusal("41040219850612018x")

    assert error.code == "lowercase_x"


def test_full_width_digits_are_refused_suggesting_half_width_ones(explain_in):
    error = refusal(id_number().translate(FULL_WIDTH))

    assert (error.code, error.params) == ("characters", {"char": "４", "position": 1})
    assert "half-width" in explain_in(error, "en")
    assert "半角" in explain_in(error)


def test_full_width_x_at_the_end_is_refused():
    assert refusal("41040219850612018Ｘ").params == {"char": "Ｘ", "position": 18}


def test_letter_in_the_middle_is_refused_naming_its_position():
    error = refusal("4104021985O6120016")

    assert (error.code, error.params) == ("characters", {"char": "O", "position": 11})


def test_x_anywhere_but_the_end_is_refused():
    assert refusal("4104X2198506120016").params == {"char": "X", "position": 5}


def test_february_30_is_refused_as_a_birth_date():
    error = refusal(id_number(born="19990230"))

    assert (error.code, error.params) == ("birth_date", {"birth_date": "1999-02-30"})


def test_birth_in_the_future_is_refused():
    assert refusal(id_number(born="20260302")).code == "birth_date"


def test_birth_before_1900_is_refused():
    assert refusal(id_number(born="18991231")).code == "birth_date"


def test_id_number_errors_are_value_errors_so_form_validators_can_catch_them():
    assert isinstance(refusal("1"), ValueError)


# Unified social credit codes

VALID_CREDIT_CODE = "91410400MA3X7B2L1" + uscc.calc_check_digit("91410400MA3X7B2L1")


def test_valid_credit_code_is_accepted():
    assert parse_credit_code(VALID_CREDIT_CODE) == VALID_CREDIT_CODE
    assert parse_credit_code("91110000600037341L") == "91110000600037341L"


def test_spaces_in_a_credit_code_are_removed():
    typed = f" {VALID_CREDIT_CODE[:8]} {VALID_CREDIT_CODE[8:]} "

    assert parse_credit_code(typed) == VALID_CREDIT_CODE


def test_credit_code_of_a_non_commercial_registrar_may_start_with_a_letter():
    code = "N2410402MA3X7B2L1" + uscc.calc_check_digit("N2410402MA3X7B2L1")

    assert parse_credit_code(code) == code


def test_credit_code_with_a_wrong_check_character_is_refused():
    wrong = "0" if VALID_CREDIT_CODE[-1] != "0" else "1"

    assert credit_refusal(VALID_CREDIT_CODE[:-1] + wrong).code == "credit_checksum"


def test_credit_code_in_lowercase_is_refused_asking_for_capital_letters():
    error = credit_refusal(VALID_CREDIT_CODE.lower())

    assert (error.code, error.params) == ("credit_lowercase", {"char": "m", "position": 9})


def test_credit_code_of_17_characters_is_refused():
    error = credit_refusal(VALID_CREDIT_CODE[:17])

    assert (error.code, error.params) == ("credit_length", {"length": 17})


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_credit_code_with_a_letter_the_standard_does_not_use_is_refused(letter):
    error = credit_refusal(VALID_CREDIT_CODE[:9] + letter + VALID_CREDIT_CODE[10:])

    assert (error.code, error.params) == ("credit_characters", {"char": letter, "position": 10})


def test_credit_code_with_a_letter_in_its_region_code_is_refused():
    assert credit_refusal("91A10400MA3X7B2L1X").params == {"char": "A", "position": 3}


def test_empty_credit_code_is_refused():
    assert credit_refusal(" ").code == "credit_empty"


# Messages


@pytest.mark.parametrize(
    "error",
    [
        IdNumberError("empty"),
        IdNumberError("characters", char="Ｏ", position=3),
        IdNumberError("lowercase_x"),
        IdNumberError("length", length=15),
        IdNumberError("checksum"),
        IdNumberError("birth_date", birth_date="1999-02-30"),
        CreditCodeError("credit_empty"),
        CreditCodeError("credit_characters", char="I", position=10),
        CreditCodeError("credit_lowercase", char="m", position=9),
        CreditCodeError("credit_length", length=17),
        CreditCodeError("credit_checksum"),
    ],
    ids=lambda error: error.code,
)
def test_chinese_message_fills_from_the_error_params(error, explain_in):
    message = explain_in(error)

    assert "%(" not in message
    for value in error.params.values():
        assert str(value) in message


def test_area_code_warning_has_a_chinese_message_without_params(explain_in):
    message = explain_in(IdNumberError("area_code_unknown"))

    assert "%(" not in message
    assert "行政区划代码" in message


# --- what a reviewer is warned about (warnings inform, they never refuse) ------------------


def _with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def test_an_area_code_that_did_not_exist_in_the_birth_year_is_a_warning_not_a_refusal():
    number = _with_check("41048219600101001")  # 汝州市's code dates from 1988
    assert parse_id_number(number, date(2026, 1, 1)).value == number
    assert review_warnings(number, date(2026, 1, 1)) == ("area_code_not_at_birth",)
    assert review_warnings(_with_check("41042219920315002"), date(2026, 1, 1)) == ()


def test_an_unknown_area_code_and_an_implausible_birth_year_are_warnings():
    assert review_warnings(_with_check("99999919920315002"), date(2026, 1, 1)) == ("area_code_unknown",)
    assert review_warnings(_with_check("41042220150101001"), date(2026, 1, 1)) == ("birth_year_implausible",)
    old = review_warnings(_with_check("41042219400101001"), date(2026, 1, 1))
    assert "birth_year_implausible" in old
