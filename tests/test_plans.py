"""The support plan (プラン): the editor (htmx and plain), versions (再プラン) with what changed,
the client's agreement, reviews (評価) per goal, the A4 print, and who may open a plan."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from agencies.models import Agency
from cases.models import GoalReview, Plan, PlanGoal, PlanItem, PlanReview, PlanStatus
from cases.services import (
    case_open,
    client_create,
    meeting_case_record,
    meeting_save,
    plan_create,
    plan_goal_save,
    plan_item_save,
    plan_record_agreement,
    plan_revise,
    plan_update,
)
from tests.conftest import login_as, make_agency, viewer_for

pytestmark = pytest.mark.django_db
# What htmx sends from the editor: its requests target the editor element.
EDITOR = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "plan-editor"}
# The client's words as typed: a full-width space to start, a blank line, a trailing space.
WORDS = "\u3000朝、起きられるようになりたい。\r\n\r\n\u3000週に一度は外に出たい\u3000"


def today() -> datetime.date:
    return timezone.localdate()


def ja(message: str) -> str:
    """What the page shows for ``message`` (Japanese once the catalogue has it)."""
    with translation.override("ja"):
        return gettext(message)


def autofocused(html: str, element_id: str) -> bool:
    """Whether the element with this id carries ``autofocus`` (htmx focuses it once swapped in)."""
    tag = re.search(rf'<[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    return bool(tag) and " autofocus" in tag.group(0)


def url(name: str, plan: Plan, *args) -> str:
    return reverse(f"cases:{name}", args=[plan.public_id, *args])


def make_plan(user, case, *, goals=("外に出る",), items=("週1回の面談",), agency=None) -> Plan:
    viewer = viewer_for(user)
    plan = plan_create(viewer=viewer, case=case, client_words="働けるようになりたい")
    for text in goals:
        plan_goal_save(viewer=viewer, plan=plan, goal=None, text=text)
    for what in items:
        plan_item_save(
            viewer=viewer,
            plan=plan,
            item=None,
            fields={"what": what, "agency": agency or case.agency, "frequency": "週1回"},
        )
    return plan


def agree(user, plan: Plan) -> Plan:
    return plan_record_agreement(
        viewer=viewer_for(user), plan=plan, agreed_on=today(), method="signed"
    )


def item_data(agency, **fields) -> dict:
    data = {
        "what": "就労準備支援のセミナー",
        "agency": agency.pk,
        "program": "work_preparation",
        "frequency": "月2回",
        "responsible": "相談支援員 田中",
        "goal": "",
        **fields,
    }
    return {f"new_item-{key}": value for key, value in data.items()}


@pytest.fixture
def plan(tanaka, yamamoto_case):
    return make_plan(tanaka, yamamoto_case)


class TestMakingAPlan:
    def test_make_a_plan_starts_a_draft_and_opens_its_editor(self, client, tanaka, yamamoto_case):
        login_as(client, tanaka)

        response = client.post(reverse("cases:plan_create", args=[yamamoto_case.public_id]))

        plan = Plan.objects.get(case=yamamoto_case)
        assert response.status_code == 302
        assert response["Location"] == url("plan", plan)
        assert plan.version == 1
        assert plan.status == PlanStatus.DRAFT
        editor = client.get(url("plan", plan)).text
        assert 'id="plan-editor"' in editor
        assert url("plan_goal_add", plan) in editor

    def test_a_second_plan_for_the_same_case_is_refused_with_a_message(self, client, tanaka, plan):
        login_as(client, tanaka)

        response = client.post(
            reverse("cases:plan_create", args=[plan.case.public_id]), follow=True
        )

        assert Plan.objects.count() == 1
        assert ja("This case has a plan already; revise it instead.") in response.text

    def test_the_plan_panel_offers_make_a_plan_then_shows_the_current_version(
        self, rf, tanaka, yamamoto_case
    ):
        from django.template.loader import render_to_string

        from cases.selectors import case_plans

        request = rf.get("/")
        request.user = tanaka
        empty = render_to_string(
            "cases/_plan_panel.html", {"case": yamamoto_case, "plans": []}, request=request
        )
        assert reverse("cases:plan_create", args=[yamamoto_case.public_id]) in empty

        plan = make_plan(tanaka, yamamoto_case, goals=("一", "二"))
        plans = case_plans(viewer=viewer_for(tanaka), case=yamamoto_case)
        panel = render_to_string(
            "cases/_plan_panel.html", {"case": yamamoto_case, "plans": plans}, request=request
        )
        assert url("plan", plan) in panel
        assert url("plan_print", plan) in panel
        assert reverse("cases:plan_create", args=[yamamoto_case.public_id]) not in panel


class TestTheEditor:
    def test_goals_are_added_with_htmx_and_the_clients_words_are_kept_verbatim(
        self, client, tanaka, plan
    ):
        login_as(client, tanaka)

        response = client.post(url("plan_goal_add", plan), {"new_goal-text": WORDS}, **EDITOR)

        assert response.status_code == 200
        assert "<html" not in response.text  # the editor partial alone
        assert response.text.lstrip().startswith('<div id="plan-editor">')
        goal = plan.goals.order_by("-id").first()
        assert goal.text == WORDS
        assert WORDS in response.text  # shown as typed (white-space: pre-wrap)
        assert 'hx-swap-oob="true"' in response.text
        assert ja("The goal was added.") in response.text

    def test_the_plans_own_words_and_review_date_are_saved_verbatim(self, client, tanaka, plan):
        login_as(client, tanaka)
        review_on = today() + datetime.timedelta(days=90)

        response = client.post(
            url("plan_update", plan),
            {"client_words": WORDS, "review_on": review_on.isoformat()},
            **EDITOR,
        )

        plan.refresh_from_db()
        assert response.status_code == 200
        assert plan.client_words == WORDS
        assert plan.review_on == review_on

    def test_an_item_for_a_partner_agency_is_added_and_links_to_the_directory(
        self, client, tanaka, plan, jiritsu_b
    ):
        login_as(client, tanaka)
        goal = plan.goals.get()

        response = client.post(
            url("plan_item_add", plan), item_data(jiritsu_b, goal=goal.pk), **EDITOR
        )

        item = plan.items.get(what="就労準備支援のセミナー")
        assert response.status_code == 200
        assert (item.agency, item.program, item.frequency, item.goal) == (
            jiritsu_b,
            "work_preparation",
            "月2回",
            goal,
        )
        assert reverse("agencies:detail", args=[jiritsu_b.public_id]) in response.text
        assert reverse("agencies:directory") in response.text
        # The new item's "what" gets the cursor back for the next one.
        assert autofocused(response.text, "id_new_item-what")

    def test_a_new_item_starts_with_this_agency_and_the_picker_offers_active_partners(
        self, client, tanaka, plan, jiritsu_b, agency_c
    ):
        closed = make_agency("閉所した支援機関", "ヘイショシエンキカン", "npo")
        Agency.objects.filter(pk=closed.pk).update(
            active_from=datetime.date(2020, 4, 1), active_until=datetime.date(2021, 3, 31)
        )
        login_as(client, tanaka)

        page = client.get(url("plan", plan)).text
        # No list of agencies on the page: the own agency is chosen, by pk as before.
        assert '<select name="new_item-agency"' not in page
        assert f'name="new_item-agency" value="{plan.case.agency_id}"' in page
        assert 'value="ひきこもり支援ステーションA（' in page

        pick = reverse("agencies:pick", args=["plan-agency"])
        found = client.get(pick, {"q": "しえん", "key": "pk"}).text
        assert f'data-value="{plan.case.agency_id}"' in found  # this agency
        assert f'data-value="{jiritsu_b.pk}"' in found  # an active partner
        assert closed.name not in found
        other = client.get(pick, {"q": "えぬぴー", "key": "pk"}).text
        assert f'data-value="{agency_c.pk}"' in other

    def test_move_up_and_down_reorders_and_keeps_the_focus_on_the_moved_item(
        self, client, tanaka, yamamoto_case
    ):
        plan = make_plan(tanaka, yamamoto_case, items=("面談", "居場所", "家計相談"))
        first, second, third = plan.items.order_by("position")
        login_as(client, tanaka)

        response = client.post(
            url("plan_items_reorder", plan),
            {"order": [second.pk, first.pk, third.pk], "moved": second.pk, "direction": "up"},
            **EDITOR,
        )

        assert response.status_code == 200
        assert list(plan.items.order_by("position", "id").values_list("what", flat=True)) == [
            "居場所",
            "面談",
            "家計相談",
        ]
        # At the top it cannot go up again: the cursor goes to its "down" button.
        assert f'id="item-{second.pk}-up"' not in response.text
        assert autofocused(response.text, f"item-{second.pk}-down")

    def test_each_move_button_posts_the_whole_new_order(self, client, tanaka, yamamoto_case):
        plan = make_plan(tanaka, yamamoto_case, items=("面談", "居場所"))
        first, second = plan.items.order_by("position")
        login_as(client, tanaka)

        page = client.get(url("plan", plan)).text

        down = re.search(rf'<form[^>]*>(?:(?!</form>).)*id="item-{first.pk}-down"', page, re.S)
        assert re.findall(r'name="order" value="(\d+)"', down.group(0)) == [
            str(second.pk),
            str(first.pk),
        ]

    def test_a_stale_order_is_refused_and_nothing_moves(self, client, tanaka, yamamoto_case):
        plan = make_plan(tanaka, yamamoto_case, items=("面談", "居場所"))
        first, second = plan.items.order_by("position")
        login_as(client, tanaka)

        response = client.post(url("plan_items_reorder", plan), {"order": [second.pk]}, **EDITOR)

        assert response.status_code == 200
        assert ja("The list of items has changed; reload the page.") in response.text
        assert list(plan.items.order_by("position", "id")) == [first, second]

    def test_an_item_and_a_goal_are_edited_and_removed_without_leaving_the_page(
        self, client, tanaka, plan
    ):
        item, goal = plan.items.get(), plan.goals.get()
        login_as(client, tanaka)

        editing = client.get(url("plan_item_edit", plan, item.pk), **EDITOR)
        assert f'name="item{item.pk}-what"' in editing.text
        fields = {
            f"item{item.pk}-{key}": value
            for key, value in item_data(plan.case.agency, what="隔週の面談").items()
            for key in [key.removeprefix("new_item-")]
        }
        client.post(url("plan_item_edit", plan, item.pk), fields, **EDITOR)
        item.refresh_from_db()
        assert item.what == "隔週の面談"

        client.post(url("plan_goal_edit", plan, goal.pk), {f"goal{goal.pk}-text": WORDS}, **EDITOR)
        goal.refresh_from_db()
        assert goal.text == WORDS

        client.post(url("plan_item_remove", plan, item.pk), **EDITOR)
        response = client.post(url("plan_goal_remove", plan, goal.pk), **EDITOR)
        assert response.status_code == 200
        assert not plan.items.exists()
        assert not plan.goals.exists()
        assert ja("No goals yet.") in response.text

    def test_without_htmx_each_action_redirects_back_to_the_plan(self, client, tanaka, plan):
        login_as(client, tanaka)

        response = client.post(url("plan_goal_add", plan), {"new_goal-text": "家族と話す"})

        assert response.status_code == 302
        assert response["Location"] == url("plan", plan) + "#plan-goals"
        assert plan.goals.filter(text="家族と話す").exists()

    def test_bad_input_shows_a_japanese_message_keeps_what_was_typed_and_saves_nothing(
        self, client, tanaka, plan
    ):
        login_as(client, tanaka)

        response = client.post(
            url("plan_item_add", plan),
            item_data(plan.case.agency, what="", frequency="週に1回くらい"),
            **EDITOR,
        )

        assert response.status_code == 200
        assert plan.items.count() == 1
        assert ja("This field is required.") in response.text
        assert ja("Not saved yet: please correct the marked fields. What you typed is kept.") in (
            response.text
        )
        assert 'value="週に1回くらい"' in response.text
        assert autofocused(response.text, "id_new_item-what")

    def test_a_goal_of_only_spaces_is_refused_by_the_service_with_its_message(
        self, client, tanaka, plan
    ):
        login_as(client, tanaka)

        response = client.post(url("plan_goal_add", plan), {"new_goal-text": "\u3000\u3000"})

        assert response.status_code == 200
        assert plan.goals.count() == 1
        # A form error is escaped in the page (' becomes &#x27;).
        assert escape(ja("Write the goal in the client's words.")) in response.text


class TestVersions:
    def test_a_revision_keeps_the_old_version_unchanged_and_readable(self, client, tanaka, plan):
        agree(tanaka, plan)
        login_as(client, tanaka)

        response = client.post(url("plan_revise", plan), {"reason": "就労の意欲が出てきた"})

        revision = Plan.objects.get(revision_of=plan)
        assert response.status_code == 302
        assert response["Location"] == url("plan", revision)
        assert (revision.version, revision.status) == (2, PlanStatus.DRAFT)
        # The new draft is edited; the agreed version is not touched.
        client.post(url("plan_goal_add", revision), {"new_goal-text": "アルバイトを探す"})
        first_goal = revision.goals.order_by("position", "id").first()
        client.post(url("plan_goal_remove", revision, first_goal.pk))
        plan.refresh_from_db()
        assert plan.status == PlanStatus.AGREED
        assert list(plan.goals.values_list("text", flat=True)) == ["外に出る"]
        old = client.get(url("plan", plan)).text
        assert "外に出る" in old
        assert "アルバイトを探す" not in old
        assert 'id="plan-editor"' not in old  # read-only

    def test_a_revision_needs_a_reason_and_nothing_is_made_without_one(self, client, tanaka, plan):
        agree(tanaka, plan)
        login_as(client, tanaka)

        form = client.get(url("plan_revise", plan))
        response = client.post(url("plan_revise", plan), {"reason": ""})

        assert form.status_code == 200
        assert "外に出る" in form.text  # the version being revised, shown as it is
        assert response.status_code == 200
        assert ja("Write why the plan is revised.") in response.text
        assert Plan.objects.count() == 1

    def test_the_old_version_is_superseded_once_the_revision_is_agreed(self, client, tanaka, plan):
        agree(tanaka, plan)
        revision = plan_revise(viewer=viewer_for(tanaka), plan=plan, reason="状況の変化")
        login_as(client, tanaka)

        response = client.post(
            url("plan_agree", revision), {"agreed_on": today().isoformat(), "method": "oral"}
        )

        plan.refresh_from_db()
        revision.refresh_from_db()
        assert response.status_code == 302
        assert (revision.status, revision.agreement_method) == (PlanStatus.AGREED, "oral")
        assert plan.status == PlanStatus.SUPERSEDED
        old = client.get(url("plan", plan))
        assert old.status_code == 200
        assert url("plan", revision) in old.text

    def test_what_changed_from_the_previous_version_is_shown(self, client, tanaka, plan):
        agree(tanaka, plan)
        viewer = viewer_for(tanaka)
        revision = plan_revise(viewer=viewer, plan=plan, reason="就労の意欲が出てきた")
        plan_goal_save(viewer=viewer, plan=revision, goal=None, text="アルバイトを探す")
        plan_item_save(
            viewer=viewer,
            plan=revision,
            item=revision.items.get(),
            fields={"frequency": "月2回"},
        )
        plan_update(viewer=viewer, plan=revision, client_words="少し働きたい", review_on=None)
        login_as(client, tanaka)

        page = client.get(url("plan", revision)).text

        changes = page[page.index('id="plan-changes"') :]
        assert ja("What changed from version %(version)s") % {"version": 1} in changes
        assert "就労の意欲が出てきた" in changes
        assert ja("Goal added") in changes
        assert "アルバイトを探す" in changes
        assert ja("Support changed (agency, program, frequency or person)") in changes
        assert ja("The client's own words changed.") in changes
        assert url("plan", plan) in page  # the earlier version, readable

    def test_every_earlier_version_is_linked_from_each_version(self, client, tanaka, plan):
        viewer = viewer_for(tanaka)
        agree(tanaka, plan)
        second = plan_revise(viewer=viewer, plan=plan, reason="一回目の見直し")
        agree(tanaka, second)
        third = plan_revise(viewer=viewer, plan=second, reason="二回目の見直し")
        login_as(client, tanaka)

        page = client.get(url("plan", third)).text
        versions = page[page.index('id="plan-versions"') :]

        assert url("plan", plan) in versions
        assert url("plan", second) in versions
        for version in (plan, second):
            assert client.get(url("plan", version)).status_code == 200

    @pytest.mark.parametrize(
        "action",
        [
            "plan_update",
            "plan_goal_add",
            "plan_goal_edit",
            "plan_goal_remove",
            "plan_item_add",
            "plan_item_edit",
            "plan_item_remove",
            "plan_items_reorder",
        ],
    )
    def test_editing_an_agreed_version_is_refused(self, client, tanaka, plan, action):
        agree(tanaka, plan)
        goal, item = plan.goals.get(), plan.items.get()
        args = {
            "plan_goal_edit": [goal.pk],
            "plan_goal_remove": [goal.pk],
            "plan_item_edit": [item.pk],
            "plan_item_remove": [item.pk],
        }.get(action, [])
        data = {
            "client_words": "書き換え",
            "new_goal-text": "書き換え",
            f"goal{goal.pk}-text": "書き換え",
            "order": [item.pk],
            **item_data(plan.case.agency, what="書き換え"),
        }
        login_as(client, tanaka)

        plain = client.post(url(action, plan, *args), data, follow=True)
        htmx = client.post(url(action, plan, *args), data, **EDITOR)

        assert plain.redirect_chain[-1][0] == url("plan", plan)
        assert ja(
            "This version was agreed and is kept as it is; revise the plan to change it."
        ) in (plain.text)
        assert htmx["HX-Redirect"] == url("plan", plan)
        plan.refresh_from_db()
        assert plan.client_words == "働けるようになりたい"
        assert list(plan.goals.values_list("text", flat=True)) == ["外に出る"]
        assert list(plan.items.values_list("what", flat=True)) == ["週1回の面談"]

    def test_the_agreement_needs_a_goal_and_an_item(self, client, tanaka, yamamoto_case):
        plan = make_plan(tanaka, yamamoto_case, items=())
        login_as(client, tanaka)

        response = client.post(
            url("plan_agree", plan), {"agreed_on": today().isoformat(), "method": "signed"}
        )

        assert response.status_code == 200
        assert ja("A plan needs at least one goal and one support item.") in response.text
        plan.refresh_from_db()
        assert plan.status == PlanStatus.DRAFT

    def test_an_approved_plan_shows_the_meeting_it_was_approved_at(self, client, tanaka, plan):
        viewer = viewer_for(tanaka)
        agree(tanaka, plan)
        held_on = today() - datetime.timedelta(days=3)
        meeting = meeting_save(
            viewer=viewer,
            meeting=None,
            fields={"held_on": held_on},
            participant_agencies=[],
            participant_users=[tanaka],
        )
        meeting_case_record(
            viewer=viewer,
            meeting=meeting,
            case=plan.case,
            plan=plan,
            decisions=["plan_approved"],
            next_review_on=None,
            note="",
        )
        login_as(client, tanaka)

        page = client.get(url("plan", plan)).text

        approved = ja("Approved at the coordination meeting of %(day)s") % {
            "day": held_on.strftime("%Y-%m-%d")
        }
        assert approved in page
        assert reverse("cases:meeting", args=[meeting.public_id]) in page


class TestReviews:
    def test_outcomes_are_recorded_per_goal_and_are_not_only_employment(
        self, client, tanaka, yamamoto_case
    ):
        plan = make_plan(tanaka, yamamoto_case, goals=("外に出る", "家族と話す"))
        agree(tanaka, plan)
        out, talk = plan.goals.order_by("position")
        login_as(client, tanaka)

        response = client.post(
            url("plan_review", plan),
            {
                "reviewed_on": today().isoformat(),
                "note": "全体として前進",
                f"goal{out.pk}-achievement": "partly",
                f"goal{out.pk}-outcomes": ["social_participation"],
                f"goal{out.pk}-comment": "居場所に2回通えた",
                f"goal{talk.pk}-achievement": "achieved",
                f"goal{talk.pk}-outcomes": ["family_improved", "life_stabilised"],
            },
        )

        assert response.status_code == 302
        review = PlanReview.objects.get(plan=plan)
        results = {r.goal_id: r for r in review.goal_reviews.all()}
        assert (results[out.pk].achievement, results[out.pk].outcomes) == (
            "partly",
            ["social_participation"],
        )
        assert results[talk.pk].outcomes == ["family_improved", "life_stabilised"]
        page = client.get(url("plan", plan)).text
        assert "居場所に2回通えた" in page
        assert ja("Family relations improved") in page

    def test_every_goal_must_be_reviewed(self, client, tanaka, yamamoto_case):
        plan = make_plan(tanaka, yamamoto_case, goals=("外に出る", "家族と話す"))
        agree(tanaka, plan)
        out, _talk = plan.goals.order_by("position")
        login_as(client, tanaka)

        response = client.post(
            url("plan_review", plan),
            {
                "reviewed_on": today().isoformat(),
                "note": "途中まで",
                f"goal{out.pk}-achievement": "partly",
                f"goal{out.pk}-comment": "居場所に通えた",
            },
        )

        assert response.status_code == 200
        assert ja("Choose how far the goal went.") in response.text
        assert "居場所に通えた" in response.text  # what was typed is kept
        assert not PlanReview.objects.exists()
        assert not GoalReview.objects.exists()

    def test_a_draft_is_not_reviewed(self, client, tanaka, plan):
        login_as(client, tanaka)

        response = client.get(url("plan_review", plan))

        assert response.status_code == 302
        assert response["Location"] == url("plan", plan)


class TestPrint:
    def test_the_print_page_is_a4_without_navigation_and_has_the_items(
        self, client, tanaka, yamamoto_case, jiritsu_b
    ):
        plan = make_plan(tanaka, yamamoto_case, items=("週1回の面談",))
        plan_item_save(
            viewer=viewer_for(tanaka),
            plan=plan,
            item=None,
            fields={"what": "家計の相談", "agency": jiritsu_b, "program": "household_finance"},
        )
        plan_update(viewer=viewer_for(tanaka), plan=plan, client_words=WORDS, review_on=None)
        login_as(client, tanaka)

        page = client.get(url("plan_print", plan)).text

        assert "<nav" not in page
        assert "navbar" not in page
        assert ja("Log out") not in page
        assert "size: A4" in page
        assert '"Noto Sans CJK JP"' in page
        assert "data-print" in page
        assert "山本 太郎" in page
        assert "週1回の面談" in page
        assert "家計の相談" in page
        assert jiritsu_b.name in page
        assert WORDS in page
        assert ja("Support plan and application for programs") in page
        assert ja("Signature of the client") in page


class TestWhoMayOpenIt:
    @pytest.mark.parametrize("persona", ["sato", "suzuki", "ito", "kato"])
    def test_others_get_a_404_for_every_plan_url_and_change_nothing(
        self, request, client, plan, persona
    ):
        goal, item = plan.goals.get(), plan.items.get()
        login_as(client, request.getfixturevalue(persona))
        gets = [
            url("plan", plan),
            url("plan_goal_edit", plan, goal.pk),
            url("plan_item_edit", plan, item.pk),
            url("plan_agree", plan),
            url("plan_revise", plan),
            url("plan_review", plan),
            url("plan_print", plan),
        ]
        posts = [
            reverse("cases:plan_create", args=[plan.case.public_id]),
            url("plan_update", plan),
            url("plan_goal_add", plan),
            url("plan_goal_edit", plan, goal.pk),
            url("plan_goal_remove", plan, goal.pk),
            url("plan_item_add", plan),
            url("plan_item_edit", plan, item.pk),
            url("plan_item_remove", plan, item.pk),
            url("plan_items_reorder", plan),
            url("plan_agree", plan),
            url("plan_revise", plan),
            url("plan_review", plan),
        ]
        data = {"new_goal-text": "x", "agreed_on": today().isoformat(), "method": "signed"}

        assert {u: client.get(u).status_code for u in gets} == dict.fromkeys(gets, 404)
        assert {u: client.post(u, data).status_code for u in posts} == dict.fromkeys(posts, 404)
        assert Plan.objects.count() == 1
        assert (PlanGoal.objects.count(), PlanItem.objects.count()) == (1, 1)
        plan.refresh_from_db()
        assert plan.status == PlanStatus.DRAFT

    def test_a_colleague_at_the_same_agency_opens_and_edits_it(self, client, yamada, plan):
        login_as(client, yamada)

        response = client.post(
            url("plan_goal_add", plan), {"new_goal-text": "眠れるように"}, **EDITOR
        )

        assert response.status_code == 200
        assert plan.goals.filter(text="眠れるように").exists()

    def test_a_goal_of_another_plan_is_a_404_through_this_plans_url(self, client, tanaka, plan):
        viewer = viewer_for(tanaka)
        kimura = client_create(
            viewer=viewer, fields={"full_name": "木村 花", "full_name_kana": "キムラ ハナ"}
        )
        kimura_case = case_open(
            viewer=viewer,
            client=kimura,
            fields={"origin": "walk_in"},
            topics=["income"],
            main_topic="income",
            primary_worker=tanaka,
        )
        other_plan = make_plan(tanaka, kimura_case, goals=("別の目標",))
        login_as(client, tanaka)

        response = client.post(url("plan_goal_remove", plan, other_plan.goals.get().pk), **EDITOR)

        assert response.status_code == 404
        assert other_plan.goals.exists()


@pytest.mark.parametrize("items", [2, 12])
def test_the_plan_editor_costs_the_same_queries_with_2_or_12_items(
    client, tanaka, yamamoto_case, jiritsu_b, items
):
    plan = make_plan(
        tanaka,
        yamamoto_case,
        goals=("外に出る", "家族と話す"),
        items=[f"支援 {n}" for n in range(items)],
        agency=jiritsu_b,
    )
    login_as(client, tanaka)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("plan", plan))

    assert response.status_code == 200
    assert response.text.count('name="moved"') == 2 * items - 2
    # 1 session, 2 user, 3 current membership + agency,
    # plan_get: 4 the plan (case, client, meeting, author joined), 5 its goals, 6 its items
    #   (agency and goal joined), 7 its reviews;
    # case_plans (every version, for the list and what changed): 8 the versions, 9 their
    #   goals, 10 their items, 11 their reviews;
    # 12 the agencies a support item may be assigned to (the add form's select)
    assert len(queries) == 12, "\n".join(q["sql"][:150] for q in queries)
