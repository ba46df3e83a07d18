"""全国地方公共団体コード: five JIS X 0402 digits and a check digit."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> int:
    """The check digit: the last digit of 11 minus (the weighted sum mod 11)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_five, _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def is_valid_local_government_code(code: str) -> bool:
    return (
        isinstance(code, str)
        and len(code) == 6
        and code.isascii()
        and code.isdigit()
        and check_digit(code[:5]) == int(code[5])
    )


def validate_local_government_code(code: str) -> None:
    if not is_valid_local_government_code(code):
        raise ValidationError(
            _("%(code)s is not a valid 6-digit local government code (check digit)."),
            code="invalid_local_government_code",
            params={"code": code},
        )
