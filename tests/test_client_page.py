"""The client page shows what a caseworker needs at first sight in a flat number of queries,
whatever the client's history; the rest (consents, referrals, emergency disclosures, 支援会議,
the access log, supporters and visits, earlier cases) loads on demand, each section from its own
small endpoint through the same selectors, and the timeline pages by keyset."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from agencies.services import membership_ensure
from audit.access_log import log_refused_attempt
from audit.models import AccessEntry
from cases.services import (
    case_close,
    case_move_stage,
    case_open,
    case_reopen,
    consultation_log,
    home_visit_log,
    household_member_save,
    household_save,
    plan_create,
    plan_goal_save,
    plan_item_save,
    plan_record_agreement,
    plan_revise,
    supporter_assign,
)
from consent.services import consent_record, emergency_disclose
from tests.conftest import login_as, make_user, send_referral, viewer_for
from tests.second_factor import otp_queries

SMALL, LARGE = "small", "large"


def _supporter(station_a):
    user = make_user("kimura", "木村 支援者")
    return membership_ensure(actor=None, user=user, agency=station_a, role=Role.SUPPORTER)


def build_history(*, size, worker, client, station_a, partners, outsider):
    """A client of station A with a household, an open case with a plan, a consent, a
    referral, a visit and a refused look from outside; ``LARGE`` adds years of it: two closed
    cases, 60 consultations, revised plans, 6 consents, 4 referrals, an emergency disclosure,
    30 visits and 40 refused looks."""
    viewer = viewer_for(worker)
    today = timezone.localdate()
    household_save(viewer=viewer, client=client, postal_code="", address="", note="")
    client.refresh_from_db()
    household_member_save(
        viewer=viewer,
        client=client,
        member=None,
        fields={"name": "母", "relationship": "mother", "birth_year": 1948, "lives_together": True},
    )
    large = size == LARGE
    case_fields = {"origin": "family", "support_type": "plan", "withdrawal_duration": "10y"}

    def open_case():
        return case_open(
            viewer=viewer,
            client=client,
            fields=case_fields,
            topics=["hikikomori", "family"],
            main_topic="hikikomori",
            primary_worker=worker,
        )

    case = open_case()
    if large:
        for year in (2, 1):
            for index in range(10):
                consultation_log(
                    viewer=viewer,
                    case=case,
                    fields={
                        "method": "phone",
                        "summary": f"{year}年前の相談 {index}",
                        "occurred_on": today - timedelta(days=365 * year - index),
                    },
                )
            case_move_stage(viewer=viewer, case=case, to_stage="support", on=today, reason="合意")
            case = case_close(
                viewer=viewer, case=case, on=today, outcomes=["contact_lost"], reason="連絡途絶"
            )
            case = case_reopen(viewer=viewer, case=case, on=today, reason="再相談")
    consultations = 40 if large else 2
    for index in range(consultations):
        consultation_log(
            viewer=viewer,
            case=case,
            fields={
                "method": "office",
                "with_client": True,
                "summary": f"面談 {index}",
                "notes": "本人の話" * 40,
                "occurred_on": today - timedelta(days=consultations - index),
            },
        )
    plan = plan_create(viewer=viewer, case=case, client_words="外に出たい")
    plan_goal_save(viewer=viewer, plan=plan, goal=None, text="週1回外出する")
    plan_item_save(
        viewer=viewer, plan=plan, item=None, fields={"what": "見守り", "agency": station_a}
    )
    if large:
        for _revision in range(3):
            plan_record_agreement(viewer=viewer, plan=plan, agreed_on=today, method="signed")
            plan = plan_revise(viewer=viewer, plan=plan, reason="状況が変わった")
    for index, partner in enumerate(partners[: 4 if large else 1]):
        send_referral(worker, client, partner)
        if large and index < 2:
            consent_record(
                viewer=viewer,
                client=client,
                recipient=partner,
                purpose="meeting",
                categories=["basic"],
                method="oral",
            )
    if large:
        emergency_disclose(
            viewer=viewer,
            client=client,
            recipient=partners[0],
            categories=["basic"],
            reason="安否確認",
        )
    supporter = _supporter(station_a)
    supporter_assign(viewer=viewer, client=client, supporter=supporter)
    for index in range(30 if large else 1):
        home_visit_log(
            viewer=viewer_for(supporter.user),
            client=client,
            fields={
                "outcome": "met_family",
                "heard": "母の話" * 30,
                "visited_on": today - timedelta(days=index),
            },
        )
    for _look in range(40 if large else 1):
        log_refused_attempt(viewer=viewer_for(outsider), client=client)
    return case


@pytest.fixture
def partners(jiritsu_b, agency_c):
    from tests.conftest import make_agency

    return [
        jiritsu_b,
        agency_c,
        make_agency("ハローワークD", "ハローワークディー", "hello_work"),
        make_agency("保健所E", "ホケンジョイー", "public_health_center"),
    ]


@pytest.fixture(params=[SMALL, LARGE])
def history(request, tanaka, yamamoto, station_a, partners, sato):
    case = build_history(
        size=request.param,
        worker=tanaka,
        client=yamamoto,
        station_a=station_a,
        partners=partners,
        outsider=sato,
    )
    return request.param, case


def queries_of(client, url, params=None, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params, **headers)
    assert response.status_code == 200, response.status_code
    return response, queries


def listing(queries) -> str:
    return "\n".join(q["sql"][:160] for q in queries)


def page_url(name, client):
    return reverse(name, args=[client.public_id])


def test_the_client_page_costs_ten_queries_and_stays_small_for_a_short_or_a_long_history(
    client, tanaka, yamamoto, history
):
    login_as(client, tanaka)
    response, queries = queries_of(client, page_url("cases:client", yamamoto))

    # 1 session, 2 user, 3 membership + agency, 4 the client (household joined), 5 the cases
    # (primary worker joined; topics and co-workers as arrays in the same query), 6 the
    # household's members (their client records joined), 7 the members' open cases here, 8
    # their topics (the 8050 flag), 9 the plan's newest two versions with their goal and item
    # counts, 10 the flags (unacknowledged urgent visits, emergency disclosures active now)
    assert len(queries) == 10, listing(queries)
    assert len(response.content) < 60_000
    assert len(response.content) < 30_000, "the page grew: is a closed section rendered again?"


def test_the_page_shows_the_person_the_household_and_the_open_case_and_closes_the_rest(
    client, tanaka, yamamoto, history
):
    login_as(client, tanaka)
    text = client.get(page_url("cases:client", yamamoto)).text

    assert "山本 太郎" in text
    assert 'id="household"' in text
    assert "ひきこもり" in text or "Hikikomori" in text  # the open case's main topic
    assert 'id="plan-panel"' in text
    for name in (
        "consent:client_consents",
        "consent:client_emergencies",
        "councils:client_councils",
        "cases:client_supporters",
        "referrals:client_referrals",
        "cases:client_case_history",
        "cases:client_timeline",
    ):
        assert page_url(name, yamamoto) in text, name
    # Only the holding agency's supervisors are shown who looked at the record.
    assert page_url("cases:client_access_log", yamamoto) not in text
    # A closed section carries a note only for what must catch the eye: here the emergency
    # disclosure still sharing the record (the long history has one).
    size, _case = history
    assert text.count("data-note") == (1 if size == LARGE else 0)
    # Closed: none of the sections' rows are in the page itself.
    assert "data-consent=" not in text
    assert "data-referral=" not in text
    assert "面談" not in text


def test_a_supervisor_has_the_access_log_section(client, takahashi, yamamoto, history):
    login_as(client, takahashi)
    text = client.get(page_url("cases:client", yamamoto)).text
    assert page_url("cases:client_access_log", yamamoto) in text


def test_an_unacknowledged_urgent_visit_and_an_active_emergency_show_while_closed(
    client, tanaka, yamamoto, station_a, jiritsu_b
):
    viewer = viewer_for(tanaka)
    supporter = _supporter(station_a)
    supporter_assign(viewer=viewer, client=yamamoto, supporter=supporter)
    home_visit_log(
        viewer=viewer_for(supporter.user),
        client=yamamoto,
        fields={"outcome": "met_family", "is_urgent": True, "urgent_note": "母が倒れた"},
    )
    emergency_disclose(
        viewer=viewer, client=yamamoto, recipient=jiritsu_b, categories=["basic"], reason="安否"
    )
    login_as(client, tanaka)
    text = client.get(page_url("cases:client", yamamoto)).text
    assert 'data-flag="urgent-visit"' in text
    assert 'data-flag="emergency"' in text
    assert text.count("data-note") == 2


# Each section's endpoint: the same count for a short or a long history. Queries 1-4 are the
# session, the user, the membership + agency and the client (the scope, refusal logged).
SECTIONS = {
    # 5 the consents (recipient, obtained_by, withdrawn_by joined)
    "consent:client_consents": ("data-consent=", 5),
    # 5 the disclosures (recipient and the staff joined)
    "consent:client_emergencies": ('id="emergency"', 5),
    # 5 the agenda items (session and council joined)
    "councils:client_councils": ('id="councils"', 5),
    # 5 the active assignments (supporter joined), 6 the latest visits
    "cases:client_supporters": ('id="supporters"', 6),
    # 5 the referrals (both agencies and both records joined)
    "referrals:client_referrals": ("data-referral=", 5),
    # 5 the cases, 6 their topics, 7 co-workers, 8 stage moves (moved_by joined)
    "cases:client_case_history": ("data-case=", 8),
}


@pytest.mark.parametrize("name", list(SECTIONS))
def test_each_section_costs_the_same_for_a_short_or_a_long_history(
    client, tanaka, yamamoto, history, name
):
    marker, expected = SECTIONS[name]
    login_as(client, tanaka)
    response, queries = queries_of(client, page_url(name, yamamoto), HTTP_HX_REQUEST="true")
    assert marker in response.text
    assert len(queries) == expected, listing(queries)


def test_the_access_log_section_costs_five_queries_for_a_supervisor(
    client, takahashi, yamamoto, history
):
    login_as(client, takahashi)
    response, queries = queries_of(client, page_url("cases:client_access_log", yamamoto))
    assert 'data-access="denied"' in response.text
    # 1-4 as above, 5 the latest 30 looks (user and agency joined)
    # + the authenticator django-otp loads for a supervisor's verified session
    assert len(queries) == 5 + otp_queries(takahashi), listing(queries)


def test_the_access_log_section_is_empty_for_a_caseworker(client, tanaka, yamamoto, history):
    login_as(client, tanaka)
    response, queries = queries_of(client, page_url("cases:client_access_log", yamamoto))
    assert response.text.strip() == ""
    assert len(queries) == 4, listing(queries)


@pytest.mark.parametrize("name", [*SECTIONS, "cases:client_access_log", "cases:client_timeline"])
def test_a_section_asked_from_another_agency_is_a_404_and_logged(client, sato, yamamoto_case, name):
    yamamoto = yamamoto_case.client
    login_as(client, sato)
    before = AccessEntry.objects.filter(user=sato, client=yamamoto, outcome="denied").count()
    assert client.get(page_url(name, yamamoto)).status_code == 404
    after = AccessEntry.objects.filter(user=sato, client=yamamoto, outcome="denied").count()
    assert after == before + 1


KIND = re.compile(r'data-entry="(\w+)"')
MORE = re.compile(r'hx-get="([^"]*after=[^"]*)"')


def walk_timeline(client, url, params=None):
    """Every page of the timeline as a person would read it: the first, then "more"."""
    response, queries = queries_of(client, url, params)
    pages = [(response.text, queries)]
    while match := MORE.search(pages[-1][0]):
        next_url = match.group(1).replace("&amp;", "&")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(next_url)
        assert response.status_code == 200
        pages.append((response.text, queries))
    return pages


def test_the_timeline_pages_by_twenty_through_the_whole_history(client, tanaka, yamamoto, history):
    size, _case = history
    login_as(client, tanaka)
    pages = walk_timeline(client, page_url("cases:client_timeline", yamamoto))

    entries = [KIND.findall(text) for text, _queries in pages]
    assert all(len(page) == 20 for page in entries[:-1])
    assert 0 < len(entries[-1]) <= 20
    consultations = sum(page.count("consultation") for page in entries)
    assert consultations == (60 if size == LARGE else 2)
    for _text, queries in pages:
        kinds = {q["sql"].split('FROM "')[1].split('"')[0] for q in queries[5:]}
        # 1-4 as above, 5 the page's (kind, id) rows (one UNION ALL, each source cut to a
        # page), then one query per kind on the page (a consent and its withdrawal are one)
        assert len(queries) == 5 + len(kinds), listing(queries)


def test_the_timeline_keeps_its_filter_from_page_to_page(client, tanaka, yamamoto, history):
    size, _case = history
    login_as(client, tanaka)
    pages = walk_timeline(
        client, page_url("cases:client_timeline", yamamoto), {"kind": "consultation"}
    )
    entries = [kind for text, _queries in pages for kind in KIND.findall(text)]
    assert set(entries) == {"consultation"}
    assert len(entries) == (60 if size == LARGE else 2)
    # 1-4 as above, 5 the page's rows, 6 the consultations (family member and partner agency
    # joined; the revision count and the staff's names in the same query)
    assert all(len(queries) == 6 for _text, queries in pages)


def test_an_edited_timeline_cursor_starts_from_the_top(client, tanaka, yamamoto, history):
    login_as(client, tanaka)
    url = page_url("cases:client_timeline", yamamoto)
    first = client.get(url).text
    for cursor in ("garbage", "WyJ4IiwgMSwgMiwgM10=", "W10="):
        response = client.get(url, {"after": cursor})
        assert response.status_code == 200
        assert KIND.findall(response.text) == KIND.findall(first)
