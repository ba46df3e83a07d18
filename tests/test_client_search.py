"""Client search and the duplicate check, inside the viewer's agency only."""

import datetime

import jaconv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.selectors import client_possible_duplicates, client_search
from cases.services import PossibleDuplicateError, client_create
from tests.conftest import viewer_for

pytestmark = pytest.mark.django_db

SPACES = [" ", "\u3000"]


def register(user, full_name, kana, birth_date=None, **fields):
    return client_create(
        viewer=viewer_for(user),
        fields={"full_name": full_name, "full_name_kana": kana, "birth_date": birth_date, **fields},
        duplicate_confirmed=True,
    )


def found(user, **query) -> list:
    return client_search(viewer=viewer_for(user), **query).items


@pytest.fixture
def taro(tanaka):
    """田中 太郎 / タナカ タロウ, registered at station A."""
    return register(tanaka, "田中 太郎", "タナカ タロウ", datetime.date(1980, 4, 1))


class TestSearchByName:
    @pytest.mark.parametrize(
        "typed",
        [
            "田中 太郎",
            "田中太郎",
            "田中\u3000太郎",
            "ﾀﾅｶ ﾀﾛｳ",
            "たなか たろう",
            "タナカタロウ",
            "ﾀﾅｶﾀﾛｳ",
            "たなか",
            "ﾀﾅｶ ﾀ",
        ],
    )
    def test_every_way_of_typing_the_name_finds_the_client(self, tanaka, taro, yamamoto, typed):
        assert found(tanaka, text=typed) == [taro]

    def test_part_of_the_name_finds_everyone_with_it(self, tanaka, taro, yamamoto):
        assert set(found(tanaka, text="ﾀﾛｳ")) == {taro, yamamoto}
        assert set(found(tanaka, text="太郎")) == {taro, yamamoto}

    def test_words_must_all_match(self, tanaka, taro):
        assert found(tanaka, text="田中 花子") == []
        assert found(tanaka, text="たなか はなこ") == []

    def test_the_kana_is_stored_normalised(self, tanaka):
        client = register(tanaka, "鈴木 一", "ｽｽﾞｷ　はじめ")

        assert client.full_name_kana == "スズキ ハジメ"

    def test_any_mix_of_widths_scripts_and_spaces_of_the_reading_finds_the_client(self, tanaka):
        # Voiced (ベ, ジ), semi-voiced (プ, ペ) and small (ッ, ュ) kana, which half-width
        # katakana writes as two characters.
        client = register(tanaka, "別府 純平", "ベップ ジュンペイ", datetime.date(1990, 1, 2))
        register(tanaka, "別所 純一", "ベッショ ジュンイチ", datetime.date(1991, 3, 4))
        viewer = viewer_for(tanaka)

        # The client is created once; hypothesis then tries many ways of typing the reading.
        @settings(max_examples=50, deadline=None)
        @given(st.data())
        def typed_reading_finds_the_client(data):
            parts = []
            for kana in "ベップジュンペイ":
                if data.draw(st.booleans(), label="space before"):
                    parts.append(data.draw(st.sampled_from(SPACES)))
                script = data.draw(st.sampled_from(["katakana", "hiragana", "half-width"]))
                if script == "hiragana":
                    kana = jaconv.kata2hira(kana)
                elif script == "half-width":
                    kana = jaconv.z2h(kana, kana=True, ascii=False, digit=False)
                parts.append(kana)
            typed = "".join(parts)

            assert client_search(viewer=viewer, text=typed).items == [client], typed

        typed_reading_finds_the_client()


class TestSearchByBirthDate:
    def test_it_finds_the_client_born_that_day(self, tanaka, taro, yamamoto):
        assert found(tanaka, birth_date=datetime.date(1980, 4, 1)) == [taro]
        assert found(tanaka, birth_date=datetime.date(1973, 5, 10)) == [yamamoto]
        assert found(tanaka, birth_date=datetime.date(1980, 4, 2)) == []

    def test_name_and_birth_date_together_narrow_the_result(self, tanaka, taro):
        other_taro = register(tanaka, "田中 太郎", "タナカ タロウ", datetime.date(1999, 9, 9))

        assert found(tanaka, text="たなか", birth_date=datetime.date(1999, 9, 9)) == [other_taro]


class TestOnlyTheViewersAgency:
    def test_search_never_returns_another_agencys_client(self, tanaka, sato, taro):
        theirs = register(sato, "田中 太郎", "タナカ タロウ", datetime.date(1980, 4, 1))

        assert found(tanaka, text="たなか たろう") == [taro]
        assert found(tanaka, birth_date=datetime.date(1980, 4, 1)) == [taro]
        assert found(sato, text="たなか たろう") == [theirs]
        assert taro not in found(sato)

    def test_a_supporter_and_another_agencys_supervisor_find_nothing(
        self, ito, suzuki, taro, yamamoto
    ):
        assert found(ito, text="たなか") == []
        assert found(ito) == []
        assert found(suzuki, text="たなか") == []


class TestPossibleDuplicates:
    def duplicates(self, user, name, kana, birth_date):
        return client_possible_duplicates(
            viewer=viewer_for(user), full_name=name, full_name_kana=kana, birth_date=birth_date
        )

    def test_the_same_reading_and_birth_date_is_a_possible_duplicate(self, tanaka, taro):
        # Another kanji for the same reading: 田仲 is read タナカ too.
        matches = self.duplicates(tanaka, "田仲 太朗", "たなか たろう", datetime.date(1980, 4, 1))

        assert matches == [taro]

    def test_the_same_reading_with_a_typo_in_the_day_is_a_possible_duplicate(self, tanaka, taro):
        matches = self.duplicates(tanaka, "田仲 太朗", "ﾀﾅｶ ﾀﾛｳ", datetime.date(1980, 4, 11))

        assert matches == [taro]

    def test_the_same_reading_born_in_another_year_is_another_person(self, tanaka, taro):
        assert (
            self.duplicates(tanaka, "田仲 太朗", "タナカ タロウ", datetime.date(1985, 4, 1)) == []
        )

    def test_another_agencys_client_is_never_a_duplicate(self, tanaka, sato):
        register(sato, "田中 太郎", "タナカ タロウ", datetime.date(1980, 4, 1))

        assert (
            self.duplicates(tanaka, "田中 太郎", "タナカ タロウ", datetime.date(1980, 4, 1)) == []
        )

    def test_creating_a_possible_duplicate_asks_first(self, tanaka, taro):
        fields = {
            "full_name": "田中太郎",
            "full_name_kana": "たなかたろう",
            "birth_date": datetime.date(1980, 4, 1),
        }

        with pytest.raises(PossibleDuplicateError) as raised:
            client_create(viewer=viewer_for(tanaka), fields=fields)

        assert raised.value.matches == [taro]
        assert found(tanaka, text="たなか") == [taro]

    def test_a_confirmed_duplicate_is_created(self, tanaka, taro):
        fields = {
            "full_name": "田中太郎",
            "full_name_kana": "たなかたろう",
            "birth_date": datetime.date(1980, 4, 1),
        }

        second = client_create(viewer=viewer_for(tanaka), fields=fields, duplicate_confirmed=True)

        assert second != taro
        assert set(found(tanaka, text="たなか")) == {taro, second}

    def test_the_same_person_in_another_agency_is_not_a_duplicate_there(self, tanaka, sato, taro):
        fields = {
            "full_name": "田中 太郎",
            "full_name_kana": "タナカ タロウ",
            "birth_date": datetime.date(1980, 4, 1),
        }

        theirs = client_create(viewer=viewer_for(sato), fields=fields)

        assert theirs.agency != taro.agency
