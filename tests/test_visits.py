"""Supporters (ひきこもりサポーター) and their home visits: a supporter reaches the clients
assigned to them and nothing else, logs a visit in one tap, an urgent visit flags the case on
the caseworker's dashboard until acknowledged, visits that reach nobody three times running are
pointed out, and the supporter's list costs the same for 2 or 10 households."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from agencies.models import Role
from agencies.services import membership_ensure
from cases.models import HomeVisit, SupporterAssignment, VisitOutcome
from cases.selectors import client_assignments, client_visits
from cases.services import (
    case_open,
    client_create,
    client_update,
    consultation_log,
    home_visit_log,
    meeting_save,
    plan_create,
    supporter_assign,
)
from tests.conftest import login_as, make_user, viewer_for

pytestmark = pytest.mark.django_db


def ja(message: str) -> str:
    with translation.override("ja"):
        return gettext(message)


def today() -> datetime.date:
    return timezone.localdate()


def assign(worker, client, supporter, note="二回鳴らして、母に先に声をかける"):
    return supporter_assign(
        viewer=viewer_for(worker),
        client=client,
        supporter=supporter.memberships.get(),
        approach_note=note,
    )


def visit(supporter, client, outcome=VisitOutcome.MET_CLIENT, days_ago=0, **fields):
    return home_visit_log(
        viewer=viewer_for(supporter),
        client=client,
        fields={
            "visited_on": today() - datetime.timedelta(days=days_ago),
            "outcome": outcome,
            **fields,
        },
    )


def new_client(worker, name, kana, *, with_case=False):
    viewer = viewer_for(worker)
    person = client_create(
        viewer=viewer, duplicate_confirmed=True, fields={"full_name": name, "full_name_kana": kana}
    )
    if with_case:
        case_open(
            viewer=viewer,
            client=person,
            fields={"origin": "outreach"},
            topics=["hikikomori"],
            main_topic="hikikomori",
            primary_worker=worker,
        )
    return person


@pytest.fixture
def yamamoto_at_home(tanaka, yamamoto):
    """山本 with an address, the one thing besides the name a supporter needs to find him."""
    return client_update(
        viewer=viewer_for(tanaka),
        client=yamamoto,
        fields={"postal_code": "380-0000", "address": "長野市大字長野 1-2-3"},
    )


@pytest.fixture
def ito_visits_yamamoto(tanaka, ito, yamamoto_at_home):
    return assign(tanaka, yamamoto_at_home, ito)


def my_household(client, person):
    return client.get(reverse("cases:my_household", args=[person.public_id]))


class TestTheSupportersScreens:
    def test_my_households_shows_name_address_how_to_approach_and_my_last_visit(
        self, client, ito, ito_visits_yamamoto, yamamoto
    ):
        visit(ito, yamamoto, VisitOutcome.MET_FAMILY, days_ago=3)
        login_as(client, ito)

        text = client.get(reverse("cases:my_households")).text

        assert "山本 太郎" in text
        assert "長野市大字長野 1-2-3" in text
        assert "二回鳴らして" in text
        assert (today() - datetime.timedelta(days=3)).isoformat() in text
        assert ja("Met family only") in text
        # Nothing else about him: not his phone, not his date of birth.
        assert "090-0000-1111" not in text
        assert "1973" not in text

    def test_a_supporter_lands_on_my_households_with_a_nav_link(self, client, ito):
        login_as(client, ito)

        response = client.get(reverse("home"))

        assert response.status_code == 302
        assert response["Location"] == reverse("cases:my_households")
        text = client.get(response["Location"]).text
        assert f'href="{reverse("cases:my_households")}"' in text
        assert text.index(reverse("cases:my_households")) < text.index(
            reverse("agencies:my_supporter_profile")
        )

    def test_the_visit_page_has_todays_date_and_four_large_outcome_buttons(
        self, client, ito, ito_visits_yamamoto, yamamoto
    ):
        login_as(client, ito)

        text = my_household(client, yamamoto).text

        assert f'value="{today().isoformat()}"' in text
        assert text.count('class="btn btn-outline-primary btn-lg w-100 visit-outcome"') == 4
        for label in ("Met the client", "Met family only", "No answer", "No answer; left a note"):
            assert ja(label) in text
        assert "090-0000-1111" not in text

    def test_a_visit_is_logged_in_one_tap(self, client, ito, ito_visits_yamamoto, yamamoto):
        login_as(client, ito)

        response = client.post(
            reverse("cases:my_household", args=[yamamoto.public_id]),
            {"visited_on": today().isoformat(), "outcome": VisitOutcome.LEFT_NOTE},
        )

        logged = HomeVisit.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("cases:my_household", args=[yamamoto.public_id])
        assert (logged.client, logged.supporter, logged.outcome) == (
            yamamoto,
            ito,
            VisitOutcome.LEFT_NOTE,
        )
        assert not logged.is_urgent
        page = client.get(response["Location"]).text
        assert ja("The visit was recorded.") in page
        assert ja("No answer; left a note") in page

    def test_an_urgent_visit_must_say_what_is_urgent(
        self, client, ito, ito_visits_yamamoto, yamamoto
    ):
        login_as(client, ito)

        response = client.post(
            reverse("cases:my_household", args=[yamamoto.public_id]),
            {
                "visited_on": today().isoformat(),
                "outcome": VisitOutcome.MET_FAMILY,
                "is_urgent": "on",
                "heard": "母の話",
            },
        )

        assert response.status_code == 200
        assert ja("Write what is urgent.") in response.text
        assert 'value="met_family" class="btn-check" id="id_outcome_1" required checked' in (
            response.text
        )
        assert "母の話" in response.text
        assert HomeVisit.objects.count() == 0

    def test_a_supporter_sees_only_their_own_visits(
        self, client, tanaka, ito, ito_visits_yamamoto, yamamoto, station_a
    ):
        kimura = make_user("kimura", "木村 ピア")
        membership_ensure(actor=None, user=kimura, agency=station_a, role=Role.SUPPORTER)
        assign(tanaka, yamamoto, kimura)
        visit(kimura, yamamoto, heard="木村が聞いた話")
        visit(ito, yamamoto, heard="伊藤が聞いた話")
        login_as(client, ito)

        text = my_household(client, yamamoto).text

        assert "伊藤が聞いた話" in text
        assert "木村が聞いた話" not in text


class TestASupporterReachesNothingElse:
    @pytest.fixture
    def world(self, tanaka, ito, ito_visits_yamamoto, yamamoto_case, station_a):
        viewer = viewer_for(tanaka)
        consultation = consultation_log(
            viewer=viewer, case=yamamoto_case, fields={"method": "phone", "summary": "電話"}
        )
        plan = plan_create(viewer=viewer, case=yamamoto_case, client_words="働きたい")
        meeting = meeting_save(
            viewer=viewer,
            meeting=None,
            fields={"held_on": today()},
            participant_agencies=[],
            participant_users=[tanaka],
        )
        unassigned = new_client(tanaka, "青木 二郎", "アオキ ジロウ")
        return {
            "client": yamamoto_case.client.public_id,
            "case": yamamoto_case.public_id,
            "consultation": consultation.public_id,
            "plan": plan.public_id,
            "meeting": meeting.public_id,
            "unassigned": unassigned.public_id,
        }

    def test_he_reaches_his_assigned_clients_visit_page(self, client, ito, world):
        login_as(client, ito)

        response = client.get(reverse("cases:my_household", args=[world["client"]]))

        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("name", "arg"),
        [
            ("cases:client", "client"),
            ("cases:client_edit", "client"),
            ("cases:client_timeline", "client"),
            ("cases:household_edit", "client"),
            ("cases:case_open", "client"),
            ("cases:supporter_assign", "client"),
            ("cases:case_edit", "case"),
            ("cases:consultation_new", "case"),
            ("cases:consultation", "consultation"),
            ("cases:plan", "plan"),
            ("cases:meeting", "meeting"),
            ("cases:meeting_print", "meeting"),
            ("cases:meetings", None),
            ("cases:caseload", None),
            ("cases:client_search", None),
            ("cases:client_create", None),
            ("cases:my_household", "unassigned"),
        ],
    )
    def test_every_other_client_url_is_a_404(self, client, ito, world, name, arg):
        login_as(client, ito)

        response = client.get(reverse(name, args=[world[arg]] if arg else None))

        assert response.status_code == 404

    def test_he_cannot_log_a_visit_for_a_client_not_assigned_to_him(self, client, ito, world):
        login_as(client, ito)

        response = client.post(
            reverse("cases:my_household", args=[world["unassigned"]]),
            {"visited_on": today().isoformat(), "outcome": VisitOutcome.NO_ANSWER},
        )

        assert response.status_code == 404
        assert HomeVisit.objects.count() == 0

    def test_after_the_assignment_ends_his_clients_page_is_a_404_too(
        self, client, tanaka, ito, ito_visits_yamamoto, yamamoto
    ):
        login_as(client, tanaka)
        ended = client.post(
            reverse("cases:supporter_unassign", args=[ito_visits_yamamoto.pk]),
            {"client": yamamoto.public_id},
        )
        assert ended.status_code == 302
        ito_visits_yamamoto.refresh_from_db()
        assert ito_visits_yamamoto.ended_on == today()
        client.logout()
        login_as(client, ito)

        assert my_household(client, yamamoto).status_code == 404
        assert "山本 太郎" not in client.get(reverse("cases:my_households")).text

    @pytest.mark.parametrize("persona", ["tanaka", "kato", "sysadmin"])
    def test_my_households_is_for_supporters_only(self, request, client, persona):
        login_as(client, request.getfixturevalue(persona))

        assert client.get(reverse("cases:my_households")).status_code == 404


class TestAssigningSupporters:
    def test_a_caseworker_assigns_a_supporter_with_how_to_approach(
        self, client, tanaka, ito, yamamoto
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("cases:supporter_assign", args=[yamamoto.public_id]),
            {"supporter": ito.memberships.get().public_id, "approach_note": "夕方に訪問"},
        )

        assignment = SupporterAssignment.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("cases:client", args=[yamamoto.public_id])
        assert assignment.supporter.user == ito
        assert assignment.approach_note == "夕方に訪問"

    def test_only_an_active_supporter_of_the_agency_can_be_chosen(
        self, client, tanaka, yamada, ito, yamamoto
    ):
        login_as(client, tanaka)

        page = client.get(reverse("cases:supporter_assign", args=[yamamoto.public_id])).text
        response = client.post(
            reverse("cases:supporter_assign", args=[yamamoto.public_id]),
            {"supporter": yamada.memberships.get().public_id},
        )

        assert "伊藤 健" in page
        assert "山田 京子" not in page
        assert response.status_code == 200
        assert SupporterAssignment.objects.count() == 0

    @pytest.mark.parametrize("persona", ["sato", "suzuki", "ito", "kato"])
    def test_nobody_else_may_end_an_assignment(
        self, request, client, persona, ito_visits_yamamoto, yamamoto
    ):
        login_as(client, request.getfixturevalue(persona))

        response = client.post(
            reverse("cases:supporter_unassign", args=[ito_visits_yamamoto.pk]),
            {"client": yamamoto.public_id},
        )

        ito_visits_yamamoto.refresh_from_db()
        assert response.status_code == 404
        assert ito_visits_yamamoto.ended_on is None


class TestUrgentVisits:
    def test_an_urgent_visit_flags_the_case_on_the_dashboard_until_acknowledged(
        self, client, tanaka, ito, ito_visits_yamamoto, yamamoto_case
    ):
        login_as(client, ito)
        logged = client.post(
            reverse("cases:my_household", args=[yamamoto_case.client.public_id]),
            {
                "visited_on": today().isoformat(),
                "outcome": VisitOutcome.MET_FAMILY,
                "is_urgent": "on",
                "urgent_note": "母が倒れて入院した。本人が一人で家にいる",
            },
        )
        assert logged.status_code == 302
        client.logout()
        login_as(client, tanaka)

        dashboard = client.get(reverse("cases:caseload")).text

        urgent = dashboard.split('id="urgent-visits"')[1].split("</section>")[0]
        assert "母が倒れて入院した" in urgent
        assert "伊藤 健" in urgent
        assert reverse("cases:client", args=[yamamoto_case.client.public_id]) in urgent
        row = dashboard.split(f'id="case-{yamamoto_case.public_id}"')[1].split("</tr>")[0]
        assert f'<span class="badge text-bg-danger" data-urgent>{ja("Urgent")}</span>' in row

        visit_id = HomeVisit.objects.get().public_id
        acknowledged = client.post(
            reverse("cases:visit_acknowledge", args=[visit_id]),
            {"next": reverse("cases:caseload")},
        )

        assert acknowledged.status_code == 302
        assert acknowledged["Location"] == reverse("cases:caseload")
        # The message names the person: it waits in the session, never in a cookie.
        assert set(acknowledged.cookies) <= {settings.SESSION_COOKIE_NAME}
        after = client.get(reverse("cases:caseload")).text
        assert "山本 太郎" in after.split('id="main"')[1].split("</div>")[0]
        assert 'id="urgent-visits"' not in after
        assert "data-urgent>" not in after
        assert HomeVisit.objects.get().acknowledged_by == tanaka

    def test_a_pile_of_urgent_visits_shows_the_newest_ten_and_how_many_more(
        self, client, tanaka, ito, ito_visits_yamamoto, yamamoto
    ):
        for number in range(13):
            visit(ito, yamamoto, days_ago=number, is_urgent=True, urgent_note=f"急ぎ{number}")
        login_as(client, tanaka)

        page = client.get(reverse("cases:caseload")).text

        assert page.count("data-urgent-visit=") == 10
        assert "急ぎ0<" in page  # the newest first
        assert "急ぎ12<" not in page
        more = page.split("data-more-urgent>")[1].split("</p>")[0]
        assert "3" in more

    @pytest.mark.parametrize("persona", ["sato", "suzuki", "ito", "kato"])
    def test_nobody_else_may_acknowledge_it(
        self, request, client, persona, ito, ito_visits_yamamoto, yamamoto
    ):
        urgent = visit(ito, yamamoto, is_urgent=True, urgent_note="急ぎ")
        login_as(client, request.getfixturevalue(persona))

        response = client.post(reverse("cases:visit_acknowledge", args=[urgent.public_id]))

        urgent.refresh_from_db()
        assert response.status_code == 404
        assert urgent.acknowledged_at is None
        # The refused attempt at 山本's visit is in the access log.
        from audit.models import AccessEntry

        entry = AccessEntry.objects.get(user=request.getfixturevalue(persona))
        assert (entry.client_id, entry.outcome) == (yamamoto.pk, "denied")

    def test_a_second_acknowledgement_only_says_it_was_done(
        self, client, tanaka, yamada, ito, ito_visits_yamamoto, yamamoto
    ):
        urgent = visit(ito, yamamoto, is_urgent=True, urgent_note="急ぎ")
        login_as(client, tanaka)
        client.post(reverse("cases:visit_acknowledge", args=[urgent.public_id]))
        client.logout()
        login_as(client, yamada)

        response = client.post(
            reverse("cases:visit_acknowledge", args=[urgent.public_id]), follow=True
        )

        urgent.refresh_from_db()
        assert response.status_code == 200
        assert "山本 太郎さんへの緊急の訪問は、すでに確認済みです。" in response.text
        assert urgent.acknowledged_by == tanaka


def supporters_panel(viewer_user, person) -> str:
    """The panel as the client page includes it, with the context the lead passes."""
    request = RequestFactory().get(reverse("cases:client", args=[person.public_id]))
    request.user = viewer_user
    viewer = viewer_for(viewer_user)
    return render_to_string(
        "cases/_supporters_panel.html",
        {
            "client": person,
            "assignments": client_assignments(viewer=viewer, client=person),
            "visits": client_visits(viewer=viewer, client=person),
        },
        request=request,
    )


class TestTheClientPagePanel:
    def test_three_visits_in_a_row_that_reach_nobody_are_pointed_out(
        self, tanaka, ito, ito_visits_yamamoto, yamamoto
    ):
        visit(ito, yamamoto, VisitOutcome.MET_CLIENT, days_ago=30)
        visit(ito, yamamoto, VisitOutcome.NO_ANSWER, days_ago=20)
        visit(ito, yamamoto, VisitOutcome.LEFT_NOTE, days_ago=10)
        two_in_a_row = supporters_panel(tanaka, yamamoto)
        visit(ito, yamamoto, VisitOutcome.NO_ANSWER, days_ago=1)

        three_in_a_row = supporters_panel(tanaka, yamamoto)

        assert "data-no-contact" not in two_in_a_row
        assert 'data-no-contact="3"' in three_in_a_row
        assert "伊藤 健" in three_in_a_row
        assert reverse("cases:supporter_assign", args=[yamamoto.public_id]) in three_in_a_row

    def test_an_urgent_visit_is_highlighted_with_an_acknowledge_button(
        self, tanaka, ito, ito_visits_yamamoto, yamamoto
    ):
        urgent = visit(ito, yamamoto, is_urgent=True, urgent_note="電気が止まっている")

        text = supporters_panel(tanaka, yamamoto)

        assert f'data-urgent-visit="{urgent.public_id}"' in text
        assert "電気が止まっている" in text
        assert reverse("cases:visit_acknowledge", args=[urgent.public_id]) in text

    def test_another_agency_sees_no_visit(self, sato, ito, ito_visits_yamamoto, yamamoto):
        visit(ito, yamamoto, heard="聞いた話")

        assert client_visits(viewer=viewer_for(sato), client=yamamoto).visits == []
        assert client_visits(viewer=viewer_for(ito), client=yamamoto).visits == []


class TestQueryCount:
    @pytest.mark.parametrize("households", [2, 10])
    def test_my_households_costs_the_same_for_2_or_10_households(
        self, client, tanaka, ito, households
    ):
        for number in range(households):
            person = new_client(tanaka, f"相談者 {number}", "ソウダンシャ")
            assign(tanaka, person, ito)
            for days_ago in (1, 8):
                visit(ito, person, VisitOutcome.NO_ANSWER, days_ago=days_ago)
        login_as(client, ito)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("cases:my_households"))

        assert response.status_code == 200
        assert response.text.count("household-card") == households
        # 1 session, 2 user, 3 membership + agency, 4 my active assignments with their clients,
        # 5 my own visits to those clients (prefetched, newest first)
        assert len(queries) == 5, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("visits", [1, 12])
    def test_the_visit_page_costs_the_same_whatever_the_number_of_visits(
        self, client, ito, ito_visits_yamamoto, yamamoto, visits
    ):
        for days_ago in range(visits):
            visit(ito, yamamoto, VisitOutcome.NO_ANSWER, days_ago=days_ago)
        login_as(client, ito)

        with CaptureQueriesContext(connection) as queries:
            response = my_household(client, yamamoto)

        assert response.status_code == 200
        # 1 session, 2 user, 3 membership + agency, 4 my assignment to the client (client
        # joined), 5 my own visits to the client
        assert len(queries) == 5, "\n".join(q["sql"][:150] for q in queries)
