"""Households (世帯): members, the 8050 flag read from the data, and who may reach them."""

import datetime
import json

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditEntry
from cases.models import HouseholdMember, Relationship
from cases.selectors import household_view
from cases.services import case_open, client_create, household_member_save, household_save
from tests.conftest import login_as, viewer_for
from tests.test_client_picker import CLIENT_COUNT, MAX_PAGE_BYTES, bulk_clients

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year


# --- Building state through the services ---------------------------------------------------------


def ja(message: str) -> str:
    """What the page shows for ``message`` (Japanese once the catalogue has it)."""
    with translation.override("ja"):
        return gettext(message)


def make_household(user, client, **fields):
    household_save(
        viewer=viewer_for(user),
        client=client,
        postal_code=fields.get("postal_code", ""),
        address=fields.get("address", ""),
        note=fields.get("note", ""),
    )
    client.refresh_from_db()
    return client.household


def add_member(user, client, member_client=None, **fields):
    return household_member_save(
        viewer=viewer_for(user),
        client=client,
        member=None,
        fields={"lives_together": True, **fields},
        member_client=member_client,
    )


def register(user, full_name, kana, birth_date):
    return client_create(
        viewer=viewer_for(user),
        fields={"full_name": full_name, "full_name_kana": kana, "birth_date": birth_date},
        duplicate_confirmed=True,
    )


def open_case(user, client, topics=("hikikomori",), **fields):
    return case_open(
        viewer=viewer_for(user),
        client=client,
        fields={"origin": "family", **fields},
        topics=list(topics),
        main_topic=topics[0],
        primary_worker=user,
    )


def url(name, client, member=None):
    args = [client.public_id] if member is None else [client.public_id, member.id]
    return reverse(f"cases:{name}", args=args)


def self_member(client):
    return client.household.members.get(relationship=Relationship.SELF)


def panel(http, client) -> str:
    """The household panel as the caseworker sees it on the household page."""
    response = http.get(url("household_edit", client))
    assert response.status_code == 200
    text = response.text
    return text[text.index('id="household"') :]


def flagged(user, client) -> bool:
    client.refresh_from_db()
    return household_view(viewer=viewer_for(user), client=client).flag_8050


# --- Creating a household and its members --------------------------------------------------------


class TestHouseholdAndMembers:
    def test_creating_a_household_adds_the_client_as_its_first_member(
        self, client, tanaka, yamamoto
    ):
        login_as(client, tanaka)

        response = client.post(
            url("household_edit", yamamoto),
            {"postal_code": "３８０－０８３６", "address": "長野市南長野1-2-3", "note": ""},
        )

        assert response.status_code == 302
        assert response.url == url("client", yamamoto)
        yamamoto.refresh_from_db()
        household = yamamoto.household
        assert household.postal_code == "380-0836"
        assert household.address == "長野市南長野1-2-3"
        [member] = household.members.all()
        assert member.client == yamamoto
        assert member.relationship == Relationship.SELF
        assert member.birth_year == 1973
        assert member.name == "山本 太郎"

    def test_a_new_household_starts_from_the_clients_address(self, client, tanaka):
        taro = client_create(
            viewer=viewer_for(tanaka),
            fields={
                "full_name": "木村 太郎",
                "full_name_kana": "キムラ タロウ",
                "postal_code": "380-0001",
                "address": "長野市箱清水1-1",
            },
        )
        login_as(client, tanaka)

        response = client.get(url("household_edit", taro))

        assert 'value="380-0001"' in response.text
        assert 'value="長野市箱清水1-1"' in response.text

    def test_a_mother_added_by_age_gets_a_derived_year_of_birth(self, client, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        login_as(client, tanaka)

        response = client.post(
            url("member_add", yamamoto),
            {"name": "山本 花子", "relationship": "mother", "age": "82", "lives_together": "on"},
        )

        assert response.status_code == 302
        assert response.url == url("client", yamamoto)
        mother = yamamoto.household.members.get(relationship=Relationship.MOTHER)
        assert mother.birth_year == THIS_YEAR - 82
        assert mother.age == 82
        assert mother.lives_together
        assert mother.client is None

    def test_a_member_added_by_year_of_birth_keeps_it(self, client, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        login_as(client, tanaka)

        client.post(
            url("member_add", yamamoto),
            {"name": "山本 一郎", "relationship": "father", "birth_year": "1941"},
        )

        father = yamamoto.household.members.get(relationship=Relationship.FATHER)
        assert father.birth_year == 1941
        assert not father.lives_together

    def test_adding_a_member_before_the_household_leads_to_the_household_form(
        self, client, tanaka, yamamoto
    ):
        login_as(client, tanaka)

        response = client.get(url("member_add", yamamoto))

        assert response.status_code == 302
        assert response.url == url("household_edit", yamamoto)

    def test_a_validation_error_keeps_what_was_typed_with_a_japanese_message(
        self, client, tanaka, yamamoto
    ):
        make_household(tanaka, yamamoto)
        login_as(client, tanaka)

        response = client.post(
            url("member_add", yamamoto),
            {"name": "山本 花子", "age": "182", "note": "足が悪い", "lives_together": "on"},
        )

        assert response.status_code == 200
        assert 'value="山本 花子"' in response.text
        assert 'value="足が悪い"' in response.text
        assert 'value="182"' in response.text
        assert "このフィールドは必須です。" in response.text  # the relationship
        assert "この値は 120 以下でなければなりません。" in response.text  # the age
        assert yamamoto.household.members.count() == 1

    def test_an_age_that_contradicts_the_year_of_birth_is_refused(self, client, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        login_as(client, tanaka)

        response = client.post(
            url("member_add", yamamoto),
            {"relationship": "mother", "birth_year": "1944", "age": "60"},
        )

        assert response.status_code == 200
        assert response.context["form"].errors["age"]
        assert yamamoto.household.members.count() == 1

    def test_editing_a_member_changes_who_lives_together(self, client, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        mother = add_member(tanaka, yamamoto, name="山本 花子", relationship="mother", age=82)
        login_as(client, tanaka)
        form = client.get(url("member_edit", yamamoto, mother))
        assert 'value="山本 花子"' in form.text

        response = client.post(
            url("member_edit", yamamoto, mother),
            {"name": "山本 花子", "relationship": "mother", "birth_year": str(THIS_YEAR - 82)},
        )

        assert response.status_code == 302
        mother.refresh_from_db()
        assert not mother.lives_together
        assert mother.birth_year == THIS_YEAR - 82

    def test_the_clients_own_row_stays_the_client(self, client, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        own = self_member(yamamoto)
        login_as(client, tanaka)

        response = client.post(
            url("member_edit", yamamoto, own),
            {
                "name": "山本 太郎",
                "relationship": "child",
                "member_client": "",
                "birth_year": "1973",
                "note": "本人",
            },
        )

        assert response.status_code == 302
        own.refresh_from_db()
        assert own.relationship == Relationship.SELF
        assert own.client == yamamoto
        assert own.lives_together
        assert own.note == "本人"

    def test_a_member_can_be_linked_to_another_client_of_the_agency(self, client, tanaka, yamamoto):
        hanako = register(tanaka, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
        hanako_case = open_case(tanaka, hanako, topics=("care",))
        make_household(tanaka, yamamoto)
        login_as(client, tanaka)

        response = client.post(
            url("member_add", yamamoto),
            {"relationship": "mother", "member_client": hanako.public_id, "lives_together": "on"},
        )

        assert response.status_code == 302
        mother = yamamoto.household.members.get(relationship=Relationship.MOTHER)
        assert mother.client == hanako
        assert mother.name == "山本 花子"
        assert mother.birth_year == 1944  # from her date of birth
        hanako.refresh_from_db()
        assert hanako.household == yamamoto.household
        shown = panel(client, yamamoto)
        assert url("client", hanako) in shown
        assert str(hanako_case.get_stage_display()) in shown

    def test_the_same_client_cannot_be_added_twice(self, client, tanaka, yamamoto):
        hanako = register(tanaka, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
        make_household(tanaka, yamamoto)
        add_member(tanaka, yamamoto, relationship="mother", member_client=hanako)
        login_as(client, tanaka)

        response = client.post(
            url("member_add", yamamoto),
            {"relationship": "mother", "member_client": hanako.public_id},
        )

        assert response.status_code == 200
        assert response.context["form"].errors["member_client"]
        assert yamamoto.household.members.count() == 2

    def test_another_agencys_client_cannot_be_chosen_as_a_member(
        self, client, tanaka, sato, yamamoto
    ):
        theirs = register(sato, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
        make_household(tanaka, yamamoto)
        login_as(client, tanaka)

        response = client.post(
            url("member_add", yamamoto),
            {"relationship": "mother", "member_client": theirs.public_id},
        )

        assert response.status_code == 200
        assert ja("Choose the person from the list.") in response.text
        assert yamamoto.household.members.count() == 1
        theirs.refresh_from_db()
        assert theirs.household is None

    def test_removing_a_member(self, client, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        mother = add_member(tanaka, yamamoto, name="山本 花子", relationship="mother", age=82)
        login_as(client, tanaka)

        response = client.post(url("member_remove", yamamoto, mother))

        assert response.status_code == 302
        assert response.url == url("client", yamamoto)
        assert not HouseholdMember.objects.filter(pk=mother.pk).exists()
        assert AuditEntry.objects.filter(action="household.member_removed").count() == 1

    def test_removing_the_clients_own_row_is_refused_with_a_message(self, client, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        own = self_member(yamamoto)
        login_as(client, tanaka)

        response = client.post(
            url("member_remove", yamamoto, own), headers={"Accept-Language": "en"}
        )

        assert response.status_code == 302
        assert HouseholdMember.objects.filter(pk=own.pk).exists()
        [message] = get_messages(response.wsgi_request)
        assert message.level_tag == "error"
        assert str(message) == "The client cannot be removed from their own household."
        assert not AuditEntry.objects.filter(action="household.member_removed").exists()

    def test_removing_is_post_only(self, client, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        mother = add_member(tanaka, yamamoto, relationship="mother", age=82)
        login_as(client, tanaka)

        assert client.get(url("member_remove", yamamoto, mother)).status_code == 405
        assert HouseholdMember.objects.filter(pk=mother.pk).exists()


# --- The 8050 flag -------------------------------------------------------------------------------


class Test8050:
    def test_an_old_mother_living_with_her_son_in_withdrawal_raises_the_flag(
        self, client, tanaka, yamamoto_case, yamamoto
    ):
        make_household(tanaka, yamamoto)
        add_member(tanaka, yamamoto, name="山本 花子", relationship="mother", age=82)
        login_as(client, tanaka)

        shown = panel(client, yamamoto)

        assert flagged(tanaka, yamamoto)
        assert 'data-flag="8050"' in shown
        assert 'role="alert"' in shown

    @pytest.mark.parametrize(
        ("mother", "in_withdrawal"),
        [
            pytest.param({"age": 82, "lives_together": False}, True, id="living-apart"),
            pytest.param({"age": 65, "lives_together": True}, True, id="parent-under-70"),
            pytest.param({"age": 82, "lives_together": True}, False, id="child-not-withdrawn"),
        ],
    )
    def test_no_flag_without_every_part_of_the_pattern(
        self, client, tanaka, yamamoto, mother, in_withdrawal
    ):
        if in_withdrawal:
            open_case(tanaka, yamamoto, withdrawal_duration="10y")
        else:
            open_case(tanaka, yamamoto, topics=("income", "debt"))
        make_household(tanaka, yamamoto)
        add_member(tanaka, yamamoto, name="山本 花子", relationship="mother", **mother)
        login_as(client, tanaka)

        shown = panel(client, yamamoto)

        assert not flagged(tanaka, yamamoto)
        assert 'data-flag="8050"' not in shown
        assert "山本 花子" in shown

    def test_a_client_without_a_case_is_not_taken_to_be_in_withdrawal(self, tanaka, yamamoto):
        make_household(tanaka, yamamoto)
        add_member(tanaka, yamamoto, relationship="mother", age=82)

        assert not flagged(tanaka, yamamoto)

    def test_the_flag_goes_when_the_mother_moves_out(self, client, tanaka, yamamoto_case, yamamoto):
        make_household(tanaka, yamamoto)
        mother = add_member(tanaka, yamamoto, name="山本 花子", relationship="mother", age=82)
        assert flagged(tanaka, yamamoto)
        login_as(client, tanaka)

        client.post(
            url("member_edit", yamamoto, mother),
            {"name": "山本 花子", "relationship": "mother", "age": "82"},
        )

        assert not flagged(tanaka, yamamoto)
        assert 'data-flag="8050"' not in panel(client, yamamoto)

    def test_an_old_client_with_a_withdrawn_child_at_home_raises_the_flag(self, client, tanaka):
        tome = register(tanaka, "山本 トメ", "ヤマモト トメ", datetime.date(1944, 2, 1))
        make_household(tanaka, tome)
        son = add_member(
            tanaka, tome, name="山本 一男", relationship="child", age=50, in_withdrawal=True
        )
        login_as(client, tanaka)

        shown = panel(client, tome)

        assert son.client is None
        assert flagged(tanaka, tome)
        assert 'data-flag="8050"' in shown
        assert "山本 一男" in shown

    def test_an_old_client_whose_child_is_not_withdrawn_raises_no_flag(self, tanaka):
        tome = register(tanaka, "山本 トメ", "ヤマモト トメ", datetime.date(1944, 2, 1))
        make_household(tanaka, tome)
        add_member(tanaka, tome, relationship="child", age=50, in_withdrawal=False)

        assert not flagged(tanaka, tome)

    def test_the_panel_renders_from_the_selector_alone(self, tanaka, yamamoto_case, yamamoto):
        # The lead's client page includes the partial with just these two names.
        make_household(tanaka, yamamoto)
        add_member(tanaka, yamamoto, name="山本 花子", relationship="mother", age=82)
        yamamoto.refresh_from_db()
        view = household_view(viewer=viewer_for(tanaka), client=yamamoto)

        html = render_to_string(
            "cases/_household_panel.html", {"household_view": view, "client": yamamoto}
        )
        readonly = render_to_string(
            "cases/_household_panel.html",
            {"household_view": view, "client": yamamoto, "readonly": True},
        )
        empty = render_to_string(
            "cases/_household_panel.html", {"household_view": None, "client": yamamoto}
        )

        assert 'data-flag="8050"' in html
        assert "山本 花子" in html
        assert url("member_add", yamamoto) in html
        assert url("member_add", yamamoto) not in readonly
        assert 'data-flag="8050"' in readonly
        assert url("household_edit", yamamoto) in empty
        assert url("member_add", yamamoto) not in empty


# --- Who may reach a household -------------------------------------------------------------------


@pytest.fixture
def yamamoto_household(tanaka, yamamoto):
    make_household(tanaka, yamamoto, address="長野市南長野1-2-3")
    mother = add_member(tanaka, yamamoto, name="山本 花子", relationship="mother", age=82)
    return yamamoto, mother


HOUSEHOLD_URLS = [
    ("get", "household_edit", False),
    ("post", "household_edit", False),
    ("get", "member_add", False),
    ("post", "member_add", False),
    ("get", "member_edit", True),
    ("post", "member_edit", True),
    ("post", "member_remove", True),
]


class TestAccess:
    @pytest.mark.parametrize(("method", "name", "with_member"), HOUSEHOLD_URLS)
    @pytest.mark.parametrize("persona", ["sato", "suzuki", "ito"])
    def test_outsiders_get_404(
        self, request, client, yamamoto_household, persona, method, name, with_member
    ):
        # sato: another agency; suzuki: a supervisor at another agency; ito: a supporter of
        # station A, who is not assigned this client.
        yamamoto, mother = yamamoto_household
        login_as(client, request.getfixturevalue(persona))
        data = {"relationship": "mother", "age": "60", "address": "書き換え"}

        response = getattr(client, method)(
            url(name, yamamoto, mother if with_member else None), data
        )

        assert response.status_code == 404
        mother.refresh_from_db()
        assert mother.age == 82
        assert yamamoto.household.address == "長野市南長野1-2-3"

    @pytest.mark.parametrize(("method", "name", "with_member"), HOUSEHOLD_URLS)
    def test_a_colleague_at_the_same_agency_may_work_on_it(
        self, client, yamada, yamamoto_household, method, name, with_member
    ):
        yamamoto, mother = yamamoto_household
        login_as(client, yamada)

        response = getattr(client, method)(url(name, yamamoto, mother if with_member else None))

        assert response.status_code in {200, 302}

    @pytest.mark.parametrize("name", ["member_edit", "member_remove"])
    def test_a_member_of_another_household_is_404(self, client, tanaka, yamamoto_household, name):
        yamamoto, _mother = yamamoto_household
        kimura = register(tanaka, "木村 次郎", "キムラ ジロウ", datetime.date(1960, 1, 1))
        make_household(tanaka, kimura)
        their_wife = add_member(tanaka, kimura, name="木村 良子", relationship="spouse", age=64)
        login_as(client, tanaka)

        response = client.post(url(name, yamamoto, their_wife), {"relationship": "mother"})

        assert response.status_code == 404
        their_wife.refresh_from_db()
        assert their_wife.relationship == Relationship.SPOUSE

    def test_an_unknown_member_is_404(self, client, tanaka, yamamoto_household):
        yamamoto, _mother = yamamoto_household
        login_as(client, tanaka)

        response = client.get(reverse("cases:member_edit", args=[yamamoto.public_id, 999999]))

        assert response.status_code == 404


# --- The audit trail -----------------------------------------------------------------------------


def test_audit_entries_name_no_one(client, tanaka, yamamoto):
    hanako = register(tanaka, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
    login_as(client, tanaka)
    client.post(url("household_edit", yamamoto), {"address": "長野市南長野1-2-3"})
    client.post(
        url("member_add", yamamoto),
        {"name": "山本 一郎", "relationship": "father", "age": "85", "note": "一郎は足が悪い"},
    )
    client.post(
        url("member_add", yamamoto),
        {"relationship": "mother", "member_client": hanako.public_id, "lives_together": "on"},
    )
    yamamoto.refresh_from_db()
    father = yamamoto.household.members.get(relationship=Relationship.FATHER)
    client.post(
        url("member_edit", yamamoto, father),
        {"name": "山本 一朗", "relationship": "father", "age": "85", "note": "一朗"},
    )
    client.post(url("member_remove", yamamoto, father))

    entries = AuditEntry.objects.filter(action__startswith="household.")
    assert sorted(entries.values_list("action", flat=True)) == [
        "household.created",
        "household.member_added",
        "household.member_added",
        "household.member_removed",
        "household.member_updated",
    ]
    written = json.dumps(
        [[e.target_label, e.changes] for e in entries], ensure_ascii=False, default=str
    )
    for personal in ["山本", "太郎", "一郎", "一朗", "花子", "足が悪い", "南長野", "ヤマモト"]:
        assert personal not in written
    assert all(e.actor == tanaka for e in entries)


# --- Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("extra_members", [1, 6])
def test_the_household_page_costs_the_same_queries_however_many_members(
    client, tanaka, yamamoto_case, yamamoto, extra_members
):
    make_household(tanaka, yamamoto)
    for number in range(extra_members):
        relative = register(
            tanaka, f"山本 親族{number}", f"ヤマモト シンゾク{number}", datetime.date(1950, 1, 1)
        )
        open_case(tanaka, relative, topics=("care", "income"))
        add_member(tanaka, yamamoto, relationship="other_relative", member_client=relative)
        add_member(tanaka, yamamoto, name=f"親族{number}", relationship="sibling", age=50)
    login_as(client, tanaka)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("household_edit", yamamoto))

    assert response.status_code == 200
    assert response.text.count("/members/") >= 2 * extra_members
    # 1 session, 2 user, 3 current membership + agency, 4 the client + household,
    # 5 the members + their client records, 6 the open cases of member clients, 7 their topics
    assert len(queries) == 7, "\n".join(q["sql"][:120] for q in queries)


# --- The member form's client picker (issue 13): no page renders the agency's clients ---------


def test_the_member_form_stays_small_and_flat_with_2000_clients(
    client, tanaka, yamamoto, station_a, django_assert_num_queries
):
    bulk_clients(station_a, CLIENT_COUNT)
    make_household(tanaka, yamamoto)
    login_as(client, tanaka)
    url = reverse("cases:member_add", args=[yamamoto.public_id])
    # 1 session, 2 user, 3 membership and agency of the viewer, 4 the client with household,
    # 5 the household's members, 6 their open cases. No query of the agency's clients.
    with django_assert_num_queries(6):
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    assert "利用者0000" not in page
    assert 'role="combobox"' in page


def test_a_forged_member_client_is_refused_with_the_typed_values_kept(
    client, tanaka, sato, yamamoto
):
    theirs = register(sato, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
    make_household(tanaka, yamamoto)
    login_as(client, tanaka)

    response = client.post(
        reverse("cases:member_add", args=[yamamoto.public_id]),
        {
            "relationship": "mother",
            "member_client": str(theirs.public_id),
            "member_client_text": "やまもと はなこ",
            "note": "年金暮らし",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert ja("Choose the person from the list.") in page
    assert 'value="やまもと はなこ"' in page
    assert 'value="年金暮らし"' in page
    assert yamamoto.household.members.count() == 1


def test_the_member_form_shows_the_linked_client_and_leaves_the_household_out(
    client, tanaka, yamamoto
):
    hanako = register(tanaka, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
    make_household(tanaka, yamamoto)
    mother = add_member(tanaka, yamamoto, relationship="mother", member_client=hanako)
    login_as(client, tanaka)

    edit = client.get(reverse("cases:member_edit", args=[yamamoto.public_id, mother.id]))
    add = client.get(reverse("cases:member_add", args=[yamamoto.public_id]))

    assert 'value="山本 花子（ヤマモト ハナコ、1944-03-03）"' in edit.content.decode()
    # A new member's search leaves out the client and those already in the household.
    added = add.content.decode()
    assert f"exclude={yamamoto.public_id}%2C{hanako.public_id}" in added
