"""seed_scale: national-size data in bulk, checked as an operator would at a small size."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import User
from agencies.models import Agency, AgencyKind, Membership, Role
from audit.models import AccessEntry
from cases.models import Case, Client, Consultation, HouseholdMember, Stage
from consent.models import Consent
from referrals.models import ConfirmationRecord, ProvisionRecord, Referral, Status
from reminders.models import Reminder
from tests.second_factor import verify_session

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CLIENTS, AGENCIES = 300, 30


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def seeded(var_dir, capsys):
    call_command("seed_scale", clients=CLIENTS, agencies=AGENCIES)
    out = capsys.readouterr().out
    return json.loads((var_dir / "scale_accounts.json").read_text()), out


def test_it_fills_every_table_in_the_promised_proportions(seeded):
    accounts, out = seeded

    assert Agency.objects.count() == AGENCIES
    kinds = dict(Agency.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds[AgencyKind.SELF_RELIANCE] == max(kinds.values())
    assert {AgencyKind.HIKIKOMORI_CENTER, AgencyKind.HIKIKOMORI_STATION} <= set(kinds)
    assert not Agency.objects.filter(municipality__isnull=True).exists()
    # About four staff per agency, forty in the large one, a supervisor in each.
    assert 3.5 * AGENCIES <= Membership.objects.count() <= 4.5 * AGENCIES + 40
    assert not Agency.objects.exclude(memberships__role=Role.SUPERVISOR).exists()
    large = Agency.objects.get(public_id=accounts["agency"]["public_id"])
    assert large.memberships.count() == 40
    assert large.municipality.kind == "designated_city"

    clients = Client.objects.count()
    assert 0.95 * CLIENTS <= clients <= 1.05 * CLIENTS
    assert Client.objects.filter(agency=large).count() >= 0.02 * CLIENTS
    sizes = HouseholdMember.objects.values("household").annotate(n=Count("id"))
    assert {row["n"] for row in sizes} <= {1, 2, 3, 4, 5}
    assert 5 * clients <= Consultation.objects.count() <= 8 * clients
    assert Case.objects.filter(stage=Stage.CLOSED).exists()
    assert Case.objects.exclude(stage=Stage.CLOSED).count() > Case.objects.count() / 2
    referrals = Referral.objects.count()
    assert clients / 14 <= referrals <= clients / 5  # one in seven, at random
    assert (
        ProvisionRecord.objects.count()
        == Referral.objects.exclude(Q(status=Status.DRAFT) | Q(type="introduction")).count()
    )
    assert (
        ConfirmationRecord.objects.count()
        == Referral.objects.exclude(receiving_client=None).count()
    )
    assert Consent.objects.exists()
    assert Reminder.objects.exists()
    assert 2 * clients <= AccessEntry.objects.count() <= 4.5 * clients
    # Readings are katakana, so the kana search finds the people.
    assert not Client.objects.exclude(full_name_kana__regex=r"^[ァ-ヶー ]+$").exists()

    assert accounts["password"] in out
    assert "scale_caseworker" in out
    assert "scale_supervisor" in out


def log_in(username: str, password: str) -> HttpClient:
    """With the written password, then the agency chosen as the login flow does."""
    browser = HttpClient()
    assert browser.login(username=username, password=password)
    # A supervisor then types the code of their authenticator, as the code page asks.
    verify_session(browser, get_user_model().objects.get(username=username))
    assert browser.get(reverse("agencies:choose")).status_code == 302
    return browser


def test_the_accounts_log_in_and_see_what_the_benchmark_needs(seeded):
    accounts, _out = seeded
    caseworker = log_in(accounts["caseworker"], accounts["password"])
    page = caseworker.get(f"/cases/clients/{accounts['sample_client']}/")
    assert page.status_code == 200
    sample = Client.objects.get(public_id=accounts["sample_client"])
    assert sample.cases.get().consultations.count() >= 50
    assert sample.cases.get().primary_worker.username == accounts["caseworker"]
    assert caseworker.get("/cases/").status_code == 200

    supervisor = log_in(accounts["supervisor"], accounts["password"])
    referral = Referral.objects.get(public_id=accounts["sample_referral"])
    assert referral.status == Status.SENT
    assert str(referral.to_agency.public_id) == accounts["agency"]["public_id"]
    queue = supervisor.get(reverse("referrals:incoming"))
    assert queue.status_code == 200
    assert accounts["sample_referral"] in queue.content.decode()


def test_a_second_run_refuses(seeded):
    with pytest.raises(CommandError, match="already has agencies"):
        call_command("seed_scale", clients=CLIENTS, agencies=AGENCIES)


def test_it_refuses_in_production(settings, var_dir):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_scale", clients=CLIENTS, agencies=AGENCIES)
    assert not User.objects.filter(username="scale_caseworker").exists()
