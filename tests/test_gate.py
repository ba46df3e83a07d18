"""The consent gate's own paths: the partner's live view, emergency disclosures, the access log
(and refusing the page when it cannot be written), "who looked at this client", the admin.

The permission matrix across roles, relations and consent states is tests/test_access_matrix.py.
"""

import datetime
import re

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from agencies.models import Role
from agencies.services import membership_ensure
from audit.models import AccessEntry, AuditEntry
from cases.models import Consultation
from cases.services import consultation_log, plan_create
from consent import gate
from consent.gate import Basis
from consent.models import EmergencyDisclosure
from consent.services import (
    consent_record,
    consent_withdraw,
    emergency_disclose,
    emergency_end,
    emergency_review,
)
from referrals.models import Referral
from referrals.services import referral_accept, referral_draft, referral_send
from tests.conftest import login_as, make_user, viewer_for

LIVE = gate.Context.LIVE_VIEW

BASIC, CONSULTATION, HEALTH, PLAN = "basic", "consultation", "health", "plan"


def ja(message: str) -> str:
    with translation.override("ja"):
        return gettext(message)


@pytest.fixture
def kimura(jiritsu_b):
    """木村: caseworker at 自立相談 B."""
    user = make_user("kimura", "木村 四郎")
    membership_ensure(actor=None, user=user, agency=jiritsu_b, role=Role.CASEWORKER)
    return user


def log_consultation(worker, case, summary: str, notes: str = ""):
    return consultation_log(
        viewer=viewer_for(worker),
        case=case,
        fields={"method": "phone", "summary": summary, "notes": notes},
    )


def link(tanaka, suzuki, client, jiritsu_b, categories=(BASIC, CONSULTATION)):
    """山本 consents to B for ``categories``; a つなぎ from station A is sent and accepted."""
    consent = consent_record(
        viewer=viewer_for(tanaka),
        client=client,
        recipient=jiritsu_b,
        purpose="referral",
        categories=list(categories),
        method="written",
    )
    referral = referral_draft(
        viewer=viewer_for(tanaka),
        client=client,
        fields={
            "type": "tsunagi",
            "to_agency": jiritsu_b,
            "reason": "家計の相談",
            "client_wishes": "お金の相談をしたい",
            "categories": list(categories),
        },
    )
    referral_send(viewer=viewer_for(tanaka), referral=referral)
    referral_accept(viewer=viewer_for(suzuki), referral=referral)
    return consent


def live(client, record):
    return client.get(reverse("referrals:shared_record", args=[record.public_id]))


def section(html: str, category: str) -> str:
    start = html.index(f'data-category="{category}"')
    end = html.find("data-category=", start + 20)
    return html[start : end if end != -1 else len(html)]


@pytest.mark.django_db
class TestLiveView:
    def test_the_linked_agency_sees_what_the_consent_covers_and_placeholders_for_the_rest(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        log_consultation(tanaka, yamamoto_case, "母の年金で暮らしている", "就労の相談")
        link(tanaka, suzuki, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)

        response = live(client, yamamoto_case.client)

        html = response.content.decode()
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        assert "山本 太郎" in html
        assert "母の年金で暮らしている" in section(html, CONSULTATION)
        assert 'data-basis="consent"' in section(html, BASIC)
        for withheld in (HEALTH, PLAN, "household", "finance"):
            assert "data-withheld" in section(html, withheld)
            assert ja("No consent") in section(html, withheld)
        # The hikikomori situation (health) is not on the page at all.
        assert ja("How long in withdrawal") not in html

    def test_the_look_is_logged_with_its_basis_and_categories(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        link(tanaka, suzuki, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)

        live(client, yamamoto_case.client)

        entry = AccessEntry.objects.get(client=yamamoto_case.client)
        assert (entry.user, entry.agency, entry.outcome) == (suzuki, jiritsu_b, "shown")
        assert entry.basis == Basis.CONSENT
        assert entry.categories == [BASIC, CONSULTATION]
        assert HEALTH in entry.withheld
        assert entry.page == "referrals:shared_record"

    def test_withdrawal_shows_only_placeholders_on_the_next_request(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        log_consultation(tanaka, yamamoto_case, "母の年金で暮らしている")
        consent = link(tanaka, suzuki, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)
        assert "山本 太郎" in live(client, yamamoto_case.client).content.decode()

        consent_withdraw(viewer=viewer_for(tanaka), consent=consent, how="電話で本人から")
        response = live(client, yamamoto_case.client)

        html = response.content.decode()
        assert response.status_code == 200
        assert "山本 太郎" not in html
        assert "母の年金で暮らしている" not in html
        assert html.count("data-withheld") == 6
        assert "data-nothing-shared" in html

    def test_topics_of_illness_abuse_or_debt_travel_with_their_own_categories(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        from cases.models import CaseTopic

        CaseTopic.objects.bulk_create(
            CaseTopic(case=yamamoto_case, topic=topic) for topic in ("health", "abuse", "debt")
        )
        link(tanaka, suzuki, yamamoto_case.client, jiritsu_b)  # 基本情報 and 相談内容 only
        login_as(client, suzuki)

        html = live(client, yamamoto_case.client).content.decode()

        assert ja("Hikikomori, school refusal") in section(html, CONSULTATION)
        for topic in ("Illness, health, disability", "Domestic violence, abuse", "Debt"):
            assert ja(topic) not in html
        assert "data-withheld" in section(html, HEALTH)
        assert "data-withheld" in section(html, "finance")

    def test_a_consent_for_a_meeting_does_not_open_the_live_view(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        log_consultation(tanaka, yamamoto_case, "母の年金で暮らしている")
        consent = link(tanaka, suzuki, yamamoto_case.client, jiritsu_b)
        # The person agreed only to be spoken of at a 支援調整会議 with B present.
        consent_withdraw(viewer=viewer_for(tanaka), consent=consent, how="本人から")
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="meeting",
            categories=[BASIC, CONSULTATION],
            method="written",
        )
        login_as(client, suzuki)

        html = live(client, yamamoto_case.client).content.decode()

        assert "山本 太郎" not in html
        assert "母の年金で暮らしている" not in html
        assert html.count("data-withheld") == 6

    def test_a_consent_for_a_meeting_cannot_carry_a_tsunagi(self, tanaka, yamamoto_case, jiritsu_b):
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="meeting",
            categories=[BASIC, CONSULTATION],
            method="written",
        )
        referral = referral_draft(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            fields={
                "type": "tsunagi",
                "to_agency": jiritsu_b,
                "reason": "家計の相談",
                "client_wishes": "お金の相談をしたい",
                "categories": [BASIC, CONSULTATION],
            },
        )

        with pytest.raises(ValidationError):
            referral_send(viewer=viewer_for(tanaka), referral=referral)
        assert Referral.objects.get(pk=referral.pk).status == "draft"

    def test_an_unrelated_agency_gets_a_404_and_the_attempt_is_logged(
        self, client, sato, yamamoto_case
    ):
        login_as(client, sato)

        assert live(client, yamamoto_case.client).status_code == 404
        assert (
            client.get(reverse("cases:client", args=[yamamoto_case.client.public_id])).status_code
            == 404
        )

        pages = list(
            AccessEntry.objects.filter(client=yamamoto_case.client, user=sato)
            .order_by("id")
            .values_list("outcome", "page")
        )
        assert pages == [("denied", "referrals:shared_record"), ("denied", "cases:client")]

    def test_the_holder_is_sent_to_its_own_page_and_nothing_is_logged(
        self, client, tanaka, yamamoto_case
    ):
        login_as(client, tanaka)

        response = live(client, yamamoto_case.client)

        assert response.status_code == 302
        assert response["Location"] == reverse(
            "cases:client", args=[yamamoto_case.client.public_id]
        )
        assert not AccessEntry.objects.exists()

    @pytest.mark.parametrize("consultations", [5, 50])
    def test_the_live_view_costs_the_same_with_5_or_50_consultations(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b, consultations
    ):
        link(tanaka, suzuki, yamamoto_case.client, jiritsu_b, (BASIC, CONSULTATION, PLAN))
        plan_create(viewer=viewer_for(tanaka), case=yamamoto_case, client_words="外に出たい")
        Consultation.objects.bulk_create(
            Consultation(case=yamamoto_case, method="phone", summary=f"相談 {n}", created_by=tanaka)
            for n in range(consultations)
        )
        login_as(client, suzuki)

        with CaptureQueriesContext(connection) as queries:
            response = live(client, yamamoto_case.client)

        assert response.status_code == 200
        # 1 session, 2 user, 3 membership + agency, 4 the client (agency joined), the gate:
        # 5 linked?, 6 consents, 7 council agenda, 8 emergencies, 9-11 the access log
        # (savepoint, insert, release); the data: 12 open case, 13 topics, 14 consultations,
        # 15 plan, 16 goals, 17 items; 18 the referrals that lead back to one's own record;
        # 19 the device the supervisor's session passed the second factor with (django-otp)
        assert len(queries) == 19, "\n".join(q["sql"][:150] for q in queries)


@pytest.mark.django_db
class TestAccessLogFailsClosed:
    @pytest.fixture
    def broken_log(self):
        """The database refuses every new access-log row, as a full disk or a revoked grant
        would."""
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION refuse_access_log() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'access log unavailable'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_access_log BEFORE INSERT ON audit_accessentry "
                "FOR EACH ROW EXECUTE FUNCTION refuse_access_log()"
            )

    def test_the_live_view_is_refused_when_the_log_cannot_be_written(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b, broken_log
    ):
        log_consultation(tanaka, yamamoto_case, "母の年金で暮らしている")
        link(tanaka, suzuki, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)

        response = live(client, yamamoto_case.client)

        html = response.content.decode()
        assert response.status_code == 503
        assert ja("This record cannot be shown now") in html
        assert "山本 太郎" not in html
        assert "母の年金で暮らしている" not in html

    def test_the_referral_page_is_refused_to_the_receiver_too(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b, broken_log
    ):
        link(tanaka, suzuki, yamamoto_case.client, jiritsu_b)
        referral = Referral.objects.get(client=yamamoto_case.client)
        login_as(client, suzuki)

        response = client.get(reverse("referrals:detail", args=[referral.public_id]))

        assert response.status_code == 503
        assert "山本 太郎" not in response.content.decode()

    def test_the_holder_works_on_unaffected(self, client, tanaka, yamamoto_case, broken_log):
        login_as(client, tanaka)

        response = client.get(reverse("cases:client", args=[yamamoto_case.client.public_id]))

        assert response.status_code == 200


@pytest.mark.django_db
class TestEmergencyDisclosure:
    def disclose(self, tanaka, client, to, categories=(BASIC, HEALTH)):
        return emergency_disclose(
            viewer=viewer_for(tanaka),
            client=client,
            recipient=to,
            categories=list(categories),
            reason="自傷の恐れがあり、本人と連絡が取れない",
        )

    def test_an_unlinked_agency_sees_the_disclosed_categories_marked_as_an_emergency(
        self, client, tanaka, sato, yamamoto_case, agency_c
    ):
        disclosure = self.disclose(tanaka, yamamoto_case.client, agency_c)
        login_as(client, sato)

        response = live(client, yamamoto_case.client)

        html = response.content.decode()
        assert response.status_code == 200
        assert "data-emergency" in html
        assert "山本 太郎" in section(html, BASIC)
        assert 'data-basis="emergency"' in section(html, HEALTH)
        assert "data-withheld" in section(html, CONSULTATION)
        hours = (disclosure.expires_at - disclosure.disclosed_at).total_seconds() / 3600
        assert hours == 72
        assert AccessEntry.objects.get(user=sato).basis == Basis.EMERGENCY

    def test_it_ends_by_itself_after_its_time(self, client, tanaka, sato, yamamoto_case, agency_c):
        disclosure = self.disclose(tanaka, yamamoto_case.client, agency_c)
        past = timezone.now() - datetime.timedelta(hours=73)
        EmergencyDisclosure.objects.filter(pk=disclosure.pk).update(
            disclosed_at=past, expires_at=past + datetime.timedelta(hours=72)
        )
        login_as(client, sato)

        assert live(client, yamamoto_case.client).status_code == 404

    def test_ending_it_early_hides_the_record_on_the_next_request(
        self, client, tanaka, sato, yamamoto_case, agency_c
    ):
        disclosure = self.disclose(tanaka, yamamoto_case.client, agency_c)
        login_as(client, sato)
        assert live(client, yamamoto_case.client).status_code == 200

        emergency_end(viewer=viewer_for(tanaka), disclosure=disclosure)

        assert live(client, yamamoto_case.client).status_code == 404
        assert not gate.decide(viewer_for(sato), yamamoto_case.client, context=LIVE).any

    def test_only_a_supervisor_of_the_holding_agency_reviews_it_once(
        self, tanaka, takahashi, suzuki, yamamoto_case, jiritsu_b
    ):
        disclosure = self.disclose(tanaka, yamamoto_case.client, jiritsu_b)
        for not_allowed in (tanaka, suzuki):
            with pytest.raises(PermissionDenied):
                emergency_review(viewer=viewer_for(not_allowed), disclosure=disclosure, note="妥当")

        emergency_review(viewer=viewer_for(takahashi), disclosure=disclosure, note="妥当だった")

        disclosure.refresh_from_db()
        assert (disclosure.reviewed_by, disclosure.review_note) == (takahashi, "妥当だった")
        assert AuditEntry.objects.filter(action="consent.emergency_reviewed").count() == 1
        with pytest.raises(ValidationError) as refused:
            emergency_review(viewer=viewer_for(takahashi), disclosure=disclosure, note="再度")
        assert refused.value.messages == [
            ja("Someone has reviewed this disclosure already. Reload the page.")
        ]

    def test_the_supervisor_sees_the_review_task_and_records_it(
        self, client, tanaka, takahashi, yamamoto_case, jiritsu_b
    ):
        disclosure = self.disclose(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, takahashi)

        listing = client.get(reverse("consent:emergency_list")).content.decode()
        assert reverse("consent:emergency_detail", args=[disclosure.public_id]) in listing
        response = client.post(
            reverse("consent:emergency_review", args=[disclosure.public_id]),
            {"note": "生命の危険があり妥当"},
        )

        assert response.status_code == 302
        disclosure.refresh_from_db()
        assert disclosure.reviewed_by == takahashi

    def test_a_form_without_a_reason_keeps_what_was_typed_and_saves_nothing(
        self, client, tanaka, yamamoto_case, jiritsu_b
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("consent:emergency_new", args=[yamamoto_case.client.public_id]),
            {"recipient": str(jiritsu_b.public_id), "categories": [BASIC, HEALTH], "reason": " "},
        )

        html = response.content.decode()
        assert response.status_code == 200
        assert ja("This field is required.") in html
        assert re.search(r'<input[^>]*value="health"[^>]*checked', html)
        assert not EmergencyDisclosure.objects.exists()

    def test_the_caseworker_records_one_through_the_form(
        self, client, tanaka, yamamoto_case, jiritsu_b
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("consent:emergency_new", args=[yamamoto_case.client.public_id]),
            {
                "recipient": str(jiritsu_b.public_id),
                "categories": [BASIC, HEALTH],
                "reason": "本人が倒れている可能性があり安否確認が必要",
            },
        )

        disclosure = EmergencyDisclosure.objects.get()
        assert response.status_code == 302
        assert (disclosure.recipient, disclosure.categories) == (jiritsu_b, [BASIC, HEALTH])
        page = client.get(reverse("cases:client", args=[yamamoto_case.client.public_id]))
        # Shown now: flagged on the page, the disclosure itself in its section when opened.
        assert 'data-flag="emergency"' in page.content.decode()
        section = client.get(
            reverse("consent:client_emergencies", args=[yamamoto_case.client.public_id])
        )
        assert str(disclosure.public_id) in section.content.decode()


@pytest.mark.django_db
class TestWhoLooked:
    def test_supervisors_see_who_looked_and_caseworkers_do_not(
        self, client, tanaka, takahashi, suzuki, sato, yamamoto_case, jiritsu_b
    ):
        link(tanaka, suzuki, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)
        live(client, yamamoto_case.client)
        login_as(client, sato)
        live(client, yamamoto_case.client)
        page_url = reverse("cases:client", args=[yamamoto_case.client.public_id])
        # The section loads when opened, from its own address.
        section_url = reverse("cases:client_access_log", args=[yamamoto_case.client.public_id])

        login_as(client, takahashi)
        assert section_url in client.get(page_url).content.decode()
        html = client.get(section_url).content.decode()
        login_as(client, tanaka)
        caseworker_html = client.get(page_url).content.decode()
        assert section_url not in caseworker_html
        caseworker_html += client.get(section_url).content.decode()

        panel = html[html.index('id="access-log"') :]
        assert "鈴木 花子" in panel
        assert "佐藤 次郎" in panel
        assert 'data-access="shown"' in panel
        assert 'data-access="denied"' in panel
        assert 'id="access-log"' not in caseworker_html


def test_the_admin_registers_no_model_that_holds_client_data():
    client_apps = {"cases", "consent", "referrals", "councils", "audit"}
    registered = {model._meta.label for model in admin.site._registry}

    assert not {label for label in registered if label.split(".")[0] in client_apps}
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            related = getattr(field, "related_model", None)
            assert related is None or related._meta.app_label not in client_apps, (
                model,
                field,
            )
