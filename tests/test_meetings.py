"""支援調整会議: recording a meeting with its participants, the cases discussed with what was
decided, approval marking exactly the plan version approved, who may open a meeting, the A4
minutes, and query counts that do not grow."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from cases.models import Decision, Meeting, MeetingCase, PlanStatus
from cases.services import (
    case_open,
    client_create,
    meeting_case_record,
    meeting_save,
    plan_create,
    plan_goal_save,
    plan_item_save,
    plan_record_agreement,
    plan_revise,
)
from tests.conftest import login_as, viewer_for

pytestmark = pytest.mark.django_db


def ja(message: str) -> str:
    """What the page shows for ``message`` (Japanese once the catalogue has it)."""
    with translation.override("ja"):
        return gettext(message)


def today() -> datetime.date:
    return timezone.localdate()


def agreed_plan(worker, case, agency):
    """Version 1 of the case's plan, with a goal and an item, agreed by the client."""
    viewer = viewer_for(worker)
    plan = plan_create(viewer=viewer, case=case, client_words="外に出られるようになりたい")
    plan_goal_save(viewer=viewer, plan=plan, goal=None, text="週に一度、居場所に行く")
    plan_item_save(
        viewer=viewer,
        plan=plan,
        item=None,
        fields={"what": "居場所への同行", "agency": agency, "frequency": "週1回"},
    )
    return plan_record_agreement(viewer=viewer, plan=plan, agreed_on=today(), method="oral")


def revised(worker, plan, *, agree: bool):
    """The next version (再プラン) of ``plan``; agreed by the client when ``agree``."""
    viewer = viewer_for(worker)
    revision = plan_revise(viewer=viewer, plan=plan, reason="就労準備支援を加える")
    if agree:
        revision = plan_record_agreement(
            viewer=viewer, plan=revision, agreed_on=today(), method="signed"
        )
    return revision


def a_meeting(worker, **fields):
    return meeting_save(
        viewer=viewer_for(worker),
        meeting=None,
        fields={
            "held_on": today(),
            "place": "第1会議室",
            "minutes": "各ケースを協議した。",
            **fields,
        },
        participant_agencies=[],
        participant_users=[worker],
    )


def other_case(worker, name="青木 二郎", kana="アオキ ジロウ"):
    viewer = viewer_for(worker)
    person = client_create(
        viewer=viewer, duplicate_confirmed=True, fields={"full_name": name, "full_name_kana": kana}
    )
    return case_open(
        viewer=viewer,
        client=person,
        fields={"origin": "walk_in"},
        topics=["job_search"],
        main_topic="job_search",
        primary_worker=worker,
    )


def add_case(client, meeting, case, *, plan=None, decisions=(), **extra):
    return client.post(
        reverse("cases:meeting_case", args=[meeting.public_id]),
        {
            "case": case.public_id,
            "plan": plan.public_id if plan else "",
            "decisions": list(decisions),
            **extra,
        },
    )


class TestRecordingAMeeting:
    def test_a_caseworker_records_a_meeting_with_participants_from_the_roster(
        self, client, tanaka, yamada, station_a, jiritsu_b
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("cases:meeting_create"),
            {
                "held_on": today().isoformat(),
                "start_time": "14:00",
                "place": "市役所 第2会議室",
                "participant_agencies": [jiritsu_b.pk],
                "participant_users": [tanaka.pk, yamada.pk],
                "other_participants": "本人、母",
                "minutes": "役割分担を確認した。",
            },
        )

        meeting = Meeting.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("cases:meeting", args=[meeting.public_id])
        assert meeting.agency == station_a
        assert meeting.start_time == datetime.time(14, 0)
        # The hosting agency always takes part.
        assert set(meeting.participant_agencies.all()) == {station_a, jiritsu_b}
        assert set(meeting.participant_users.all()) == {tanaka, yamada}
        page = client.get(response["Location"]).text
        for shown in ("市役所 第2会議室", "自立相談支援機関B", "山田 京子", "本人、母", "役割分担"):
            assert shown in page

    def test_participants_are_chosen_from_the_hosting_agencys_roster_only(
        self, client, tanaka, suzuki
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("cases:meeting_create"),
            {"held_on": today().isoformat(), "participant_users": [suzuki.pk]},
        )

        assert response.status_code == 200
        assert Meeting.objects.count() == 0

    def test_the_meeting_record_can_be_changed(self, client, tanaka, yamada):
        meeting = a_meeting(tanaka)
        login_as(client, tanaka)

        response = client.post(
            reverse("cases:meeting_edit", args=[meeting.public_id]),
            {
                "held_on": today().isoformat(),
                "place": "相談室",
                "participant_users": [tanaka.pk, yamada.pk],
                "minutes": "追記した。",
            },
        )

        meeting.refresh_from_db()
        assert response.status_code == 302
        assert meeting.place == "相談室"
        assert set(meeting.participant_users.all()) == {tanaka, yamada}

    def test_the_list_shows_the_agencys_meetings_only(self, client, tanaka, sato):
        mine = a_meeting(tanaka, place="ステーションA")
        elsewhere = a_meeting(sato, place="NPO法人Cの事務所")
        login_as(client, tanaka)

        text = client.get(reverse("cases:meetings")).text

        assert reverse("cases:meeting", args=[mine.public_id]) in text
        assert reverse("cases:meeting", args=[elsewhere.public_id]) not in text


class TestCasesDiscussed:
    def test_a_case_is_added_with_its_decisions(self, client, tanaka, yamamoto_case):
        meeting = a_meeting(tanaka)
        login_as(client, tanaka)

        response = add_case(
            client,
            meeting,
            yamamoto_case,
            decisions=[Decision.ROLES_SPLIT, Decision.CONTINUE],
            next_review_on="2030-04-01",
            note="就労支援は自立相談、見守りはステーション",
        )

        item = MeetingCase.objects.get()
        assert response.status_code == 302
        assert item.meeting == meeting
        assert item.case == yamamoto_case
        assert item.decisions == [Decision.ROLES_SPLIT, Decision.CONTINUE]
        assert item.next_review_on == datetime.date(2030, 4, 1)
        page = client.get(reverse("cases:meeting", args=[meeting.public_id])).text
        assert "山本 太郎" in page
        assert ja("Roles divided") in page
        assert ja("Continue as is") in page

    def test_only_the_agencys_open_cases_may_be_chosen(self, client, tanaka, sato):
        meeting = a_meeting(tanaka)
        elsewhere = other_case(sato)
        login_as(client, tanaka)

        response = add_case(client, meeting, elsewhere, decisions=[Decision.CONTINUE])

        assert response.status_code == 200
        assert MeetingCase.objects.count() == 0

    def test_choosing_a_case_offers_its_plans_newest_first_with_their_status(
        self, client, tanaka, station_a, yamamoto_case
    ):
        first = agreed_plan(tanaka, yamamoto_case, station_a)
        second = revised(tanaka, first, agree=False)
        meeting = a_meeting(tanaka)
        login_as(client, tanaka)

        response = client.get(
            reverse("cases:meeting_case", args=[meeting.public_id]),
            {"case": yamamoto_case.public_id},
            headers={"HX-Request": "true"},
        )

        text = response.text
        assert response.status_code == 200
        assert "<html" not in text  # the form alone, for htmx to swap in
        assert text.index(str(second.public_id)) < text.index(str(first.public_id))
        assert ja("Draft") in text
        assert ja("Agreed by the client") in text


class TestApproval:
    def test_approval_marks_exactly_that_version_approved(
        self, client, tanaka, station_a, yamamoto_case
    ):
        first = agreed_plan(tanaka, yamamoto_case, station_a)
        second = revised(tanaka, first, agree=True)  # the first is now superseded
        meeting = a_meeting(tanaka)
        login_as(client, tanaka)

        response = add_case(
            client,
            meeting,
            yamamoto_case,
            plan=second,
            decisions=[Decision.PLAN_APPROVED],
            next_review_on="2030-06-30",
        )

        first.refresh_from_db()
        second.refresh_from_db()
        assert response.status_code == 302
        assert second.status == PlanStatus.APPROVED
        assert second.approved_at == meeting
        assert second.review_on == datetime.date(2030, 6, 30)
        assert first.status == PlanStatus.SUPERSEDED
        assert first.approved_at is None
        with translation.override("ja"):
            approved = gettext("Plan version %(version)s approved") % {"version": 2}
        page = client.get(response["Location"]).text
        assert approved in page  # プラン第2版を承認

    def test_approving_an_older_agreed_version_leaves_the_draft_revision_alone(
        self, tanaka, station_a, yamamoto_case
    ):
        first = agreed_plan(tanaka, yamamoto_case, station_a)
        draft = revised(tanaka, first, agree=False)
        meeting = a_meeting(tanaka)

        meeting_case_record(
            viewer=viewer_for(tanaka),
            meeting=meeting,
            case=yamamoto_case,
            plan=first,
            decisions=[Decision.PLAN_APPROVED],
            next_review_on=None,
            note="",
        )

        first.refresh_from_db()
        draft.refresh_from_db()
        assert first.status == PlanStatus.APPROVED
        assert first.approved_at == meeting
        assert draft.status == PlanStatus.DRAFT
        assert draft.approved_at is None

    def test_approving_a_version_the_client_has_not_agreed_to_is_refused(
        self, client, tanaka, station_a, yamamoto_case
    ):
        draft = revised(tanaka, agreed_plan(tanaka, yamamoto_case, station_a), agree=False)
        meeting = a_meeting(tanaka)
        login_as(client, tanaka)

        response = add_case(
            client, meeting, yamamoto_case, plan=draft, decisions=[Decision.PLAN_APPROVED]
        )

        draft.refresh_from_db()
        assert response.status_code == 200
        assert ja("Only a version the client agreed to can be approved.") in response.text
        assert draft.status == PlanStatus.DRAFT
        assert MeetingCase.objects.count() == 0

    def test_approval_without_a_plan_version_is_refused(self, client, tanaka, yamamoto_case):
        meeting = a_meeting(tanaka)
        login_as(client, tanaka)

        response = add_case(client, meeting, yamamoto_case, decisions=[Decision.PLAN_APPROVED])

        assert response.status_code == 200
        assert ja("Choose the plan version that was approved.") in response.text
        assert MeetingCase.objects.count() == 0

    def test_changing_the_note_later_keeps_the_approval(
        self, client, tanaka, station_a, yamamoto_case
    ):
        plan = agreed_plan(tanaka, yamamoto_case, station_a)
        meeting = a_meeting(tanaka)
        login_as(client, tanaka)
        add_case(client, meeting, yamamoto_case, plan=plan, decisions=[Decision.PLAN_APPROVED])

        response = add_case(
            client,
            meeting,
            yamamoto_case,
            plan=plan,
            decisions=[Decision.PLAN_APPROVED],
            note="書き足し",
        )

        plan.refresh_from_db()
        assert response.status_code == 302
        assert plan.status == PlanStatus.APPROVED
        assert plan.approved_at == meeting
        assert MeetingCase.objects.get().note == "書き足し"


class TestWhoMayOpenAMeeting:
    @pytest.mark.parametrize("persona", ["sato", "suzuki", "ito", "kato", "sysadmin"])
    @pytest.mark.parametrize(
        "name", ["cases:meeting", "cases:meeting_edit", "cases:meeting_case", "cases:meeting_print"]
    )
    def test_another_agencys_meeting_is_a_404(self, request, client, tanaka, persona, name):
        meeting = a_meeting(tanaka)
        login_as(client, request.getfixturevalue(persona))

        assert client.get(reverse(name, args=[meeting.public_id])).status_code == 404

    @pytest.mark.parametrize("persona", ["ito", "kato", "sysadmin"])
    @pytest.mark.parametrize("name", ["cases:meetings", "cases:meeting_create"])
    def test_people_without_client_work_get_a_404(self, request, client, persona, name):
        login_as(client, request.getfixturevalue(persona))

        assert client.get(reverse(name)).status_code == 404

    def test_another_agency_cannot_add_a_case_to_the_meeting(self, client, tanaka, sato):
        meeting = a_meeting(tanaka)
        login_as(client, sato)

        response = add_case(client, meeting, other_case(sato), decisions=[Decision.CONTINUE])

        assert response.status_code == 404
        assert MeetingCase.objects.count() == 0

    def test_the_nav_has_meetings_for_caseworkers(self, client, tanaka):
        login_as(client, tanaka)

        text = client.get(reverse("cases:caseload")).text

        assert f'href="{reverse("cases:meetings")}"' in text


class TestPrintedMinutes:
    def test_the_minutes_print_on_a4_without_navigation(
        self, client, tanaka, station_a, yamamoto_case
    ):
        plan = agreed_plan(tanaka, yamamoto_case, station_a)
        meeting = a_meeting(tanaka, minutes="見守りはステーションが担う。")
        meeting_case_record(
            viewer=viewer_for(tanaka),
            meeting=meeting,
            case=yamamoto_case,
            plan=plan,
            decisions=[Decision.PLAN_APPROVED, Decision.ROLES_SPLIT],
            next_review_on=None,
            note="",
        )
        login_as(client, tanaka)

        response = client.get(reverse("cases:meeting_print", args=[meeting.public_id]))

        text = response.text
        assert response.status_code == 200
        assert "<nav" not in text
        assert "navbar" not in text
        assert f'href="{reverse("cases:caseload")}"' not in text
        assert "size: A4" in text
        assert "見守りはステーションが担う。" in text
        assert "山本 太郎" in text
        assert ja("Roles divided") in text


class TestQueryCount:
    @pytest.mark.parametrize("meetings", [2, 8])
    def test_the_list_costs_the_same_whatever_the_number(self, client, tanaka, jiritsu_b, meetings):
        for number in range(meetings):
            meeting_save(
                viewer=viewer_for(tanaka),
                meeting=None,
                fields={"held_on": today() - datetime.timedelta(days=number)},
                participant_agencies=[jiritsu_b],
                participant_users=[tanaka],
            )
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("cases:meetings"))

        assert response.status_code == 200
        # 1 session, 2 user, 3 membership + agency, 4 the meetings with their case count,
        # 5 their participating agencies
        assert len(queries) == 5, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("cases", [1, 4])
    def test_the_meeting_page_costs_the_same_whatever_the_number_of_cases(
        self, client, tanaka, station_a, cases
    ):
        meeting = a_meeting(tanaka)
        for number in range(cases):
            case = other_case(tanaka, f"相談者 {number}", "ソウダンシャ")
            meeting_case_record(
                viewer=viewer_for(tanaka),
                meeting=meeting,
                case=case,
                plan=agreed_plan(tanaka, case, station_a),
                decisions=[Decision.PLAN_APPROVED],
                next_review_on=None,
                note="",
            )
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("cases:meeting", args=[meeting.public_id]))

        assert response.status_code == 200
        # 1 session, 2 user, 3 membership + agency, 4 the meeting, 5 its participating
        # agencies, 6 its participants, 7 the cases discussed (client and plan joined).
        # The case to add is chosen with the picker: no query for the open cases.
        assert len(queries) == 7, "\n".join(q["sql"][:150] for q in queries)
