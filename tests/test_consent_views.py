"""The consent screens: recording a consent (with the signed form's scan), its page and its
withdrawal, the history on the client page, and the scan that only the holding agency's
caseworkers and supervisors can download — never from a public address."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import empty
from django.utils.translation import gettext

from agencies.models import Role
from agencies.services import membership_ensure
from consent import gate
from consent.models import Consent, DataCategory, EmergencyDisclosure, Purpose
from consent.selectors import client_consents, emergency_overview
from consent.services import consent_record, consent_withdraw, emergency_disclose, emergency_review
from consent.storage import private_storage
from tests.conftest import login_as, make_user, viewer_for

pytestmark = pytest.mark.django_db

BASIC, CONSULTATION, HEALTH = DataCategory.BASIC, DataCategory.CONSULTATION, DataCategory.HEALTH
PDF = b"%PDF-1.4\n% a signed consent form\n"


def ja(message: str) -> str:
    """What the page shows for ``message`` (Japanese once the catalogue has it)."""
    with translation.override("ja"):
        return gettext(message)


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Scans go to a temporary MEDIA_ROOT (the private storage is set up again for it)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    private_storage._wrapped = empty
    yield settings.MEDIA_ROOT
    private_storage._wrapped = empty


def a_pdf(name: str = "同意書.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def give_consent(tanaka, client, to, categories=(BASIC, CONSULTATION), **extra):
    return consent_record(
        viewer=viewer_for(tanaka),
        client=client,
        recipient=to,
        purpose="referral",
        categories=list(categories),
        method="written",
        **extra,
    )


def form_data(to, **changes) -> dict:
    data = {
        "recipient": str(to.public_id),
        "purpose": "referral",
        "categories": [BASIC, CONSULTATION],
        "method": "written",
        "given_by": "client",
        "representative_name": "",
        "obtained_on": today().isoformat(),
        "valid_until": "",
    }
    return data | changes


class TestRecording:
    def test_it_records_a_written_consent_with_its_scan(
        self, client, tanaka, yamamoto, jiritsu_b, media
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("consent:new", args=[yamamoto.public_id]),
            form_data(jiritsu_b, scan=a_pdf()),
        )

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("cases:client", args=[yamamoto.public_id]))
        consent = Consent.objects.get()
        assert consent.recipient == jiritsu_b
        assert consent.categories == [BASIC, CONSULTATION]
        assert consent.obtained_by == tanaka
        # The file lies under the private folder, named without the person's name.
        stored = Path(private_storage.path(consent.scan.name))
        assert stored.is_relative_to(media / "private")
        assert "同意書" not in consent.scan.name
        assert stored.read_bytes() == PDF

    def test_a_blank_end_date_takes_the_agencys_default(self, client, tanaka, yamamoto, jiritsu_b):
        login_as(client, tanaka)

        client.post(reverse("consent:new", args=[yamamoto.public_id]), form_data(jiritsu_b))

        consent = Consent.objects.get()
        assert consent.valid_until == today() + datetime.timedelta(
            days=yamamoto.agency.consent_validity_days
        )

    def test_a_legal_representative_must_be_named_and_nothing_typed_is_lost(
        self, client, tanaka, yamamoto, jiritsu_b
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("consent:new", args=[yamamoto.public_id]),
            form_data(jiritsu_b, given_by="guardian", categories=[BASIC, HEALTH]),
        )

        assert response.status_code == 200
        assert ja("Write the name of the legal representative.") in response.text
        assert response.context["form"]["categories"].value() == [BASIC, HEALTH]
        assert not Consent.objects.exists()

    def test_a_file_that_is_not_a_pdf_or_an_image_is_refused(
        self, client, tanaka, yamamoto, jiritsu_b
    ):
        login_as(client, tanaka)

        response = client.post(
            reverse("consent:new", args=[yamamoto.public_id]),
            form_data(jiritsu_b, scan=SimpleUploadedFile("form.exe", b"MZ")),
        )

        assert response.status_code == 200
        assert (
            ja(
                "The scan must be a PDF, JPEG or PNG file. This file is none of them, "
                "whatever its name says."
            )
            in response.text
        )
        assert not Consent.objects.exists()

    def test_it_goes_back_to_where_it_was_asked_from(self, client, tanaka, yamamoto, jiritsu_b):
        login_as(client, tanaka)
        back = reverse("cases:client", args=[yamamoto.public_id]) + "?from=referral"

        response = client.post(
            reverse("consent:new", args=[yamamoto.public_id]),
            form_data(jiritsu_b, next=back),
        )

        assert response["Location"] == back

    def test_it_never_sends_the_worker_to_another_site(self, client, tanaka, yamamoto, jiritsu_b):
        login_as(client, tanaka)

        response = client.post(
            reverse("consent:new", args=[yamamoto.public_id]),
            form_data(jiritsu_b, next="https://evil.example/"),
        )

        assert "evil.example" not in response["Location"]

    def test_the_form_is_prefilled_from_the_referral(self, client, tanaka, yamamoto, jiritsu_b):
        login_as(client, tanaka)

        response = client.get(
            reverse("consent:new", args=[yamamoto.public_id]),
            {
                "recipient": str(jiritsu_b.public_id),
                "category": [HEALTH],
                "purpose": "joint_support",
            },
        )

        form = response.context["form"]
        assert form["recipient"].value() == str(jiritsu_b.public_id)
        assert form["categories"].value() == [HEALTH]
        assert form["purpose"].value() == "joint_support"

    def test_another_agency_cannot_record_a_consent_for_the_client(
        self, client, suzuki, yamamoto, station_a
    ):
        login_as(client, suzuki)

        response = client.get(reverse("consent:new", args=[yamamoto.public_id]))

        assert response.status_code == 404


class TestWithdrawal:
    def test_withdrawing_ends_the_consent_and_the_gate_stops_at_once(
        self, client, tanaka, yamamoto, jiritsu_b
    ):
        consent = give_consent(tanaka, yamamoto, jiritsu_b)
        login_as(client, tanaka)

        response = client.post(
            reverse("consent:withdraw", args=[consent.public_id]),
            {"on": today().isoformat(), "how": "電話で本人から"},
        )

        assert response.status_code == 302
        consent.refresh_from_db()
        assert consent.ended_on == today()
        assert consent.withdrawn_by == tanaka
        assert consent.withdrawn_how == "電話で本人から"
        assert not gate.may_pass(
            client=yamamoto, recipient=jiritsu_b, purpose=Purpose.TSUNAGI, category=BASIC
        )

    def test_a_withdrawal_without_how_is_refused_and_changes_nothing(
        self, client, tanaka, yamamoto, jiritsu_b
    ):
        consent = give_consent(tanaka, yamamoto, jiritsu_b)
        login_as(client, tanaka)

        response = client.post(
            reverse("consent:withdraw", args=[consent.public_id]),
            {"on": today().isoformat(), "how": ""},
        )

        assert response.status_code == 200
        consent.refresh_from_db()
        assert consent.ended_on is None

    def test_withdrawal_is_post_only(self, client, tanaka, yamamoto, jiritsu_b):
        consent = give_consent(tanaka, yamamoto, jiritsu_b)
        login_as(client, tanaka)

        assert client.get(reverse("consent:withdraw", args=[consent.public_id])).status_code == 405

    @pytest.mark.parametrize("persona", ["suzuki", "sato", "ito", "kato"])
    def test_no_one_else_opens_or_withdraws_it(
        self, request, client, tanaka, yamamoto, jiritsu_b, persona
    ):
        consent = give_consent(tanaka, yamamoto, jiritsu_b)
        login_as(client, request.getfixturevalue(persona))

        assert client.get(reverse("consent:detail", args=[consent.public_id])).status_code == 404
        response = client.post(
            reverse("consent:withdraw", args=[consent.public_id]),
            {"on": today().isoformat(), "how": "x"},
        )
        assert response.status_code == 404
        consent.refresh_from_db()
        assert consent.ended_on is None


class TestHistory:
    def test_the_panel_lists_every_consent_with_its_status_newest_first(
        self, tanaka, yamamoto, jiritsu_b, agency_c
    ):
        viewer = viewer_for(tanaka)
        old = give_consent(
            tanaka, yamamoto, jiritsu_b, obtained_on=today() - datetime.timedelta(days=400)
        )
        old_until = old.valid_until
        replaced = give_consent(tanaka, yamamoto, agency_c, [BASIC])
        newer = give_consent(tanaka, yamamoto, agency_c, [BASIC, HEALTH], replaces=replaced)
        withdrawn = give_consent(tanaka, yamamoto, jiritsu_b, [BASIC])
        consent_withdraw(viewer=viewer, consent=withdrawn, how="書面で")

        with CaptureQueriesContext(connection) as queries:
            consents = client_consents(viewer=viewer, client=yamamoto)
            html = render_to_string(
                "consent/_consent_panel.html", {"client": yamamoto, "consents": consents}
            )

        assert len(queries) == 1  # the consents, with recipient and staff joined
        statuses = {c.public_id: c.status for c in consents}
        assert old_until < today()
        assert statuses == {
            old.public_id: "expired",
            replaced.public_id: "replaced",
            newer.public_id: "valid",
            withdrawn.public_id: "withdrawn",
        }
        assert consents[-1] == old  # oldest last
        for consent in consents:
            assert f'data-consent="{consent.public_id}"' in html
        assert html.count('data-consent-status="valid"') == 1
        assert reverse("consent:new", args=[yamamoto.public_id]) in html

    def test_another_agency_gets_none_of_the_history(self, tanaka, suzuki, yamamoto, jiritsu_b):
        give_consent(tanaka, yamamoto, jiritsu_b)

        assert client_consents(viewer=viewer_for(suzuki), client=yamamoto) == []


class TestScan:
    @pytest.fixture
    def consent(self, tanaka, yamamoto, jiritsu_b):
        return give_consent(tanaka, yamamoto, jiritsu_b, scan=a_pdf())

    def test_the_holding_agencys_caseworker_downloads_it_as_an_attachment(
        self, client, tanaka, consent
    ):
        login_as(client, tanaka)

        response = client.get(reverse("consent:scan", args=[consent.public_id]))

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Type"] == "application/pdf"
        assert "no-store" in response["Cache-Control"]

    @pytest.mark.parametrize("persona", ["suzuki", "sato", "ito", "kato"])
    def test_everyone_else_gets_a_404(self, request, client, consent, persona):
        login_as(client, request.getfixturevalue(persona))

        response = client.get(reverse("consent:scan", args=[consent.public_id]))

        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(self, client, consent):
        response = client.get(reverse("consent:scan", args=[consent.public_id]))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_has_no_public_address(self, client, tanaka, consent, media):
        login_as(client, tanaka)
        name = consent.scan.name
        stored = Path(private_storage.path(name)).resolve()

        # Not in the static files, and no URL but the checked view serves it.
        assert not stored.is_relative_to(Path(settings.STATIC_ROOT).resolve())
        for static_dir in settings.STATICFILES_DIRS:
            assert not stored.is_relative_to(Path(static_dir).resolve())
        for url in (
            f"/{name}",
            f"/{settings.MEDIA_URL.strip('/')}/{name}".replace("//", "/"),
            f"/media/{name}",
            f"/media/private/{name}",
            f"/{settings.STATIC_URL.strip('/')}/{name}",
        ):
            assert client.get(url).status_code == 404, url
        page = client.get(reverse("consent:detail", args=[consent.public_id])).text
        assert reverse("consent:scan", args=[consent.public_id]) in page
        assert name not in page

    def test_a_consent_without_a_scan_has_nothing_to_download(
        self, client, tanaka, yamamoto, jiritsu_b
    ):
        consent = give_consent(tanaka, yamamoto, jiritsu_b)
        login_as(client, tanaka)

        assert client.get(reverse("consent:scan", args=[consent.public_id])).status_code == 404


# --- Emergency disclosures: the review is another supervisor's -------------------------------


@pytest.fixture
def nakamura(station_a):
    """中村: the other supervisor of station A."""
    user = make_user("nakamura", "中村 五郎")
    membership_ensure(actor=None, user=user, agency=station_a, role=Role.SUPERVISOR)
    return user


def disclose(by, client, to, categories=(BASIC, HEALTH)):
    return emergency_disclose(
        viewer=viewer_for(by),
        client=client,
        recipient=to,
        categories=list(categories),
        reason="自傷の恐れがあり、本人と連絡が取れない",
    )


SELF_REVIEW = "You made this disclosure: another supervisor of your agency must review it."


class TestEmergencyReview:
    def test_the_supervisor_who_made_it_cannot_review_it(self, takahashi, yamamoto, jiritsu_b):
        disclosure = disclose(takahashi, yamamoto, jiritsu_b)

        with pytest.raises(ValidationError) as refused:
            emergency_review(viewer=viewer_for(takahashi), disclosure=disclosure, note="妥当")

        assert refused.value.messages == [ja(SELF_REVIEW)]
        disclosure.refresh_from_db()
        assert disclosure.reviewed_at is None

    def test_another_supervisor_of_the_agency_reviews_it(
        self, takahashi, nakamura, yamamoto, jiritsu_b
    ):
        disclosure = disclose(takahashi, yamamoto, jiritsu_b)

        emergency_review(viewer=viewer_for(nakamura), disclosure=disclosure, note="妥当だった")

        disclosure.refresh_from_db()
        assert (disclosure.reviewed_by, disclosure.review_note) == (nakamura, "妥当だった")

    def test_caseworkers_and_other_agencies_supervisors_are_refused(
        self, tanaka, suzuki, takahashi, yamamoto, jiritsu_b
    ):
        disclosure = disclose(takahashi, yamamoto, jiritsu_b)
        for not_allowed in (tanaka, suzuki):
            with pytest.raises(PermissionDenied):
                emergency_review(viewer=viewer_for(not_allowed), disclosure=disclosure, note="x")

    def test_the_page_tells_the_supervisor_who_made_it_that_another_must_review(
        self, client, takahashi, yamamoto, jiritsu_b
    ):
        disclosure = disclose(takahashi, yamamoto, jiritsu_b)
        login_as(client, takahashi)

        html = client.get(reverse("consent:emergency_detail", args=[disclosure.public_id])).text

        assert 'data-review="by-another"' in html
        assert ja(SELF_REVIEW) in html
        assert reverse("consent:emergency_review", args=[disclosure.public_id]) not in html

    def test_a_self_review_posted_anyway_is_refused_on_the_page(
        self, client, takahashi, yamamoto, jiritsu_b
    ):
        disclosure = disclose(takahashi, yamamoto, jiritsu_b)
        login_as(client, takahashi)

        response = client.post(
            reverse("consent:emergency_review", args=[disclosure.public_id]),
            {"note": "自分で確認した"},
        )

        assert response.status_code == 200
        assert ja(SELF_REVIEW) in response.text
        disclosure.refresh_from_db()
        assert disclosure.reviewed_at is None

    def test_the_other_supervisor_gets_the_review_form(
        self, client, takahashi, nakamura, yamamoto, jiritsu_b
    ):
        disclosure = disclose(takahashi, yamamoto, jiritsu_b)
        login_as(client, nakamura)

        html = client.get(reverse("consent:emergency_detail", args=[disclosure.public_id])).text

        assert reverse("consent:emergency_review", args=[disclosure.public_id]) in html
        assert 'data-review="by-another"' not in html

    def test_the_list_gives_the_review_to_the_other_supervisor_only(
        self, client, takahashi, nakamura, yamamoto, jiritsu_b
    ):
        disclosure = disclose(takahashi, yamamoto, jiritsu_b)

        mine = emergency_overview(viewer=viewer_for(takahashi))
        theirs = emergency_overview(viewer=viewer_for(nakamura))

        assert (mine.to_review, mine.awaiting_another) == ([], [disclosure])
        assert (theirs.to_review, theirs.awaiting_another) == ([disclosure], [])
        login_as(client, takahashi)
        html = client.get(reverse("consent:emergency_list")).text
        assert 'data-section="awaiting-another"' in html
        assert 'data-section="to-review"' not in html


class TestEmergencyLists:
    def test_a_disclosure_not_yet_begun_is_not_listed_as_shared_now(
        self, tanaka, suzuki, yamamoto, jiritsu_b
    ):
        # The gate does not show it yet (disclosed_at is later than now): the lists agree.
        disclosure = disclose(tanaka, yamamoto, jiritsu_b)
        later = timezone.now() + datetime.timedelta(hours=1)
        EmergencyDisclosure.objects.filter(pk=disclosure.pk).update(
            disclosed_at=later, expires_at=later + datetime.timedelta(hours=72)
        )

        assert emergency_overview(viewer=viewer_for(tanaka)).made == []
        assert emergency_overview(viewer=viewer_for(suzuki)).received == []

    def test_a_running_disclosure_is_listed_on_both_sides(
        self, tanaka, suzuki, yamamoto, jiritsu_b
    ):
        disclosure = disclose(tanaka, yamamoto, jiritsu_b)

        assert emergency_overview(viewer=viewer_for(tanaka)).made == [disclosure]
        assert emergency_overview(viewer=viewer_for(suzuki)).received == [disclosure]
