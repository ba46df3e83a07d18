"""core.japanese: one reading, typed in any mix of scripts, widths and spaces, is one key."""

import jaconv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.japanese import search_key, to_katakana

# The basic katakana block, ァ (U+30A1) to ヶ (U+30F6): plain, voiced (ガ, ヴ), semi-voiced (パ)
# and small (ャュョッ) kana; and the long-vowel mark, which names use (ユーコ).
KATAKANA = [chr(code) for code in range(0x30A1, 0x30F7)] + ["ー"]
SPACES = [" ", "\u3000", "  ", " \u3000"]


def _as_hiragana(kana: str) -> str:
    return jaconv.kata2hira(kana)


def _as_half_width(kana: str) -> str:
    # ガ → ｶﾞ (two characters); kana without a half-width form (ヰ, ヮ) stay as they are.
    return jaconv.z2h(kana, kana=True, ascii=False, digit=False)


def _as_katakana(kana: str) -> str:
    return kana


readings = st.lists(st.sampled_from(KATAKANA), min_size=1, max_size=12).map("".join)


@st.composite
def typed_forms(draw, reading: str | None = None) -> tuple[str, str]:
    """A reading in katakana, and the same reading as someone might type it: every kana in
    hiragana, full- or half-width katakana, with ASCII or full-width spaces anywhere."""
    reading = reading if reading is not None else draw(readings)
    parts = []
    for kana in reading:
        form = draw(st.sampled_from([_as_katakana, _as_hiragana, _as_half_width]))
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(SPACES)))
        parts.append(form(kana))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(SPACES)))
    return reading, "".join(parts)


class TestToKatakana:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("たなか たろう", "タナカ タロウ"),
            ("ﾀﾅｶ ﾀﾛｳ", "タナカ タロウ"),
            ("タナカ\u3000タロウ", "タナカ タロウ"),
            ("ｶﾞｯｺｳ", "ガッコウ"),
            ("ﾊﾟﾝ", "パン"),
            ("きょうこ", "キョウコ"),
            ("ゆーこ", "ユーコ"),
            ("  たなか   たろう  ", "タナカ タロウ"),
        ],
    )
    def test_it_stores_full_width_katakana_with_single_spaces(self, typed, stored):
        assert to_katakana(typed) == stored

    def test_latin_letters_and_digits_are_narrowed_not_widened(self):
        assert to_katakana("ＡＢＣ１２３") == "ABC123"
        assert to_katakana("ABC123") == "ABC123"

    def test_nothing_gives_an_empty_string(self):
        assert to_katakana("") == ""
        assert to_katakana(None) == ""

    @settings(max_examples=200)
    @given(typed_forms())
    def test_any_typed_form_of_a_reading_is_stored_as_that_reading(self, example):
        reading, typed = example

        assert to_katakana(typed).replace(" ", "") == reading


class TestSearchKey:
    @pytest.mark.parametrize(
        "typed", ["田中 太郎", "田中太郎", "田中\u3000太郎", " 田中  太郎 ", "田 中太 郎"]
    )
    def test_spaces_never_matter_in_a_name(self, typed):
        assert search_key(typed) == search_key("田中太郎") == "田中太郎"

    @pytest.mark.parametrize("typed", ["ﾀﾅｶ ﾀﾛｳ", "たなか たろう", "タナカタロウ", "たなか　ﾀﾛｳ"])
    def test_the_issues_examples_of_a_reading_have_one_key(self, typed):
        assert search_key(typed) == search_key("タナカ タロウ") == "タナカタロウ"

    def test_latin_is_insensitive_to_width_and_case(self):
        assert search_key("ＡＢＣ") == search_key("ABC") == search_key("abc")
        assert search_key("ＮＰＯ法人Ｃ") == search_key("npo法人c")

    def test_parts_are_joined_as_one_text(self):
        assert search_key("田中", "太郎") == search_key("田中太郎")
        assert search_key("田中", "", "太郎") == "田中太郎"

    def test_the_key_has_no_spaces_and_is_empty_for_blank_input(self):
        assert search_key(" \u3000 ") == ""
        assert search_key() == ""

    @settings(max_examples=300)
    @given(typed_forms())
    def test_any_mix_of_widths_scripts_and_spaces_gives_the_same_key(self, example):
        reading, typed = example

        assert search_key(typed) == search_key(reading)

    @settings(max_examples=100)
    @given(readings, readings)
    def test_different_readings_have_different_keys(self, first, second):
        # The key forgets scripts, widths and spaces, never the kana themselves.
        if first != second:
            assert search_key(first) != search_key(second)
