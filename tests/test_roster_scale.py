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
from cases.services import meeting_save
from core.japanese import search_key
from tests.conftest import login_as, make_agency, viewer_for
from tests.test_client_page import LARGE, build_history
from tests.test_plans import make_plan

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


def _small_without_the_roster(response) -> str:
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    page = response.content.decode()
    assert "支援機関000" not in page
    assert 'role="combobox"' in page
    return page


def test_the_consultation_entry_stays_small_and_flat_with_500_agencies(
    client, tanaka, yamamoto_case, roster_500, django_assert_num_queries
):
    login_as(client, tanaka)
    url = reverse("cases:consultation_new", args=[yamamoto_case.public_id])
    # The page and the quick entry alone (htmx), the same queries: 1 session, 2 user,
    # 3 membership and agency, 4 the case through the viewer's scope, 5 its topics, 6 its
    # co-workers, 7 the agency's workers (the staff boxes). The partner agency is a picker: no
    # query of the roster.
    for headers in ({}, {"HX-Request": "true"}):
        with django_assert_num_queries(7):
            response = client.get(url, headers=headers)
        page = _small_without_the_roster(response)
        assert 'name="partner_agency" value=""' in page


def test_the_plan_editor_stays_small_and_flat_with_500_agencies(
    client, tanaka, yamamoto_case, roster_500, django_assert_num_queries
):
    plan = make_plan(tanaka, yamamoto_case, items=("週1回の面談", "居場所", "家計相談"))
    login_as(client, tanaka)
    url = reverse("cases:plan", args=[plan.public_id])
    # 1 session, 2 user, 3 membership and agency, 4-7 the plan through the viewer's scope with
    # its goals, items and reviews, 8-11 every version of the case's plan with theirs (the
    # versions list), 12 the new item's agency (this one), named in the picker's text box.
    with django_assert_num_queries(12):
        response = client.get(url)
    page = _small_without_the_roster(response)
    assert f'name="new_item-agency" value="{yamamoto_case.agency_id}"' in page


def test_the_meeting_form_stays_small_and_flat_with_500_agencies(
    client, tanaka, yamamoto_case, jiritsu_b, agency_c, roster_500, django_assert_num_queries
):
    login_as(client, tanaka)
    # 1 session, 2 user, 3 membership and agency, 4 the agency's staff (the participant boxes).
    with django_assert_num_queries(4):
        response = client.get(reverse("cases:meeting_create"))
    _small_without_the_roster(response)

    meeting = meeting_save(
        viewer=viewer_for(tanaka),
        meeting=None,
        fields={"held_on": yamamoto_case.opened_on},
        participant_agencies=[jiritsu_b, agency_c],
        participant_users=[tanaka],
    )
    # Editing: 1-3 as above, 4 the meeting through the agency's scope, 5-7 its participating
    # agencies and staff and its cases, 8 the hosting agency, 9 the chosen agencies (the
    # chips), 10 the agency's staff.
    with django_assert_num_queries(10):
        response = client.get(reverse("cases:meeting_edit", args=[meeting.public_id]))
    page = _small_without_the_roster(response)
    for agency in (jiritsu_b, agency_c):
        assert f'name="participant_agencies" value="{agency.pk}"' in page
        assert f"{agency.name}（{agency.get_kind_display()}）" in page


def test_a_forged_meeting_participant_is_refused_and_the_chosen_ones_stay_as_chips(
    client, tanaka, station_a, jiritsu_b
):
    login_as(client, tanaka)
    # The hosting agency itself: in the directory, but not a participant the form offers.
    response = client.post(
        reverse("cases:meeting_create"),
        {
            "held_on": "2025-01-10",
            "place": "市役所",
            "participant_agencies": [jiritsu_b.pk, station_a.pk, "not-a-number"],
            "participant_users": [tanaka.pk],
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose the agency from the list." in page or "一覧から機関を選んでください。" in page
    assert f'name="participant_agencies" value="{jiritsu_b.pk}"' in page
    assert 'value="市役所"' in page


def test_a_forged_consultation_partner_is_refused_with_the_typed_values_kept(
    client, tanaka, yamamoto_case, station_a
):
    login_as(client, tanaka)
    response = client.post(
        reverse("cases:consultation_new", args=[yamamoto_case.public_id]),
        {
            "summary": "電話で近況を聞いた",
            "method": "phone",
            "occurred_on": "2025-01-10",
            "partner_agency": station_a.pk,  # the case's own agency: not a partner
            "partner_agency_text": "ひきこもり",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose the agency from the list." in page or "一覧から機関を選んでください。" in page
    assert 'value="ひきこもり"' in page
    assert 'value="電話で近況を聞いた"' in page
    assert not yamamoto_case.consultations.exists()


def test_the_network_form_carries_no_agency_roster(client, sysadmin, jiritsu_b, roster_500):
    client.force_login(sysadmin)
    response = client.get(reverse("agencies:system_network_create"))
    assert response.status_code == 200
    page = response.content.decode()
    # Not under 60 KB yet: its municipality select lists every municipality (another field).
    assert "支援機関000" not in page
    assert page.count('role="combobox"') == 2  # the coordinator and the members
    found = _pick(client, "network-agency", "じりつ", key="pk").content.decode()
    assert f'data-value="{jiritsu_b.pk}"' in found
