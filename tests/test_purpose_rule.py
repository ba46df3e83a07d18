"""A consent covers the purpose the person gave it for, and no other (個人情報保護法: personal
information is used for the purpose agreed to): a つなぎ needs a consent given for a つなぎ,
共同支援 a consent given for joint support. The rule lives in the gate (``gate.consented``);
these tests walk both refusals through sending, the form, the live view and the joint page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from consent import gate
from consent.services import consent_record, consent_withdraw
from core.records import DataCategory
from referrals.models import ProvisionRecord, Referral, Status
from referrals.services import referral_accept, referral_draft, referral_send
from tests.conftest import login_as, viewer_for

pytestmark = pytest.mark.django_db

BASIC, CONSULTATION, PLAN = DataCategory.BASIC, DataCategory.CONSULTATION, DataCategory.PLAN


def consent(tanaka, client, agency, purpose, categories):
    return consent_record(
        viewer=viewer_for(tanaka),
        client=client,
        recipient=agency,
        purpose=purpose,
        categories=list(categories),
        method="written",
    )


def draft(tanaka, client, agency, kind, categories=(BASIC, CONSULTATION)):
    return referral_draft(
        viewer=viewer_for(tanaka),
        client=client,
        fields={
            "type": kind,
            "to_agency": agency,
            "reason": "就労と家計の両方の相談",
            "client_wishes": "働けるようになりたい",
            "categories": list(categories),
        },
    )


class TestATsunagiNeedsATsunagiConsent:
    def test_a_joint_support_consent_does_not_let_a_tsunagi_be_sent(
        self, tanaka, yamamoto_case, jiritsu_b
    ):
        client = yamamoto_case.client
        consent(tanaka, client, jiritsu_b, "joint_support", [BASIC, CONSULTATION])
        referral = draft(tanaka, client, jiritsu_b, "tsunagi")

        with pytest.raises(ValidationError):
            referral_send(viewer=viewer_for(tanaka), referral=referral)

        referral.refresh_from_db()
        assert referral.status == Status.DRAFT
        assert referral.snapshot == {}
        assert not ProvisionRecord.objects.filter(referral=referral).exists()

    def test_the_form_refuses_categories_only_a_joint_support_consent_covers(
        self, client, tanaka, yamamoto_case, jiritsu_b
    ):
        person = yamamoto_case.client
        consent(tanaka, person, jiritsu_b, "joint_support", [BASIC, CONSULTATION])
        login_as(client, tanaka)

        response = client.post(
            reverse("referrals:new", args=[person.public_id]),
            {
                "type": "tsunagi",
                "to_agency": str(jiritsu_b.public_id),
                "reason": "就労と家計の両方の相談",
                "client_wishes": "働けるようになりたい",
                "urgency": "normal",
                "categories": [BASIC],
                "save": "1",
            },
        )

        assert response.status_code == 200
        assert "就労と家計の両方の相談" in response.content.decode()  # what was typed is kept
        assert not Referral.objects.filter(client=person).exists()

    def test_after_an_accepted_tsunagi_the_partner_sees_what_the_tsunagi_consent_covers(
        self, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        person = yamamoto_case.client
        consent(tanaka, person, jiritsu_b, "referral", [BASIC])
        consent(tanaka, person, jiritsu_b, "joint_support", [BASIC, CONSULTATION, PLAN])
        referral = draft(tanaka, person, jiritsu_b, "tsunagi", categories=[BASIC])
        referral_accept(
            viewer=viewer_for(suzuki),
            referral=referral_send(viewer=viewer_for(tanaka), referral=referral),
        )

        access = gate.decide(viewer_for(suzuki), person, context=gate.Context.LIVE_VIEW)

        assert access.linked
        assert access.shown == [BASIC]
        assert access.decision(BASIC).consent.purpose == "referral"


class TestJointSupportNeedsAJointSupportConsent:
    def test_a_tsunagi_consent_does_not_let_a_joint_support_be_sent(
        self, tanaka, yamamoto_case, jiritsu_b
    ):
        client = yamamoto_case.client
        consent(tanaka, client, jiritsu_b, "referral", [BASIC, CONSULTATION])
        referral = draft(tanaka, client, jiritsu_b, "joint")

        with pytest.raises(ValidationError):
            referral_send(viewer=viewer_for(tanaka), referral=referral)

        referral.refresh_from_db()
        assert referral.status == Status.DRAFT
        assert not ProvisionRecord.objects.filter(referral=referral).exists()

    def test_the_joint_page_withholds_the_plan_when_only_a_tsunagi_consent_covers_it(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        person = yamamoto_case.client
        joint_consent = consent(tanaka, person, jiritsu_b, "joint_support", [BASIC, PLAN])
        joint = referral_accept(
            viewer=viewer_for(suzuki),
            referral=referral_send(
                viewer=viewer_for(tanaka),
                referral=draft(tanaka, person, jiritsu_b, "joint", categories=[BASIC, PLAN]),
            ),
        )
        consent_withdraw(viewer=viewer_for(tanaka), consent=joint_consent, how="電話で本人から")
        # The person agreed to a つなぎ carrying the plan, not to joint support.
        consent(tanaka, person, jiritsu_b, "referral", [BASIC, PLAN])

        assert not gate.may_pass(
            client=person, recipient=jiritsu_b, purpose=joint.consent_purpose, category=PLAN
        )
        access = gate.decide(viewer_for(suzuki), person, context=gate.Context.JOINT_SUPPORT)
        assert not access.allows(PLAN)
        login_as(client, suzuki)
        html = client.get(reverse("referrals:joint", args=[joint.public_id])).content.decode()
        assert "data-withheld" in html or "同意なし" in html
