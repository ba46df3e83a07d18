"""Client choices at the size of a real agency (issue 13).

A large agency holds 30,000 clients. No form may render them: the 支援会議 agenda form and the
household member form choose a client with the picker (the agency picker's combobox searching
``cases:client_pick``), and the server still validates the choice against the form's queryset.
The 支援調整会議's case form chooses an open case the same way, by its client
(``cases:client_pick?open_case=1``).

``bulk_clients`` builds thousands of clients in bulk (the forms' page tests in test_councils and
test_households use it too).
"""

import datetime
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from agencies.models import Agency
from cases.models import Case, Client, Decision, MeetingCase
from cases.services import case_close, client_create
from cases.views.clients import CLIENT_PICK_LIMIT
from core.japanese import search_key
from tests.conftest import login_as, viewer_for
from tests.test_meetings import a_meeting, add_case, ja, other_case

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
    """What was typed is POSTed (a name stays out of the URL); ``open_case`` and ``exclude``
    name no one and stay in the URL the widget is given."""
    query = f"?{urlencode(params)}" if params else ""
    return http.post(reverse("cases:client_pick") + query, {"q": text})


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


# --- The 支援調整会議's case: chosen by its client, among the agency's open cases -------------


def bulk_open_cases(agency: Agency, worker, count: int) -> list[Case]:
    """``count`` clients of the agency, each with an open case (in bulk)."""
    return Case.objects.bulk_create(
        Case(client=person, agency=agency, origin="walk_in", primary_worker=worker)
        for person in bulk_clients(agency, count)
    )


def closed_case(worker, name: str = "青木 二郎", kana: str = "アオキ ジロウ") -> Case:
    case = other_case(worker, name, kana)
    return case_close(
        viewer=viewer_for(worker), case=case, on=case.opened_on, outcomes=["other"], reason="終結"
    )


def test_the_meeting_case_form_stays_small_and_flat_with_2000_open_cases(
    client, tanaka, station_a, django_assert_num_queries
):
    cases = bulk_open_cases(station_a, tanaka, CLIENT_COUNT)
    meeting = a_meeting(tanaka)
    login_as(client, tanaka)

    # 1 session, 2 user, 3 membership and agency, 4 the meeting, 5 its participating agencies,
    # 6 its participants, 7 the cases discussed. None for the open cases: they are searched.
    with django_assert_num_queries(7):
        response = client.get(reverse("cases:meeting", args=[meeting.public_id]))
    page = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES, len(response.content)
    assert 'name="case"' in page
    assert '<select name="case"' not in page
    assert "利用者0001" not in page
    assert f"{reverse('cases:client_pick')}?open_case=1" in page

    # The case chosen (htmx): 1-7 as above (the meeting comes with its participants and the
    # cases discussed, for what was recorded for this case), 8 the chosen open case (client
    # joined), 9 the same again for the text box's label, 10 its plans.
    chosen = cases[1]
    with django_assert_num_queries(10):
        response = client.get(
            reverse("cases:meeting_case", args=[meeting.public_id]),
            {"case": chosen.public_id},
            headers={"HX-Request": "true"},
        )
    page = response.content.decode()
    assert len(response.content) < MAX_PAGE_BYTES, len(response.content)
    assert f'name="case" value="{chosen.public_id}"' in page
    assert 'value="利用者0001（リヨウ アイ、1950-01-02）"' in page

    # The search: 1-3 as above, 4 the matching clients with an open case (a search page),
    # 5 their open cases (the option's value).
    with django_assert_num_queries(5):
        page = _pick(client, "りよう", open_case=1).content.decode()
    assert page.count('role="option"') == CLIENT_PICK_LIMIT + 1  # the matches and "type more"
    assert f'data-value="{cases[0].public_id}"' in page


def test_the_case_search_offers_only_clients_with_an_open_case_of_the_agency(
    client, tanaka, sato, yamamoto, yamamoto_case
):
    without_case = register(tanaka, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
    closed = closed_case(tanaka, "山本 次郎", "ヤマモト ジロウ")
    theirs = other_case(sato, "山本 三郎", "ヤマモト サブロウ")
    login_as(client, tanaka)

    page = _pick(client, "やまもと", open_case=1).content.decode()

    # Valued by the open case's public id, labelled as people know the person (never an id).
    assert page.count('role="option"') == 1
    assert f'data-value="{yamamoto_case.public_id}"' in page
    assert 'data-label="山本 太郎（ヤマモト タロウ、1973-05-10）"' in page
    assert str(yamamoto.public_id) not in page
    for other in (without_case, closed.client, theirs.client):
        assert other.full_name not in page
    # Without ``open_case``, the agency's clients as before, valued by the client.
    page = _pick(client, "やまもと").content.decode()
    assert f'data-value="{yamamoto.public_id}"' in page
    assert "山本 花子" in page
    assert "山本 次郎" in page
    assert "山本 三郎" not in page


@pytest.mark.parametrize("whose", ["another agency's open case", "our closed case"])
def test_a_forged_case_is_refused_with_what_was_typed_kept(client, tanaka, sato, whose):
    forged = closed_case(tanaka) if whose == "our closed case" else other_case(sato)
    meeting = a_meeting(tanaka)
    login_as(client, tanaka)

    response = add_case(
        client,
        meeting,
        forged,
        decisions=[Decision.CONTINUE],
        case_text="青木 二郎（アオキ ジロウ）",
        note="書きかけ",
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert MeetingCase.objects.count() == 0
    assert (
        ja(
            "Choose the person from the list: only a client with an open case at your agency "
            "can be discussed."
        )
        in page
    )
    assert 'value="青木 二郎（アオキ ジロウ）"' in page
    assert "書きかけ" in page
