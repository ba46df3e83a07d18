"""My caseload: the caseworker's open cases, follow-ups due today and overdue, the supervisor's
view of the whole agency, who may open it, and a query count that does not grow."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from agencies.models import Role
from agencies.services import membership_ensure
from cases.selectors import CASELOAD_PAGE_SIZE
from cases.services import case_open, client_create, consultation_log
from reminders.sweep import reminders_sweep
from tests.conftest import login_as, make_user, viewer_for
from tests.second_factor import otp_queries

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


def ja(message: str) -> str:
    """What the page shows for ``message`` (Japanese once the catalogue has it)."""
    with translation.override("ja"):
        return gettext(message)


def dashboard(client, **params):
    """The page as a link opens it: only what names no one (scope, due, a cursor)."""
    return client.get(reverse("cases:caseload"), params)


def filtered(client, **params):
    """The page as the filter's button sends it: POSTed (a name stays out of the URL)."""
    return client.post(reverse("cases:caseload"), params)


def htmx_list(client, **params):
    """What the filter box gets as one types (POSTed): the list alone."""
    return client.post(reverse("cases:caseload"), params, headers={"HX-Request": "true"})


def open_case_for(worker, name: str, kana: str, *, topic: str = "job_search", co_workers=()):
    viewer = viewer_for(worker)
    person = client_create(
        viewer=viewer,
        duplicate_confirmed=True,
        fields={"full_name": name, "full_name_kana": kana},
    )
    return case_open(
        viewer=viewer,
        client=person,
        fields={"origin": "walk_in"},
        topics=[topic],
        main_topic=topic,
        primary_worker=worker,
        co_workers=list(co_workers),
    )


def log(worker, case, *, occurred_on=None, next_contact_on=None, summary="電話で近況を聞いた"):
    return consultation_log(
        viewer=viewer_for(worker),
        case=case,
        fields={
            "method": "phone",
            "summary": summary,
            "occurred_on": occurred_on or today(),
            "next_contact_on": next_contact_on,
        },
    )


class TestMyCaseload:
    def test_it_lists_my_open_cases_with_stage_topic_and_contacts(
        self, client, tanaka, yamamoto_case
    ):
        log(tanaka, yamamoto_case, occurred_on=days(-2), next_contact_on=days(5))
        login_as(client, tanaka)

        response = dashboard(client)

        text = response.text
        assert response.status_code == 200
        assert reverse("cases:client", args=[yamamoto_case.client.public_id]) in text
        assert "山本 太郎" in text
        assert ja("Intake") in text
        assert ja("Hikikomori, school refusal") in text  # the main topic
        assert days(-2).isoformat() in text
        assert days(5).isoformat() in text
        assert "田中 一郎" in text
        assert reverse("cases:consultation_new", args=[yamamoto_case.public_id]) in text

    def test_an_overdue_contact_is_marked_in_words_not_only_in_red(
        self, client, tanaka, yamamoto_case
    ):
        log(tanaka, yamamoto_case, occurred_on=days(-10), next_contact_on=days(-3))
        login_as(client, tanaka)

        text = dashboard(client).text

        assert f'<span class="badge text-bg-danger">{ja("Overdue")}</span>' in text
        assert f'<span class="text-danger fw-bold">{days(-3).isoformat()}</span>' in text
        summary = text.split('id="caseload-summary"')[1].split("</section>")[0]
        assert f'{ja("Overdue")} <strong class="fs-5">1</strong>' in summary

    def test_a_contact_due_today_is_highlighted(self, client, tanaka, yamamoto_case):
        log(tanaka, yamamoto_case, occurred_on=days(-7), next_contact_on=today())
        login_as(client, tanaka)

        text = dashboard(client).text

        assert f'<span class="badge text-bg-warning">{ja("Today")}</span>' in text
        assert "case-row table-warning" in text
        assert f'<span class="badge text-bg-danger">{ja("Overdue")}</span>' not in text

    def test_due_cases_come_first_and_unplanned_ones_last(self, client, tanaka):
        later = open_case_for(tanaka, "後藤 一", "ゴトウ ハジメ")
        unplanned = open_case_for(tanaka, "青木 二郎", "アオキ ジロウ")
        overdue = open_case_for(tanaka, "和田 三郎", "ワダ サブロウ")
        log(tanaka, later, next_contact_on=days(20))
        log(tanaka, overdue, occurred_on=days(-9), next_contact_on=days(-1))
        login_as(client, tanaka)

        text = dashboard(client).text

        order = [text.index(str(case.public_id)) for case in (overdue, later, unplanned)]
        assert order == sorted(order)

    def test_only_my_cases_and_those_i_co_work_show(self, client, tanaka, yamada, sato):
        mine = open_case_for(tanaka, "後藤 一", "ゴトウ ハジメ")
        co_worked = open_case_for(yamada, "石井 四郎", "イシイ シロウ", co_workers=[tanaka])
        colleagues = open_case_for(yamada, "青木 二郎", "アオキ ジロウ")
        elsewhere = open_case_for(sato, "和田 三郎", "ワダ サブロウ")
        login_as(client, tanaka)

        text = dashboard(client, scope="agency").text  # a caseworker cannot widen it

        assert "後藤 一" in text
        assert "石井 四郎" in text
        assert "山田 京子" in text  # 石井's primary caseworker
        assert "青木 二郎" not in text
        assert "和田 三郎" not in text
        assert str(mine.public_id) in text
        assert str(co_worked.public_id) in text
        assert str(colleagues.public_id) not in text
        assert str(elsewhere.public_id) not in text

    def test_a_supervisor_can_look_at_the_whole_agency(self, client, suzuki, jiritsu_b):
        kobayashi = make_user("kobayashi", "小林 修")
        membership_ensure(actor=None, user=kobayashi, agency=jiritsu_b, role=Role.CASEWORKER)
        open_case_for(suzuki, "後藤 一", "ゴトウ ハジメ")
        open_case_for(kobayashi, "青木 二郎", "アオキ ジロウ")
        login_as(client, suzuki)

        mine = dashboard(client).text
        agency = dashboard(client, scope="agency").text

        assert "後藤 一" in mine
        assert "青木 二郎" not in mine
        assert "後藤 一" in agency
        assert "青木 二郎" in agency
        assert "小林 修" in agency  # the primary caseworker column

    def test_the_nav_has_my_caseload_for_caseworkers_only(self, client, tanaka, ito):
        caseload_link = f'href="{reverse("cases:caseload")}"'

        assert caseload_link in login_as(client, tanaka).get(reverse("agencies:directory")).text
        client.logout()
        assert caseload_link not in login_as(client, ito).get(reverse("home")).text


class TestPaging:
    def test_pages_follow_one_another_due_first_and_unplanned_last(self, client, tanaka):
        cases = [open_case_for(tanaka, f"相談者 {n}", "ソウダンシャ") for n in range(45)]
        for number, case in enumerate(cases[:30]):  # 15 left without a next contact
            log(tanaka, case, occurred_on=days(-30), next_contact_on=days(number % 20 - 5))
        login_as(client, tanaka)

        first = dashboard(client).text
        # The page buttons post (a filtered list's carry the name); the cursor names no one.
        after = re.search(r'name="after" value="([^"]+)" data-next', first).group(1)
        second = filtered(client, after=after).text

        def shown(text):
            return re.findall(r'data-case="([0-9a-f-]{36})"', text)

        assert len(shown(first)) == CASELOAD_PAGE_SIZE == 25
        assert len(shown(second)) == 20
        assert "data-next" not in second
        assert sorted(shown(first) + shown(second)) == sorted(str(c.public_id) for c in cases)
        # Every unplanned case after every planned one, across the page break.
        unplanned = {str(c.public_id) for c in cases[30:]}
        order = [case_id in unplanned for case_id in shown(first) + shown(second)]
        assert order == sorted(order)
        # The summary counts all the cases, on either page.
        for text in (first, second):
            summary = text.split('id="caseload-summary"')[1].split("</section>")[0]
            assert f'{ja("Open cases")} <strong class="fs-5">45</strong>' in summary
            assert f'{ja("No next contact planned")} <strong class="fs-5">15</strong>' in summary
            assert f'{ja("Overdue")} <strong class="fs-5">10</strong>' in summary
            assert f'{ja("Due today")} <strong class="fs-5">2</strong>' in summary

    def test_a_supervisor_pages_through_the_whole_agency(self, client, tanaka, yamada, takahashi):
        for number in range(CASELOAD_PAGE_SIZE + 2):
            open_case_for(tanaka if number % 2 else yamada, f"相談者 {number}", "ソウダンシャ")
        login_as(client, takahashi)

        first = dashboard(client, scope="agency").text
        pages = first.split("data-pages>")[1].split("</form>")[0]
        assert '<input type="hidden" name="scope" value="agency">' in pages
        after = re.search(r'name="after" value="([^"]+)" data-next', pages).group(1)
        second = filtered(client, scope="agency", after=after).text

        assert first.count('class="case-row') == CASELOAD_PAGE_SIZE
        assert second.count('class="case-row') == 2
        back = second.split("data-pages>")[1].split("</form>")[0]
        assert "data-first" in back  # back to the first page, same scope
        assert '<input type="hidden" name="scope" value="agency">' in back

    def test_an_edited_cursor_starts_from_the_first_page(self, client, tanaka, yamamoto_case):
        login_as(client, tanaka)

        response = dashboard(client, after="not-a-cursor")

        assert response.status_code == 200
        assert str(yamamoto_case.public_id) in response.text


def row_refresh(client, case, **params):
    return client.get(reverse("cases:caseload_row", args=[case.public_id]), params)


def shown(text: str) -> list[str]:
    """The cases a page or list shows, in order."""
    return re.findall(r'data-case="([0-9a-f-]{36})"', text)


class TestRowRefresh:
    def test_it_returns_that_row_and_the_summary_out_of_band(self, client, tanaka, yamamoto_case):
        other = open_case_for(tanaka, "後藤 一", "ゴトウ ハジメ")
        log(tanaka, yamamoto_case, occurred_on=days(-1), next_contact_on=days(-1))
        login_as(client, tanaka)

        response = row_refresh(client, yamamoto_case)

        text = response.text
        assert response.status_code == 200
        assert "HX-Reswap" not in response
        assert text.lstrip().startswith(f'<tr id="case-{yamamoto_case.public_id}"')
        assert str(other.public_id) not in text
        # The summary rides along in a template (a section cannot follow a table row).
        assert '<template>\n<section id="caseload-summary"' in text
        assert 'hx-swap-oob="true"' in text
        assert f'{ja("Overdue")} <strong class="fs-5">1</strong>' in text
        assert "<html" not in text  # a fragment, not the page

    def test_the_rows_own_refresh_link_keeps_the_agency_scope(self, client, takahashi, tanaka):
        case = open_case_for(tanaka, "後藤 一", "ゴトウ ハジメ")
        login_as(client, takahashi)

        page = dashboard(client, scope="agency").text
        url = reverse("cases:caseload_row", args=[case.public_id])

        assert f'data-row-url="{url}?scope=agency"' in page
        refreshed = row_refresh(client, case, scope="agency")
        assert f'data-row-url="{url}?scope=agency"' in refreshed.text
        assert "後藤 一" in refreshed.text

    def test_a_case_of_the_agency_not_in_my_list_swaps_nothing(self, client, tanaka, yamada):
        colleagues = open_case_for(yamada, "青木 二郎", "アオキ ジロウ")
        login_as(client, tanaka)

        response = row_refresh(client, colleagues)

        assert response.status_code == 200
        assert response["HX-Reswap"] == "none"
        assert "case-row" not in response.text
        assert "青木" not in response.text
        assert 'id="caseload-summary"' in response.text

    def test_a_case_of_another_agency_is_a_404(self, client, tanaka, sato):
        elsewhere = open_case_for(sato, "和田 三郎", "ワダ サブロウ")
        login_as(client, tanaka)

        response = row_refresh(client, elsewhere)

        assert response.status_code == 404
        assert "和田" not in response.text

    def test_someone_without_client_work_gets_a_404(self, client, ito, yamamoto_case):
        login_as(client, ito)

        assert row_refresh(client, yamamoto_case).status_code == 404


class TestFilter:
    @pytest.fixture
    def three_cases(self, tanaka):
        return {
            "goto": open_case_for(tanaka, "後藤 一", "ゴトウ ハジメ"),
            "aoki": open_case_for(tanaka, "青木 二郎", "アオキ ジロウ"),
            "wada": open_case_for(tanaka, "和田 三郎", "ワダ サブロウ"),
        }

    @pytest.mark.parametrize(
        "typed",
        ["ごとう", "ゴトウ", "ｺﾞﾄｳ", "ごとう はじめ", "ゴトウハジメ", "後藤", "後藤一", "後藤　一"],
    )
    def test_any_script_width_or_spacing_of_the_name_or_reading_finds_the_row(
        self, client, tanaka, three_cases, typed
    ):
        login_as(client, tanaka)

        text = filtered(client, q=typed).text

        assert shown(text) == [str(three_cases["goto"].public_id)]
        assert f'value="{typed}"' in text  # the box keeps what was typed

    def test_a_filter_that_matches_nothing_says_so(self, client, tanaka, three_cases):
        login_as(client, tanaka)

        text = filtered(client, q="やまだ").text

        assert shown(text) == []
        assert ja("No client matches.") in text
        # The summary still counts every open case.
        summary = text.split('id="caseload-summary"')[1].split("</section>")[0]
        assert f'{ja("Open cases")} <strong class="fs-5">3</strong>' in summary

    def test_only_overdue_and_due_today(self, client, tanaka, three_cases):
        log(tanaka, three_cases["goto"], occurred_on=days(-9), next_contact_on=days(-2))
        log(tanaka, three_cases["aoki"], occurred_on=days(-9), next_contact_on=today())
        log(tanaka, three_cases["wada"], occurred_on=days(-9), next_contact_on=days(3))
        login_as(client, tanaka)

        text = dashboard(client, due="1").text

        assert shown(text) == [str(three_cases[k].public_id) for k in ("goto", "aoki")]
        assert 'id="caseload-due-only" checked' in text
        assert shown(filtered(client, due="1", q="あおき").text) == [
            str(three_cases["aoki"].public_id)
        ]

    def test_without_javascript_the_form_is_a_plain_post_with_a_button(
        self, client, tanaka, three_cases
    ):
        login_as(client, tanaka)

        text = dashboard(client).text

        form = (
            text.split('role="search"')[0].rsplit("<form", 1)[1]
            + text.split('role="search"')[1].split("</form>")[0]
        )
        assert 'method="post"' in form
        assert 'name="csrfmiddlewaretoken"' in form
        assert f'action="{reverse("cases:caseload")}"' in form
        assert 'name="q"' in form
        assert 'name="due"' in form
        assert '<button type="submit"' in form
        assert 'name="scope"' not in form  # mine: no scope to carry

    def test_the_agency_scope_is_carried_by_the_form(self, client, takahashi, tanaka):
        open_case_for(tanaka, "後藤 一", "ゴトウ ハジメ")
        login_as(client, takahashi)

        text = dashboard(client, scope="agency").text

        assert '<input type="hidden" name="scope" value="agency">' in text
        assert "後藤 一" in filtered(client, scope="agency", q="ごとう").text

    def test_the_box_posts_to_the_server_as_one_types_and_pushes_no_url(
        self, client, tanaka, three_cases
    ):
        login_as(client, tanaka)

        text = dashboard(client).text

        box = text.split('id="caseload-filter"')[1].split(">")[0]
        assert f'hx-post="{reverse("cases:caseload")}"' in box
        assert 'hx-trigger="input changed delay:250ms, search"' in box
        assert 'hx-target="#caseload-list"' in box
        assert 'hx-include="closest form"' in box
        # A name typed here goes into no URL: not the address bar, not the history.
        assert "hx-push-url" not in text
        assert "hx-get" not in box
        # No copy of the kana key in the page: the server alone compares.
        assert "normalize(" not in text
        assert "charCodeAt" not in text

    def test_htmx_gets_the_list_alone_with_the_count(self, client, tanaka, three_cases):
        login_as(client, tanaka)

        response = htmx_list(client, q="アオキ")

        text = response.text
        assert "<html" not in text
        assert 'id="caseload-summary"' not in text
        assert 'role="search"' not in text
        assert shown(text) == [str(three_cases["aoki"].public_id)]
        assert '<p id="caseload-shown" hx-swap-oob="innerHTML">' in text
        assert "HX-Request" in response["Vary"]

    def test_htmx_restoring_its_history_gets_the_whole_page(self, client, tanaka, three_cases):
        login_as(client, tanaka)

        log(tanaka, three_cases["aoki"], occurred_on=days(-9), next_contact_on=today())

        text = client.get(
            reverse("cases:caseload"),
            {"due": "1"},
            headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
        ).text

        assert "<html" in text
        assert 'id="caseload-due-only" checked' in text
        assert shown(text) == [str(three_cases["aoki"].public_id)]

    def test_the_filter_pages_with_the_keyset_and_posts_itself_again(self, client, tanaka):
        wanted = [open_case_for(tanaka, f"佐々木 {n}", "ササキ") for n in range(30)]
        for n in range(5):
            open_case_for(tanaka, f"相談者 {n}", "ソウダンシャ")
        login_as(client, tanaka)

        first = htmx_list(client, q="ささき").text
        pages = first.split("data-pages>")[1].split("</form>")[0]
        # The page buttons post the filter again (no link carries it).
        assert '<input type="hidden" name="q" value="ささき">' in pages
        after = re.search(r'name="after" value="([^"]+)" data-next', pages)
        second = filtered(client, q="ささき", after=after.group(1)).text

        assert len(shown(first)) == CASELOAD_PAGE_SIZE
        assert len(shown(second)) == 5
        assert "data-next" not in second
        back = second.split("data-pages>")[1].split("</form>")[0]
        assert "data-first" in back  # back to the first page, the filter kept
        assert '<input type="hidden" name="q" value="ささき">' in back
        assert 'name="after"' not in back
        assert "?q=" not in first + second
        assert sorted(shown(first) + shown(second)) == sorted(str(c.public_id) for c in wanted)


class TestWhoMayOpenIt:
    def test_a_caseworker_lands_on_the_caseload_from_home(self, client, tanaka):
        login_as(client, tanaka)

        response = client.get(reverse("home"))

        assert response.status_code == 302
        assert response["Location"] == reverse("cases:caseload")

    @pytest.mark.parametrize("persona", ["ito", "kato", "sysadmin"])
    def test_people_without_client_access_get_a_404(self, request, client, persona):
        user = request.getfixturevalue(persona)
        login_as(client, user)

        assert dashboard(client).status_code == 404
        # A supporter's home is their households; the others' is the plain dashboard.
        assert client.get(reverse("home")).status_code == (302 if persona == "ito" else 200)

    def test_anonymous_is_sent_to_log_in(self, client):
        response = dashboard(client)

        assert response.status_code == 302
        assert reverse("login") in response["Location"]


class TestQueryCount:
    @pytest.mark.parametrize(("open_cases", "consultations"), [(3, 5), (3, 50), (30, 5), (30, 50)])
    def test_the_dashboard_costs_the_same_whatever_the_numbers(
        self, client, tanaka, yamada, open_cases, consultations
    ):
        cases = []
        for number in range(open_cases):
            # Co-workers on some cases: the join must not duplicate rows or add queries.
            co_workers = [yamada] if number % 3 == 0 else []
            cases.append(
                open_case_for(tanaka, f"相談者 {number}", "ソウダンシャ", co_workers=co_workers)
            )
        for number in range(consultations):
            log(
                tanaka,
                cases[number % open_cases],
                occurred_on=days(-10 - number),
                next_contact_on=days(number % 7 - 3),  # overdue, due today and later
            )
        login_as(client, tanaka)
        reminders_sweep()  # the overdue contacts become unread reminders on the dashboard

        with CaptureQueriesContext(connection) as queries:
            response = dashboard(client)

        assert response.status_code == 200
        assert response.text.count('class="case-row') == min(open_cases, CASELOAD_PAGE_SIZE)
        # 1 session, 2 user, 3 membership + agency, 4 the summary counts (one aggregate),
        # 5 the page of my open cases (client, primary caseworker and main topic in it),
        # 6 unacknowledged urgent home visits (client and supporter joined), 7 received
        # referrals assigned to me, 8 my unread reminders, 9 the cases they are about (client
        # joined, for the link and the name)
        assert len(queries) == 9, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("scope", ["mine", "agency"])
    @pytest.mark.parametrize("open_cases", [3, 300])
    def test_a_page_costs_the_same_for_3_or_300_cases_in_either_scope(
        self, client, tanaka, yamada, takahashi, scope, open_cases
    ):
        viewer = tanaka if scope == "mine" else takahashi
        for number in range(open_cases):
            # Mine are the viewer's own and those co-worked with 山田; the agency sees all.
            co_workers = [yamada] if number % 3 == 0 else []
            case = open_case_for(viewer, f"相談者 {number}", "ソウダンシャ", co_workers=co_workers)
            if number < 3:  # overdue: an unread reminder on the dashboard, at both sizes
                log(viewer, case, occurred_on=days(-9), next_contact_on=days(-2))
        reminders_sweep()
        login_as(client, viewer)
        second_factor = otp_queries(viewer)

        with CaptureQueriesContext(connection) as queries:
            response = dashboard(client, **({"scope": "agency"} if scope == "agency" else {}))

        assert response.status_code == 200
        assert response.text.count('class="case-row') == min(open_cases, CASELOAD_PAGE_SIZE)
        summary = response.text.split('id="caseload-summary"')[1].split("</section>")[0]
        assert f'{ja("Open cases")} <strong class="fs-5">{open_cases}</strong>' in summary
        # 1 session, 2 user, 3 membership + agency, 4 the summary counts (one aggregate over
        # all the cases, not the page), 5 the page of open cases (client, primary caseworker
        # and main topic in it), 6 unacknowledged urgent home visits, 7 received referrals
        # assigned to me, 8 my unread reminders, 9 the cases they are about
        # (+1 for a supervisor: the device the session passed the second factor with, django-otp)
        assert len(queries) == 9 + second_factor, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("scope", ["mine", "agency"])
    @pytest.mark.parametrize("open_cases", [6, 300])
    def test_a_filtered_page_and_list_cost_the_same_for_6_or_300_cases(
        self, client, tanaka, takahashi, django_assert_max_num_queries, scope, open_cases
    ):
        viewer = tanaka if scope == "mine" else takahashi
        for number in range(open_cases):
            # One in three is a 佐々木 the filter finds; those come in any script.
            name, kana = (
                ("佐々木 一", "ササキ ハジメ") if number % 3 == 0 else ("相談者", "ソウダンシャ")
            )
            case = open_case_for(viewer, f"{name} {number}", kana)
            if number < 6:  # some overdue: the due filter and an unread reminder on the page
                log(viewer, case, occurred_on=days(-9), next_contact_on=days(-2))
        reminders_sweep()
        login_as(client, viewer)
        second_factor = otp_queries(viewer)
        params = {"q": "ささき", "due": "1"} | ({"scope": "agency"} if scope == "agency" else {})

        # 1 session, 2 user, 3 membership + agency, 4 the summary counts, 5 unacknowledged
        # urgent home visits, 6 the filtered page of open cases (client, primary caseworker
        # and main topic in it), 7 received referrals assigned to me, 8 my unread reminders,
        # 9 the cases they are about (+1 for a supervisor: the device the session passed the
        # second factor with, django-otp)
        with django_assert_max_num_queries(9 + second_factor):
            page = filtered(client, **params)
        # The list alone: the same, without the referrals and reminders.
        with django_assert_max_num_queries(6 + second_factor):
            listed = htmx_list(client, **params)

        for response in (page, listed):
            assert response.status_code == 200
            assert response.text.count('class="case-row') == 2  # numbers 0 and 3
        assert "<html" not in listed.text

    def test_the_row_refresh_costs_a_fixed_few_queries(
        self, client, tanaka, django_assert_max_num_queries
    ):
        cases = [open_case_for(tanaka, f"相談者 {n}", "ソウダンシャ") for n in range(30)]
        login_as(client, tanaka)

        # 1 session, 2 user, 3 membership + agency, 4 the row (client, primary caseworker and
        # main topic in it), 5 the summary counts, 6 unacknowledged urgent home visits
        with django_assert_max_num_queries(6):
            response = row_refresh(client, cases[-1])

        assert response.text.count('class="case-row') == 1


@pytest.mark.django_db
def test_a_received_referral_assigned_to_me_waits_on_my_caseload(
    client, tanaka, yamamoto_case, jiritsu_b, suzuki
):
    from agencies.models import Role
    from agencies.services import membership_ensure
    from consent.services import consent_record
    from referrals.services import referral_assign, referral_draft, referral_send
    from tests.conftest import make_user

    nakajima = make_user("nakajima", "中島 健太")
    membership_ensure(actor=None, user=nakajima, agency=jiritsu_b, role=Role.CASEWORKER)
    consent_record(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        recipient=jiritsu_b,
        purpose="referral",
        categories=["basic"],
        method="written",
    )
    referral = referral_send(
        viewer=viewer_for(tanaka),
        referral=referral_draft(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            fields={
                "type": "tsunagi",
                "to_agency": jiritsu_b,
                "reason": "家計",
                "client_wishes": "相談したい",
                "categories": ["basic"],
            },
        ),
    )
    referral_assign(viewer=viewer_for(suzuki), referrals=[referral], assignee=nakajima)
    login_as(client, nakajima)

    response = client.get(reverse("cases:caseload"))

    assert "あなたに割り当てられたつなぎ" in response.text
    assert reverse("referrals:detail", args=[referral.public_id]) in response.text
