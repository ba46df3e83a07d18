"""Consent and referrals (つなぎ): what crosses, the records the law asks for, and exactly one
answer to a referral even when two supervisors click at the same moment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from cases.services import household_save
from consent import gate
from consent.models import DataCategory
from consent.services import consent_record, consent_withdraw
from referrals.models import ConfirmationRecord, ProvisionRecord, Referral, Status
from referrals.services import (
    referral_accept,
    referral_confirm_first_contact,
    referral_draft,
    referral_send,
)
from tests.conftest import make_user, viewer_for

ROOT = Path(__file__).resolve().parent.parent
BASIC, CONSULTATION, HEALTH = DataCategory.BASIC, DataCategory.CONSULTATION, DataCategory.HEALTH


def give_consent(tanaka, client, to, categories):
    return consent_record(
        viewer=viewer_for(tanaka),
        client=client,
        recipient=to,
        purpose="referral",
        categories=categories,
        method="written",
    )


def draft(tanaka, client, to, kind="tsunagi", categories=(BASIC, CONSULTATION)):
    return referral_draft(
        viewer=viewer_for(tanaka),
        client=client,
        fields={
            "type": kind,
            "to_agency": to,
            "reason": "家計の相談が必要",
            "client_wishes": "お金のことを相談したい",
            "categories": list(categories),
        },
    )


@pytest.mark.django_db
class TestSending:
    @pytest.mark.parametrize("kind", ["tsunagi", "joint"])
    def test_sending_without_consent_is_refused_and_records_nothing(
        self, tanaka, yamamoto_case, jiritsu_b, kind
    ):
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b, kind)

        with pytest.raises(ValidationError, match="有効な本人同意がありません"):
            referral_send(viewer=viewer_for(tanaka), referral=referral)

        referral.refresh_from_db()
        assert referral.status == Status.DRAFT
        assert not ProvisionRecord.objects.exists()

    def test_a_category_without_consent_blocks_the_whole_sending(
        self, tanaka, yamamoto_case, jiritsu_b
    ):
        give_consent(tanaka, yamamoto_case.client, jiritsu_b, [BASIC])
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b, categories=[BASIC, HEALTH])

        with pytest.raises(ValidationError, match="心身の状況"):
            referral_send(viewer=viewer_for(tanaka), referral=referral)

    def test_an_introduction_sends_nothing_and_needs_no_consent(
        self, tanaka, yamamoto_case, jiritsu_b
    ):
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b, "introduction")

        referral_send(viewer=viewer_for(tanaka), referral=referral)

        referral.refresh_from_db()
        assert referral.status == Status.SENT
        assert referral.categories == []
        assert referral.snapshot == {}
        assert not ProvisionRecord.objects.exists()

    def test_sending_writes_one_provision_record_naming_the_consent(
        self, tanaka, yamamoto_case, jiritsu_b
    ):
        consent = give_consent(tanaka, yamamoto_case.client, jiritsu_b, [BASIC, CONSULTATION])
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b)

        referral_send(viewer=viewer_for(tanaka), referral=referral)

        record = ProvisionRecord.objects.get()
        assert record.referral == referral
        assert record.recipient == jiritsu_b
        assert record.categories == [BASIC, CONSULTATION]
        assert record.consents == [str(consent.public_id)]
        assert record.provided_by == tanaka


@pytest.mark.django_db
class TestAccepting:
    @pytest.fixture
    def sent(self, tanaka, yamamoto_case, jiritsu_b):
        household_save(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            postal_code="380-0000",
            address="長野市",
            note="",
        )
        give_consent(tanaka, yamamoto_case.client, jiritsu_b, [BASIC, CONSULTATION])
        referral = draft(tanaka, yamamoto_case.client, jiritsu_b)
        return referral_send(viewer=viewer_for(tanaka), referral=referral)

    def test_the_recipients_record_holds_only_what_was_consented(self, suzuki, sent):
        accepted = referral_accept(viewer=viewer_for(suzuki), referral=sent)

        record = accepted.receiving_client
        assert accepted.status == Status.ACCEPTED
        assert record.agency == suzuki.memberships.get().agency
        assert record.full_name == "山本 太郎"
        assert record.household is None  # 世帯の状況 was not consented
        assert record.wishes == "お金のことを相談したい"
        assert "household" not in accepted.snapshot
        assert "health" not in accepted.snapshot
        confirmation = ConfirmationRecord.objects.get()
        assert confirmation.client == record
        assert "本人の同意" in confirmation.how_obtained

    def test_a_consent_withdrawn_after_sending_refuses_the_acceptance(self, tanaka, suzuki, sent):
        consent_withdraw(
            viewer=viewer_for(tanaka), consent=sent.client.consents.get(), how="電話で本人から"
        )

        with pytest.raises(ValidationError, match="撤回"):
            referral_accept(viewer=viewer_for(suzuki), referral=sent)

        sent.refresh_from_db()
        assert sent.status == Status.SENT
        assert not ConfirmationRecord.objects.exists()
        assert not gate.may_pass(
            client=sent.client,
            recipient=sent.to_agency,
            purpose=sent.consent_purpose,
            category=BASIC,
        )

    def test_it_is_complete_only_after_the_first_interview(self, suzuki, sent):
        accepted = referral_accept(viewer=viewer_for(suzuki), referral=sent)
        assert accepted.status == Status.ACCEPTED

        done = referral_confirm_first_contact(
            viewer=viewer_for(suzuki), referral=accepted, on=timezone.localdate()
        )

        assert done.status == Status.COMPLETED

    def test_another_agency_cannot_accept(self, sato, sent):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            referral_accept(viewer=viewer_for(sato), referral=sent)


ACCEPT_SCRIPT = """
import os, sys, time, json
import django
django.setup()
from django.core.exceptions import ValidationError
from accounts.models import User
from referrals.models import Referral
from referrals.services import referral_accept
from tests.conftest import viewer_for
user = User.objects.get(username=sys.argv[1])
referral = Referral.objects.get(pk=int(sys.argv[2]))
go = float(sys.argv[3])
while time.time() < go:
    time.sleep(0.001)
try:
    referral_accept(viewer=viewer_for(user), referral=referral)
    print(json.dumps({"user": sys.argv[1], "won": True}))
except ValidationError as error:
    print(json.dumps({"user": sys.argv[1], "won": False, "message": error.messages[0]}))
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_supervisors_accepting_at_once_exactly_one_wins(
    tanaka, suzuki, yamamoto_case, jiritsu_b
):
    import time

    from agencies.models import Role
    from agencies.services import membership_ensure

    watanabe = make_user("watanabe", "渡辺 主任")
    membership_ensure(actor=None, user=watanabe, agency=jiritsu_b, role=Role.SUPERVISOR)
    give_consent(tanaka, yamamoto_case.client, jiritsu_b, [BASIC])
    referral = referral_send(
        viewer=viewer_for(tanaka),
        referral=draft(tanaka, yamamoto_case.client, jiritsu_b, categories=[BASIC]),
    )
    settings = connection.settings_dict
    database_url = (
        f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    go = str(time.time() + 3)  # both processes start the accept at the same instant
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", ACCEPT_SCRIPT, username, str(referral.pk), go],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for username in ("suzuki", "watanabe")
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    assert sorted(r["won"] for r in results) == [False, True]
    loser = next(r for r in results if not r["won"])
    assert "すでに" in loser["message"]
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED
    assert Referral.objects.filter(receiving_client__isnull=False).count() == 1
    assert ConfirmationRecord.objects.count() == 1
