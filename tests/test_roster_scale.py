"""Agency choices at the size of a real roster (issue 13).

A prefecture has hundreds of agencies, a national installation about 1,400. No form may render
the whole roster: agencies are chosen with the search-as-you-type picker over the directory, and
the server still validates the choice against what the person may choose.

``roster_500`` builds 500 extra agencies in bulk (other tests of pages at roster scale reuse it).
"""

import datetime

import pytest
from django.urls import reverse

from agencies.models import Agency, AgencyKind, Municipality
from agencies.selectors import PICK_LIMIT
from core.japanese import search_key
from tests.conftest import login_as, make_agency
from tests.test_client_page import LARGE, build_history

ROSTER_SIZE = 500

# Kana the roster's names are made of; every agency's kana is unique by its number.
_KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"


def _kana_for(number: int) -> str:
    first, second = divmod(number, len(_KANA))
    return f"シエン{_KANA[first % len(_KANA)]}{_KANA[second]}"


@pytest.fixture
def roster_500(db):
    """500 active agencies, set up in real municipalities, all receiving referrals."""
    municipalities = list(Municipality.objects.exclude(kind="prefecture").order_by("code")[:50])
    if not municipalities:
        municipalities = [None]
    agencies = []
    for number in range(ROSTER_SIZE):
        name = f"支援機関{number:03d}"
        kana = _kana_for(number)
        agencies.append(
            Agency(
                name=name,
                name_kana=kana,
                kind=AgencyKind.NPO,
                municipality=municipalities[number % len(municipalities)],
                active_from=datetime.date(2020, 4, 1),
                search_key=search_key(name, kana),
            )
        )
    return Agency.objects.bulk_create(agencies)


def test_the_roster_fixture_builds_500_searchable_agencies(roster_500):
    assert Agency.objects.active().count() >= ROSTER_SIZE
    assert Agency.objects.filter(search_key__contains=search_key("しえん")).count() >= ROSTER_SIZE


MAX_PAGE_BYTES = 60 * 1024


@pytest.mark.parametrize("name", ["consent:new", "consent:emergency_new", "referrals:new"])
def test_agency_forms_stay_small_and_flat_with_500_agencies(
    client, tanaka, yamamoto, roster_500, django_assert_num_queries, name
):
    login_as(client, tanaka)
    url = reverse(name, args=[yamamoto.public_id])
    # 1 session, 2 user, 3 membership and agency of the viewer, 4 the client (through its
    # scope). No query of the roster: the picker renders no agency until one is typed.
    with django_assert_num_queries(4):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    assert "支援機関000" not in response.content.decode()
    assert 'role="combobox"' in response.content.decode()


def _pick(client, purpose, text, **params):
    return client.get(reverse("agencies:pick", args=[purpose]), {"q": text, **params})


def test_the_picker_finds_agencies_by_hiragana_and_half_width_katakana(client, tanaka, jiritsu_b):
    login_as(client, tanaka)
    for typed in ("じりつそうだん", "ｼﾞﾘﾂｿｳﾀﾞﾝ", "ジリツ　ソウダン"):
        page = _pick(client, "consent-recipient", typed).content.decode()
        assert "自立相談支援機関B" in page, typed
        assert str(jiritsu_b.public_id) in page


def test_the_picker_offers_only_what_the_purpose_allows(client, tanaka, station_a, jiritsu_b):
    closed = make_agency("自立相談支援機関・閉所", "ジリツソウダンヘイショ", "self_reliance")
    Agency.objects.filter(pk=closed.pk).update(
        active_from=datetime.date(2020, 4, 1), active_until=datetime.date(2021, 3, 31)
    )
    no_referrals = make_agency(
        "自立相談支援機関・紙のみ", "ジリツソウダンカミ", "self_reliance", receives_referrals=False
    )
    login_as(client, tanaka)

    consent = _pick(client, "consent-recipient", "じりつ").content.decode()
    assert "自立相談支援機関B" in consent
    assert no_referrals.name in consent  # a consent may name a partner not using Tsunagu
    assert station_a.name not in consent  # never the own agency
    assert closed.name not in consent  # never an inactive one

    referral = _pick(client, "referral-recipient", "じりつ").content.decode()
    assert "自立相談支援機関B" in referral
    assert no_referrals.name not in referral
    assert station_a.name not in referral
    assert closed.name not in referral


def test_the_picker_shows_at_most_the_limit_and_says_there_are_more(
    client, tanaka, roster_500, django_assert_num_queries
):
    login_as(client, tanaka)
    # 1 session, 2 user, 3 membership and agency, 4 the matching agencies (one more than shown).
    with django_assert_num_queries(4):
        page = _pick(client, "consent-recipient", "しえん").content.decode()
    assert page.count('role="option"') == PICK_LIMIT + 1  # the matches and the "type more" line
    assert "aria-disabled" in page


def test_the_picker_refuses_unknown_purposes_and_people_without_client_work(client, tanaka, kato):
    login_as(client, tanaka)
    assert _pick(client, "everything", "し").status_code == 404
    login_as(client, kato)
    assert _pick(client, "consent-recipient", "し").status_code == 404


def test_a_forged_agency_outside_the_choice_is_refused_with_the_typed_values_kept(
    client, tanaka, yamamoto, station_a, jiritsu_b
):
    login_as(client, tanaka)
    url = reverse("consent:new", args=[yamamoto.public_id])
    # The own agency: in the directory, but not a recipient a consent may name.
    response = client.post(
        url,
        {
            "recipient": str(station_a.public_id),
            "recipient_text": "ひきこもり",
            "purpose": "referral",
            "categories": ["basic"],
            "method": "written",
            "given_by": "client",
            "obtained_on": "2025-01-10",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose the agency from the list." in page or "一覧から機関を選んでください。" in page
    assert 'value="ひきこもり"' in page  # what was typed stays in the text box
    assert not yamamoto.consents.exists()


def test_a_chosen_agency_comes_back_with_its_name(client, tanaka, yamamoto, jiritsu_b):
    login_as(client, tanaka)
    url = reverse("consent:new", args=[yamamoto.public_id])
    page = client.get(url, {"recipient": str(jiritsu_b.public_id)}).content.decode()
    assert 'value="自立相談支援機関B（' in page
    assert f'value="{jiritsu_b.public_id}"' in page


def test_the_client_page_of_a_long_history_stays_small_and_flat_with_500_agencies(
    client,
    tanaka,
    yamamoto,
    station_a,
    jiritsu_b,
    agency_c,
    sato,
    roster_500,
    django_assert_num_queries,
):
    partners = [
        jiritsu_b,
        agency_c,
        make_agency("ハローワークD", "ハローワークディー", "hello_work"),
        make_agency("保健所E", "ホケンジョイー", "public_health_center"),
    ]
    case = build_history(
        size=LARGE,
        worker=tanaka,
        client=yamamoto,
        station_a=station_a,
        partners=partners,
        outsider=sato,
    )
    login_as(client, tanaka)
    url = reverse("cases:client", args=[yamamoto.public_id])
    # The same ten queries as in tests/test_client_page.py, whatever the roster: 1 session, 2
    # user, 3 membership + agency, 4 the client, 5 the cases, 6-8 the household (members,
    # their open cases, those cases' topics), 9 the plan's newest versions, 10 the flags.
    with django_assert_num_queries(10):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    assert "支援機関000" not in response.content.decode()

    # The quick consultation form, loaded when "Log a consultation" is opened, must not carry
    # the roster either (its partner-agency field becomes the picker).
    form = client.get(
        reverse("cases:consultation_new", args=[case.public_id]), headers={"HX-Request": "true"}
    )
    assert form.status_code == 200
    assert len(form.content) < MAX_PAGE_BYTES
    assert "支援機関000" not in form.content.decode()
