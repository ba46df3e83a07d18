"""Client choices at the size of a real agency (issue 13).

A large agency holds 30,000 clients. No form may render them: the 支援会議 agenda form and the
household member form choose a client with the picker (the agency picker's combobox searching
``cases:client_pick``), and the server still validates the choice against the form's queryset.

``bulk_clients`` builds thousands of clients in bulk (the forms' page tests in test_councils and
test_households use it too).
"""

import datetime

from django.urls import reverse

from agencies.models import Agency
from cases.models import Client
from cases.services import client_create
from cases.views.clients import CLIENT_PICK_LIMIT
from core.japanese import search_key
from tests.conftest import login_as, viewer_for

CLIENT_COUNT = 2000
MAX_PAGE_BYTES = 60 * 1024

# Kana the clients' readings are made of; every client's reading is unique by its number.
_KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"


def _kana_for(number: int) -> str:
    first, second = divmod(number, len(_KANA))
    return f"リヨウ {_KANA[first % len(_KANA)]}{_KANA[second]}"


def bulk_clients(agency: Agency, count: int, name: str = "利用者") -> list[Client]:
    clients = []
    for number in range(count):
        full_name = f"{name}{number:04d}"
        kana = _kana_for(number)
        clients.append(
            Client(
                agency=agency,
                full_name=full_name,
                full_name_kana=kana,
                birth_date=datetime.date(1950, 1, 1) + datetime.timedelta(days=number),
                name_key=search_key(full_name),
                kana_key=search_key(kana),
            )
        )
    return Client.objects.bulk_create(clients)


def register(user, full_name: str, kana: str, birth_date: datetime.date) -> Client:
    return client_create(
        viewer=viewer_for(user),
        fields={"full_name": full_name, "full_name_kana": kana, "birth_date": birth_date},
        duplicate_confirmed=True,
    )


def _pick(http, text, **params):
    return http.get(reverse("cases:client_pick"), {"q": text, **params})


# --- The search: the agency's own clients, by kana, at most the limit -------------------------


def test_the_client_picker_finds_by_hiragana_and_half_width_katakana(client, tanaka, yamamoto):
    login_as(client, tanaka)
    for typed in ("やまもと", "ﾔﾏﾓﾄ ﾀﾛｳ", "山本"):
        page = _pick(client, typed).content.decode()
        assert "山本 太郎" in page, typed
        assert f'data-value="{yamamoto.public_id}"' in page
        # What people know the person by: name, reading, date of birth.
        assert 'data-label="山本 太郎（ヤマモト タロウ、1973-05-10）"' in page


def test_the_client_picker_offers_only_the_agencys_own_clients(client, tanaka, sato, yamamoto):
    theirs = register(sato, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
    login_as(client, tanaka)

    page = _pick(client, "やまもと").content.decode()

    assert "山本 太郎" in page
    assert "山本 花子" not in page
    assert str(theirs.public_id) not in page


def test_the_client_picker_shows_at_most_the_limit_and_says_there_are_more(
    client, tanaka, station_a, django_assert_num_queries
):
    bulk_clients(station_a, CLIENT_COUNT)
    login_as(client, tanaka)
    # 1 session, 2 user, 3 membership and agency, 4 the matching clients (a search page),
    # 5 their open cases (the kana search's prefetch).
    with django_assert_num_queries(5):
        page = _pick(client, "りよう").content.decode()
    assert page.count('role="option"') == CLIENT_PICK_LIMIT + 1  # the matches and "type more"
    assert "aria-disabled" in page


def test_the_client_picker_leaves_out_what_it_is_told_to(client, tanaka, yamamoto):
    hanako = register(tanaka, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
    login_as(client, tanaka)

    page = _pick(client, "やまもと", exclude=f"{yamamoto.public_id},not-an-id").content.decode()

    assert str(yamamoto.public_id) not in page
    assert str(hanako.public_id) in page


def test_the_client_picker_is_a_404_without_client_work(client, kato, sysadmin):
    for person in (kato, sysadmin):
        login_as(client, person)
        assert _pick(client, "やまもと").status_code == 404
