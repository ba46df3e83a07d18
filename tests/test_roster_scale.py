"""Agency choices at the size of a real roster (issue 13).

A prefecture has hundreds of agencies, a national installation about 1,400. No form may render
the whole roster: agencies are chosen with the search-as-you-type picker over the directory, and
the server still validates the choice against what the person may choose.

``roster_500`` builds 500 extra agencies in bulk (other tests of pages at roster scale reuse it).
"""

import datetime

import pytest

from agencies.models import Agency, AgencyKind, Municipality
from core.japanese import search_key

ROSTER_SIZE = 500

# Kana the roster's names are made of; every agency's kana is unique by its number.
_KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"


def _kana_for(number: int) -> str:
    first, second = divmod(number, len(_KANA))
    return f"シエン{_KANA[first % len(_KANA)]}{_KANA[second]}"


@pytest.fixture
def roster_500(db):
    """500 active agencies, set up in real municipalities, all receiving referrals."""
    municipalities = list(Municipality.objects.exclude(kind="prefecture").order_by("code")[:50])
    if not municipalities:
        municipalities = [None]
    agencies = []
    for number in range(ROSTER_SIZE):
        name = f"支援機関{number:03d}"
        kana = _kana_for(number)
        agencies.append(
            Agency(
                name=name,
                name_kana=kana,
                kind=AgencyKind.NPO,
                municipality=municipalities[number % len(municipalities)],
                active_from=datetime.date(2020, 4, 1),
                search_key=search_key(name, kana),
            )
        )
    return Agency.objects.bulk_create(agencies)


def test_the_roster_fixture_builds_500_searchable_agencies(roster_500):
    assert Agency.objects.active().count() >= ROSTER_SIZE
    assert Agency.objects.filter(search_key__contains=search_key("しえん")).count() >= ROSTER_SIZE
