"""全国地方公共団体コード check digits (JIS X 0402)."""

import csv
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from agencies.codes import (
    check_digit,
    is_valid_local_government_code,
    validate_local_government_code,
)

BUNDLED = Path(__file__).resolve().parent.parent / "agencies" / "data" / "municipalities.csv"

five_digits = st.text(alphabet="0123456789", min_size=5, max_size=5)


@pytest.mark.parametrize(
    "code",
    [
        "010006",  # 北海道
        "011002",  # 札幌市
        "131016",  # 千代田区
        "202011",  # 長野市
        "271004",  # 大阪市
        "473821",  # 与那国町
        "200000",  # 長野県: the check digit may be 0
    ],
)
def test_real_codes_are_valid(code):
    assert is_valid_local_government_code(code)
    validate_local_government_code(code)  # does not raise


@pytest.mark.parametrize(
    "code",
    [
        "011001",  # 札幌市 with a wrong check digit
        "01100",  # five digits: Excel dropped the leading zero, or the check digit is missing
        "0110020",
        "",
        "01100a",
        "０１１００２",  # full-width digits are not a code
        "١١١٠٠٧",  # Arabic-Indic digits pass str.isdigit(), not the code check
    ],
)
def test_malformed_or_wrong_codes_are_invalid(code):
    assert not is_valid_local_government_code(code)
    with pytest.raises(ValidationError) as raised:
        validate_local_government_code(code)
    assert raised.value.code == "invalid_local_government_code"


def test_the_check_digit_follows_the_published_rule():
    # 01100: 0*6 + 1*5 + 1*4 + 0*3 + 0*2 = 9; 11 - 9 = 2.
    assert check_digit("01100") == 2
    # 20000: 2*6 = 12; 12 mod 11 = 1; 11 - 1 = 10, whose last digit is 0.
    assert check_digit("20000") == 0
    # 00000: sum 0; 11 - 0 = 11, whose last digit is 1.
    assert check_digit("00000") == 1


@given(five_digits)
def test_any_five_digits_with_their_check_digit_are_valid(first_five):
    assert is_valid_local_government_code(f"{first_five}{check_digit(first_five)}")


@given(five_digits, st.integers(min_value=1, max_value=9))
def test_any_other_check_digit_is_invalid(first_five, offset):
    wrong = (check_digit(first_five) + offset) % 10
    assert not is_valid_local_government_code(f"{first_five}{wrong}")


def _weighted_sum_mod_11(first_five: str) -> int:
    return sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True)) % 11


@given(five_digits, st.integers(min_value=0, max_value=4), st.integers(min_value=1, max_value=9))
def test_a_slip_in_one_digit_is_caught_except_where_the_rule_folds(first_five, position, offset):
    # The weights are prime to 11, so one wrong digit always changes the sum mod 11; but the
    # rule maps sums 0 and 10 to the same check digit (11 and 1 both end in 1), and only that
    # slip goes unnoticed.
    digits = list(first_five)
    digits[position] = str((int(digits[position]) + offset) % 10)
    slipped = "".join(digits)
    code = f"{slipped}{check_digit(first_five)}"
    folds = {_weighted_sum_mod_11(first_five), _weighted_sum_mod_11(slipped)} == {0, 10}
    assert is_valid_local_government_code(code) == folds


def test_every_code_in_the_bundled_list_is_valid():
    with BUNDLED.open(encoding="utf-8") as file:
        codes = [row[0] for row in csv.reader(file)][1:]
    assert len(codes) == 1788
    assert [code for code in codes if not is_valid_local_government_code(code)] == []
