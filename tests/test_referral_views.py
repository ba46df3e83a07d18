"""The referral pages: the form that offers only what the person consented to (and records a
missing consent without losing what was typed), sending and answering through the pages with
the service's refusals shown, what the receiving agency sees, the printable introduction, the
29条/30条 records (per agency, per client, CSV), who gets a 404, and flat query counts.

State is built through the services; the pages are driven as 田中 (station A, sender),
鈴木 (supervisor, 自立相談 B, receiver) and 佐藤 (unrelated agency C).
"""

import csv
import datetime
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from cases.services import case_open, client_create, household_save
from consent.models import Consent, DataCategory
from consent.services import consent_record, consent_withdraw
from referrals.models import ConfirmationRecord, ProvisionRecord, Referral, Status
from referrals.services import (
    referral_accept,
    referral_decline,
    referral_draft,
    referral_message_post,
    referral_send,
)
from tests.conftest import login_as, viewer_for

pytestmark = pytest.mark.django_db

BASIC, CONSULTATION, HEALTH = DataCategory.BASIC, DataCategory.CONSULTATION, DataCategory.HEALTH


def ja(message: str) -> str:
    """What the page shows for ``message`` (Japanese once the catalogue has it)."""
    with translation.override("ja"):
        return gettext(message)


def today() -> datetime.date:
    return timezone.localdate()


def give_consent(worker, client, to, categories=(BASIC, CONSULTATION)):
    return consent_record(
        viewer=viewer_for(worker),
        client=client,
        recipient=to,
        purpose="referral",
        categories=list(categories),
        method="written",
    )


def draft(worker, client, to, kind="tsunagi", categories=(BASIC, CONSULTATION)):
    return referral_draft(
        viewer=viewer_for(worker),
        client=client,
        fields={
            "type": kind,
            "to_agency": to,
            "reason": "家計の相談が必要",
            "client_wishes": "お金のことを相談したい",
            "categories": list(categories),
        },
    )


def sent(worker, client, to, categories=(BASIC, CONSULTATION)):
    give_consent(worker, client, to, categories)
    return referral_send(
        viewer=viewer_for(worker), referral=draft(worker, client, to, categories=categories)
    )


def checkbox(html: str, value: str) -> str:
    """The <input> of one category checkbox."""
    match = re.search(rf'<input[^>]*name="categories"[^>]*value="{value}"[^>]*>', html)
    assert match, f"no checkbox for {value}"
    return match.group(0)


def url(name: str, referral: Referral) -> str:
    return reverse(f"referrals:{name}", args=[referral.public_id])


# Typed into the form, with the full-width space and line break the person's words had.
TYPED = {
    "type": "tsunagi",
    "reason": "世帯の家計が苦しく、複合的な課題がある",
    "client_wishes": "\u3000母の年金だけでは不安。\nお金のことを相談したい",
    "urgency": "soon",
    "message": "初回は電話ではなく手紙でお願いします",
}


class TestTheForm:
    def test_it_offers_only_the_categories_a_valid_consent_covers(
        self, client, tanaka, yamamoto, jiritsu_b
    ):
        give_consent(tanaka, yamamoto, jiritsu_b, [BASIC, CONSULTATION])
        login_as(client, tanaka)

        response = client.get(
            reverse("referrals:new", args=[yamamoto.public_id]), {"to": str(jiritsu_b.public_id)}
        )

        html = response.text
        assert response.status_code == 200
        assert "disabled" not in checkbox(html, BASIC)
        assert "disabled" not in checkbox(html, CONSULTATION)
        for missing in (HEALTH, DataCategory.HOUSEHOLD, DataCategory.FINANCE, DataCategory.PLAN):
            assert "disabled" in checkbox(html, missing)
        assert html.count(f'name="record_consent" value="{HEALTH}"') == 1
        assert ja("No consent — record it") in html

    def test_the_categories_follow_the_chosen_agency(
        self, client, tanaka, yamamoto, jiritsu_b, agency_c
    ):
        give_consent(tanaka, yamamoto, jiritsu_b, [BASIC])
        login_as(client, tanaka)
        new = reverse("referrals:new", args=[yamamoto.public_id])

        to_b = client.get(
            new,
            {"partial": "categories", "type": "tsunagi", "to_agency": str(jiritsu_b.public_id)},
            headers={"HX-Request": "true"},
        )
        to_c = client.get(
            new,
            {"partial": "categories", "type": "tsunagi", "to_agency": str(agency_c.public_id)},
            headers={"HX-Request": "true"},
        )

        assert to_b.text.lstrip().startswith('<fieldset id="categories"')
        assert "disabled" not in checkbox(to_b.text, BASIC)
        assert "disabled" in checkbox(to_c.text, BASIC)

    def test_an_introduction_offers_nothing_to_send(self, client, tanaka, yamamoto, jiritsu_b):
        login_as(client, tanaka)

        response = client.get(
            reverse("referrals:new", args=[yamamoto.public_id]),
            {
                "partial": "categories",
                "type": "introduction",
                "to_agency": str(jiritsu_b.public_id),
            },
            headers={"HX-Request": "true"},
        )

        assert 'name="categories"' not in response.text

    def test_a_stale_page_cannot_save_a_category_without_consent(
        self, client, tanaka, yamamoto, jiritsu_b
    ):
        give_consent(tanaka, yamamoto, jiritsu_b, [BASIC])
        login_as(client, tanaka)

        response = client.post(
            reverse("referrals:new", args=[yamamoto.public_id]),
            TYPED | {"to_agency": str(jiritsu_b.public_id), "categories": [BASIC, HEALTH]},
        )

        assert response.status_code == 200
        assert not Referral.objects.exists()
        assert response.context["form"]["client_wishes"].value() == TYPED["client_wishes"]

    def test_saving_keeps_the_persons_words_exactly(self, client, tanaka, yamamoto, jiritsu_b):
        give_consent(tanaka, yamamoto, jiritsu_b, [BASIC])
        login_as(client, tanaka)

        response = client.post(
            reverse("referrals:new", args=[yamamoto.public_id]),
            TYPED | {"to_agency": str(jiritsu_b.public_id), "categories": [BASIC]},
        )

        referral = Referral.objects.get()
        assert response["Location"] == url("detail", referral)
        assert referral.status == Status.DRAFT
        assert referral.client_wishes == TYPED["client_wishes"]
        assert referral.categories == [BASIC]
        assert referral.from_worker == tanaka

    def test_the_persons_wishes_are_required(self, client, tanaka, yamamoto, jiritsu_b):
        login_as(client, tanaka)

        response = client.post(
            reverse("referrals:new", args=[yamamoto.public_id]),
            TYPED
            | {"type": "introduction", "to_agency": str(jiritsu_b.public_id)}
            | {"client_wishes": ""},
        )

        assert response.status_code == 200
        assert escape(ja("Write the person's wishes in their own words.")) in response.text
        assert not Referral.objects.exists()

    def test_recording_a_missing_consent_keeps_what_was_typed(
        self, client, tanaka, yamamoto, jiritsu_b
    ):
        login_as(client, tanaka)
        new = reverse("referrals:new", args=[yamamoto.public_id])

        # No consent at all yet: the worker types the referral, then asks to record one.
        response = client.post(
            new,
            TYPED | {"to_agency": str(jiritsu_b.public_id), "record_consent": CONSULTATION},
        )

        referral = Referral.objects.get()
        assert referral.status == Status.DRAFT
        assert referral.reason == TYPED["reason"]
        assert referral.client_wishes == TYPED["client_wishes"]
        assert referral.message == TYPED["message"]
        target = urlparse(response["Location"])
        assert target.path == reverse("consent:new", args=[yamamoto.public_id])
        query = parse_qs(target.query)
        assert query["next"] == [url("edit", referral)]
        assert query["recipient"] == [str(jiritsu_b.public_id)]
        assert sorted(query["category"]) == sorted([BASIC, CONSULTATION])

        # The consent form comes prefilled; saving it goes back to the draft.
        consent_page = client.get(response["Location"])
        form = consent_page.context["form"]
        assert sorted(form["categories"].value()) == sorted([BASIC, CONSULTATION])
        saved = client.post(
            response["Location"],
            {
                "recipient": str(jiritsu_b.public_id),
                "purpose": "referral",
                "categories": [BASIC, CONSULTATION],
                "method": "oral",
                "given_by": "client",
                "obtained_on": today().isoformat(),
                "next": query["next"][0],
            },
        )
        assert saved["Location"] == url("edit", referral)
        assert Consent.objects.get().categories == [BASIC, CONSULTATION]

        # Back on the draft: everything typed is there, and the new consent's categories are
        # offered and ticked.
        edit = client.get(saved["Location"])
        assert edit.status_code == 200
        assert edit.context["form"]["reason"].value() == TYPED["reason"]
        assert edit.context["form"]["client_wishes"].value() == TYPED["client_wishes"]
        assert edit.context["form"]["message"].value() == TYPED["message"]
        assert edit.context["form"]["urgency"].value() == "soon"
        for category in (BASIC, CONSULTATION):
            assert "disabled" not in checkbox(edit.text, category)
            assert "checked" in checkbox(edit.text, category)
        assert "disabled" in checkbox(edit.text, HEALTH)

        # And it can be saved and sent as it is.
        client.post(
            url("edit", referral),
            {
                key: edit.context["form"][key].value()
                for key in ("type", "to_agency", "reason", "client_wishes", "urgency", "message")
            }
            | {"categories": [BASIC, CONSULTATION]},
        )
        client.post(url("send", referral))
        referral.refresh_from_db()
        assert referral.status == Status.SENT
        assert referral.client_wishes == TYPED["client_wishes"]

    def test_only_a_draft_is_edited_and_only_by_the_sender(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        referral = sent(tanaka, yamamoto_case.client, jiritsu_b)

        login_as(client, tanaka)
        assert client.get(url("edit", referral))["Location"] == url("detail", referral)
        login_as(client, suzuki)
        assert client.get(url("edit", referral)).status_code == 404


class TestSending:
    def test_sending_without_consent_shows_the_refusal_and_sends_nothing(
        self, client, tanaka, yamamoto_case, jiritsu_b
    ):
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, tanaka)

        response = client.post(url("send", referral))

        assert response.status_code == 200
        assert "有効な本人同意がありません" in response.text
        assert "data-refusal" in response.text
        referral.refresh_from_db()
        assert referral.status == Status.DRAFT
        assert referral.snapshot == {}
        assert not ProvisionRecord.objects.exists()

    def test_a_consent_withdrawn_after_drafting_refuses_the_sending(
        self, client, tanaka, yamamoto_case, jiritsu_b
    ):
        consent = give_consent(tanaka, yamamoto_case.client, jiritsu_b)
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b)
        consent_withdraw(viewer=viewer_for(tanaka), consent=consent, how="電話で本人から")
        login_as(client, tanaka)

        response = client.post(url("send", referral))

        assert "有効な本人同意がありません" in response.text
        assert Referral.objects.get().status == Status.DRAFT

    def test_sending_passes_the_snapshot_and_writes_the_provision_record(
        self, client, tanaka, yamamoto_case, jiritsu_b
    ):
        give_consent(tanaka, yamamoto_case.client, jiritsu_b)
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, tanaka)

        response = client.post(url("send", referral))

        assert response["Location"] == url("detail", referral)
        referral.refresh_from_db()
        assert referral.status == Status.SENT
        assert referral.snapshot["basic"]["full_name"] == "山本 太郎"
        assert ProvisionRecord.objects.get().referral == referral
        page = client.get(url("detail", referral)).text
        assert ja("Provision record (Art. 29)") in page

    def test_the_sender_withdraws_before_an_answer(self, client, tanaka, yamamoto_case, jiritsu_b):
        referral = sent(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, tanaka)

        client.post(url("withdraw", referral))

        assert Referral.objects.get().status == Status.WITHDRAWN

    def test_sending_and_withdrawing_are_post_only(self, client, tanaka, yamamoto_case, jiritsu_b):
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, tanaka)

        for name in ("send", "withdraw", "accept", "decline", "first_contact", "message_post"):
            assert client.get(url(name, referral)).status_code == 405


class TestTheReceivingSide:
    @pytest.fixture
    def referral(self, tanaka, yamamoto_case, jiritsu_b):
        household_save(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            postal_code="380-0000",
            address="長野市",
            note="",
        )
        return sent(tanaka, yamamoto_case.client, jiritsu_b)

    def test_the_recipient_sees_what_was_sent_labelled_by_category(self, client, suzuki, referral):
        login_as(client, suzuki)

        response = client.get(url("detail", referral))

        html = response.text
        assert response.status_code == 200
        assert "山本 太郎" in html
        assert "090-0000-1111" in html
        assert 'data-snapshot="basic"' in html
        assert 'data-snapshot="consultation"' in html
        assert 'data-snapshot="household"' not in html  # not consented, not sent
        assert str(DataCategory.BASIC.label) in html
        assert "お金のことを相談したい" in html

    def test_a_withdrawal_before_acceptance_hides_what_was_sent(
        self, client, tanaka, suzuki, referral
    ):
        consent_withdraw(
            viewer=viewer_for(tanaka), consent=referral.client.consents.get(), how="電話で"
        )
        login_as(client, suzuki)

        html = client.get(url("detail", referral)).text

        assert "090-0000-1111" not in html
        assert 'data-withheld="basic"' in html

    def test_a_draft_is_not_visible_to_the_recipient(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)

        assert client.get(url("detail", referral)).status_code == 404

    def test_accepting_through_the_page_creates_the_recipients_record(
        self, client, suzuki, referral
    ):
        login_as(client, suzuki)

        response = client.post(url("accept", referral), {"assignee": ""})

        assert response["Location"] == url("detail", referral)
        referral.refresh_from_db()
        assert referral.status == Status.ACCEPTED
        assert referral.receiving_client.full_name == "山本 太郎"
        assert referral.assignee == suzuki
        assert ConfirmationRecord.objects.get().referral == referral
        page = client.get(url("detail", referral)).text
        assert reverse("cases:client", args=[referral.receiving_client.public_id]) in page
        assert ja("Confirmation record (Art. 30)") in page

    def test_accepting_can_assign_a_caseworker(self, client, suzuki, jiritsu_b, referral):
        from agencies.models import Role
        from agencies.services import membership_ensure
        from tests.conftest import make_user

        kobayashi = make_user("kobayashi", "小林 相談員")
        membership = membership_ensure(
            actor=None, user=kobayashi, agency=jiritsu_b, role=Role.CASEWORKER
        )
        login_as(client, suzuki)

        client.post(url("accept", referral), {"assignee": membership.pk})

        referral.refresh_from_db()
        assert referral.assignee == kobayashi
        assert referral.receiving_client.cases.get().primary_worker == kobayashi

    def test_an_acceptance_after_a_withdrawal_is_refused_on_the_page(
        self, client, tanaka, suzuki, referral
    ):
        consent_withdraw(
            viewer=viewer_for(tanaka), consent=referral.client.consents.get(), how="電話で"
        )
        login_as(client, suzuki)

        response = client.post(url("accept", referral), {"assignee": ""})

        assert response.status_code == 200
        assert "撤回" in response.text
        referral.refresh_from_db()
        assert referral.status == Status.SENT
        assert not ConfirmationRecord.objects.exists()

    def test_someone_who_answered_first_wins_and_the_page_says_so(
        self, client, suzuki, jiritsu_b, referral
    ):
        from agencies.models import Role
        from agencies.services import membership_ensure
        from tests.conftest import make_user

        watanabe = make_user("watanabe", "渡辺 主任")
        membership_ensure(actor=None, user=watanabe, agency=jiritsu_b, role=Role.SUPERVISOR)
        login_as(client, suzuki)
        page = client.get(url("detail", referral))  # 鈴木 opens the page …
        assert page.context["can_answer"]
        referral_decline(viewer=viewer_for(watanabe), referral=referral, reason="担当地域外")

        response = client.post(url("accept", referral), {"assignee": ""})  # … and clicks

        assert response.status_code == 200
        assert "すでに" in response.text
        assert 'data-referral-status="declined"' in response.text
        assert Referral.objects.get().status == Status.DECLINED

    def test_declining_needs_a_reason(self, client, suzuki, referral):
        login_as(client, suzuki)

        empty = client.post(url("decline", referral), {"reason": ""})
        assert empty.status_code == 200
        assert Referral.objects.get().status == Status.SENT

        client.post(url("decline", referral), {"reason": "担当地域外のため"})
        referral.refresh_from_db()
        assert referral.status == Status.DECLINED
        assert referral.decline_reason == "担当地域外のため"

    def test_a_declined_referral_shows_the_recipient_nothing_of_the_person(
        self, client, suzuki, referral
    ):
        referral_decline(viewer=viewer_for(suzuki), referral=referral, reason="担当地域外")
        login_as(client, suzuki)

        html = client.get(url("detail", referral)).text

        assert "090-0000-1111" not in html

    def test_confirming_the_first_interview_completes_it(self, client, suzuki, referral):
        referral_accept(viewer=viewer_for(suzuki), referral=referral)
        login_as(client, suzuki)

        future = client.post(
            url("first_contact", referral),
            {"on": (today() + datetime.timedelta(days=1)).isoformat()},
        )
        assert future.status_code == 200
        assert Referral.objects.get().status == Status.ACCEPTED

        client.post(url("first_contact", referral), {"on": today().isoformat()})
        referral.refresh_from_db()
        assert referral.status == Status.COMPLETED
        assert referral.first_contact_on == today()

    def test_the_sender_cannot_answer_its_own_referral(self, client, tanaka, referral):
        login_as(client, tanaka)

        response = client.post(url("accept", referral), {"assignee": ""})

        assert response.status_code == 403
        assert Referral.objects.get().status == Status.SENT

    def test_the_two_agencies_write_to_each_other(self, client, tanaka, suzuki, referral):
        login_as(client, suzuki)
        client.post(url("message_post", referral), {"body": "来週お電話します"})
        login_as(client, tanaka)

        response = client.post(
            url("message_post", referral),
            {"body": "手紙でお願いします"},
            headers={"HX-Request": "true"},
        )

        assert response.text.lstrip().startswith('<div id="thread">')
        assert "来週お電話します" in response.text
        assert "手紙でお願いします" in response.text
        assert referral.messages.count() == 2


class TestTheThreadAfterAcceptance:
    """What the sender writes after acceptance is not what crossed at sending: the receiver
    reads it only while the person's consent covers 相談内容・支援経過, and the sender cannot
    write it at all without that consent."""

    BEFORE = "ZQ受理前の連絡QZ"
    LATER = "ZQ受理後の連絡QZ"
    REPLY = "ZQ受け手の返信QZ"

    @pytest.fixture
    def accepted(self, tanaka, suzuki, yamamoto_case, jiritsu_b):
        referral = sent(tanaka, yamamoto_case.client, jiritsu_b)
        referral_message_post(viewer=viewer_for(tanaka), referral=referral, body=self.BEFORE)
        referral = referral_accept(viewer=viewer_for(suzuki), referral=referral)
        referral_message_post(viewer=viewer_for(tanaka), referral=referral, body=self.LATER)
        referral_message_post(viewer=viewer_for(suzuki), referral=referral, body=self.REPLY)
        return referral

    def withdraw(self, tanaka, referral):
        consent_withdraw(
            viewer=viewer_for(tanaka), consent=referral.client.consents.get(), how="電話で"
        )

    def test_the_receiver_reads_a_later_message_while_the_consent_covers_it(
        self, client, suzuki, accepted
    ):
        login_as(client, suzuki)

        response = client.get(url("detail", accepted))

        for body in (self.BEFORE, self.LATER, self.REPLY):
            assert body in response.text
        assert "data-thread-withheld" not in response.text

    def test_a_withdrawal_hides_the_later_message_on_the_next_request(
        self, client, tanaka, suzuki, accepted
    ):
        login_as(client, suzuki)
        assert self.LATER in client.get(url("detail", accepted)).text

        self.withdraw(tanaka, accepted)
        response = client.get(url("detail", accepted))
        fragment = client.post(
            url("message_post", accepted), {"body": ""}, headers={"HX-Request": "true"}
        )

        for html in (response.text, fragment.text):
            assert self.LATER not in html
            # what crossed (the thread before acceptance) stays, as do our own messages
            assert self.BEFORE in html
            assert self.REPLY in html
            assert "data-thread-withheld" in html
        assert response.context["thread_withheld"] == 1

    def test_a_consent_not_covering_consultations_hides_the_later_message(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        referral = referral_accept(
            viewer=viewer_for(suzuki),
            referral=sent(tanaka, yamamoto_case.client, jiritsu_b, categories=[BASIC]),
        )
        # The consent is widened, the message written, then the person narrows it again.
        wider = give_consent(tanaka, yamamoto_case.client, jiritsu_b, [BASIC, CONSULTATION])
        referral_message_post(viewer=viewer_for(tanaka), referral=referral, body=self.LATER)
        consent_withdraw(viewer=viewer_for(tanaka), consent=wider, how="電話で")
        login_as(client, suzuki)

        response = client.get(url("detail", referral))

        assert self.LATER not in response.text
        assert response.context["thread_withheld"] == 1

    def test_the_look_at_a_later_message_is_logged_on_the_consent_basis(
        self, client, suzuki, accepted
    ):
        from audit.models import AccessEntry

        login_as(client, suzuki)

        client.get(url("detail", accepted))

        entries = AccessEntry.objects.filter(user=suzuki, client=accepted.client).order_by("id")
        assert [(e.outcome, e.basis, e.categories, e.path) for e in entries] == [
            ("shown", "provided", [BASIC, CONSULTATION], url("detail", accepted)),
            ("shown", "consent", [CONSULTATION], url("detail", accepted)),
        ]

    def test_nothing_more_is_logged_once_the_later_message_is_hidden(
        self, client, tanaka, suzuki, accepted
    ):
        from audit.models import AccessEntry

        self.withdraw(tanaka, accepted)
        login_as(client, suzuki)

        client.get(url("detail", accepted))

        entries = AccessEntry.objects.filter(user=suzuki, client=accepted.client)
        assert [(e.basis, e.categories) for e in entries] == [("provided", [BASIC, CONSULTATION])]

    def test_the_sender_cannot_post_after_a_withdrawal_and_the_text_is_kept(
        self, client, tanaka, accepted
    ):
        self.withdraw(tanaka, accepted)
        login_as(client, tanaka)
        typed = "ZQ撤回後に書いた連絡QZ\n来週の面談について"

        response = client.post(url("message_post", accepted), {"body": typed})
        fragment = client.post(
            url("message_post", accepted), {"body": typed}, headers={"HX-Request": "true"}
        )

        assert response.status_code == 200
        assert fragment.status_code == 200
        for page in (response, fragment):
            form = page.context["message_form"]
            assert "body" in form.errors
            assert form["body"].value() == typed
            assert escape(typed) in page.text  # the textarea keeps it
        assert not accepted.messages.filter(body__startswith="ZQ撤回後").exists()

    def test_the_sender_cannot_post_without_a_consent_covering_consultations(
        self, tanaka, yamamoto_case, jiritsu_b
    ):
        from django.core.exceptions import ValidationError

        referral = sent(tanaka, yamamoto_case.client, jiritsu_b, categories=[BASIC])

        with pytest.raises(ValidationError) as error:
            referral_message_post(viewer=viewer_for(tanaka), referral=referral, body="連絡")

        assert "body" in error.value.message_dict
        assert not referral.messages.exists()

    def test_the_receiver_still_writes_to_the_sender_after_a_withdrawal(
        self, client, tanaka, suzuki, accepted
    ):
        self.withdraw(tanaka, accepted)
        login_as(client, suzuki)

        response = client.post(url("message_post", accepted), {"body": "初回面談を終えました"})

        assert response.status_code == 302
        assert accepted.messages.filter(body="初回面談を終えました").exists()


class TestWhoSeesAReferral:
    @pytest.mark.parametrize("persona", ["sato", "ito", "kato"])
    def test_anyone_outside_the_two_agencies_gets_a_404(
        self, request, client, tanaka, yamamoto_case, jiritsu_b, persona
    ):
        referral = sent(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, request.getfixturevalue(persona))

        for name in ("detail", "edit", "print"):
            assert client.get(url(name, referral)).status_code == 404, name
        for name in ("send", "withdraw", "accept", "decline", "first_contact", "message_post"):
            assert client.post(url(name, referral), {"body": "x"}).status_code == 404, name
        assert Referral.objects.get().status == Status.SENT

    def test_an_anonymous_visitor_is_sent_to_log_in(self, client, tanaka, yamamoto_case, jiritsu_b):
        referral = sent(tanaka, yamamoto_case.client, jiritsu_b)

        response = client.get(url("detail", referral))

        assert response["Location"].startswith(reverse("login"))


class TestIntroduction:
    def test_it_sends_nothing_and_prints_the_agencys_details_for_the_person(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        jiritsu_b.phone = "026-000-0000"
        jiritsu_b.opening_hours = "平日 9:00〜17:00"
        jiritsu_b.public_note = "長野駅から徒歩5分。訪問もできます。"
        jiritsu_b.save()
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b, kind="introduction")
        login_as(client, tanaka)

        client.post(url("send", referral))
        printed = client.get(url("print", referral))

        referral.refresh_from_db()
        assert referral.status == Status.SENT
        assert referral.snapshot == {}
        assert not ProvisionRecord.objects.exists()
        html = printed.text
        assert printed.status_code == 200
        assert "size: A4" in html
        assert "navbar" not in html
        assert reverse("cases:caseload") not in html
        for text in ("自立相談支援機関B", "026-000-0000", "平日 9:00〜17:00", "長野駅から徒歩5分"):
            assert text in html
        # The receiving agency is told nothing about the person.
        login_as(client, suzuki)
        assert client.get(url("detail", referral)).status_code == 404


class TestRecords:
    def test_the_csv_lists_the_provision_record(self, client, tanaka, yamamoto_case, jiritsu_b):
        referral = sent(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, tanaka)

        response = client.get(reverse("referrals:records_csv"))

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response.streaming
        body = response.getvalue()
        assert body.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert len(rows) == 2
        record = rows[1]
        assert record[0] == ja("Provision record (Art. 29)")
        assert record[2] == "山本 太郎"
        assert record[4] == "自立相談支援機関B"
        assert str(DataCategory.BASIC.label) in record[5]
        assert str(Consent.objects.get().public_id) in record[6]
        assert record[-1] == str(referral.public_id)

    def test_the_csv_and_the_list_filter_by_name(self, client, tanaka, yamamoto_case, jiritsu_b):
        sent(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, tanaka)

        # POSTed, the list's filter and the CSV's (a name stays out of the URL)
        found = client.post(reverse("referrals:records"), {"q": "やまもと"})
        missed = client.post(reverse("referrals:records"), {"q": "さとう"})
        csv_found = client.post(reverse("referrals:records_csv"), {"q": "やまもと"})
        csv_missed = client.post(reverse("referrals:records_csv"), {"q": "さとう"})

        assert len(found.context["provisions"].items) == 1
        assert missed.context["provisions"].items == []
        assert len(csv_found.getvalue().decode("utf-8-sig").strip().splitlines()) == 2
        assert len(csv_missed.getvalue().decode("utf-8-sig").strip().splitlines()) == 1
        # The filtered page's CSV button posts the name again, as a hidden field.
        csv_form = found.text.split("data-records-csv>")[1].split("</form>")[0]
        assert '<input type="hidden" name="q" value="やまもと">' in csv_form

    def test_another_agency_sees_none_of_them(self, client, tanaka, sato, yamamoto_case, jiritsu_b):
        sent(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, sato)

        response = client.get(reverse("referrals:records"))

        assert response.context["provisions"].items == []
        assert "山本" not in client.get(reverse("referrals:records_csv")).getvalue().decode()

    def test_the_csv_is_byte_for_byte_what_it_was_before_streaming(
        self, client, tanaka, yamamoto_case, jiritsu_b
    ):
        referral = sent(tanaka, yamamoto_case.client, jiritsu_b, categories=[BASIC])
        record = ProvisionRecord.objects.get()
        login_as(client, tanaka)

        body = client.get(reverse("referrals:records_csv")).getvalue()

        provided = timezone.localtime(record.provided_at).strftime("%Y-%m-%d %H:%M")
        consent = Consent.objects.get().public_id
        header = ",".join(
            ja(text)
            for text in (
                "Kind of record",
                "Date and time",
                "Person",
                "Reading",
                "Other agency",
                "Information",
                "Consent / how it was obtained",
                "Recorded by",
                "Referral",
            )
        )
        row = (
            f"{ja('Provision record (Art. 29)')},{provided},山本 太郎,ヤマモト タロウ,"
            f"自立相談支援機関B,{ja(str(DataCategory.BASIC.label))},{consent},田中 一郎,"
            f"{referral.public_id}"
        )
        assert body == f"\ufeff{header}\r\n{row}\r\n".encode()

    def test_a_csv_of_many_records_streams_in_chunks_with_every_row(
        self, client, monkeypatch, tanaka, yamamoto_case, jiritsu_b, agency_c
    ):
        from referrals.views import referrals as views

        monkeypatch.setattr(views, "CSV_ROWS_PER_CHUNK", 2)
        referrals = [
            sent(tanaka, yamamoto_case.client, (jiritsu_b, agency_c)[n % 2], categories=[BASIC])
            for n in range(5)
        ]
        login_as(client, tanaka)

        response = client.get(reverse("referrals:records_csv"))
        chunks = list(response.streaming_content)

        assert response.streaming
        assert len(chunks) == 1 + 3  # the header, then 2 + 2 + 1 rows
        rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
        assert len(rows) == 1 + 5
        assert [row[-1] for row in rows[1:]] == [str(r.public_id) for r in reversed(referrals)]

    @pytest.mark.parametrize("persona", ["ito", "kato"])
    def test_staff_without_client_work_get_a_404(self, request, client, persona):
        login_as(client, request.getfixturevalue(persona))

        assert client.get(reverse("referrals:records")).status_code == 404
        assert client.get(reverse("referrals:records_csv")).status_code == 404

    def test_the_agency_list_pages_newest_first(self, tanaka, yamamoto_case, jiritsu_b, agency_c):
        from referrals.selectors import provision_records_for_agency

        first = sent(tanaka, yamamoto_case.client, jiritsu_b, categories=[BASIC])
        second = sent(tanaka, yamamoto_case.client, agency_c, categories=[BASIC])
        third = referral_send(
            viewer=viewer_for(tanaka),
            referral=draft(tanaka, yamamoto_case.client, jiritsu_b, categories=[BASIC]),
        )
        viewer = viewer_for(tanaka)

        page = provision_records_for_agency(viewer=viewer, size=2)
        rest = provision_records_for_agency(viewer=viewer, size=2, cursor=page.next_cursor)

        assert [r.referral for r in page.items] == [third, second]
        assert [r.referral for r in rest.items] == [first]
        assert not rest.has_next

    def test_the_client_records_page_lists_both_records(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b, agency_c
    ):
        # 自立相談 B accepts 山本 from station A, then refers him on to NPO C.
        accepted = referral_accept(
            viewer=viewer_for(suzuki), referral=sent(tanaka, yamamoto_case.client, jiritsu_b)
        )
        own_record = accepted.receiving_client
        onward = sent(suzuki, own_record, agency_c, categories=[BASIC])
        login_as(client, suzuki)

        response = client.get(reverse("referrals:client_records", args=[own_record.public_id]))

        html = response.text
        assert response.status_code == 200
        assert f'data-record="{onward.public_id}"' in html  # provision to C
        assert f'data-record="{accepted.public_id}"' in html  # confirmation from A
        assert "NPO法人C" in html
        assert "ひきこもり支援ステーションA" in html
        assert "本人の同意" in html  # 取得の経緯
        login_as(client, tanaka)
        assert (
            client.get(reverse("referrals:client_records", args=[own_record.public_id])).status_code
            == 404
        )


class TestQueryCounts:
    def _client(self, tanaka, name, kana):
        viewer = viewer_for(tanaka)
        person = client_create(
            viewer=viewer,
            fields={"full_name": name, "full_name_kana": kana},
            duplicate_confirmed=True,
        )
        case_open(
            viewer=viewer,
            client=person,
            fields={"origin": "family"},
            topics=["hikikomori"],
            main_topic="hikikomori",
            primary_worker=tanaka,
        )
        return person

    @pytest.mark.parametrize("records", [2, 12])
    def test_the_agency_records_cost_the_same_whatever_their_number(
        self, client, tanaka, suzuki, jiritsu_b, station_a, records
    ):
        for number in range(records):
            # Station A passes one person on to B …
            person = self._client(tanaka, f"相談者 {number}", "ソウダンシャ")
            sent(tanaka, person, jiritsu_b, categories=[BASIC])
            if number % 2 == 0:
                # … and every other time receives one from B.
                theirs = self._client(suzuki, f"来談者 {number}", "ライダンシャ")
                referral_accept(
                    viewer=viewer_for(tanaka),
                    referral=sent(suzuki, theirs, station_a, categories=[BASIC]),
                )
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("referrals:records"))

        assert response.status_code == 200
        assert len(response.context["provisions"].items) == records
        assert len(response.context["confirmations"].items) == records // 2
        # 1 session, 2 user, 3 membership + agency, 4 the provision records (client, recipient,
        # worker, referral joined), 5 the confirmation records (likewise)
        assert len(queries) == 5, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("messages", [1, 6])
    @pytest.mark.parametrize("side", ["tanaka", "suzuki"])
    def test_the_referral_page_costs_the_same_whatever_the_thread(
        self, request, client, tanaka, suzuki, yamamoto_case, jiritsu_b, messages, side
    ):
        referral = sent(tanaka, yamamoto_case.client, jiritsu_b)
        for number in range(messages):
            author = tanaka if number % 2 else suzuki
            referral_message_post(
                viewer=viewer_for(author), referral=referral, body=f"連絡 {number}"
            )
        login_as(client, request.getfixturevalue(side))

        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("detail", referral))

        assert response.status_code == 200
        assert len(response.context["thread"]) == messages
        # 1 session, 2 user, 3 membership + agency, 4 the referral (agencies, client, workers,
        # records joined), 5 its messages (author, agency joined); the receiver also asks
        # 6 the consent gate (what may still be shown), 7-9 the access log entry (savepoint,
        # insert, release), 10 its staff to assign and 11 the device the supervisor's session
        # passed the second factor with (django-otp)
        expected = 5 if side == "tanaka" else 11
        assert len(queries) == expected, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("messages", [1, 6])
    @pytest.mark.parametrize("side", ["tanaka", "suzuki"])
    def test_an_accepted_referrals_page_costs_the_same_whatever_the_later_thread(
        self, request, client, tanaka, suzuki, yamamoto_case, jiritsu_b, messages, side
    ):
        referral = referral_accept(
            viewer=viewer_for(suzuki), referral=sent(tanaka, yamamoto_case.client, jiritsu_b)
        )
        for number in range(messages):
            author = tanaka if number % 2 == 0 else suzuki
            referral_message_post(
                viewer=viewer_for(author), referral=referral, body=f"受理後の連絡 {number}"
            )
        login_as(client, request.getfixturevalue(side))

        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("detail", referral))

        assert response.status_code == 200
        assert len(response.context["thread"]) == messages
        # 1 session, 2 user, 3 membership + agency, 4 the referral (agencies, client, workers,
        # records joined), 5 its messages (author, agency joined); the receiver also writes
        # 6-8 the access log entry for what crossed (savepoint, insert, release), then, for the
        # sender's messages written after acceptance, asks the gate's live basis once:
        # 9 the link, 10 the consents to its agency, 11 the 支援会議 agenda items, 12 the
        # emergency disclosures, 13-15 writes that look's access log entry, and 16 the device
        # the supervisor's session passed the second factor with (django-otp)
        expected = 5 if side == "tanaka" else 16
        assert len(queries) == expected, "\n".join(q["sql"][:150] for q in queries)
