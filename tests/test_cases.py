"""Clients and cases: registration with the duplicate check, stage moves forward and back,
closing and reopening with history, and who may see a client."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import MASK
from cases.models import Case, Client, Stage, StageMove
from cases.services import (
    case_close,
    case_move_stage,
    case_open,
    case_reopen,
    case_update,
    consultation_log,
)
from core.pagination import DEFAULT_PAGE_SIZE
from tests.conftest import login_as, viewer_for

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def client_page(client, record):
    return client.get(reverse("cases:client", args=[record.public_id]))


class TestRegistration:
    def test_a_caseworker_registers_a_client_and_the_reading_is_stored_in_katakana(
        self, client, tanaka
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("cases:client_create"),
            {
                "full_name": "佐々木 恵",
                "full_name_kana": "ささき めぐみ",
                "birth_date": "1980-02-03",
            },
        )

        record = Client.objects.get(full_name="佐々木 恵")
        assert response.status_code == 302
        assert response["Location"] == reverse("cases:client", args=[record.public_id])
        assert record.full_name_kana == "ササキ メグミ"
        assert record.agency == tanaka.memberships.get().agency
        assert not record.is_contacted  # 本人未接触 until the first direct contact

    def test_the_same_person_again_shows_the_match_and_registers_only_when_confirmed(
        self, client, tanaka, yamamoto
    ):
        login_as(client, tanaka)
        data = {"full_name": "山本太郎", "full_name_kana": "ﾔﾏﾓﾄ ﾀﾛｳ", "birth_date": "1973-05-10"}

        warned = client.post(reverse("cases:client_create"), data)

        assert warned.status_code == 200
        assert "すでに登録されている可能性があります" in warned.text
        assert reverse("cases:client", args=[yamamoto.public_id]) in warned.text
        assert 'value="山本太郎"' in warned.text  # what was typed is kept
        assert Client.objects.count() == 1

        confirmed = client.post(
            reverse("cases:client_create"), {**data, "duplicate_confirmed": "on"}
        )

        assert confirmed.status_code == 302
        assert Client.objects.count() == 2

    def test_bad_input_is_explained_in_japanese_and_nothing_is_saved(self, client, tanaka):
        login_as(client, tanaka)

        response = client.post(
            reverse("cases:client_create"),
            {"full_name": "", "full_name_kana": "てすと", "postal_code": "12345", "email": "x@"},
        )

        assert response.status_code == 200
        assert "このフィールドは必須です" in response.text
        assert "123-4567 のように入力してください" in response.text
        assert 'value="てすと"' in response.text
        assert not Client.objects.exists()


class TestStages:
    def test_moves_forward_and_back_keep_every_step_with_its_reason(self, tanaka, yamamoto_case):
        viewer = viewer_for(tanaka)
        case_move_stage(
            viewer=viewer,
            case=yamamoto_case,
            to_stage=Stage.ASSESSMENT,
            on=TODAY(),
            reason="面談できた",
        )
        case_move_stage(
            viewer=viewer,
            case=yamamoto_case,
            to_stage=Stage.PLANNING,
            on=TODAY(),
            reason="本人がプランに同意",
        )
        back = case_move_stage(
            viewer=viewer,
            case=yamamoto_case,
            to_stage=Stage.ASSESSMENT,
            on=TODAY(),
            reason="体調を崩し、もう一度アセスメントから",
        )

        yamamoto_case.refresh_from_db()
        assert yamamoto_case.stage == Stage.ASSESSMENT
        assert back.is_backward
        history = list(
            yamamoto_case.stage_moves.order_by("moved_at", "id").values_list(
                "from_stage", "to_stage", "reason"
            )
        )
        assert history == [
            ("", "intake", ""),
            ("intake", "assessment", "面談できた"),
            ("assessment", "planning", "本人がプランに同意"),
            ("planning", "assessment", "体調を崩し、もう一度アセスメントから"),
        ]

    def test_a_move_needs_a_reason(self, client, tanaka, yamamoto_case):
        login_as(client, tanaka)

        response = client.post(
            reverse("cases:case_stage", args=[yamamoto_case.public_id]),
            {"to_stage": "assessment", "moved_on": TODAY().isoformat(), "reason": ""},
        )

        assert response.status_code == 200
        assert "このフィールドは必須です" in response.text
        yamamoto_case.refresh_from_db()
        assert yamamoto_case.stage == Stage.INTAKE

    def test_close_and_reopen_keep_the_closure_in_the_history(self, tanaka, yamamoto_case):
        viewer = viewer_for(tanaka)
        case_close(
            viewer=viewer,
            case=yamamoto_case,
            on=TODAY(),
            reason="居場所に通い始めた",
            outcomes=["social_participation", "family_improved"],
        )
        yamamoto_case.refresh_from_db()
        assert yamamoto_case.stage == Stage.CLOSED
        assert yamamoto_case.outcome_labels  # outcomes are not only employment

        case_reopen(
            viewer=viewer,
            case=yamamoto_case,
            on=TODAY(),
            reason="再び連絡が途絶えた",
            to_stage=Stage.ASSESSMENT,
        )

        yamamoto_case.refresh_from_db()
        assert yamamoto_case.stage == Stage.ASSESSMENT
        assert yamamoto_case.closed_on is None
        moves = list(yamamoto_case.stage_moves.order_by("moved_at", "id"))
        assert [m.to_stage for m in moves] == ["intake", "closed", "assessment"]
        assert moves[-1].is_backward  # a reopening is a move back

    def test_a_client_has_at_most_one_open_case(self, tanaka, yamamoto, yamamoto_case):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="すでに支援中のケースがあります"):
            case_open(
                viewer=viewer_for(tanaka),
                client=yamamoto,
                fields={"origin": "walk_in"},
                topics=["income"],
                main_topic="income",
                primary_worker=tanaka,
            )
        assert Case.objects.filter(client=yamamoto).count() == 1

    def test_the_client_page_shows_the_stage_history(self, client, tanaka, yamamoto_case):
        case_move_stage(
            viewer=viewer_for(tanaka),
            case=yamamoto_case,
            to_stage=Stage.SUSPENDED,
            on=TODAY(),
            reason="入院のため",
        )
        login_as(client, tanaka)

        # The page shows the stage; the history loads when "Stage history" is opened.
        assert "中断" in client_page(client, yamamoto_case.client).text
        history = client.get(
            reverse("cases:client_case_history", args=[yamamoto_case.client.public_id])
        ).text

        assert "中断" in history
        assert "入院のため" in history

    def test_the_audit_trail_names_no_client(self, tanaka, yamamoto_case):
        entries = AuditEntry.objects.filter(target_type__startswith="cases.")

        assert entries.exists()
        for entry in entries:
            assert "山本" not in entry.target_label
            assert "山本" not in str(entry.changes)
            assert "090-0000-1111" not in str(entry.changes)

    def test_the_audit_trail_says_the_withdrawal_situation_changed_not_what_it_is(
        self, tanaka, yamamoto_case
    ):
        case_update(
            viewer=viewer_for(tanaka),
            case=yamamoto_case,
            fields={
                "withdrawal_duration": "lt6m",
                "withdrawal_triggers": ["illness"],
                "going_out": "room",
            },
            topics=["health", "debt"],
            main_topic="health",
            primary_worker=tanaka,
            co_workers=[],
        )

        entry = AuditEntry.objects.filter(action="case.updated").get()
        # Read by system admins, who see no client data: special-care data stays out of it.
        for field in ("withdrawal_duration", "withdrawal_triggers", "going_out", "topics"):
            assert entry.changes[field] == [MASK, MASK]
        opened = AuditEntry.objects.get(action="case.opened")
        assert opened.changes["topics"] == [MASK, MASK]


class TestVisibility:
    @pytest.mark.parametrize(
        ("persona", "status"),
        [
            ("tanaka", 200),
            ("yamada", 200),
            ("kato", 404),
            ("ito", 404),
            ("suzuki", 404),
            ("sato", 404),
            ("sysadmin", 404),
        ],
    )
    def test_who_opens_a_client_of_station_a(self, request, client, yamamoto_case, persona, status):
        login_as(client, request.getfixturevalue(persona))

        record = yamamoto_case.client
        assert client_page(client, record).status_code == status
        assert (
            client.get(reverse("cases:client_edit", args=[record.public_id])).status_code == status
        )
        assert (
            client.get(reverse("cases:case_edit", args=[yamamoto_case.public_id])).status_code
            == status
        )

    def test_search_looks_only_inside_the_current_agency(self, client, sato, yamamoto):
        login_as(client, sato)

        response = client.post(reverse("cases:client_search"), {"q": "やまもと"})

        assert response.status_code == 200
        assert "山本" not in response.text

    def test_urls_carry_opaque_ids(self, yamamoto_case):
        url = reverse("cases:client", args=[yamamoto_case.client.public_id])

        assert str(yamamoto_case.client.pk) not in url.split("/")


class TestQueryCounts:
    @pytest.mark.parametrize("count", [5, 50])
    def test_the_client_page_costs_the_same_with_5_or_50_consultations(
        self, client, tanaka, yamamoto_case, count
    ):
        viewer = viewer_for(tanaka)
        for number in range(count):
            consultation_log(
                viewer=viewer,
                case=yamamoto_case,
                fields={
                    "method": "phone",
                    "summary": f"電話 {number}",
                    "occurred_on": TODAY() - datetime.timedelta(days=number),
                },
            )
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = client_page(client, yamamoto_case.client)

        assert response.status_code == 200
        assert StageMove.objects.count() == 1
        # 1 session, 2 user, 3 membership + agency, 4 client (household joined; no household
        # here, so no member query), 5 cases (topics and co-workers in the same query), 6 the
        # plan's newest two versions (none yet), 7 the flags (urgent visits, emergencies). The
        # rest loads when opened (tests/test_client_page.py counts each section).
        assert len(queries) == 7, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("count", [3, 30])
    def test_the_search_costs_the_same_for_3_or_30_matches(self, client, tanaka, count):
        from cases.services import client_create

        for number in range(count):
            client_create(
                viewer=viewer_for(tanaka),
                duplicate_confirmed=True,
                fields={"full_name": f"検索 {number}", "full_name_kana": "ケンサク"},
            )
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("cases:client_search"), {"q": "けんさく"})

        assert response.text.count("検索 ") == min(count, DEFAULT_PAGE_SIZE)
        # 1 session, 2 user, 3 membership + agency, 4 clients page, 5 their open cases
        assert len(queries) == 5, "\n".join(q["sql"][:150] for q in queries)
