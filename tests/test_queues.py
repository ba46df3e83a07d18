"""The supervisors' referral queues: who sees them, oldest first, age in business days with the
overdue mark, filters, counts per status, keyset pages, assigning one or many at once — and the
same few queries for 3 referrals or 30."""

import base64
import re
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from agencies.models import Role
from agencies.services import membership_ensure
from audit.models import AuditEntry
from consent.models import DataCategory
from consent.services import consent_record
from core.business_days import add_business_days, business_days_between
from referrals.models import Referral
from referrals.selectors import QueueQuery, referral_queue, sent_before_for_age
from referrals.selectors import queues as queue_selectors
from referrals.selectors.scope import referrals_awaiting_me
from referrals.services import referral_accept, referral_decline, referral_draft, referral_send
from tests.conftest import login_as, make_user, viewer_for

pytestmark = pytest.mark.django_db

INCOMING = reverse("referrals:incoming")
OUTGOING = reverse("referrals:outgoing")
ASSIGN = reverse("referrals:assign")


def send(tanaka, client, to, *, kind="introduction", urgency="normal"):
    """A referral from station A, sent through the services (an introduction needs no consent)."""
    referral = referral_draft(
        viewer=viewer_for(tanaka),
        client=client,
        fields={
            "type": kind,
            "to_agency": to,
            "reason": "家計の相談が必要",
            "client_wishes": "お金のことを相談したい",
            "urgency": urgency,
            "categories": [DataCategory.BASIC] if kind != "introduction" else [],
        },
    )
    return referral_send(viewer=viewer_for(tanaka), referral=referral)


def waited(referral, business_days):
    """Time passes: move the sending back so the referral has waited exactly that long today.

    No service turns a clock, so this one field is set by hand.
    """
    today = timezone.localdate()
    # Sent on the (n+1)-th most recent business day, n business days have passed since.
    day = add_business_days(today + timedelta(days=1), -(business_days + 1))
    sent_at = timezone.make_aware(datetime.combine(day, time(10)))
    Referral.objects.filter(pk=referral.pk).update(sent_at=sent_at)
    referral.refresh_from_db()
    return referral


@pytest.fixture
def takahashi(jiritsu_b):
    """高橋: caseworker at 自立相談 B, whom 鈴木 assigns referrals to."""
    user = make_user("takahashi", "高橋 三郎")
    membership_ensure(actor=None, user=user, agency=jiritsu_b, role=Role.CASEWORKER)
    return user


def rows(response):
    return response.text.count('class="queue-row')


class TestWhoSeesTheQueues:
    @pytest.mark.parametrize(
        ("persona", "incoming", "outgoing"),
        [
            ("suzuki", 200, 200),
            ("tanaka", 404, 200),
            ("sato", 404, 200),
            ("ito", 404, 404),
            ("kato", 404, 404),
        ],
    )
    def test_supervisors_see_incoming_and_caseworkers_only_outgoing(
        self, client, request, persona, incoming, outgoing
    ):
        login_as(client, request.getfixturevalue(persona))

        assert client.get(INCOMING).status_code == incoming
        assert client.get(OUTGOING).status_code == outgoing

    def test_anonymous_is_sent_to_log_in(self, client):
        for url in (INCOMING, OUTGOING):
            response = client.get(url)
            assert response.status_code == 302
            assert reverse("login") in response["Location"]

    @pytest.mark.parametrize("persona", ["tanaka", "sato", "ito", "kato"])
    def test_only_a_supervisor_may_assign(self, client, request, persona, suzuki):
        login_as(client, request.getfixturevalue(persona))

        assert client.post(ASSIGN, {"assignee": suzuki.pk}).status_code == 404

    def test_the_nav_offers_the_queue_to_supervisors_only(self, client, suzuki, tanaka):
        login_as(client, suzuki)
        assert INCOMING in client.get(reverse("cases:caseload")).text
        client.logout()
        login_as(client, tanaka)
        assert INCOMING not in client.get(reverse("cases:caseload")).text


class TestIncomingQueue:
    def test_it_lists_what_was_sent_to_this_agency_oldest_first(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b, agency_c
    ):
        newer = send(tanaka, yamamoto_case.client, jiritsu_b)
        older = waited(send(tanaka, yamamoto_case.client, jiritsu_b), 2)
        elsewhere = send(tanaka, yamamoto_case.client, agency_c)
        referral_draft(  # a draft is the sender's alone
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            fields={
                "type": "introduction",
                "to_agency": jiritsu_b,
                "reason": "r",
                "client_wishes": "w",
            },
        )
        login_as(client, suzuki)

        response = client.get(INCOMING)

        assert rows(response) == 2
        text = response.text
        assert text.index(str(older.public_id)) < text.index(str(newer.public_id))
        assert str(elsewhere.public_id) not in text

    def test_every_details_link_opens_and_an_introduction_has_none(
        self, client, tanaka, suzuki, takahashi, yamamoto_case, jiritsu_b
    ):
        """An introduction tells the receiver only that someone was told of it: it is listed,
        with no page to open (found by the load bench: its link answered 404)."""
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="referral",
            categories=[DataCategory.BASIC],
            method="written",
        )
        tsunagi = send(tanaka, yamamoto_case.client, jiritsu_b, kind="tsunagi")
        introduction = send(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)
        client.post(
            ASSIGN,
            {"referral": [tsunagi.public_id, introduction.public_id], "assignee": takahashi.pk},
        )

        response = client.get(INCOMING)

        assert rows(response) == 2
        links = re.findall(r'href="(/referrals/[0-9a-f-]{36}/)"', response.text)
        assert links == [reverse("referrals:detail", args=[tsunagi.public_id])]
        for link in links:
            assert client.get(link).status_code == 200
        # Nor does the assigned caseworker's dashboard offer a page that is not there.
        awaiting = [r.public_id for r in referrals_awaiting_me(viewer=viewer_for(takahashi))]
        assert awaiting == [tsunagi.public_id]

    def test_it_shows_nothing_of_the_other_agencys_record_before_acceptance(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="referral",
            categories=[DataCategory.BASIC],
            method="written",
        )
        send(tanaka, yamamoto_case.client, jiritsu_b, kind="tsunagi")
        login_as(client, suzuki)

        response = client.get(INCOMING)

        assert rows(response) == 1
        assert "山本" not in response.text
        assert "基本情報" in response.text  # what kind of information came, not the information

    def test_an_accepted_referral_shows_our_own_record(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="referral",
            categories=[DataCategory.BASIC],
            method="written",
        )
        accepted = referral_accept(
            viewer=viewer_for(suzuki),
            referral=send(tanaka, yamamoto_case.client, jiritsu_b, kind="tsunagi"),
        )
        login_as(client, suzuki)

        response = client.get(INCOMING, {"status": "accepted"})

        assert rows(response) == 1
        assert reverse("cases:client", args=[accepted.receiving_client.public_id]) in response.text

    def test_age_is_in_business_days_and_the_overdue_mark_follows_the_agency_setting(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        on_time = waited(send(tanaka, yamamoto_case.client, jiritsu_b), 3)
        late = waited(send(tanaka, yamamoto_case.client, jiritsu_b), 4)
        login_as(client, suzuki)

        response = client.get(INCOMING)

        assert 'data-age="3"' in response.text
        assert response.text.count("data-overdue") == 1
        assert f'data-referral="{late.public_id}" data-overdue' in response.text
        assert f'data-referral="{on_time.public_id}" data-overdue' not in response.text

        jiritsu_b.referral_alert_business_days = 5
        jiritsu_b.save()
        assert "data-overdue" not in client.get(INCOMING).text

    def test_an_answered_referral_is_never_marked(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        referral = waited(send(tanaka, yamamoto_case.client, jiritsu_b), 10)
        referral_decline(viewer=viewer_for(suzuki), referral=referral, reason="対象外の地域")
        login_as(client, suzuki)

        response = client.get(INCOMING, {"status": "declined"})

        assert rows(response) == 1
        assert "data-overdue" not in response.text

    def test_counts_per_status_whatever_tab_is_shown(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        for _ in range(3):
            send(tanaka, yamamoto_case.client, jiritsu_b)
        referral_accept(
            viewer=viewer_for(suzuki), referral=send(tanaka, yamamoto_case.client, jiritsu_b)
        )
        referral_decline(
            viewer=viewer_for(suzuki),
            referral=send(tanaka, yamamoto_case.client, jiritsu_b),
            reason="対象外",
        )
        login_as(client, suzuki)

        queue = client.get(INCOMING, {"status": "accepted"}).context["queue"]

        counts = {c.status: c.count for c in queue.counts}
        assert counts == {
            "sent": 3,
            "accepted": 1,
            "in_support": 0,
            "completed": 0,
            "declined": 1,
            "withdrawn": 0,
        }
        assert len(queue.rows) == 1

    def test_counting_stops_at_the_cap(
        self, client, monkeypatch, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        monkeypatch.setattr(queue_selectors, "COUNT_CAP", 2)
        monkeypatch.setattr("referrals.views.queues.COUNT_CAP", 2)
        for _ in range(3):
            send(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)

        response = client.get(INCOMING)

        sent = next(c for c in response.context["queue"].counts if c.status == "sent")
        assert (sent.count, sent.capped) == (2, True)
        assert "2+</span>" in response.text

    def test_filters_by_type_urgency_worker_and_age(
        self, client, tanaka, suzuki, takahashi, yamamoto_case, jiritsu_b
    ):
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="referral",
            categories=[DataCategory.BASIC],
            method="written",
        )
        intro = waited(send(tanaka, yamamoto_case.client, jiritsu_b), 6)
        urgent = waited(
            send(tanaka, yamamoto_case.client, jiritsu_b, kind="tsunagi", urgency="urgent"), 1
        )
        soon = send(tanaka, yamamoto_case.client, jiritsu_b, urgency="soon")
        Referral.objects.filter(pk=soon.pk).update(assignee=takahashi)
        login_as(client, suzuki)

        def shown(**params):
            response = client.get(INCOMING, params)
            assert not response.context["form"].errors
            return {row.referral.pk for row in response.context["queue"].rows}

        assert shown() == {intro.pk, urgent.pk, soon.pk}
        assert shown(type="tsunagi") == {urgent.pk}
        assert shown(urgency="soon") == {soon.pk}
        assert shown(worker=takahashi.pk) == {soon.pk}
        assert shown(worker="none") == {intro.pk, urgent.pk}
        assert shown(min_age=1) == {intro.pk, urgent.pk}
        assert shown(min_age=6) == {intro.pk}
        assert shown(min_age=7) == set()
        assert shown(overdue="on") == {intro.pk}  # past 3 business days unanswered

    def test_pages_follow_the_keyset_cursor(
        self, client, monkeypatch, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        monkeypatch.setattr(queue_selectors, "PAGE_SIZE", 2)
        sent = [send(tanaka, yamamoto_case.client, jiritsu_b) for _ in range(5)]
        login_as(client, suzuki)

        seen, params = [], {"urgency": "normal"}
        for _ in range(3):
            response = client.get(INCOMING, params)
            queue = response.context["queue"]
            seen += [row.referral.pk for row in queue.rows]
            if queue.next_cursor:
                assert "urgency=normal&amp;after=" in response.text  # filters kept
            params = {"urgency": "normal", "after": queue.next_cursor}

        assert seen == [r.pk for r in sent]
        assert queue.next_cursor is None

    def test_a_bad_filter_is_shown_and_the_others_still_apply(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        send(tanaka, yamamoto_case.client, jiritsu_b, urgency="soon")
        send(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)

        response = client.get(INCOMING, {"urgency": "soon", "min_age": "abc"})

        assert response.status_code == 200
        assert "min_age" in response.context["form"].errors
        assert rows(response) == 1

    @pytest.mark.parametrize("cursor", ["not-base64!", '["yesterday", 1]', '["2025-01-01", "x"]'])
    def test_a_cursor_we_did_not_make_starts_from_the_beginning(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b, cursor
    ):
        send(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)
        after = base64.urlsafe_b64encode(cursor.encode()).decode() if "[" in cursor else cursor

        response = client.get(INCOMING, {"after": after})

        assert response.status_code == 200
        assert rows(response) == 1

    def test_htmx_gets_only_the_results(self, client, tanaka, suzuki, yamamoto_case, jiritsu_b):
        send(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)

        response = client.get(INCOMING, {"urgency": "normal"}, headers={"HX-Request": "true"})

        assert rows(response) == 1
        assert "<html" not in response.text


class TestAssigning:
    def test_a_supervisor_assigns_several_at_once_and_each_is_audited(
        self, client, tanaka, suzuki, takahashi, yamamoto_case, jiritsu_b
    ):
        first, second, third = (send(tanaka, yamamoto_case.client, jiritsu_b) for _ in range(3))
        login_as(client, suzuki)
        back = INCOMING + "?urgency=normal"

        response = client.post(
            ASSIGN,
            {
                "referral": [first.public_id, second.public_id],
                "assignee": takahashi.pk,
                "next": back,
            },
        )

        assert response.status_code == 302
        assert response["Location"] == back
        assert [m.message for m in get_messages(response.wsgi_request)] == [
            ngettext(
                "%(count)d referral assigned to %(name)s.",
                "%(count)d referrals assigned to %(name)s.",
                2,
            )
            % {"count": 2, "name": "高橋 三郎"}
        ]
        for referral in (first, second, third):
            referral.refresh_from_db()
        assert (first.assignee, second.assignee, third.assignee) == (takahashi, takahashi, None)
        entries = AuditEntry.objects.filter(action="referral.assigned")
        assert entries.count() == 2
        assert {e.actor for e in entries} == {suzuki}

    def test_a_supervisor_reassigns(self, client, tanaka, suzuki, takahashi, yamamoto_case):
        referral = send(tanaka, yamamoto_case.client, suzuki.memberships.get().agency)
        login_as(client, suzuki)
        client.post(ASSIGN, {"referral": [referral.public_id], "assignee": takahashi.pk})

        client.post(ASSIGN, {"referral": [referral.public_id], "assignee": suzuki.pk})

        referral.refresh_from_db()
        assert referral.assignee == suzuki

    def test_another_agencys_referral_is_a_404_and_nothing_is_assigned(
        self, client, tanaka, suzuki, takahashi, yamamoto_case, jiritsu_b, agency_c
    ):
        ours = send(tanaka, yamamoto_case.client, jiritsu_b)
        theirs = send(tanaka, yamamoto_case.client, agency_c)
        login_as(client, suzuki)

        response = client.post(
            ASSIGN, {"referral": [ours.public_id, theirs.public_id], "assignee": takahashi.pk}
        )

        assert response.status_code == 404
        assert not Referral.objects.filter(assignee__isnull=False).exists()

    def test_a_worker_of_another_agency_cannot_be_chosen(
        self, client, tanaka, suzuki, sato, yamamoto_case, jiritsu_b
    ):
        referral = send(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, suzuki)

        response = client.post(ASSIGN, {"referral": [referral.public_id], "assignee": sato.pk})

        assert response.status_code == 302
        assert get_messages(response.wsgi_request)
        referral.refresh_from_db()
        assert referral.assignee is None

    def test_nothing_ticked_says_so(self, client, suzuki, takahashi):
        login_as(client, suzuki)

        response = client.post(ASSIGN, {"assignee": takahashi.pk})

        assert response.status_code == 302
        messages = [m.message for m in get_messages(response.wsgi_request)]
        assert messages == [gettext("Tick the referrals to assign.")]

    def test_a_closed_referral_is_not_reassigned(
        self, client, tanaka, suzuki, takahashi, yamamoto_case, jiritsu_b
    ):
        referral = send(tanaka, yamamoto_case.client, jiritsu_b)
        referral_decline(viewer=viewer_for(suzuki), referral=referral, reason="対象外")
        login_as(client, suzuki)

        client.post(ASSIGN, {"referral": [referral.public_id], "assignee": takahashi.pk})

        referral.refresh_from_db()
        assert referral.assignee is None


class TestOutgoingQueue:
    def test_the_sender_sees_its_own_client_and_who_sent_it(
        self, client, tanaka, yamada, yamamoto_case, jiritsu_b, agency_c
    ):
        by_tanaka = send(tanaka, yamamoto_case.client, jiritsu_b)
        by_yamada = send(yamada, yamamoto_case.client, agency_c)
        login_as(client, tanaka)

        response = client.get(OUTGOING)

        assert rows(response) == 2
        assert "山本 太郎" in response.text
        assert 'name="referral"' not in response.text  # no assigning here
        only_yamada = client.get(OUTGOING, {"worker": yamada.pk}).context["queue"].rows
        assert [row.referral for row in only_yamada] == [by_yamada]
        assert by_tanaka.pk not in {row.referral.pk for row in only_yamada}


class TestOverdueIsTheReceiversCall:
    """The receiver must answer: in both queues a referral's age and its overdue mark are
    counted by the receiving agency's threshold and calendar, as its supervisors' reminder is."""

    def test_the_outgoing_queue_marks_by_each_receiving_agencys_threshold(
        self, client, tanaka, yamamoto_case, station_a, jiritsu_b, agency_c
    ):
        assert station_a.referral_alert_business_days == 3  # the sender's own: not the rule
        jiritsu_b.referral_alert_business_days = 5
        jiritsu_b.save()
        agency_c.referral_alert_business_days = 1
        agency_c.save()
        to_b = waited(send(tanaka, yamamoto_case.client, jiritsu_b), 4)  # within B's 5
        to_c = waited(send(tanaka, yamamoto_case.client, agency_c), 2)  # past C's 1
        login_as(client, tanaka)

        text = client.get(OUTGOING).text
        overdue = client.get(OUTGOING, {"overdue": "on"}).context["queue"]

        assert f'data-referral="{to_c.public_id}" data-overdue' in text
        assert f'data-referral="{to_b.public_id}" data-overdue' not in text
        assert [row.referral for row in overdue.rows] == [to_c]
        assert next(c.count for c in overdue.counts if c.status == "sent") == 1

    def test_age_and_overdue_follow_the_receivers_year_end_closure(
        self, client, tanaka, suzuki, yamamoto_case, jiritsu_b
    ):
        today = timezone.localdate()
        year = today.year - 1 if today >= date(today.year, 1, 5) else today.year - 2
        sent_on = date(year, 12, 26)  # the last year-end closure lies between then and today
        open_days = business_days_between(sent_on, today, closed_year_end=False)
        closed_days = business_days_between(sent_on, today)
        assert open_days > closed_days  # what the test needs: the closure in between
        # B works through the year end, and its limit is passed only on its own calendar.
        jiritsu_b.closed_year_end = False
        jiritsu_b.referral_alert_business_days = closed_days
        jiritsu_b.save()
        referral = send(tanaka, yamamoto_case.client, jiritsu_b)
        Referral.objects.filter(pk=referral.pk).update(
            sent_at=timezone.make_aware(datetime.combine(sent_on, time(10)))
        )

        for user, url in ((suzuki, INCOMING), (tanaka, OUTGOING)):
            login_as(client, user)
            text = client.get(url).text
            assert f'data-age="{open_days}"' in text, url
            assert f'data-referral="{referral.public_id}" data-overdue' in text, url
            assert rows(client.get(url, {"overdue": "on"})) == 1, url

        def outgoing(min_age):
            return referral_queue(
                viewer=viewer_for(tanaka),
                direction=queue_selectors.OUTGOING,
                query=QueueQuery(min_age=min_age),
                cursor=None,
            ).rows

        assert [row.referral.pk for row in outgoing(open_days)] == [referral.pk]
        assert outgoing(open_days + 1) == []


def test_at_least_n_business_days_is_one_range_on_the_sending_time():
    monday = date(2026, 1, 5)  # after the year-end closure

    cutoff = sent_before_for_age(1, today=monday)

    # Waiting at least one business day on 1/5: sent before 1/5 began (12/26 … 1/4 all count).
    assert timezone.localtime(cutoff).date() == monday
    assert timezone.localtime(sent_before_for_age(2, today=monday)).date() == date(2025, 12, 26)


class TestQueryCount:
    @pytest.mark.parametrize("number", [3, 30])
    @pytest.mark.parametrize("params", [{}, {"urgency": "normal", "min_age": "1"}])
    def test_the_incoming_queue_costs_the_same_for_3_or_30(
        self, client, tanaka, suzuki, takahashi, yamamoto_case, jiritsu_b, number, params
    ):
        for index in range(number):
            referral = waited(send(tanaka, yamamoto_case.client, jiritsu_b), index % 7)
            if index % 3 == 0:
                Referral.objects.filter(pk=referral.pk).update(assignee=takahashi)
            if index % 5 == 0:
                referral_accept(viewer=viewer_for(suzuki), referral=referral)
        login_as(client, suzuki)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(INCOMING, params)

        assert response.status_code == 200
        assert rows(response) > 0
        # 1 session, 2 user, 3 membership + agency, 4 the agency's workers, 5 the capped
        # count per status (one UNION ALL), 6 the page (sending agency, assignee and our own
        # record joined), and 7 the device the supervisor's session passed the second factor
        # with (django-otp)
        assert len(queries) == 7, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("number", [3, 30])
    def test_the_outgoing_queue_costs_the_same_for_3_or_30(
        self, client, tanaka, yamamoto_case, jiritsu_b, number
    ):
        for _ in range(number):
            send(tanaka, yamamoto_case.client, jiritsu_b)
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(OUTGOING)

        assert rows(response) == min(number, queue_selectors.PAGE_SIZE)
        # 1 session, 2 user, 3 membership + agency, 4 the agency's workers, 5 the capped
        # count per status, 6 the page (receiving agency, sender, assignee and client joined)
        assert len(queries) == 6, "\n".join(q["sql"][:150] for q in queries)

    @pytest.mark.parametrize("number", [3, 30])
    def test_the_outgoing_queue_filtered_on_overdue_costs_the_same_for_3_or_30(
        self, client, tanaka, yamamoto_case, jiritsu_b, agency_c, number
    ):
        agency_c.closed_year_end = False
        agency_c.referral_alert_business_days = 1
        agency_c.save()
        for index in range(number):
            to = jiritsu_b if index % 2 else agency_c
            waited(send(tanaka, yamamoto_case.client, to), index % 7)
        login_as(client, tanaka)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(OUTGOING, {"overdue": "on", "min_age": "1"})

        assert rows(response) > 0
        assert all(row.overdue for row in response.context["queue"].rows)
        # 1 session, 2 user, 3 membership + agency, 4 the agency's workers, 5 the receivers'
        # distinct thresholds and calendars (only with this filter), 6 the capped count per
        # status, 7 the page (receiving agency with its settings, sender, assignee and client
        # joined)
        assert len(queries) == 7, "\n".join(q["sql"][:150] for q in queries)
