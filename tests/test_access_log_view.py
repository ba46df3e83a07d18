""" "Who looked at this client", as the holding agency's supervisor reads it: every look in pages
(none lost past the first screenful), filtered by person, agency and days, each look naming the
agency as it was called then."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.services import agency_update
from audit.access_log import log_refused_attempt
from audit.models import AccessEntry
from cases.selectors.clients import ACCESS_LOG_PAGE_SIZE
from tests.conftest import login_as, viewer_for

pytestmark = pytest.mark.django_db


def section(client, person, **params):
    """The section as its filter sends it: POSTed (a name typed into "who" stays out of the
    URL); without a filter, as the page loads it."""
    url = reverse("cases:client_access_log", args=[person.public_id])
    return client.post(url, params) if params else client.get(url)


def looks(html: str) -> int:
    return html.count("data-access=")


@pytest.fixture
def refused_looks(sato, yamamoto_case):
    """``n`` refused attempts by 佐藤 (agency C) at 山本, one a day, the newest today."""

    def make(n: int):
        person = yamamoto_case.client
        for _ in range(n):
            log_refused_attempt(viewer=viewer_for(sato), client=person)
        now = timezone.now()
        for days, entry in enumerate(AccessEntry.objects.filter(client=person).order_by("-id")):
            AccessEntry.objects.filter(pk=entry.pk).update(at=now - timedelta(days=days))
        return person

    return make


def test_every_look_is_reachable_page_by_page(client, takahashi, refused_looks):
    person = refused_looks(ACCESS_LOG_PAGE_SIZE + 5)
    login_as(client, takahashi)

    first = section(client, person).content.decode()
    assert looks(first) == ACCESS_LOG_PAGE_SIZE
    cursor = first.split('name="after" value="')[1].split('"')[0]
    rest = section(client, person, after=cursor).content.decode()

    assert looks(rest) == 5
    assert "data-access-more" not in rest
    assert 'id="access-log"' not in rest  # the rows alone, swapped in for the button


def test_a_filtered_list_pages_with_the_filter_posted_again(client, takahashi, refused_looks):
    person = refused_looks(ACCESS_LOG_PAGE_SIZE + 5)
    login_as(client, takahashi)

    first = section(client, person, who="佐藤").content.decode()
    more = first.split("data-access-more>")[1].split("</form>")[0]
    assert '<input type="hidden" name="who" value="佐藤">' in more
    cursor = more.split('name="after" value="')[1].split('"')[0]
    rest = section(client, person, who="佐藤", after=cursor).content.decode()

    assert looks(first) == ACCESS_LOG_PAGE_SIZE
    assert looks(rest) == 5
    assert "?who=" not in first + rest
    # A name in a URL is not taken: the list comes unfiltered.
    url = reverse("cases:client_access_log", args=[person.public_id])
    assert looks(client.get(url, {"who": "鈴木"}).content.decode()) == ACCESS_LOG_PAGE_SIZE


def test_the_page_costs_the_same_with_5_or_300_looks(client, takahashi, refused_looks):
    counts = []
    for n in (5, 300):
        AccessEntry.objects.all().delete()
        person = refused_looks(n)
        login_as(client, takahashi)
        with CaptureQueriesContext(connection) as queries:
            assert section(client, person).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_it_filters_by_person_agency_and_days(client, takahashi, refused_looks):
    person = refused_looks(10)
    login_as(client, takahashi)
    today = timezone.localdate()

    assert looks(section(client, person, who="佐藤").content.decode()) == 10
    assert looks(section(client, person, who="NPO法人C").content.decode()) == 10
    assert looks(section(client, person, who="鈴木").content.decode()) == 0
    since = today - timedelta(days=2)
    assert looks(section(client, person, since=since.isoformat()).content.decode()) == 3
    until = today - timedelta(days=8)
    assert looks(section(client, person, until=until.isoformat()).content.decode()) == 2


def test_a_start_after_the_end_is_said_on_the_form_with_what_was_typed(
    client, takahashi, refused_looks
):
    person = refused_looks(3)
    login_as(client, takahashi)

    response = section(client, person, who="佐藤", since="2026-05-10", until="2026-05-01")

    html = response.content.decode()
    assert response.status_code == 200
    assert "is-invalid" in html
    assert 'value="佐藤"' in html
    assert 'value="2026-05-10"' in html
    assert looks(html) == 3  # the list stays, unfiltered, rather than a blank page


def test_a_past_look_keeps_the_agency_name_it_was_made_under(
    client, takahashi, sysadmin, agency_c, refused_looks
):
    person = refused_looks(1)
    old_name = agency_c.name
    agency_update(
        viewer=viewer_for(sysadmin),
        agency=agency_c,
        fields={"name": "改称後の機関"},
        service_area=list(agency_c.service_area.all()),
        functions=[entry.function for entry in agency_c.function_entries.all()],
    )
    login_as(client, takahashi)

    html = section(client, person).content.decode()

    assert old_name in html
    assert "改称後の機関" not in html
