"""支援会議 (生活困窮者自立支援法 9条 / 社会福祉法 106条の6): setting a council up, its members and
sessions, the agenda, and above all what members see of the people on it — exactly the shared
categories, only between the sharing dates, only while both agencies are members, nothing once
an item is taken off — every look written to the access log with the basis "council".

Personas: 鈴木 (supervisor, 自立相談 B) runs the council as its secretariat; 田中 (caseworker,
station A) is a member's caseworker; 佐藤 (caseworker, agency C) is not a member.
"""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from agencies.permissions import Viewer
from audit.models import AccessEntry, AuditEntry
from cases.services import client_create
from consent import gate
from consent.gate import NOT_CONSENTED, Basis
from consent.services import emergency_disclose
from councils.models import AgendaItem, CouncilMember, CouncilSession
from councils.permissions import can_read_minutes
from councils.selectors import agenda_items_for_client, current_member_ids, session_agenda
from councils.services import (
    agenda_item_add,
    agenda_item_withdraw,
    council_create,
    council_end,
    council_member_add,
    council_member_leave,
    council_minutes_save,
    council_session_create,
    council_session_update,
    default_sharing,
)
from tests.conftest import login_as, viewer_for
from tests.test_client_picker import CLIENT_COUNT, MAX_PAGE_BYTES, bulk_clients, register

LIVE = gate.Context.LIVE_VIEW

pytestmark = pytest.mark.django_db


def ja(message: str) -> str:
    """What the page shows for ``message`` (Japanese once the catalogue has it)."""
    with translation.override("ja"):
        return gettext(message)


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def system(user) -> Viewer:
    return Viewer(user=user, membership=None)


@pytest.fixture
def council(sysadmin, suzuki, tanaka, jiritsu_b, station_a, nagano_city):
    """長野市's 支援会議, set up 60 days ago, run by 自立相談 B; station A a member for 30 days."""
    council = council_create(
        viewer=system(sysadmin),
        municipality=nagano_city,
        name="長野市支援会議",
        legal_basis="self_reliance_9",
        chair_agency=jiritsu_b,
        confidentiality_note="生活困窮者自立支援法第9条第5項により構成員は守秘義務を負う。",
        established_on=today() - days(60),
    )
    council_member_add(
        viewer=viewer_for(suzuki), council=council, agency=station_a, joined_on=today() - days(30)
    )
    return council


@pytest.fixture
def session(council, suzuki):
    """A session held today, shared with the default dates."""
    return council_session_create(
        viewer=viewer_for(suzuki), council=council, held_on=today(), title="第3回"
    )


@pytest.fixture
def item(session, tanaka, yamamoto):
    """田中 puts station A's 山本 on the agenda with 基本情報 and 相談内容."""
    return agenda_item_add(
        viewer=viewer_for(tanaka),
        session=session,
        client=yamamoto,
        categories=["basic", "consultation"],
        reason="母親が高齢で、家計の困窮が心配される。",
    )


def b_client(suzuki, name="木村 次郎", kana="キムラ ジロウ"):
    """A client of 自立相談 B."""
    return client_create(
        viewer=viewer_for(suzuki), fields={"full_name": name, "full_name_kana": kana}
    )


def session_url(session) -> str:
    return reverse("councils:session", args=[session.public_id])


class TestSettingUp:
    def test_the_secretariat_is_the_first_member_and_set_up_is_audited(
        self, council, jiritsu_b, station_a
    ):
        members = {m.agency_id: m for m in council.members.all()}
        assert set(members) == {jiritsu_b.pk, station_a.pk}
        assert members[jiritsu_b.pk].joined_on == council.established_on
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert {"council.created", "council.member_added"} <= actions

    def test_only_system_admins_set_up_a_council(self, suzuki, jiritsu_b, nagano_city):
        with pytest.raises(PermissionDenied):
            council_create(
                viewer=viewer_for(suzuki),
                municipality=nagano_city,
                name="勝手な会議",
                legal_basis="self_reliance_9",
                chair_agency=jiritsu_b,
            )

    def test_only_the_secretariats_supervisors_add_members(self, council, tanaka, agency_c):
        with pytest.raises(PermissionDenied):
            council_member_add(viewer=viewer_for(tanaka), council=council, agency=agency_c)

    def test_an_agency_cannot_be_a_member_twice(self, council, suzuki, station_a):
        with pytest.raises(ValidationError) as error:
            council_member_add(viewer=viewer_for(suzuki), council=council, agency=station_a)
        assert "agency" in error.value.error_dict

    def test_the_secretariat_cannot_leave(self, council, suzuki, jiritsu_b):
        with pytest.raises(ValidationError):
            council_member_leave(
                viewer=viewer_for(suzuki), member=council.members.get(agency=jiritsu_b)
            )

    def test_leaving_keeps_the_row_and_ends_today(self, council, suzuki, station_a):
        member = council.members.get(agency=station_a)
        council_member_leave(viewer=viewer_for(suzuki), member=member)

        member.refresh_from_db()
        assert member.left_on == today()
        assert CouncilMember.objects.filter(council=council, agency=station_a).count() == 1

    def test_sharing_dates_default_to_the_settings(self, council, suzuki, settings):
        settings.COUNCIL_SHARING_DAYS_BEFORE = 3
        settings.COUNCIL_SHARING_DAYS_AFTER = 10
        session = council_session_create(
            viewer=viewer_for(suzuki), council=council, held_on=today()
        )

        assert (session.sharing_from, session.sharing_until) == (
            today() - days(3),
            today() + days(10),
        )
        assert default_sharing(today()) == (today() - days(3), today() + days(10))

    def test_sharing_may_not_start_more_than_the_limit_before_the_session(
        self, council, suzuki, settings
    ):
        settings.COUNCIL_SHARING_MAX_DAYS_BEFORE = 30
        with pytest.raises(ValidationError) as error:
            council_session_create(
                viewer=viewer_for(suzuki),
                council=council,
                held_on=today(),
                sharing_from=today() - days(31),
            )

        assert error.value.message_dict == {
            "sharing_from": [
                ja("Sharing may start at most %(days)s days before the day of the session.")
                % {"days": 30}
            ]
        }
        assert not CouncilSession.objects.exists()
        # The limit itself is allowed.
        at_limit = council_session_create(
            viewer=viewer_for(suzuki),
            council=council,
            held_on=today(),
            sharing_from=today() - days(30),
        )
        assert at_limit.sharing_from == today() - days(30)

    def test_sharing_may_not_last_more_than_the_limit_after_the_session(
        self, council, suzuki, settings
    ):
        settings.COUNCIL_SHARING_MAX_DAYS_AFTER = 30
        with pytest.raises(ValidationError) as error:
            council_session_create(
                viewer=viewer_for(suzuki),
                council=council,
                held_on=today(),
                sharing_until=datetime.date(2099, 12, 31),
            )

        assert error.value.message_dict == {
            "sharing_until": [
                ja("Sharing may last at most %(days)s days after the day of the session.")
                % {"days": 30}
            ]
        }
        at_limit = council_session_create(
            viewer=viewer_for(suzuki),
            council=council,
            held_on=today(),
            sharing_until=today() + days(30),
        )
        assert at_limit.sharing_until == today() + days(30)

    def test_the_limits_follow_the_settings(self, council, suzuki, settings):
        settings.COUNCIL_SHARING_MAX_DAYS_BEFORE = 7
        settings.COUNCIL_SHARING_MAX_DAYS_AFTER = 10
        with pytest.raises(ValidationError) as error:
            council_session_create(
                viewer=viewer_for(suzuki),
                council=council,
                held_on=today(),
                sharing_from=today() - days(8),
                sharing_until=today() + days(11),
            )

        assert set(error.value.message_dict) == {"sharing_from", "sharing_until"}

    def test_moving_a_session_cannot_stretch_its_sharing_either(self, session, suzuki, settings):
        settings.COUNCIL_SHARING_MAX_DAYS_AFTER = 30
        with pytest.raises(ValidationError) as error:
            council_session_update(
                viewer=viewer_for(suzuki),
                session=session,
                held_on=today(),
                title="第3回",
                sharing_until=today() + days(365),
            )

        assert "sharing_until" in error.value.message_dict
        session.refresh_from_db()
        assert session.sharing_until == default_sharing(today())[1]

    def test_an_ended_council_takes_no_session(self, council, sysadmin, suzuki):
        council_end(viewer=system(sysadmin), council=council)
        with pytest.raises(ValidationError):
            council_session_create(viewer=viewer_for(suzuki), council=council, held_on=today())


class TestTheAgenda:
    def test_only_the_holding_agency_puts_its_client_on_the_agenda(self, session, suzuki, yamamoto):
        # 鈴木's agency is a member (the secretariat) but does not hold 山本's record.
        with pytest.raises(PermissionDenied):
            agenda_item_add(
                viewer=viewer_for(suzuki),
                session=session,
                client=yamamoto,
                categories=["basic"],
                reason="理由",
            )

    def test_a_non_member_cannot_put_its_client_on_the_agenda(self, session, sato):
        kimura = client_create(
            viewer=viewer_for(sato), fields={"full_name": "木村", "full_name_kana": "キムラ"}
        )
        with pytest.raises(PermissionDenied):
            agenda_item_add(
                viewer=viewer_for(sato),
                session=session,
                client=kimura,
                categories=["basic"],
                reason="理由",
            )

    def test_a_person_is_on_a_sessions_agenda_once(self, item, tanaka, yamamoto):
        with pytest.raises(ValidationError) as error:
            agenda_item_add(
                viewer=viewer_for(tanaka),
                session=item.session,
                client=yamamoto,
                categories=["basic"],
                reason="もう一度",
            )
        assert "client" in error.value.error_dict

    def test_an_item_taken_off_may_be_put_back(self, item, tanaka, yamamoto):
        agenda_item_withdraw(viewer=viewer_for(tanaka), item=item)
        again = agenda_item_add(
            viewer=viewer_for(tanaka),
            session=item.session,
            client=yamamoto,
            categories=["basic"],
            reason="再度協議",
        )
        assert again.pk == item.pk
        assert again.withdrawn_at is None
        assert again.categories == ["basic"]
        assert AuditEntry.objects.filter(action="council.agenda_item_restored").count() == 1

    def test_the_audit_trail_does_not_repeat_the_reason(self, item):
        entry = AuditEntry.objects.get(action="council.agenda_item_added")
        assert "家計" not in str(entry.changes)
        assert "山本" not in entry.target_label


class TestWhatMembersSee:
    def test_members_see_exactly_the_shared_categories(self, item, suzuki, yamamoto):
        access = gate.decide(viewer_for(suzuki), yamamoto, context=LIVE)

        assert access.shown == ["basic", "consultation"]
        assert {access.decision(c).basis for c in access.shown} == {Basis.COUNCIL}
        assert not access.allows("health")

    def test_the_session_page_shows_the_name_and_reason_to_a_member(
        self, client, item, suzuki, yamamoto
    ):
        login_as(client, suzuki)

        response = client.get(session_url(item.session))

        text = response.content.decode()
        assert response.status_code == 200
        assert "山本 太郎" in text
        assert "母親が高齢で" in text
        assert ja("Legal basis") in text
        assert "守秘義務を負う" in text
        assert (
            ja(
                "This information is shared only among the members of the support council, under "
                "their duty of confidentiality."
            )
            in text
        )
        shared = reverse("referrals:shared_record", kwargs={"public_id": yamamoto.public_id})
        assert f'href="{shared}"' in text
        assert response["Cache-Control"] == "private, no-store"

    def test_the_shared_record_opens_on_the_council_basis(self, client, item, suzuki, yamamoto):
        login_as(client, suzuki)

        response = client.get(
            reverse("referrals:shared_record", kwargs={"public_id": yamamoto.public_id})
        )

        assert response.status_code == 200
        assert "山本 太郎" in response.content.decode()
        assert AccessEntry.objects.get(client=yamamoto).basis == Basis.COUNCIL

    def test_without_basic_information_the_name_is_a_placeholder(
        self, session, tanaka, suzuki, yamamoto, client
    ):
        agenda_item_add(
            viewer=viewer_for(tanaka),
            session=session,
            client=yamamoto,
            categories=["consultation"],
            reason="相談内容のみ共有",
        )
        login_as(client, suzuki)

        text = client.get(session_url(session)).content.decode()

        assert "山本 太郎" not in text
        with translation.override("ja"):
            assert str(NOT_CONSENTED) in text
        assert "相談内容のみ共有" in text  # this session shares the person: the reason shows

    def test_two_sessions_sharing_the_same_person_both_show_the_reason(
        self, item, council, suzuki, tanaka, yamamoto
    ):
        earlier = council_session_create(
            viewer=viewer_for(suzuki), council=council, held_on=today() - days(2)
        )
        agenda_item_add(
            viewer=viewer_for(tanaka),
            session=earlier,
            client=yamamoto,
            categories=["basic", "consultation"],
            reason="前回からの継続",
        )

        rows = session_agenda(viewer=viewer_for(suzuki), session=earlier)

        assert [row.reason for row in rows] == ["前回からの継続"]

    def test_nothing_after_sharing_until(self, item, suzuki, yamamoto, client):
        council_session_update(
            viewer=viewer_for(suzuki),
            session=item.session,
            held_on=today() - days(20),
            title="第3回",
        )
        assert item.session.__class__.objects.get(pk=item.session.pk).sharing_until < today()
        login_as(client, suzuki)

        text = client.get(session_url(item.session)).content.decode()

        assert gate.decide(viewer_for(suzuki), yamamoto, context=LIVE).shown == []
        assert "山本 太郎" not in text
        assert "母親が高齢で" not in text

    def test_nothing_before_sharing_from(self, council, suzuki, tanaka, yamamoto):
        later = council_session_create(
            viewer=viewer_for(suzuki), council=council, held_on=today() + days(30)
        )
        agenda_item_add(
            viewer=viewer_for(tanaka),
            session=later,
            client=yamamoto,
            categories=["basic"],
            reason="来月の協議",
        )
        assert gate.decide(viewer_for(suzuki), yamamoto, context=LIVE).shown == []

    def test_nothing_after_the_viewers_agency_leaves(
        self, council, session, suzuki, tanaka, station_a, client
    ):
        kimura = b_client(suzuki)
        agenda_item_add(
            viewer=viewer_for(suzuki),
            session=session,
            client=kimura,
            categories=["basic", "health"],
            reason="Bの相談者",
        )
        assert gate.decide(viewer_for(tanaka), kimura, context=LIVE).shown == ["basic", "health"]

        council_member_leave(
            viewer=viewer_for(suzuki), member=council.members.get(agency=station_a)
        )

        assert gate.decide(viewer_for(tanaka), kimura, context=LIVE).shown == []
        login_as(client, tanaka)
        assert client.get(session_url(session)).status_code == 404
        assert client.get(reverse("councils:detail", args=[council.public_id])).status_code == 404

    def test_nothing_when_the_holder_left(self, council, item, suzuki, station_a, yamamoto):
        council_member_leave(
            viewer=viewer_for(suzuki), member=council.members.get(agency=station_a)
        )

        assert gate.decide(viewer_for(suzuki), yamamoto, context=LIVE).shown == []
        rows = session_agenda(viewer=viewer_for(suzuki), session=item.session)
        assert [row.name for row in rows] == [str(NOT_CONSENTED)]
        assert rows[0].reason is None

    def test_nothing_for_a_non_member(self, item, sato, yamamoto, client):
        assert gate.decide(viewer_for(sato), yamamoto, context=LIVE).shown == []
        login_as(client, sato)

        assert client.get(session_url(item.session)).status_code == 404
        council_page = reverse("councils:detail", args=[item.session.council.public_id])
        assert client.get(council_page).status_code == 404
        assert "長野市支援会議" not in client.get(reverse("councils:list")).content.decode()

    def test_nothing_for_an_agency_whose_membership_ended(
        self, council, item, suzuki, agency_c, sato, yamamoto
    ):
        member = council_member_add(
            viewer=viewer_for(suzuki),
            council=council,
            agency=agency_c,
            joined_on=today() - days(5),
        )
        assert gate.decide(viewer_for(sato), yamamoto, context=LIVE).shown == [
            "basic",
            "consultation",
        ]

        council_member_leave(viewer=viewer_for(suzuki), member=member)

        assert gate.decide(viewer_for(sato), yamamoto, context=LIVE).shown == []

    def test_an_agency_added_and_removed_the_same_day_sees_nothing(
        self, council, item, suzuki, agency_c, sato, yamamoto
    ):
        member = council_member_add(viewer=viewer_for(suzuki), council=council, agency=agency_c)
        council_member_leave(viewer=viewer_for(suzuki), member=member)

        assert gate.decide(viewer_for(sato), yamamoto, context=LIVE).shown == []

    def test_nothing_once_the_item_is_taken_off(self, item, tanaka, suzuki, yamamoto, client):
        agenda_item_withdraw(viewer=viewer_for(tanaka), item=item)

        assert gate.decide(viewer_for(suzuki), yamamoto, context=LIVE).shown == []
        login_as(client, suzuki)
        before = AccessEntry.objects.count()
        text = client.get(session_url(item.session)).content.decode()
        assert "山本 太郎" not in text
        assert "母親が高齢で" not in text
        # Nothing of a taken-off item is looked at, so nothing is logged for it.
        assert AccessEntry.objects.count() == before

    def test_nothing_once_the_council_ended(self, item, sysadmin, suzuki, yamamoto):
        council_end(viewer=system(sysadmin), council=item.session.council)

        assert gate.decide(viewer_for(suzuki), yamamoto, context=LIVE).shown == []

    def test_the_holder_sees_its_own_client_and_no_look_is_logged(self, item, tanaka, client):
        login_as(client, tanaka)

        text = client.get(session_url(item.session)).content.decode()

        assert "山本 太郎" in text
        assert not AccessEntry.objects.exists()

    def test_supporters_and_administrative_staff_of_a_member_get_a_404(
        self, item, ito, kato, client
    ):
        for person in (ito, kato):
            login_as(client, person)
            assert client.get(session_url(item.session)).status_code == 404


class TestAccessLog:
    def test_every_look_by_a_member_is_logged_with_the_council_basis(
        self, item, suzuki, yamamoto, client
    ):
        login_as(client, suzuki)

        client.get(session_url(item.session))
        client.get(session_url(item.session))

        entries = AccessEntry.objects.filter(client=yamamoto, user=suzuki)
        assert entries.count() == 2
        entry = entries.first()
        assert entry.basis == Basis.COUNCIL
        assert entry.outcome == "shown"
        assert entry.categories == ["basic", "consultation"]
        assert "health" in entry.withheld
        assert entry.page == "councils:session"
        assert entry.path == session_url(item.session)

    def test_a_look_after_the_sharing_ended_is_logged_as_denied(self, item, suzuki, yamamoto):
        council_session_update(
            viewer=viewer_for(suzuki), session=item.session, held_on=today() - days(20)
        )

        session_agenda(viewer=viewer_for(suzuki), session=item.session, page="p", path="/p")

        entry = AccessEntry.objects.get(client=yamamoto)
        assert entry.outcome == "denied"
        assert entry.categories == []


class TestForms:
    def test_bad_agenda_input_keeps_what_was_typed_and_saves_nothing(
        self, client, session, tanaka, yamamoto
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("councils:agenda_add", args=[session.public_id]),
            {"client": str(yamamoto.public_id), "reason": "世帯全体の困窮が疑われる"},
        )

        text = response.content.decode()
        assert response.status_code == 200
        assert "世帯全体の困窮が疑われる" in text
        assert ja("This field is required.") in text
        assert not AgendaItem.objects.exists()

    def test_a_service_refusal_shows_on_the_form(self, client, session, tanaka, yamamoto):
        login_as(client, tanaka)

        response = client.post(
            reverse("councils:agenda_add", args=[session.public_id]),
            {"client": str(yamamoto.public_id), "categories": ["basic"], "reason": "   "},
        )

        assert response.status_code == 200
        assert not AgendaItem.objects.exists()

    def test_bad_session_dates_keep_what_was_typed(self, client, council, suzuki):
        login_as(client, suzuki)

        response = client.post(
            reverse("councils:session_create", args=[council.public_id]),
            {
                "held_on": today().isoformat(),
                "title": "臨時会議",
                "sharing_from": (today() + days(1)).isoformat(),
            },
        )

        text = response.content.decode()
        assert response.status_code == 200
        assert ja("Sharing must start on or before the day of the session.") in text
        assert 'value="臨時会議"' in text
        assert not CouncilSession.objects.exists()

    def test_sharing_beyond_the_limit_is_refused_on_the_page_with_what_was_typed(
        self, client, council, suzuki, settings
    ):
        settings.COUNCIL_SHARING_MAX_DAYS_AFTER = 30
        login_as(client, suzuki)

        response = client.post(
            reverse("councils:session_create", args=[council.public_id]),
            {
                "held_on": today().isoformat(),
                "title": "臨時会議",
                "sharing_from": today().isoformat(),
                "sharing_until": "2099-12-31",
            },
        )

        text = response.content.decode()
        assert response.status_code == 200
        message = ja("Sharing may last at most %(days)s days after the day of the session.") % {
            "days": 30
        }
        assert message in text
        assert 'value="臨時会議"' in text
        assert 'value="2099-12-31"' in text
        assert f'value="{today().isoformat()}"' in text
        assert not CouncilSession.objects.exists()

    def test_the_session_form_says_the_limits(self, client, council, suzuki, settings):
        settings.COUNCIL_SHARING_MAX_DAYS_BEFORE = 21
        settings.COUNCIL_SHARING_MAX_DAYS_AFTER = 28
        login_as(client, suzuki)

        text = client.get(reverse("councils:session_create", args=[council.public_id])).content
        text = text.decode()

        before = ja("Empty: %(days)s days before the session. At most %(max)s days before it.")
        after = ja(
            "Empty: %(days)s days after the session. At most %(max)s days after it. "
            "After this day nothing is shown."
        )
        assert before % {"days": settings.COUNCIL_SHARING_DAYS_BEFORE, "max": 21} in text
        assert after % {"days": settings.COUNCIL_SHARING_DAYS_AFTER, "max": 28} in text

    def test_putting_on_the_agenda_through_the_page(self, client, session, tanaka, yamamoto):
        login_as(client, tanaka)

        response = client.post(
            reverse("councils:agenda_add", args=[session.public_id]),
            {
                "client": str(yamamoto.public_id),
                "categories": ["basic", "household"],
                "reason": "8050世帯",
            },
        )

        assert response.status_code == 302
        item = AgendaItem.objects.get()
        assert item.categories == ["basic", "household"]
        assert item.added_by == tanaka

    def test_taking_off_the_agenda_through_the_page(self, client, item, tanaka):
        login_as(client, tanaka)

        response = client.post(reverse("councils:agenda_withdraw", args=[item.public_id]))

        assert response.status_code == 302
        item.refresh_from_db()
        assert item.withdrawn_at is not None

    def test_a_member_who_does_not_hold_the_record_cannot_take_it_off(self, client, item, sato):
        login_as(client, sato)

        response = client.post(reverse("councils:agenda_withdraw", args=[item.public_id]))

        assert response.status_code == 404
        item.refresh_from_db()
        assert item.withdrawn_at is None

    def test_the_secretariat_writes_the_minutes_and_the_audit_masks_them(
        self, client, session, suzuki
    ):
        login_as(client, suzuki)

        response = client.post(
            reverse("councils:minutes", args=[session.public_id]), {"minutes": "山本さんの件を協議"}
        )

        assert response.status_code == 302
        session.refresh_from_db()
        assert session.minutes == "山本さんの件を協議"
        entry = AuditEntry.objects.get(action="council.minutes_written")
        assert "山本" not in str(entry.changes)

    def test_setting_up_through_the_page(self, client, sysadmin, jiritsu_b, nagano_city):
        login_as(client, sysadmin)

        response = client.post(
            reverse("councils:create"),
            {
                "municipality": nagano_city.pk,
                "name": "長野市支援会議",
                "legal_basis": "social_welfare_106_6",
                "chair_agency": jiritsu_b.pk,
                "confidentiality_note": "",
                "established_on": today().isoformat(),
            },
        )

        assert response.status_code == 302
        council = jiritsu_b.chaired_councils.get()
        assert council.legal_basis == "social_welfare_106_6"
        assert council.members.get().agency == jiritsu_b

    def test_removing_a_member_through_the_page(self, client, council, suzuki, station_a):
        login_as(client, suzuki)
        member = council.members.get(agency=station_a)

        response = client.post(
            reverse("councils:member_leave", args=[council.public_id, member.pk])
        )

        assert response.status_code == 302
        member.refresh_from_db()
        assert member.left_on == today()


class TestPostsByTheWrongPeople:
    def test_a_member_who_does_not_run_the_council_cannot_remove_a_member(
        self, client, council, tanaka, station_a
    ):
        login_as(client, tanaka)
        member = council.members.get(agency=station_a)

        response = client.post(
            reverse("councils:member_leave", args=[council.public_id, member.pk])
        )

        assert response.status_code == 404
        member.refresh_from_db()
        assert member.left_on is None

    def test_only_system_admins_end_a_council(self, client, council, suzuki):
        login_as(client, suzuki)

        response = client.post(
            reverse("councils:end", args=[council.public_id]), {"ended_on": today().isoformat()}
        )

        assert response.status_code == 404
        council.refresh_from_db()
        assert council.ended_on is None

    def test_a_member_cannot_write_the_minutes(self, client, session, tanaka):
        login_as(client, tanaka)

        response = client.post(
            reverse("councils:minutes", args=[session.public_id]), {"minutes": "書き換え"}
        )

        assert response.status_code == 404
        session.refresh_from_db()
        assert session.minutes == ""

    def test_a_system_admin_ends_a_council_and_sharing_stops(
        self, client, item, sysadmin, suzuki, yamamoto
    ):
        login_as(client, sysadmin)

        response = client.post(
            reverse("councils:end", args=[item.session.council.public_id]),
            {"ended_on": today().isoformat()},
        )

        assert response.status_code == 302
        assert gate.decide(viewer_for(suzuki), yamamoto, context=LIVE).shown == []
        assert AuditEntry.objects.filter(action="council.ended").count() == 1


MINUTES = "山本さんの母親の通院について協議した"


def write_minutes(suzuki, session, text=MINUTES):
    return council_minutes_save(viewer=viewer_for(suzuki), session=session, minutes=text)


def move_sharing_into_the_past(suzuki, session):
    """Held 20 days ago: with the default dates its sharing has ended."""
    council_session_update(
        viewer=viewer_for(suzuki), session=session, held_on=today() - days(20), title="第3回"
    )


class TestMinutes:
    @pytest.mark.parametrize("persona", ["suzuki", "tanaka"])
    def test_member_staff_read_them_between_the_sharing_dates(
        self, request, client, session, suzuki, persona
    ):
        write_minutes(suzuki, session)
        login_as(client, request.getfixturevalue(persona))

        text = client.get(session_url(session)).content.decode()

        assert MINUTES in text
        assert "data-minutes-withheld" not in text

    @pytest.mark.parametrize("persona", ["suzuki", "tanaka"])
    def test_they_are_hidden_once_the_sharing_dates_have_passed(
        self, request, client, session, suzuki, persona
    ):
        write_minutes(suzuki, session)
        move_sharing_into_the_past(suzuki, session)
        login_as(client, request.getfixturevalue(persona))

        text = client.get(session_url(session)).content.decode()

        assert MINUTES not in text
        assert "data-minutes-withheld" in text
        assert ja("Minutes have been written.") in text

    def test_they_are_hidden_before_the_sharing_dates(self, client, council, suzuki, tanaka):
        later = council_session_create(
            viewer=viewer_for(suzuki), council=council, held_on=today() + days(5)
        )
        write_minutes(suzuki, later, "事前の打ち合わせメモ")
        council_session_update(
            viewer=viewer_for(suzuki), session=later, held_on=today() + days(20), title=""
        )
        login_as(client, tanaka)

        text = client.get(session_url(later)).content.decode()

        assert "事前の打ち合わせメモ" not in text
        assert "data-minutes-withheld" in text

    def test_a_system_admin_sees_that_they_exist_and_not_what_they_say(
        self, client, session, suzuki, sysadmin
    ):
        write_minutes(suzuki, session)
        login_as(client, sysadmin)

        page = client.get(session_url(session))
        form = client.get(reverse("councils:minutes", args=[session.public_id]))

        assert page.status_code == 200
        text = page.content.decode()
        assert MINUTES not in text
        assert ja("Minutes have been written.") in text
        # The council is still theirs to administer.
        assert reverse("councils:session_edit", args=[session.public_id]) in text
        assert reverse("councils:minutes", args=[session.public_id]) not in text
        assert form.status_code == 200
        assert MINUTES not in form.content.decode()
        assert 'name="minutes"' not in form.content.decode()

    def test_a_system_admin_cannot_write_over_them(self, client, session, suzuki, sysadmin):
        write_minutes(suzuki, session)
        login_as(client, sysadmin)

        response = client.post(
            reverse("councils:minutes", args=[session.public_id]), {"minutes": "上書き"}
        )

        assert response.status_code == 200
        session.refresh_from_db()
        assert session.minutes == MINUTES
        with pytest.raises(PermissionDenied):
            council_minutes_save(viewer=system(sysadmin), session=session, minutes="上書き")

    def test_the_secretariat_neither_reads_nor_writes_them_after_the_sharing_dates(
        self, client, session, suzuki
    ):
        write_minutes(suzuki, session)
        move_sharing_into_the_past(suzuki, session)
        login_as(client, suzuki)

        form = client.get(reverse("councils:minutes", args=[session.public_id]))

        assert MINUTES not in form.content.decode()
        assert 'name="minutes"' not in form.content.decode()
        with pytest.raises(PermissionDenied):
            write_minutes(suzuki, session, "後から")
        session.refresh_from_db()
        assert session.minutes == MINUTES

    def test_nothing_once_the_council_ended(self, client, session, suzuki, sysadmin):
        write_minutes(suzuki, session)
        council_end(viewer=system(sysadmin), council=session.council)
        login_as(client, suzuki)

        assert MINUTES not in client.get(session_url(session)).content.decode()

    @pytest.mark.parametrize("persona", ["ito", "kato", "sysadmin"])
    def test_the_rule_leaves_out_supporters_administrative_staff_and_system_admins(
        self, request, session, persona
    ):
        user = request.getfixturevalue(persona)
        viewer = system(user) if persona == "sysadmin" else viewer_for(user)

        assert not can_read_minutes(viewer, session, current_member_ids(council=session.council))


class TestEmergencyOnTheCouncilPage:
    """An emergency disclosure (個人情報保護法 27条1項2号) to a member agency is for protecting life
    or body: the council page shows what the agenda item shares, and marks the emergency
    wherever the page leads to it."""

    def disclose(self, tanaka, yamamoto, to, categories):
        return emergency_disclose(
            viewer=viewer_for(tanaka),
            client=yamamoto,
            recipient=to,
            categories=categories,
            reason="自傷の恐れがあり、本人と連絡が取れない",
        )

    def test_a_name_disclosed_in_an_emergency_is_not_put_on_the_council_page(
        self, client, session, tanaka, suzuki, yamamoto, jiritsu_b
    ):
        agenda_item_add(
            viewer=viewer_for(tanaka),
            session=session,
            client=yamamoto,
            categories=["consultation"],
            reason="相談内容のみ共有",
        )
        self.disclose(tanaka, yamamoto, jiritsu_b, ["basic"])
        assert (
            gate.decide(viewer_for(suzuki), yamamoto, context=LIVE).decision("basic").basis
            == Basis.EMERGENCY
        )
        login_as(client, suzuki)

        text = client.get(session_url(session)).content.decode()

        assert "山本 太郎" not in text
        with translation.override("ja"):
            assert str(NOT_CONSENTED) in text
        # The live record the row links to shows the name under the emergency: the row says so.
        assert "data-record-emergency" in text
        assert ja("Emergency (APPI Art. 27(1)(ii))") in text
        assert "border-danger" in text

    def test_after_the_sharing_dates_an_emergency_does_not_bring_the_name_back(
        self, client, item, tanaka, suzuki, yamamoto, jiritsu_b
    ):
        self.disclose(tanaka, yamamoto, jiritsu_b, ["basic", "health"])
        move_sharing_into_the_past(suzuki, item.session)
        login_as(client, suzuki)

        text = client.get(session_url(item.session)).content.decode()

        assert "山本 太郎" not in text
        assert "母親が高齢で" not in text
        assert "data-record-emergency" in text

    def test_what_the_item_shares_shows_as_council_and_the_emergency_stands_out(
        self, client, item, tanaka, suzuki, yamamoto, jiritsu_b
    ):
        self.disclose(tanaka, yamamoto, jiritsu_b, ["health"])
        login_as(client, suzuki)

        text = client.get(session_url(item.session)).content.decode()

        assert "山本 太郎" in text
        assert 'data-basis="emergency"' not in text  # 基本情報 and 相談内容 come from the council
        assert "data-record-emergency" in text  # the live record also shows 心身の状況
        entry = AccessEntry.objects.get(client=yamamoto, user=suzuki)
        assert entry.basis == f"{Basis.COUNCIL},{Basis.EMERGENCY}"

    def test_without_an_emergency_nothing_is_marked(self, client, item, suzuki):
        login_as(client, suzuki)

        text = client.get(session_url(item.session)).content.decode()

        assert "data-record-emergency" not in text
        assert "border-danger" not in text


class TestForTheClientPage:
    def test_the_holder_sees_every_item_the_member_only_live_ones(
        self, item, council, tanaka, suzuki, sato, yamamoto
    ):
        old = council_session_create(
            viewer=viewer_for(suzuki), council=council, held_on=today() - days(3)
        )
        past = agenda_item_add(
            viewer=viewer_for(tanaka),
            session=old,
            client=yamamoto,
            categories=["basic"],
            reason="前回",
        )
        council_session_update(viewer=viewer_for(suzuki), session=old, held_on=today() - days(30))

        assert {
            i.pk for i in agenda_items_for_client(viewer=viewer_for(tanaka), client=yamamoto)
        } == {
            item.pk,
            past.pk,
        }
        assert [
            i.pk for i in agenda_items_for_client(viewer=viewer_for(suzuki), client=yamamoto)
        ] == [item.pk]
        assert agenda_items_for_client(viewer=viewer_for(sato), client=yamamoto) == []


class TestQueryCount:
    @pytest.mark.parametrize("people", [2, 20])
    def test_the_session_page_costs_the_same_plus_the_gate_per_person(
        self, client, session, tanaka, suzuki, people
    ):
        # 20 people of station A on the agenda, looked at by 鈴木 of 自立相談 B.
        for number in range(people):
            person = client_create(
                viewer=viewer_for(tanaka),
                fields={"full_name": f"相談者 {number}", "full_name_kana": "ソウダンシャ"},
                duplicate_confirmed=True,
            )
            agenda_item_add(
                viewer=viewer_for(tanaka),
                session=session,
                client=person,
                categories=["basic"],
                reason="協議",
            )
        login_as(client, suzuki)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(session_url(session))

        assert response.status_code == 200
        # Fixed: 1 session, 2 user, 3 membership + agency, 4 the session with its council,
        # 5 the council's members today, 6 the agenda (client, its agency, added by joined);
        # none for the agenda form's client (a picker: nothing until one types).
        # For each person, the gate (consent.gate.open): 1 つなぎ/共同支援 link,
        # 2 支援会議 agenda items, 3 emergency disclosures; and the access log: 4 savepoint,
        # 5 the insert, 6 release. Plus 1: the device the supervisor's session passed the
        # second factor with (django-otp).
        assert len(queries) == 7 + 6 * people, "\n".join(q["sql"][:120] for q in queries)
        assert AccessEntry.objects.filter(user=suzuki).count() == people


class TestDemo:
    def test_the_demo_has_a_council_whose_secretariat_sees_yamamoto(self, settings, tmp_path):
        from django.core.management import call_command

        from accounts.models import User
        from cases.models import Client
        from councils.models import SupportCouncil

        settings.VAR_DIR = tmp_path
        call_command("seed_demo", stdout=io.StringIO())

        council = SupportCouncil.objects.get(name="長野市支援会議（デモ）")
        assert council.members.count() == 4
        yamamoto = Client.objects.get(full_name="山本 太郎")
        # The session is in three days: its sharing (7 days before) has begun.
        access = gate.decide(
            viewer_for(User.objects.get(username="suzuki")), yamamoto, context=LIVE
        )
        assert access.shown == ["basic", "household", "finance"]


class TestListAndDetailQueryCount:
    @pytest.mark.parametrize("councils", [2, 8])
    def test_the_list_costs_the_same_whatever_the_number(
        self, client, sysadmin, suzuki, jiritsu_b, station_a, nagano_city, councils
    ):
        for number in range(councils):
            council = council_create(
                viewer=system(sysadmin),
                municipality=nagano_city,
                name=f"支援会議{number}",
                legal_basis="self_reliance_9",
                chair_agency=jiritsu_b,
            )
            council_session_create(viewer=viewer_for(suzuki), council=council, held_on=today())
        login_as(client, suzuki)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("councils:list"))

        assert response.status_code == 200
        assert response.content.decode().count("支援会議") >= councils
        # 1 session, 2 user, 3 membership + agency, 4 the councils (municipality, secretariat
        # and session count joined), 5 the device the supervisor's session passed the second
        # factor with (django-otp)
        assert len(queries) == 5, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("more", [1, 7])
    def test_the_council_page_costs_the_same_whatever_the_number(
        self, client, council, suzuki, more
    ):
        from tests.conftest import make_agency

        for number in range(more):
            agency = make_agency(f"機関{number}", "キカン", "npo")
            council_member_add(viewer=viewer_for(suzuki), council=council, agency=agency)
            council_session_create(
                viewer=viewer_for(suzuki), council=council, held_on=today() - days(number)
            )
        login_as(client, suzuki)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("councils:detail", args=[council.public_id]))

        assert response.status_code == 200
        # 1 session, 2 user, 3 membership + agency, 4 the council (municipality and secretariat
        # joined), 5 its members today, 6 all its members with their agencies, 7 its sessions
        # with their agenda counts, 8 the device the supervisor's session passed the second
        # factor with (django-otp)
        assert len(queries) == 8, "\n".join(q["sql"][:150] for q in queries)


# --- The agenda form's client picker (issue 13): no page renders the agency's clients ---------


def test_the_agenda_form_stays_small_and_flat_with_2000_clients(
    client, session, tanaka, yamamoto, station_a, django_assert_num_queries
):
    bulk_clients(station_a, CLIENT_COUNT)
    login_as(client, tanaka)
    url = reverse("councils:session", args=[session.public_id])
    # 1 session, 2 user, 3 membership and agency of the viewer, 4 the session with its council,
    # 5 the council's member agencies, 6 the agenda's items. No query of the clients: the picker
    # renders none until one is typed.
    with django_assert_num_queries(6):
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    assert "利用者0000" not in page
    assert "山本 太郎" not in page
    assert 'role="combobox"' in page
    assert reverse("cases:client_pick") in page


def test_a_forged_client_on_the_agenda_is_refused_with_the_typed_values_kept(
    client, session, tanaka, sato
):
    theirs = register(sato, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
    login_as(client, tanaka)

    response = client.post(
        reverse("councils:agenda_add", args=[session.public_id]),
        {
            "client": str(theirs.public_id),
            "client_text": "やまもと",
            "categories": ["basic"],
            "reason": "世帯全体の困窮が疑われる",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert ja("Choose the person from the list.") in page
    assert 'value="やまもと"' in page
    assert "世帯全体の困窮が疑われる" in page
    assert "山本 花子" not in page
    assert not AgendaItem.objects.exists()
