"""The agency roster: directory, roster management by agency admins, system administration."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agencies.models import AgencyFunction, Membership, Role
from audit.models import AuditEntry
from core.pagination import DEFAULT_PAGE_SIZE
from tests.conftest import login_as, make_agency

pytestmark = pytest.mark.django_db


def directory(client, **params):
    return client.get(reverse("agencies:directory"), params)


def results(response) -> str:
    """The result list only, not the header (which names the viewer's own agency)."""
    text = response.text
    return text[text.index('id="results"') :]


class TestDirectory:
    def test_a_caseworker_finds_an_agency_by_kana_typed_in_hiragana(
        self, client, tanaka, jiritsu_b
    ):
        login_as(client, tanaka)

        response = directory(client, q="じりつそうだん")

        assert response.status_code == 200
        assert "自立相談支援機関B" in results(response)
        assert "ひきこもり支援ステーションA" not in results(response)

    def test_half_width_katakana_and_spaces_find_the_same_agency(self, client, tanaka, jiritsu_b):
        login_as(client, tanaka)

        assert "自立相談支援機関B" in directory(client, q="ｼﾞﾘﾂ ｿｳﾀﾞﾝ").text
        assert "自立相談支援機関B" in directory(client, q="自立相談").text

    def test_it_filters_by_kind_and_function(self, client, tanaka, jiritsu_b, station_a):
        make_agency(
            "居場所の会", "イバショノカイ", "family_or_peer_group", functions=["place_to_be"]
        )
        login_as(client, tanaka)

        by_kind = directory(client, kind="self_reliance").text
        by_function = directory(client, function=AgencyFunction.PLACE_TO_BE).text

        assert "自立相談支援機関B" in by_kind
        assert "居場所の会" not in by_kind
        assert "居場所の会" in by_function
        assert "自立相談支援機関B" not in by_function

    def test_a_prefectural_center_serves_every_municipality_of_its_prefecture(
        self, client, tanaka, nagano_prefecture, nagano_city, matsumoto_city
    ):
        make_agency(
            "県ひきこもり地域支援センター",
            "ケンセンター",
            "hikikomori_center",
            municipality=nagano_prefecture,
            area=[nagano_prefecture],
        )
        make_agency(
            "松本のステーション",
            "マツモトステーション",
            "hikikomori_station",
            municipality=matsumoto_city,
            area=[matsumoto_city],
        )
        login_as(client, tanaka)

        serving_nagano = directory(
            client, prefecture=nagano_prefecture.id, municipality=nagano_city.id
        ).text

        assert "県ひきこもり地域支援センター" in serving_nagano
        assert "松本のステーション" not in serving_nagano

    def test_the_contact_and_referral_status_show_in_the_result(self, client, tanaka):
        make_agency(
            "ハローワークX",
            "ハローワークX",
            "hello_work",
            phone="026-111-2222",
            receives_referrals=False,
        )
        login_as(client, tanaka)

        text = directory(client, q="ハローワーク").text

        assert "026-111-2222" in text
        assert "Tsunagu 経由のつなぎは受け付けていません" in text

    def test_a_supporter_cannot_open_the_directory(self, client, ito, jiritsu_b):
        login_as(client, ito)

        assert directory(client).status_code == 404
        detail = client.get(reverse("agencies:detail", args=[jiritsu_b.public_id]))
        assert detail.status_code == 404

    def test_pages_follow_one_another_without_repeating(self, client, tanaka):
        for number in range(DEFAULT_PAGE_SIZE + 10):
            make_agency(f"機関{number:02d}", f"キカン{number:02d}", "npo")
        login_as(client, tanaka)

        first = directory(client, q="キカン")
        cursor = re.search(r'after=([^"&]+)"', first.text).group(1)
        second = directory(client, q="キカン", after=cursor)

        names_first = set(re.findall(r"機関\d\d", first.text))
        names_second = set(re.findall(r"機関\d\d", second.text))
        assert len(names_first) == DEFAULT_PAGE_SIZE
        assert len(names_second) == 10
        assert not names_first & names_second

    @pytest.mark.parametrize("count", [5, 30])
    def test_the_directory_costs_the_same_queries_for_5_or_30_agencies(
        self, client, tanaka, nagano_prefecture, count
    ):
        for number in range(count):
            make_agency(
                f"機関{number:02d}",
                f"キカン{number:02d}",
                "npo",
                municipality=nagano_prefecture,
                functions=["consultation", "networking"],
            )
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = directory(client)

        assert response.status_code == 200
        # 1 session, 2 user, 3 current membership + agency, 4 agencies page (with municipality
        # and prefecture joined), 5 their functions, 6 their networks, 7 the prefectures of the
        # filter form
        assert len(queries) == 7, "\n".join(q["sql"][:120] for q in queries)


class TestRosterManagement:
    def test_an_agency_admin_edits_their_own_agency_and_it_is_audited(
        self, client, yamada, station_a, nagano_city
    ):
        login_as(client, yamada)
        url = reverse("agencies:profile_edit", args=[station_a.public_id])
        form = client.get(url)
        assert form.status_code == 200

        response = client.post(
            url,
            {
                "name": station_a.name,
                "name_kana": "ひきこもりしえんすてーしょんえー",
                "kind": "hikikomori_station",
                "municipality": nagano_city.id,
                "operation": "direct",
                "phone": "026-123-4567",
                "receives_referrals": "on",
                "active_from": "2025-04-01",
                "consent_validity_days": 365,
                "referral_alert_business_days": 3,
                "functions": ["consultation", "place_to_be"],
            },
        )

        assert response.status_code == 302
        station_a.refresh_from_db()
        assert station_a.phone == "026-123-4567"
        assert station_a.name_kana == "ヒキコモリシエンステーションエー"
        entry = AuditEntry.objects.filter(action="agency.updated").get()
        assert entry.actor == yamada
        assert entry.changes["phone"] == ["", "026-123-4567"]
        assert entry.changes["functions"] == [[], ["consultation", "place_to_be"]]

    def test_bad_input_keeps_what_was_typed_and_saves_nothing(self, client, yamada, station_a):
        login_as(client, yamada)

        response = client.post(
            reverse("agencies:profile_edit", args=[station_a.public_id]),
            {
                "name": "新しい名前",
                "kind": "hikikomori_station",
                "operation": "contracted",
                "postal_code": "12-34",
                "active_from": "2025-04-01",
            },
        )

        assert response.status_code == 200
        assert "受託法人名を入力してください" in response.text
        assert "123-4567 のように入力してください" in response.text
        assert 'value="新しい名前"' in response.text
        station_a.refresh_from_db()
        assert station_a.name == "ひきこもり支援ステーションA"
        assert not AuditEntry.objects.filter(action="agency.updated").exists()

    def test_another_agencys_edit_page_is_a_404(self, client, yamada, jiritsu_b):
        login_as(client, yamada)

        for name in ("agencies:manage", "agencies:profile_edit", "agencies:staff_invite"):
            assert client.get(reverse(name, args=[jiritsu_b.public_id])).status_code == 404

    def test_a_caseworker_without_roster_rights_cannot_manage_their_agency(
        self, client, tanaka, station_a
    ):
        login_as(client, tanaka)

        assert client.get(reverse("agencies:manage", args=[station_a.public_id])).status_code == 404
        assert client.get(reverse("agencies:roster_home")).status_code == 404

    def test_inviting_a_new_person_emails_a_link_that_sets_their_password(
        self, client, yamada, station_a, django_capture_on_commit_callbacks
    ):
        login_as(client, yamada)

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("agencies:staff_invite", args=[station_a.public_id]),
                {
                    "username": "kimura",
                    "full_name": "木村 直子",
                    "full_name_kana": "きむら なおこ",
                    "email": "kimura@example.jp",
                    "role": Role.CASEWORKER,
                },
            )

        assert response.status_code == 302
        membership = Membership.objects.get(user__username="kimura")
        assert membership.agency == station_a
        assert membership.user.full_name_kana == "キムラ ナオコ"
        assert not membership.user.has_usable_password()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["kimura@example.jp"]
        link = re.search(r"https?://\S+", message.body).group(0)

        client.logout()
        form_url = client.get(link, follow=True).redirect_chain[-1][0]
        client.post(
            form_url,
            {"new_password1": "a-long-new-pass-2026", "new_password2": "a-long-new-pass-2026"},
        )
        assert client.login(username="kimura", password="a-long-new-pass-2026")

    def test_an_existing_person_is_added_to_a_second_agency_without_a_new_account(
        self, client, yamada, station_a, suzuki
    ):
        login_as(client, yamada)

        client.post(
            reverse("agencies:staff_invite", args=[station_a.public_id]),
            {
                "username": "suzuki",
                "full_name": "鈴木 花子",
                "email": "suzuki@example.jp",
                "role": Role.CASEWORKER,
            },
        )

        assert suzuki.memberships.count() == 2
        assert not mail.outbox

    def test_deactivating_a_staff_member_ends_all_their_sessions_at_once(
        self, client, yamada, tanaka, station_a
    ):
        from django.test import Client

        tanaka_browser = login_as(Client(), tanaka)
        assert tanaka_browser.get(reverse("cases:caseload")).status_code == 200
        login_as(client, yamada)
        membership = tanaka.memberships.get()

        response = client.post(
            reverse("agencies:staff_deactivate", args=[station_a.public_id, membership.public_id])
        )

        assert response.status_code == 302
        after = tanaka_browser.get(reverse("cases:caseload"))
        assert after.status_code == 302
        assert after["Location"].startswith(reverse("login"))
        entry = AuditEntry.objects.get(action="membership.deactivated")
        assert entry.actor == yamada
        assert entry.changes == {"is_active": [True, False]}

    def test_an_admin_cannot_remove_their_own_roster_rights(self, client, yamada, station_a):
        login_as(client, yamada)
        own = yamada.memberships.get()

        response = client.post(
            reverse("agencies:staff_edit", args=[station_a.public_id, own.public_id]),
            {"form": "role", "role": Role.CASEWORKER},
        )

        assert response.status_code == 200
        assert "ご自身の名簿管理者権限は外せません" in response.text
        own.refresh_from_db()
        assert own.is_roster_admin

    def test_a_supporters_profile_is_kept_by_the_agency_admin(
        self, client, yamada, ito, station_a, nagano_city
    ):
        login_as(client, yamada)
        membership = ito.memberships.get()

        client.post(
            reverse("agencies:staff_edit", args=[station_a.public_id, membership.public_id]),
            {
                "form": "supporter",
                "is_peer_supporter": "on",
                "dispatching_municipality": nagano_city.id,
                "training_completed_on": "2025-06-30",
            },
        )

        profile = membership.supporter_profile
        profile.refresh_from_db()
        assert profile.is_peer_supporter
        assert profile.dispatching_municipality == nagano_city
        assert str(profile.training_completed_on) == "2025-06-30"

    def test_a_supporter_sees_only_their_own_profile(self, client, ito, station_a, yamada):
        login_as(client, ito)

        assert client.get(reverse("agencies:my_supporter_profile")).status_code == 200
        assert client.get(reverse("agencies:manage", args=[station_a.public_id])).status_code == 404
        assert client.get(reverse("agencies:directory")).status_code == 404


class TestSystemAdministration:
    def test_a_correction_to_a_municipality_is_marked_manual(self, client, sysadmin, nagano_city):
        client.force_login(sysadmin)

        client.post(
            reverse("agencies:system_municipality_edit", args=[nagano_city.code]),
            {"kind": "designated_city", "has_welfare_office": "on"},
        )

        nagano_city.refresh_from_db()
        assert nagano_city.kind == "designated_city"
        assert nagano_city.kind_is_manual
        assert AuditEntry.objects.filter(action="municipality.corrected").exists()

    def test_a_network_shows_in_the_directory(
        self, client, sysadmin, tanaka, station_a, jiritsu_b, nagano_city
    ):
        client.force_login(sysadmin)
        client.post(
            reverse("agencies:system_network_create"),
            {
                "name": "長野市プラットフォーム",
                "kind": "municipal_platform",
                "municipality": nagano_city.id,
                "coordinating_agency": jiritsu_b.id,
                "members": [station_a.id],
            },
        )

        login_as(client, tanaka)
        text = client.get(reverse("agencies:detail", args=[station_a.public_id])).text
        assert "長野市プラットフォーム" in text
        coordinator = client.get(reverse("agencies:detail", args=[jiritsu_b.public_id])).text
        assert "長野市プラットフォーム" in coordinator  # the coordinator is a member too

    def test_the_audit_log_is_for_system_admins_only(self, client, sysadmin, yamada, station_a):
        login_as(client, yamada)
        assert client.get(reverse("audit:list")).status_code == 404

        client.force_login(sysadmin)
        response = client.get(reverse("audit:list"))
        assert response.status_code == 200
        assert "agency.created" in response.text

    def test_an_ended_agency_leaves_the_directory_and_its_staff_cannot_act_as_it(
        self, client, sysadmin, tanaka, station_a
    ):
        client.force_login(sysadmin)

        response = client.post(
            reverse("agencies:profile_edit", args=[station_a.public_id]),
            {
                "name": station_a.name,
                "name_kana": station_a.name_kana,
                "kind": station_a.kind,
                "operation": "direct",
                "active_from": "2020-04-01",
                "active_until": "2021-03-31",
                "consent_validity_days": 365,
                "referral_alert_business_days": 3,
            },
        )

        assert response.status_code == 302
        station_a.refresh_from_db()  # still there: agencies are never deleted
        assert not station_a.is_active
        login_as(client, tanaka)
        assert client.get(reverse("home"))["Location"] == reverse("agencies:choose")
        client.force_login(sysadmin)
        assert "ひきこもり支援ステーションA" not in results(directory(client))
