"""Each validity rule is written once and asked two ways: the database (a manager method, for
lists, the gate and reminders) and Python (a model method, for one row already loaded). These
tests walk every day around every boundary and check that both always answer alike."""

import datetime

import pytest
from django.db.models import Q
from django.utils import timezone

from agencies.permissions import Viewer
from consent.models import Consent, EmergencyDisclosure
from consent.services import consent_record, consent_withdraw, emergency_disclose
from core.validity import holds
from councils.models import CouncilMember, SupportCouncil
from councils.services import council_create, council_end, council_member_add
from tests.conftest import viewer_for

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def days_around(*days: datetime.date) -> list[datetime.date]:
    return sorted({d + k * DAY for d in days for k in (-1, 0, 1)})


def test_a_consent_is_valid_on_the_same_days_for_the_database_and_the_page(
    tanaka, yamamoto_case, jiritsu_b
):
    today = timezone.localdate()
    consent = consent_record(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        recipient=jiritsu_b,
        purpose="referral",
        categories=["basic"],
        method="written",
        obtained_on=today - 3 * DAY,
        valid_until=today + 10 * DAY,
    )
    consent_withdraw(viewer=viewer_for(tanaka), consent=consent, how="電話で")
    consent.refresh_from_db()
    valid_days = []
    for day in days_around(consent.obtained_on, consent.valid_until, consent.ended_on):
        in_database = Consent.objects.valid_on(day).filter(pk=consent.pk).exists()
        assert consent.is_valid_on(day) is in_database, day
        valid_days += [day] if in_database else []
    # Obtained three days ago and withdrawn today: it counted up to yesterday.
    assert valid_days == [today - 3 * DAY, today - 2 * DAY, today - DAY]


def test_an_unwithdrawn_consent_counts_from_the_day_obtained_to_its_last_day(
    tanaka, yamamoto_case, jiritsu_b
):
    today = timezone.localdate()
    consent = consent_record(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        recipient=jiritsu_b,
        purpose="referral",
        categories=["basic"],
        method="written",
        valid_until=today + 3 * DAY,
    )
    answers = {
        day: (
            consent.is_valid_on(day),
            Consent.objects.valid_on(day).filter(pk=consent.pk).exists(),
        )
        for day in days_around(today, today + 3 * DAY)
    }
    assert all(python is database for python, database in answers.values())
    assert [d for d, (valid, _) in answers.items() if valid] == [today + k * DAY for k in range(4)]


def test_an_emergency_disclosure_is_active_at_the_same_moments_for_both(
    tanaka, yamamoto_case, agency_c
):
    disclosure = emergency_disclose(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        recipient=agency_c,
        categories=["basic", "health"],
        reason="本人が自宅で倒れており、救急搬送先の病院へ既往歴を伝える必要があった。",
    )
    hour = datetime.timedelta(hours=1)
    moments = [disclosure.disclosed_at + k * hour for k in (-1, 0, 1)] + [
        disclosure.expires_at + k * datetime.timedelta(seconds=1) for k in (-1, 0, 1)
    ]
    seen = []
    for moment in moments:
        in_database = (
            EmergencyDisclosure.objects.active_at(moment).filter(pk=disclosure.pk).exists()
        )
        assert disclosure.is_active_at(moment) is in_database, moment
        seen.append(in_database)
    assert seen == [False, True, True, True, False, False]


def test_a_membership_and_a_council_are_current_on_the_same_days_for_both(
    sysadmin, tanaka, station_a, jiritsu_b, nagano_city
):
    today = timezone.localdate()
    admin = Viewer(user=sysadmin, membership=None)
    council = council_create(
        viewer=admin,
        municipality=nagano_city,
        name="長野市支援会議",
        legal_basis="self_reliance_9",
        chair_agency=station_a,
        established_on=today - 5 * DAY,
    )
    council_member_add(viewer=admin, council=council, agency=jiritsu_b, joined_on=today - 2 * DAY)
    council_end(viewer=admin, council=council, on=today + 4 * DAY)
    council.refresh_from_db()
    member = CouncilMember.objects.get(council=council, agency=jiritsu_b)
    member.left_on = today + 2 * DAY
    member.save(update_fields=["left_on"])
    for day in days_around(today - 5 * DAY, today - 2 * DAY, today + 2 * DAY, today + 4 * DAY):
        standing = SupportCouncil.objects.standing_on(day).filter(pk=council.pk).exists()
        current = CouncilMember.objects.current_on(day).filter(pk=member.pk).exists()
        assert council.is_standing_on(day) is standing, day
        assert member.is_current_on(day) is current, day
        assert standing is (today - 5 * DAY <= day < today + 4 * DAY)
        assert current is (today - 2 * DAY <= day < today + 2 * DAY)


class Row:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def test_holds_reads_null_as_sql_does_and_refuses_what_it_does_not_understand():
    rule = Q(ended_on__isnull=True) | Q(ended_on__gt=5)
    assert holds(rule, Row(ended_on=None))
    assert holds(rule, Row(ended_on=6))
    assert not holds(rule, Row(ended_on=5))
    # A comparison with NULL is not true, in SQL and here.
    assert not holds(Q(ended_on__gt=5), Row(ended_on=None))
    with pytest.raises(ValueError, match="lookup"):
        holds(Q(name__icontains="x"), Row(name="x"))
    with pytest.raises(ValueError, match="negated"):
        holds(~Q(ended_on=5), Row(ended_on=5))
