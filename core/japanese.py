"""Japanese text normalisation, shared by the roster, search and imports.

Names arrive in every mix of scripts and widths: 田中 太郎, 田中太郎, ﾀﾅｶ ﾀﾛｳ, たなか たろう. One
place turns them into the forms we store and compare, with jaconv underneath for kana tables.
"""

import re
import unicodedata

import jaconv
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

_SPACES = re.compile(r"[\s\u3000]+")


def to_katakana(text: str) -> str:
    """Full-width katakana for storage (フリガナ): half-width kana widened, hiragana converted.

    Latin letters and digits are narrowed (NFKC), and runs of spaces become one space.
    """
    widened = jaconv.h2z(text or "", kana=True, ascii=False, digit=False)
    normalised = unicodedata.normalize("NFKC", widened)
    return _SPACES.sub(" ", jaconv.hira2kata(normalised)).strip()


def without_control_characters(text: str) -> str:
    """``text`` as typed, but each control character (NUL and the like, which no name holds and
    PostgreSQL refuses in text) a space: for what is typed into a search box."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)


def search_key(*parts: str) -> str:
    """A comparison key insensitive to hiragana/katakana, width, case and spaces.

    Store it beside the searchable fields and compare the key of the query against it.
    """
    joined = without_control_characters(" ".join(p for p in parts if p))
    return _SPACES.sub("", to_katakana(joined)).casefold()


# 〒 postal codes: seven digits, the hyphen optional (123-4567 or 1234567).
validate_postal_code = RegexValidator(
    r"^[0-9]{3}-?[0-9]{4}$", _("Enter a postal code like 123-4567.")
)
