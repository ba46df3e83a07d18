"""A huge, negative or oddly written number in an id or number field is a form error, never a 500.

A select of integer keys posts the plain decimal form of a pk. Anything else (a 40-digit number,
-1, 0, 1e3, full-width １２ …) gets the field's own "invalid choice" error before the database is
asked: left to the database, a number past the column's range is an OverflowError on SQLite (a
500) instead of a missing row. Each form is walked through its real view as a user who may use
it; the unit tests of ``core.forms`` prove the database is never asked, on any backend.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from agencies.models import Agency, Municipality, Network
from cases.models import Consultation, Meeting
from core.forms import (
    IntegerKeyChoiceField,
    IntegerKeyMultipleChoiceField,
    integer_key_range,
    is_integer_key,
)
from councils.models import SupportCouncil
from reminders.models import DeliveryPreference

from .conftest import login_as, viewer_for

pytestmark = pytest.mark.django_db

HUGE = "9" * 40
# Each is refused by every integer-keyed field: past bigint, below 1, not a plain decimal.
HOSTILE_IDS = [HUGE, str(2**63), "-1", "0", "1e3", "１２", " 1", "01", "1.0", "0x1a"]
# Refused by every number field here (each has bounds within 0 … 10,000).
HOSTILE_NUMBERS = [HUGE, "-1", "1e3", "1.5", "99999"]


def ja(message: str) -> str:
    with translation.override("ja"):
        return gettext(message)


def today() -> datetime.date:
    return timezone.localdate()


def bound_forms(response) -> list[BaseForm]:
    found = []
    for context in response.context or []:
        for value in context.flatten().values():
            if isinstance(value, BaseForm) and value.is_bound and value not in found:
                found.append(value)
    return found


def assert_refused(response, name: str, codes: set[str]) -> None:
    """The page came back (200) with the error under ``name``."""
    assert response.status_code == 200, response.status_code
    errors = [
        error for form in bound_forms(response) for error in form.errors.as_data().get(name, [])
    ]
    assert errors, f"no error under {name}"
    assert {error.code for error in errors} <= codes, [e.code for e in errors]
    page = response.content.decode()
    for error in errors:
        for message in error.messages:
            assert escape(message) in page


@dataclass
class Scenario:
    """A form behind its view: where it posts, a valid payload, what must stay unsaved and what
    typed text the page must show again."""

    url: str
    data: dict[str, Any]
    saved: Any  # a callable: a snapshot of what a successful post would change
    kept: str  # typed text the re-rendered page shows again
    headers: dict[str, str] = field(default_factory=dict)


def quick_consultation(request) -> Scenario:
    tanaka, case = request.getfixturevalue("tanaka"), request.getfixturevalue("yamamoto_case")
    request.getfixturevalue("jiritsu_b")
    login_as(request.getfixturevalue("client"), tanaka)
    return Scenario(
        url=reverse("cases:consultation_new", args=[case.public_id]),
        data={
            "summary": "母親から電話。本人は変わりなし",
            "method": "phone",
            "occurred_on": today().isoformat(),
            "with_client": "on",
            "staff": [tanaka.pk],
            "tags": "家族",
        },
        saved=lambda: Consultation.objects.count(),
        kept="母親から電話。本人は変わりなし",
    )


def consultation_correction(request) -> Scenario:
    from cases.services import consultation_log

    tanaka, case = request.getfixturevalue("tanaka"), request.getfixturevalue("yamamoto_case")
    record = consultation_log(
        viewer=viewer_for(tanaka), case=case, fields={"method": "phone", "summary": "母と電話"}
    )
    login_as(request.getfixturevalue("client"), tanaka)
    return Scenario(
        url=reverse("cases:consultation_edit", args=[record.public_id]),
        data={
            "occurred_on": record.occurred_on.isoformat(),
            "method": "phone",
            "staff": [tanaka.pk],
            "summary": "母親と電話（父親も同席）",
            "duration_minutes": "30",
            "tags": "",
            "reason": "書き漏らし",
        },
        saved=lambda: Consultation.objects.values_list("summary", "duration_minutes").get(),
        kept="母親と電話（父親も同席）",
    )


def case_edit(request) -> Scenario:
    tanaka, case = request.getfixturevalue("tanaka"), request.getfixturevalue("yamamoto_case")
    request.getfixturevalue("yamada")
    login_as(request.getfixturevalue("client"), tanaka)
    return Scenario(
        url=reverse("cases:case_edit", args=[case.public_id]),
        data={
            "opened_on": "2024-04-01",
            "origin": "family",
            "support_type": "no_plan",
            "withdrawal_duration": "10y",
            "topics": ["hikikomori", "family"],
            "main_topic": "hikikomori",
            "primary_worker": tanaka.pk,
            "co_workers": [],
        },
        saved=lambda: (
            type(case).objects.filter(pk=case.pk).values_list("opened_on", "primary_worker").get(),
            list(case.co_workers.all()),
        ),
        kept='value="2024-04-01"',
    )


def meeting_create(request) -> Scenario:
    tanaka, jiritsu_b = request.getfixturevalue("tanaka"), request.getfixturevalue("jiritsu_b")
    login_as(request.getfixturevalue("client"), tanaka)
    return Scenario(
        url=reverse("cases:meeting_create"),
        data={
            "held_on": today().isoformat(),
            "start_time": "14:00",
            "place": "市役所 第2会議室",
            "participant_agencies": [jiritsu_b.pk],
            "participant_users": [tanaka.pk],
            "other_participants": "本人、母",
            "minutes": "役割分担を確認した。",
        },
        saved=lambda: Meeting.objects.count(),
        kept="市役所 第2会議室",
    )


def agency_profile(request) -> Scenario:
    yamada, station_a = request.getfixturevalue("yamada"), request.getfixturevalue("station_a")
    city = request.getfixturevalue("nagano_city")
    login_as(request.getfixturevalue("client"), yamada)
    return Scenario(
        url=reverse("agencies:profile_edit", args=[station_a.public_id]),
        data={
            "name": station_a.name,
            "name_kana": "ひきこもりしえんすてーしょんえー",
            "kind": "hikikomori_station",
            "municipality": city.pk,
            "service_area": [city.pk],
            "operation": "direct",
            "phone": "026-123-4567",
            "active_from": "2025-04-01",
            "consent_validity_days": "365",
            "referral_alert_business_days": "3",
        },
        saved=lambda: Agency.objects.values_list("phone", "municipality").get(pk=station_a.pk),
        kept='value="026-123-4567"',
    )


def supporter_profile(request) -> Scenario:
    yamada, ito = request.getfixturevalue("yamada"), request.getfixturevalue("ito")
    station_a, city = request.getfixturevalue("station_a"), request.getfixturevalue("nagano_city")
    membership = ito.memberships.get()
    login_as(request.getfixturevalue("client"), yamada)
    return Scenario(
        url=reverse("agencies:staff_edit", args=[station_a.public_id, membership.public_id]),
        data={
            "form": "supporter",
            "is_peer_supporter": "on",
            "dispatching_municipality": city.pk,
            "training_completed_on": "2025-06-30",
        },
        saved=lambda: (
            type(membership)
            .objects.filter(pk=membership.pk)
            .values_list("supporter_profile__training_completed_on")
            .get()
        ),
        kept='value="2025-06-30"',
    )


def network_create(request) -> Scenario:
    sysadmin = request.getfixturevalue("sysadmin")
    station_a, jiritsu_b = (
        request.getfixturevalue("station_a"),
        request.getfixturevalue("jiritsu_b"),
    )
    city = request.getfixturevalue("nagano_city")
    request.getfixturevalue("client").force_login(sysadmin)
    return Scenario(
        url=reverse("agencies:system_network_create"),
        data={
            "name": "長野市プラットフォーム",
            "kind": "municipal_platform",
            "municipality": city.pk,
            "coordinating_agency": jiritsu_b.pk,
            "members": [station_a.pk],
        },
        saved=lambda: Network.objects.count(),
        kept="長野市プラットフォーム",
    )


def council_create(request) -> Scenario:
    sysadmin, jiritsu_b = request.getfixturevalue("sysadmin"), request.getfixturevalue("jiritsu_b")
    city = request.getfixturevalue("nagano_city")
    login_as(request.getfixturevalue("client"), sysadmin)
    return Scenario(
        url=reverse("councils:create"),
        data={
            "municipality": city.pk,
            "name": "長野市支援会議",
            "legal_basis": "social_welfare_106_6",
            "chair_agency": jiritsu_b.pk,
            "established_on": today().isoformat(),
        },
        saved=lambda: SupportCouncil.objects.count(),
        kept="長野市支援会議",
    )


def plan_item(request) -> Scenario:
    from cases.services import plan_create, plan_goal_save

    tanaka, case = request.getfixturevalue("tanaka"), request.getfixturevalue("yamamoto_case")
    viewer = viewer_for(tanaka)
    plan = plan_create(viewer=viewer, case=case, client_words="働けるようになりたい")
    goal = plan_goal_save(viewer=viewer, plan=plan, goal=None, text="外に出る")
    login_as(request.getfixturevalue("client"), tanaka)
    return Scenario(
        url=reverse("cases:plan_item_add", args=[plan.public_id]),
        data={
            "new_item-what": "就労準備支援のセミナー",
            "new_item-agency": case.agency_id,
            "new_item-program": "work_preparation",
            "new_item-frequency": "月2回",
            "new_item-responsible": "相談支援員 田中",
            "new_item-goal": goal.pk,
        },
        saved=lambda: plan.items.count(),
        kept="就労準備支援のセミナー",
        headers={"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "plan-editor"},
    )


def household_member(request) -> Scenario:
    from cases.services import household_save

    tanaka, yamamoto = request.getfixturevalue("tanaka"), request.getfixturevalue("yamamoto")
    household_save(viewer=viewer_for(tanaka), client=yamamoto, postal_code="", address="", note="")
    yamamoto.refresh_from_db()
    login_as(request.getfixturevalue("client"), tanaka)
    return Scenario(
        url=reverse("cases:member_add", args=[yamamoto.public_id]),
        data={"relationship": "mother", "birth_year": "1950", "note": "年金暮らし"},
        saved=lambda: yamamoto.household.members.count(),
        kept='value="年金暮らし"',
    )


def delivery_preference(request) -> Scenario:
    login_as(request.getfixturevalue("client"), request.getfixturevalue("tanaka"))
    return Scenario(
        url=reverse("reminders:preferences"),
        data={"delivery": "digest", "hour": "6", "quiet_on_days_off": "on"},
        saved=lambda: DeliveryPreference.objects.count(),
        kept='value="digest" selected',
    )


SCENARIOS = {
    "quick consultation": quick_consultation,
    "consultation correction": consultation_correction,
    "case": case_edit,
    "meeting": meeting_create,
    "agency profile": agency_profile,
    "supporter profile": supporter_profile,
    "network": network_create,
    "council": council_create,
    "plan item": plan_item,
    "household member": household_member,
    "delivery preference": delivery_preference,
}


def post(client, scenario: Scenario, **changes):
    data = {**scenario.data, **changes}
    return client.post(scenario.url, data, **scenario.headers)


@pytest.mark.parametrize("form", SCENARIOS)
def test_the_valid_payload_is_saved(request, client, form):
    """The baseline the refusals below are measured against: the same payload, unchanged, is
    accepted (so a refusal is the hostile value's doing)."""
    scenario = SCENARIOS[form](request)
    before = scenario.saved()
    response = post(client, scenario)
    assert response.status_code in (200, 302)
    assert scenario.saved() != before


ID_FIELDS = [
    (form, name, multiple)
    for form, fields in {
        "quick consultation": {"staff": True, "partner_agency": False},
        "consultation correction": {"staff": True, "partner_agency": False},
        "case": {"primary_worker": False, "co_workers": True},
        "meeting": {"participant_agencies": True, "participant_users": True},
        "agency profile": {"municipality": False, "service_area": True},
        "supporter profile": {"dispatching_municipality": False},
        "network": {"municipality": False, "coordinating_agency": False, "members": True},
        "council": {"municipality": False, "chair_agency": False},
        "plan item": {"new_item-agency": False, "new_item-goal": False},
    }.items()
    for name, multiple in fields.items()
]
NUMBER_FIELDS = [
    ("consultation correction", "duration_minutes"),
    ("agency profile", "consent_validity_days"),
    ("agency profile", "referral_alert_business_days"),
    ("household member", "birth_year"),
    ("household member", "age"),
    ("delivery preference", "hour"),
]


@pytest.mark.parametrize("value", HOSTILE_IDS)
@pytest.mark.parametrize(("form", "name", "multiple"), ID_FIELDS)
def test_an_impossible_id_is_a_form_error(request, client, form, name, multiple, value):
    scenario = SCENARIOS[form](request)
    before = scenario.saved()
    # A multiple field gets the hostile value besides a valid one.
    hostile = [*scenario.data[name], value] if multiple else value

    response = post(client, scenario, **{name: hostile})

    # (The plan item's goal, a TypedChoiceField, says "invalid_choice" too.)
    assert_refused(response, name.removeprefix("new_item-"), {"invalid_choice"})
    assert scenario.kept in response.content.decode()
    assert scenario.saved() == before


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
@pytest.mark.parametrize(("form", "name"), NUMBER_FIELDS)
def test_an_impossible_number_is_a_form_error(request, client, form, name, value):
    scenario = SCENARIOS[form](request)
    before = scenario.saved()

    response = post(client, scenario, **{name: value})

    assert_refused(response, name, {"invalid", "min_value", "max_value"})
    assert scenario.kept in response.content.decode()
    assert scenario.saved() == before


def test_a_number_typed_in_full_width_digits_is_read_as_that_number(client, tanaka):
    """A number field (not an id) reads １２ typed with a Japanese IME as 12, as Django does:
    it is what the person meant, and it is checked against the field's bounds like any other."""
    login_as(client, tanaka)
    url = reverse("reminders:preferences")

    response = client.post(url, {"delivery": "digest", "hour": "１２"})

    assert response.status_code == 302
    assert DeliveryPreference.objects.get().hour == 12
    response = client.post(url, {"delivery": "digest", "hour": "２４"})
    assert_refused(response, "hour", {"max_value"})


# --- Pages that read an id from the query string or the path --------------------------------------


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_the_directory_filter_refuses_an_impossible_area(client, tanaka, nagano_city, value):
    login_as(client, tanaka)

    for name in ("prefecture", "municipality"):
        params = {"prefecture": nagano_city.prefecture_id, "municipality": nagano_city.pk}
        response = client.get(reverse("agencies:directory"), {**params, name: value, "q": "支援"})

        assert_refused(response, name, {"invalid_choice"})
        assert 'value="支援"' in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_the_queue_filter_refuses_an_impossible_age(client, takahashi, value):
    login_as(client, takahashi)

    response = client.get(reverse("referrals:incoming"), {"min_age": value})

    assert_refused(response, "min_age", {"invalid", "min_value", "max_value"})


def test_a_40_digit_id_in_the_path_is_not_found(client, tanaka, yamamoto, yamamoto_case):
    login_as(client, tanaka)

    for url in (
        reverse("cases:member_edit", args=[yamamoto.public_id, int(HUGE)]),
        reverse("cases:supporter_unassign", args=[int(HUGE)]),
    ):
        assert HUGE in url
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, {"client": str(yamamoto.public_id)}).status_code == 404


@pytest.mark.parametrize("value", [*HOSTILE_IDS, "not-a-uuid", "\x00", "1" * 5000])
def test_a_public_id_field_refuses_garbage(client, tanaka, yamamoto, jiritsu_b, value):
    """Fields keyed by a public id validate it as a UUID: garbage is the same form error."""
    login_as(client, tanaka)

    response = client.post(
        reverse("referrals:new", args=[yamamoto.public_id]),
        {
            "type": "introduction",
            "to_agency": value,
            "reason": "就労の相談",
            "client_wishes": "話を聞いてみたい",
            "urgency": "normal",
        },
    )

    assert_refused(response, "to_agency", {"invalid_choice", "null_characters_not_allowed"})
    assert "話を聞いてみたい" in response.content.decode()


# --- The core fields: the database is never asked -------------------------------------------------


def key_fields():
    return [
        IntegerKeyChoiceField(queryset=User.objects.all()),
        IntegerKeyMultipleChoiceField(queryset=User.objects.all()),
        IntegerKeyChoiceField(queryset=Municipality.objects.all()),
        IntegerKeyMultipleChoiceField(queryset=Agency.objects.exclude(name="")),
    ]


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_the_core_fields_refuse_without_a_query(value, django_assert_num_queries):
    for key_field in key_fields():
        posted = [value] if isinstance(key_field, forms.ModelMultipleChoiceField) else value
        with django_assert_num_queries(0), pytest.raises(ValidationError) as refused:
            key_field.clean(posted)
        assert refused.value.code == "invalid_choice"


def test_a_key_in_range_still_finds_its_row(tanaka, yamada):
    single, multiple = key_fields()[:2]

    assert single.clean(str(tanaka.pk)) == tanaka
    assert set(multiple.clean([str(tanaka.pk), str(yamada.pk)])) == {tanaka, yamada}
    assert single.clean(tanaka) == tanaka


def test_the_ranges_follow_the_key_fields_type():
    assert integer_key_range(User, None) == (1, 2**63 - 1)
    assert integer_key_range(Agency, "public_id") is None
    assert is_integer_key(str(2**63 - 1), (1, 2**63 - 1))
    assert not is_integer_key(str(2**63), (1, 2**63 - 1))
    assert is_integer_key(str(2**31 - 1), (1, 2**31 - 1))
    assert not is_integer_key(str(2**31), (1, 2**31 - 1))
    assert not is_integer_key(True, (0, 1))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.text(),
        st.integers().map(str),
        st.integers(),
        st.from_regex(r"\A[-+]?[0-9０-９]{1,45}\Z"),
        st.lists(st.one_of(st.text(max_size=30), st.integers().map(str)), max_size=4),
    )
)
def test_the_core_field_either_chooses_or_refuses(tanaka, value):
    """Whatever is posted, ``clean`` returns a valid choice or raises ValidationError."""
    for key_field in key_fields():
        try:
            chosen = key_field.clean(value)
        except ValidationError:
            continue
        if isinstance(key_field, forms.ModelMultipleChoiceField):
            assert all(isinstance(row, key_field.queryset.model) for row in chosen)
        else:
            assert chosen is None or isinstance(chosen, key_field.queryset.model)
