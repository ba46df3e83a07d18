"""The consultation log (支援経過記録): quick entry (plain and htmx), the first direct contact,
corrections that keep the earlier text, and who may open a record."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from cases.forms.consultations import QuickConsultationForm, TypedDateField, split_tags
from cases.models import Consultation, ConsultationRevision
from cases.services import (
    client_create,
    consultation_correct,
    consultation_log,
    household_member_save,
    household_save,
)
from tests.conftest import login_as, viewer_for

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def today() -> datetime.date:
    return timezone.localdate()


def ja(message: str) -> str:
    """What the page shows for ``message`` (Japanese once the catalogue has it)."""
    with translation.override("ja"):
        return gettext(message)


def new_url(case) -> str:
    return reverse("cases:consultation_new", args=[case.public_id])


def quick_data(**fields) -> dict:
    """What the quick form posts when the worker only types the summary."""
    return {
        "summary": "母親から電話。本人は変わりなし",
        "method": "phone",
        "occurred_on": today().isoformat(),
        "with_client": "on",
        "staff": [],
        "tags": "",
        **fields,
    }


def log(user, case, **fields):
    return consultation_log(
        viewer=viewer_for(user),
        case=case,
        fields={"method": "phone", "summary": "電話で近況を聞いた", **fields},
    )


class TestQuickEntry:
    def test_a_phone_call_is_logged_and_the_case_shows_its_last_and_next_contact(
        self, client, tanaka, yamamoto_case
    ):
        login_as(client, tanaka)
        next_week = today() + datetime.timedelta(days=7)

        response = client.post(
            new_url(yamamoto_case),
            quick_data(next_contact_on=next_week.isoformat(), tags="家族、就労, 面談，家族"),
        )

        assert response.status_code == 302
        assert response["Location"] == reverse(
            "cases:client", args=[yamamoto_case.client.public_id]
        )
        record = Consultation.objects.get()
        assert record.summary == "母親から電話。本人は変わりなし"
        assert record.method == "phone"
        assert record.tags == ["家族", "就労", "面談"]
        assert list(record.staff.all()) == [tanaka]
        yamamoto_case.refresh_from_db()
        assert yamamoto_case.last_contact_on == today()
        assert yamamoto_case.next_contact_on == next_week

    def test_the_form_opens_with_the_summary_focused_and_everything_else_filled_in(
        self, client, tanaka, yamamoto_case
    ):
        log(tanaka, yamamoto_case, with_client=True)  # 山本 has been met: "with the client" on
        login_as(client, tanaka)

        form = client.get(new_url(yamamoto_case), **HTMX).text

        assert 'name="summary"' in form
        assert "autofocus" in form.split('name="summary"')[1].split(">")[0]
        assert '<option value="phone" selected>' in form
        assert f'value="{today().isoformat()}"' in form
        assert re.search(r'<input[^>]*name="with_client"[^>]*checked', form)
        assert re.search(rf'<input[^>]*name="staff"[^>]*value="{tanaka.pk}"[^>]*checked', form)
        # The last field is a one-line input, so Enter there saves.
        last_input = form.rsplit("<input", 1)[1]
        assert 'name="tags"' in last_input
        assert 'type="text"' in last_input

    def test_htmx_gets_the_partial_a_fresh_form_a_message_and_the_trigger(
        self, client, tanaka, yamamoto_case
    ):
        login_as(client, tanaka)

        response = client.post(
            new_url(yamamoto_case), quick_data(summary="就労体験の見学日を調整"), **HTMX
        )

        assert response.status_code == 200
        assert response["HX-Trigger"] == "consultation-logged"
        assert "<html" not in response.text
        assert 'class="quick-consultation"' in response.text
        assert 'role="status"' in response.text
        assert "就労体験の見学日を調整" in response.text  # in the message …
        assert 'value="就労体験の見学日を調整"' not in response.text  # … not in the fresh form
        record = Consultation.objects.get()
        assert reverse("cases:consultation", args=[record.public_id]) in response.text

    def test_a_validation_error_keeps_what_was_typed_and_saves_nothing(
        self, client, tanaka, yamamoto_case
    ):
        login_as(client, tanaka)
        yesterday = today() - datetime.timedelta(days=1)

        response = client.post(
            new_url(yamamoto_case),
            quick_data(
                summary="母親から電話。来週また連絡する",
                next_contact_on=yesterday.isoformat(),
                tags="家族、通院",
            ),
            **HTMX,
        )

        assert response.status_code == 200
        assert "HX-Trigger" not in response
        assert 'value="母親から電話。来週また連絡する"' in response.text
        assert 'value="家族、通院"' in response.text
        assert 'role="alert"' in response.text
        # The message sits under the date, and the cursor goes there.
        assert "invalid-feedback" in response.text
        assert re.search(r'<input[^>]*name="next_contact_on"[^>]*autofocus', response.text)
        assert not re.search(r'<input[^>]*name="summary"[^>]*autofocus', response.text)
        assert not Consultation.objects.exists()
        yamamoto_case.refresh_from_db()
        assert yamamoto_case.next_contact_on is None

    def test_an_empty_summary_is_refused_in_japanese(self, client, tanaka, yamamoto_case):
        login_as(client, tanaka)

        response = client.post(new_url(yamamoto_case), quick_data(summary="", tags="家族"), **HTMX)

        assert "このフィールドは必須です。" in response.text
        assert 'value="家族"' in response.text
        assert not Consultation.objects.exists()

    def test_the_family_member_choice_lists_only_the_clients_household(
        self, client, tanaka, yamamoto, yamamoto_case
    ):
        viewer = viewer_for(tanaka)
        household_save(viewer=viewer, client=yamamoto, postal_code="", address="長野市", note="")
        yamamoto.refresh_from_db()
        mother = household_member_save(
            viewer=viewer,
            client=yamamoto,
            member=None,
            fields={"name": "山本 ハル", "relationship": "mother", "birth_year": 1944},
        )
        other = client_create(
            viewer=viewer, fields={"full_name": "木村 次郎", "full_name_kana": "キムラ ジロウ"}
        )
        household_save(viewer=viewer, client=other, postal_code="", address="松本市", note="")
        other.refresh_from_db()
        stranger = household_member_save(
            viewer=viewer,
            client=other,
            member=None,
            fields={"name": "木村 トメ", "relationship": "mother", "birth_year": 1940},
        )
        login_as(client, tanaka)

        form = client.get(new_url(yamamoto_case), **HTMX).text
        refused = client.post(
            new_url(yamamoto_case),
            quick_data(with_client="", family_member=stranger.pk),
            **HTMX,
        )
        accepted = client.post(
            new_url(yamamoto_case), quick_data(with_client="", family_member=mother.pk), **HTMX
        )

        assert f"山本 ハル（{ja('Mother')}）" in form
        assert "木村 トメ" not in form
        assert "HX-Trigger" not in refused
        assert accepted["HX-Trigger"] == "consultation-logged"
        assert Consultation.objects.get().family_member == mother

    @pytest.mark.parametrize("typed", ["+7", "＋７", "7日後"])
    def test_the_next_contact_can_be_typed_as_days_from_today(
        self, client, tanaka, yamamoto_case, typed
    ):
        login_as(client, tanaka)

        client.post(new_url(yamamoto_case), quick_data(next_contact_on=typed), **HTMX)

        assert Consultation.objects.get().next_contact_on == today() + datetime.timedelta(days=7)

    def test_a_date_that_does_not_exist_is_refused_and_kept(self, client, tanaka, yamamoto_case):
        login_as(client, tanaka)

        response = client.post(new_url(yamamoto_case), quick_data(next_contact_on="12/45"), **HTMX)

        assert ja("Enter a date like 2026-12-01, 12/1 or +7.") in response.text
        assert 'value="12/45"' in response.text
        assert not Consultation.objects.exists()

    def test_a_day_without_a_year_is_the_nearest_one_in_the_fields_direction(self):
        def november_24():
            return datetime.date(2026, 11, 24)

        next_contact = TypedDateField(direction="future", today=november_24)
        occurred = TypedDateField(direction="past", today=november_24)

        assert next_contact.clean("1/10") == datetime.date(2027, 1, 10)
        assert next_contact.clean("１２月１日") == datetime.date(2026, 12, 1)
        assert occurred.clean("12/1") == datetime.date(2025, 12, 1)
        assert occurred.clean("11/20") == datetime.date(2026, 11, 20)

    def test_tags_may_be_separated_by_commas_or_japanese_commas(self):
        assert split_tags(" 家族, 就労、面談，家族 ､通院,, ") == ["家族", "就労", "面談", "通院"]

    def test_a_closed_case_takes_no_new_record(self, client, tanaka, yamamoto_case):
        from cases.services import case_close

        case_close(
            viewer=viewer_for(tanaka),
            case=yamamoto_case,
            on=today(),
            outcomes=["life_stabilised"],
            reason="生活が安定",
        )
        login_as(client, tanaka)

        response = client.post(new_url(yamamoto_case), quick_data(), **HTMX)

        assert response.status_code == 200
        assert 'role="alert"' in response.text
        assert not Consultation.objects.exists()


class TestFirstDirectContact:
    def test_the_first_consultation_with_the_client_records_the_first_direct_contact(
        self, client, tanaka, yamamoto_case
    ):
        yamamoto = yamamoto_case.client
        assert not yamamoto.is_contacted  # 本人未接触: known through the family so far
        login_as(client, tanaka)

        client.post(new_url(yamamoto_case), quick_data(with_client="on"), **HTMX)

        yamamoto.refresh_from_db()
        assert yamamoto.first_direct_contact_on == today()

    def test_a_call_with_the_family_only_leaves_the_client_not_yet_contacted(
        self, client, tanaka, yamamoto_case
    ):
        login_as(client, tanaka)

        client.post(new_url(yamamoto_case), quick_data(with_client=""), **HTMX)

        yamamoto = yamamoto_case.client
        yamamoto.refresh_from_db()
        assert Consultation.objects.count() == 1
        assert yamamoto.first_direct_contact_on is None

    def test_before_the_first_contact_with_the_client_is_not_ticked_by_default(
        self, tanaka, yamamoto_case
    ):
        # Most calls about a person not yet met are with the family; a ticked box would
        # record a first direct contact that did not happen.
        form = QuickConsultationForm.for_case(yamamoto_case, viewer_for(tanaka))

        assert form["with_client"].initial is False


class TestCorrections:
    def test_a_correction_keeps_the_earlier_text_with_who_and_when(
        self, client, tanaka, yamada, yamamoto_case
    ):
        record = log(tanaka, yamamoto_case, summary="母親と電話", notes="本人は昼夜逆転。")
        login_as(client, yamada)
        url = reverse("cases:consultation_edit", args=[record.public_id])
        form = client.get(url)
        assert form.status_code == 200
        assert "本人は昼夜逆転。" in form.text

        response = client.post(
            url,
            {
                "occurred_on": record.occurred_on.isoformat(),
                "method": "phone",
                "with_client": "",
                "staff": [tanaka.pk, yamada.pk],
                "summary": "母親と電話（父親も同席）",
                "notes": "本人は昼夜逆転。父親が就労を心配している。",
                "tags": "家族",
                "reason": "父親の同席を書き漏らした",
            },
        )

        assert response.status_code == 302
        record.refresh_from_db()
        assert record.summary == "母親と電話（父親も同席）"
        assert set(record.staff.all()) == {tanaka, yamada}
        revision = ConsultationRevision.objects.get()
        assert revision.edited_by == yamada
        assert revision.previous["summary"] == "母親と電話"
        assert revision.previous["notes"] == "本人は昼夜逆転。"
        assert revision.reason == "父親の同席を書き漏らした"

        history = client.get(reverse("cases:consultation", args=[record.public_id])).text
        local = timezone.localtime(revision.edited_at)
        assert local.strftime("%Y-%m-%d %H:%M") in history
        assert "山田 京子" in history
        assert "父親の同席を書き漏らした" in history
        assert "母親と電話</td>" in history  # the earlier text …
        assert "母親と電話（父親も同席）</td>" in history  # … and what it became

    def test_two_corrections_show_each_step(self, client, tanaka, yamamoto_case):
        viewer = viewer_for(tanaka)
        record = log(tanaka, yamamoto_case, summary="一回目")
        for text in ("二回目", "三回目"):
            consultation_correct(
                viewer=viewer,
                consultation=record,
                fields={"summary": text},
                staff=[tanaka],
            )
        login_as(client, tanaka)

        history = client.get(reverse("cases:consultation", args=[record.public_id])).text

        newest, oldest = history.split("<article")[1:]
        assert "二回目</td>" in newest
        assert "三回目</td>" in newest
        assert "一回目</td>" in oldest
        assert "二回目</td>" in oldest

    def test_saving_without_a_change_writes_no_revision(self, client, tanaka, yamamoto_case):
        record = log(tanaka, yamamoto_case, tags=["家族"])
        login_as(client, tanaka)

        client.post(
            reverse("cases:consultation_edit", args=[record.public_id]),
            {
                "occurred_on": record.occurred_on.isoformat(),
                "method": "phone",
                "with_client": "on",
                "staff": [tanaka.pk],
                "summary": record.summary,
                "tags": "家族",
                "reason": "",
            },
        )

        assert not ConsultationRevision.objects.exists()

    def test_only_the_agencys_caseworkers_and_supervisors_can_be_named_as_staff(
        self, client, tanaka, ito, yamamoto_case
    ):
        record = log(tanaka, yamamoto_case)
        login_as(client, tanaka)

        form = client.get(reverse("cases:consultation_edit", args=[record.public_id])).text

        assert "田中 一郎" in form
        assert "伊藤 健" not in form

    @pytest.mark.parametrize("corrections", [1, 6])
    def test_the_record_page_costs_the_same_with_1_or_6_corrections(
        self, client, tanaka, yamamoto_case, corrections
    ):
        viewer = viewer_for(tanaka)
        record = log(tanaka, yamamoto_case)
        for number in range(corrections):
            consultation_correct(
                viewer=viewer,
                consultation=record,
                fields={"summary": f"訂正 {number}"},
                staff=[tanaka],
            )
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("cases:consultation", args=[record.public_id]))

        assert response.status_code == 200
        assert response.text.count("<article") == corrections
        # 1 session, 2 user, 3 membership + agency, 4 the record (case, client, family member,
        # agency, author joined), 5 its staff, 6 its revisions with their authors
        assert len(queries) == 6, "\n".join(q["sql"][:150] for q in queries)


class TestWhoMayOpenIt:
    @pytest.fixture
    def record(self, tanaka, yamamoto_case):
        return log(tanaka, yamamoto_case)

    @pytest.mark.parametrize("persona", ["sato", "suzuki", "ito", "kato"])
    def test_others_get_a_404_for_the_case_and_the_record(self, request, client, record, persona):
        login_as(client, request.getfixturevalue(persona))
        urls = [
            new_url(record.case),
            reverse("cases:consultation", args=[record.public_id]),
            reverse("cases:consultation_edit", args=[record.public_id]),
        ]

        assert [client.get(url).status_code for url in urls] == [404, 404, 404]
        assert client.post(urls[0], quick_data(), **HTMX).status_code == 404
        assert client.post(urls[2], quick_data(reason="x")).status_code == 404
        assert Consultation.objects.count() == 1
        assert not ConsultationRevision.objects.exists()

    def test_a_colleague_at_the_same_agency_opens_it(self, client, yamada, record):
        login_as(client, yamada)

        response = client.get(reverse("cases:consultation", args=[record.public_id]))

        assert response.status_code == 200
        assert record.summary in response.text
