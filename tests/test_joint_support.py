"""Joint support (共同支援): each agency records the roles it takes on, both align the support
policy with its history, every change is audited, and it all stops when the person's consent
to the partner agency ends. The receiving side sees the policy and the sender's roles (the
person's support plan) only while the consent gate allows 支援計画, each look in the access log;
otherwise a 同意なし placeholder."""

import re
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext

from audit.models import AccessEntry, AuditEntry
from consent.models import DataCategory
from consent.services import consent_record, consent_withdraw
from referrals.models import JointRole, JointRoleKind, SupportPolicy
from referrals.services import (
    joint_role_save,
    referral_accept,
    referral_draft,
    referral_send,
    support_policy_agree,
    support_policy_propose,
)
from tests.conftest import login_as, viewer_for
from tests.second_factor import otp_queries

pytestmark = pytest.mark.django_db
CONSENT_ENDED = (
    "The person's consent to the partner agency does not cover the support plan, or it has "
    "been withdrawn or has expired: joint support cannot be changed until a consent covering "
    "it is recorded."
)
POLICY_TEXT = "ZQ本人の方針の本文QZ"
SENDER_ROLE_NOTE = "ZQ週1回の電話QZ"
OWN_ROLE_NOTE = "ZQ家計改善支援QZ"


def send(
    tanaka, client, to, kind="joint", categories=(DataCategory.BASIC, DataCategory.CONSULTATION)
):
    referral = referral_draft(
        viewer=viewer_for(tanaka),
        client=client,
        fields={
            "type": kind,
            "to_agency": to,
            "reason": "世帯の家計と本人の就労の両方に支援が要る",
            "client_wishes": "働けるようになりたい。家のことも相談したい",
            "categories": list(categories),
        },
    )
    return referral_send(viewer=viewer_for(tanaka), referral=referral)


@pytest.fixture
def consent(tanaka, yamamoto_case, jiritsu_b):
    """The person's consent to 自立相談 B, covering the support plan the joint support speaks of."""
    return consent_record(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        recipient=jiritsu_b,
        purpose="joint_support",
        categories=[DataCategory.BASIC, DataCategory.CONSULTATION, DataCategory.PLAN],
        method="written",
    )


@pytest.fixture
def joint(tanaka, suzuki, yamamoto_case, jiritsu_b, consent):
    """A joint support from station A (田中) accepted by 自立相談 B (鈴木)."""
    return referral_accept(
        viewer=viewer_for(suzuki), referral=send(tanaka, yamamoto_case.client, jiritsu_b)
    )


def role_fields(**overrides):
    return {
        "role": JointRoleKind.EMPLOYMENT,
        "note": "就労準備支援事業の利用",
        "contact_user_id": None,
        "contact_name": "",
        "period_from": date(2025, 4, 1),
        "period_until": None,
    } | overrides


def page_url(referral):
    return reverse("referrals:joint", args=[referral.public_id])


class TestRoles:
    def test_each_agency_records_its_own_role_and_it_is_audited(
        self, tanaka, suzuki, joint, jiritsu_b, station_a
    ):
        employment = joint_role_save(
            viewer=viewer_for(suzuki),
            referral=joint,
            fields=role_fields(contact_user_id=suzuki.pk),
        )
        listening = joint_role_save(
            viewer=viewer_for(tanaka),
            referral=joint,
            fields=role_fields(
                role=JointRoleKind.WATCHING_LISTENING, note="週1回の電話", contact_user_id=tanaka.pk
            ),
        )

        assert (employment.agency, employment.contact) == (jiritsu_b, "鈴木 花子")
        assert (listening.agency, listening.contact) == (station_a, "田中 一郎")
        entry = AuditEntry.objects.get(target_id=str(employment.public_id))
        assert (entry.action, entry.actor, entry.acting_agency) == (
            "referral.joint_role_created",
            suzuki,
            jiritsu_b,
        )
        assert entry.changes["contact_user"] == [None, "鈴木 花子"]

    def test_a_change_is_audited_with_what_changed(self, suzuki, joint):
        role = joint_role_save(
            viewer=viewer_for(suzuki), referral=joint, fields=role_fields(contact_name="外部の方")
        )

        joint_role_save(
            viewer=viewer_for(suzuki),
            referral=joint,
            role=role,
            fields={"period_until": date(2026, 3, 31)},
        )

        entry = AuditEntry.objects.get(action="referral.joint_role_saved")
        assert entry.changes == {"period_until": [None, "2026-03-31"]}

    def test_the_other_agencys_role_cannot_be_changed(self, tanaka, suzuki, joint):
        role = joint_role_save(
            viewer=viewer_for(suzuki), referral=joint, fields=role_fields(contact_name="担当")
        )

        with pytest.raises(PermissionDenied):
            joint_role_save(
                viewer=viewer_for(tanaka), referral=joint, role=role, fields={"note": "変更"}
            )

    def test_the_contact_must_be_on_this_agencys_roster(self, suzuki, sato, joint):
        with pytest.raises(ValidationError) as error:
            joint_role_save(
                viewer=viewer_for(suzuki),
                referral=joint,
                fields=role_fields(contact_user_id=sato.pk),
            )

        assert "contact_user" in error.value.message_dict
        assert not JointRole.objects.exists()

    def test_a_role_needs_a_contact_person(self, suzuki, joint):
        with pytest.raises(ValidationError):
            joint_role_save(viewer=viewer_for(suzuki), referral=joint, fields=role_fields())

    @pytest.mark.parametrize("persona", ["sato", "ito", "kato"])
    def test_nobody_outside_the_two_agencies_staff_may_record_a_role(self, request, joint, persona):
        with pytest.raises(PermissionDenied):
            joint_role_save(
                viewer=viewer_for(request.getfixturevalue(persona)),
                referral=joint,
                fields=role_fields(contact_name="誰か"),
            )


class TestPolicy:
    def test_a_proposal_then_the_others_agreement_each_make_a_version(
        self, tanaka, suzuki, joint, station_a, jiritsu_b
    ):
        proposed = support_policy_propose(
            viewer=viewer_for(tanaka),
            referral=joint,
            text="本人のペースを尊重し、まず週1回の居場所参加から。",
        )
        assert (proposed.agreed_by_sender, proposed.agreed_by_recipient) == (True, False)

        agreed = support_policy_agree(viewer=viewer_for(suzuki), referral=joint, policy=proposed)

        assert agreed.pk != proposed.pk
        assert agreed.text == proposed.text
        assert agreed.agreed_by_both
        assert (agreed.agency, agreed.created_by) == (jiritsu_b, suzuki)
        assert list(SupportPolicy.objects.order_by("id")) == [proposed, agreed]  # the history
        actions = list(AuditEntry.objects.order_by("id").values_list("action", "acting_agency"))
        assert actions[-2:] == [
            ("referral.policy_proposed", station_a.pk),
            ("referral.policy_agreed", jiritsu_b.pk),
        ]
        # The policy speaks about the person: its text stays out of the audit trail.
        assert "居場所" not in str(AuditEntry.objects.values_list("changes", flat=True))

    def test_a_change_after_agreement_needs_a_new_agreement(self, tanaka, suzuki, joint):
        first = support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text="方針1")
        support_policy_agree(viewer=viewer_for(suzuki), referral=joint, policy=first)

        changed = support_policy_propose(viewer=viewer_for(suzuki), referral=joint, text="方針2")

        assert (changed.agreed_by_sender, changed.agreed_by_recipient) == (False, True)

    def test_agreeing_to_an_older_version_is_refused(self, tanaka, suzuki, joint):
        first = support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text="方針1")
        support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text="方針2")

        with pytest.raises(ValidationError) as error:
            support_policy_agree(viewer=viewer_for(suzuki), referral=joint, policy=first)

        assert error.value.messages == [
            gettext("A newer version has been proposed since. Read it, then agree to that one.")
        ]

    def test_the_proposer_cannot_agree_to_itself_again(self, tanaka, joint):
        policy = support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text="方針")

        with pytest.raises(ValidationError):
            support_policy_agree(viewer=viewer_for(tanaka), referral=joint, policy=policy)

        assert SupportPolicy.objects.count() == 1


class TestWhenItApplies:
    def test_a_referral_not_yet_accepted_has_no_joint_support(
        self, tanaka, yamamoto_case, jiritsu_b, consent
    ):
        sent = send(tanaka, yamamoto_case.client, jiritsu_b)

        with pytest.raises(PermissionDenied):
            support_policy_propose(viewer=viewer_for(tanaka), referral=sent, text="方針")

    def test_a_tsunagi_has_no_joint_support_page(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b, consent
    ):
        # A つなぎ needs a consent given for a つなぎ (the fixture's is for joint support).
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="referral",
            categories=[DataCategory.BASIC, DataCategory.CONSULTATION, DataCategory.PLAN],
            method="written",
        )
        tsunagi = referral_accept(
            viewer=viewer_for(suzuki),
            referral=send(tanaka, yamamoto_case.client, jiritsu_b, kind="tsunagi"),
        )
        login_as(client, suzuki)

        assert client.get(page_url(tsunagi)).status_code == 404

    def test_a_withdrawn_consent_stops_every_change_at_once(self, tanaka, suzuki, joint, consent):
        support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text="方針")

        consent_withdraw(viewer=viewer_for(tanaka), consent=consent, how="電話で本人から")

        with pytest.raises(ValidationError, match=re.escape(gettext(CONSENT_ENDED))):
            support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text="方針2")
        with pytest.raises(ValidationError):
            joint_role_save(
                viewer=viewer_for(suzuki), referral=joint, fields=role_fields(contact_name="担当")
            )

    def test_after_withdrawal_the_next_request_shows_the_placeholder_not_the_policy(
        self, client, tanaka, suzuki, joint, consent
    ):
        support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text=POLICY_TEXT)
        joint_role_save(
            viewer=viewer_for(tanaka),
            referral=joint,
            fields=role_fields(note=SENDER_ROLE_NOTE, contact_user_id=tanaka.pk),
        )
        joint_role_save(
            viewer=viewer_for(suzuki),
            referral=joint,
            fields=role_fields(note=OWN_ROLE_NOTE, contact_user_id=suzuki.pk),
        )
        login_as(client, suzuki)
        before = client.get(page_url(joint)).text
        assert POLICY_TEXT in before
        assert SENDER_ROLE_NOTE in before
        assert 'data-withheld="policy"' not in before

        consent_withdraw(viewer=viewer_for(tanaka), consent=consent, how="電話で本人から")

        response = client.get(page_url(joint))
        assert response.status_code == 200
        after = response.text
        assert POLICY_TEXT not in after
        assert SENDER_ROLE_NOTE not in after
        assert "田中 一郎" not in after  # the sender's contact person goes with its roles
        assert 'data-withheld="policy"' in after
        assert 'data-withheld="roles"' in after
        assert "同意なし" in after
        assert OWN_ROLE_NOTE in after  # the receiver's own roles are its own record
        assert 'id="policy-form"' not in after
        assert 'id="role-form"' not in after
        client.logout()
        login_as(client, tanaka)  # the sender wrote it: it stays in its own record
        sender_page = client.get(page_url(joint)).text
        assert POLICY_TEXT in sender_page
        assert SENDER_ROLE_NOTE in sender_page
        assert 'data-withheld="policy"' not in sender_page

    def test_a_consent_covering_only_the_basic_information_shows_the_placeholder(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="joint_support",
            categories=[DataCategory.BASIC],
            method="written",
        )
        joint = referral_accept(
            viewer=viewer_for(suzuki),
            referral=send(tanaka, yamamoto_case.client, jiritsu_b, categories=[DataCategory.BASIC]),
        )
        login_as(client, suzuki)

        response = client.get(page_url(joint))

        assert response.status_code == 200
        assert 'data-withheld="policy"' in response.text
        assert 'data-withheld="roles"' in response.text
        assert 'id="policy-form"' not in response.text
        assert response.context["data"].may_change is False
        # and the service refuses what the page no longer offers
        with pytest.raises(ValidationError, match=re.escape(gettext(CONSENT_ENDED))):
            support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text="方針")
        with pytest.raises(ValidationError, match=re.escape(gettext(CONSENT_ENDED))):
            joint_role_save(
                viewer=viewer_for(suzuki), referral=joint, fields=role_fields(contact_name="担当")
            )

    def test_the_receiving_sides_look_is_in_the_access_log(
        self, client, tanaka, suzuki, joint, consent, jiritsu_b
    ):
        support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text=POLICY_TEXT)
        login_as(client, suzuki)

        client.get(page_url(joint))
        consent_withdraw(viewer=viewer_for(tanaka), consent=consent, how="電話で本人から")
        client.get(page_url(joint))

        entries = list(AccessEntry.objects.filter(user=suzuki, client=joint.client).order_by("id"))
        assert [(e.outcome, e.basis, e.categories) for e in entries] == [
            (
                "shown",
                "consent",
                [DataCategory.BASIC, DataCategory.CONSULTATION, DataCategory.PLAN],
            ),
            # still linked: the page was shown, with placeholders only
            ("shown", "", []),
        ]
        assert {(e.agency, e.path) for e in entries} == {(jiritsu_b, page_url(joint))}
        assert DataCategory.PLAN in entries[1].withheld

    def test_the_senders_own_look_is_not_logged(self, client, tanaka, joint):
        login_as(client, tanaka)

        client.get(page_url(joint))

        assert not AccessEntry.objects.filter(user=tanaka).exists()


class TestPages:
    @pytest.mark.parametrize("persona", ["tanaka", "suzuki"])
    def test_no_browser_or_proxy_keeps_a_copy(self, client, request, joint, persona):
        login_as(client, request.getfixturevalue(persona))

        response = client.get(page_url(joint))

        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]

    def test_the_receiver_sees_the_policy_and_the_senders_roles_with_a_plan_consent(
        self, client, tanaka, suzuki, joint
    ):
        support_policy_propose(viewer=viewer_for(tanaka), referral=joint, text=POLICY_TEXT)
        joint_role_save(
            viewer=viewer_for(tanaka),
            referral=joint,
            fields=role_fields(note=SENDER_ROLE_NOTE, contact_name="伊藤 健"),
        )
        login_as(client, suzuki)

        response = client.get(page_url(joint))

        assert POLICY_TEXT in response.text
        assert SENDER_ROLE_NOTE in response.text
        assert "data-withheld" not in response.text
        assert 'id="policy-form"' in response.text

    @pytest.mark.parametrize(
        ("persona", "status"),
        [("tanaka", 200), ("suzuki", 200), ("sato", 404), ("ito", 404), ("kato", 404)],
    )
    def test_staff_of_either_agency_see_the_page_and_nobody_else(
        self, client, request, joint, persona, status
    ):
        login_as(client, request.getfixturevalue(persona))

        assert client.get(page_url(joint)).status_code == status
        response = client.post(
            reverse("referrals:joint_policy", args=[joint.public_id]),
            {"action": "propose", "text": "方針"},
        )
        assert response.status_code == (302 if status == 200 else 404)

    def test_roles_show_under_their_agency_and_only_ours_can_be_changed(
        self, client, tanaka, suzuki, joint
    ):
        ours = joint_role_save(
            viewer=viewer_for(suzuki), referral=joint, fields=role_fields(contact_user_id=suzuki.pk)
        )
        theirs = joint_role_save(
            viewer=viewer_for(tanaka),
            referral=joint,
            fields=role_fields(role=JointRoleKind.VISITING, contact_name="伊藤 健"),
        )
        login_as(client, suzuki)

        text = client.get(page_url(joint)).text

        station_card = text.index(f'data-agency="{joint.from_agency.public_id}"')
        own_card = text.index(f'data-agency="{joint.to_agency.public_id}"')
        assert station_card < text.index('data-role="visiting"') < own_card
        assert own_card < text.index('data-role="employment"')
        assert f"?edit={ours.public_id}" in text
        assert f"?edit={theirs.public_id}" not in text

    def test_a_role_is_saved_through_the_form(self, client, suzuki, joint):
        login_as(client, suzuki)

        response = client.post(
            reverse("referrals:joint_role", args=[joint.public_id]),
            {
                "role": "finance",
                "note": "家計改善支援",
                "contact_user": suzuki.pk,
                "period_from": "2025-04-01",
            },
        )

        assert response.status_code == 302
        assert response["Location"].endswith("#roles")
        role = JointRole.objects.get()
        assert (role.role, role.contact_user, role.agency) == ("finance", suzuki, joint.to_agency)

    def test_a_role_without_contact_keeps_what_was_typed(self, client, suzuki, joint):
        login_as(client, suzuki)

        response = client.post(
            reverse("referrals:joint_role", args=[joint.public_id]),
            {"role": "finance", "note": "家計改善支援", "period_from": "2025-04-01"},
        )

        assert response.status_code == 200
        assert 'value="家計改善支援"' in response.text
        assert not JointRole.objects.exists()

    def test_the_policy_is_proposed_and_agreed_through_the_page(
        self, client, tanaka, suzuki, joint
    ):
        policy_url = reverse("referrals:joint_policy", args=[joint.public_id])
        login_as(client, tanaka)
        client.post(policy_url, {"action": "propose", "text": "就労は自立相談B、見守りはA"})
        client.logout()
        login_as(client, suzuki)
        proposed = SupportPolicy.objects.get()
        assert 'name="action" value="agree"' in client.get(page_url(joint)).text

        response = client.post(policy_url, {"action": "agree", "policy": proposed.pk})

        assert response.status_code == 302
        latest = SupportPolicy.objects.order_by("-id").first()
        assert latest.agreed_by_both
        text = client.get(page_url(joint)).text
        assert 'id="agreed-policy"' in text
        assert 'name="action" value="agree"' not in text

    @pytest.mark.parametrize("number", [1, 10])
    def test_the_page_costs_the_same_whatever_the_history(
        self, client, tanaka, suzuki, joint, number
    ):
        for index in range(number):
            joint_role_save(
                viewer=viewer_for(tanaka if index % 2 else suzuki),
                referral=joint,
                fields=role_fields(contact_name=f"担当{index}"),
            )
            support_policy_propose(
                viewer=viewer_for(tanaka if index % 2 else suzuki),
                referral=joint,
                text=f"方針 第{index}版",
            )
        login_as(client, suzuki)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(page_url(joint))

        assert response.status_code == 200
        # 1 session, 2 user, 3 membership + agency, 4 the referral (both agencies, the
        # sender's client and our own record joined); gate.open (joint-support context): 5 the
        # link (an accepted つなぎ / 共同支援), 6 the consents to our agency, 7 the 支援会議 agenda
        # items, 8 the emergency disclosures, 9-11 the access log entry (savepoint, insert,
        # release); 12 the roles (contact joined), 13 the policy versions (agency and author
        # joined), 14 the consent to us covering the plan (gate.may_pass), 15 our roster for the
        # contact person
        # + the authenticator django-otp loads for a supervisor's verified session
        assert len(queries) == 15 + otp_queries(suzuki), "\n".join(q["sql"][:150] for q in queries)
