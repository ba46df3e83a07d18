"""Session lifetimes: an idle session and a too-old session end (logged, with a message and a way
back); background polling is not activity; a system admin ends one user's sessions everywhere;
a password change ends the user's other sessions.

The clocks live in the session itself (accounts.sessions), so a test moves them back through the
real session instead of waiting: nothing in the code under test is patched."""

import re
import time

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import AuthenticationEvent, AuthenticationEventKind
from accounts.sessions import ACTIVE_AT, LOGIN_AT
from audit.models import AuditEntry
from cases.models import Client as ClientRecord
from tests.conftest import PASSWORD, login_as, make_user

pytestmark = pytest.mark.django_db

MINUTE = 60


def set_clock(client, **seconds_ago):
    """Move the session's clocks back: login=…, active=… seconds ago."""
    session = client.session
    now = time.time()
    if "login" in seconds_ago:
        session[LOGIN_AT] = now - seconds_ago["login"]
    if "active" in seconds_ago:
        session[ACTIVE_AT] = now - seconds_ago["active"]
    session.save()


def active_at(client) -> float:
    return client.session[ACTIVE_AT]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_defaults_are_thirty_minutes_idle_and_twelve_hours(settings):
    assert settings.TSUNAGU_SESSION_IDLE.total_seconds() == 30 * MINUTE
    assert settings.TSUNAGU_SESSION_MAX_AGE.total_seconds() == 12 * 60 * MINUTE
    # The cookie and the session row never outlive the absolute lifetime either.
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * MINUTE


class TestIdleTimeout:
    def test_an_idle_session_is_logged_out_and_comes_back_after_logging_in(self, client, tanaka):
        login_as(client, tanaka)
        page = reverse("cases:caseload")
        set_clock(client, active=31 * MINUTE)

        response = client.get(page)

        login = reverse("login")
        assert response.status_code == 302
        assert response["Location"] == f"{login}?next={page.replace('/', '%2F')}"
        assert not logged_in(client)
        shown = client.get(response["Location"])
        alerts = re.findall(r'role="alert">([^<]*)<', shown.content.decode())
        assert len(alerts) == 1
        assert "30" in alerts[0]  # "… after 30 minutes without activity …"
        event = AuthenticationEvent.objects.get()
        assert (event.kind, event.user, event.actor) == (
            AuthenticationEventKind.IDLE_TIMEOUT,
            tanaka,
            None,
        )
        # Logging in again goes back to the page.
        again = client.post(
            response["Location"], {"username": "tanaka", "password": PASSWORD, "next": page}
        )
        assert again.status_code == 302
        assert again["Location"] == page

    def test_the_agency_is_kept_for_the_same_person_and_not_for_another(self, client, tanaka, sato):
        login_as(client, tanaka)
        set_clock(client, active=31 * MINUTE)
        page = reverse("cases:caseload")
        client.get(page)

        # Someone else logs in on the same browser: nothing of tanaka's agency is theirs.
        client.post(reverse("login"), {"username": "sato", "password": PASSWORD, "next": page})
        assert client.get(page).context["request"].membership is None
        client.post(reverse("logout"))
        login_as(client, tanaka)
        set_clock(client, active=31 * MINUTE)
        client.get(page)
        # The same person logging in again acts as the same agency at once.
        client.post(reverse("login"), {"username": "tanaka", "password": PASSWORD, "next": page})
        assert client.get(page).context["request"].membership.agency.name == (
            "ひきこもり支援ステーションA"
        )

    def test_a_session_just_short_of_the_timeout_lasts(self, client, tanaka):
        login_as(client, tanaka)
        set_clock(client, active=29 * MINUTE)

        assert client.get(reverse("cases:caseload")).status_code == 200
        assert logged_in(client)
        assert not AuthenticationEvent.objects.exists()

    def test_the_message_says_the_minutes_of_the_setting(self, client, tanaka, settings):
        settings.TSUNAGU_SESSION_IDLE = settings.TSUNAGU_SESSION_IDLE / 2
        login_as(client, tanaka)
        set_clock(client, active=16 * MINUTE)

        response = client.get(reverse("cases:caseload"))

        messages = [str(m) for m in get_messages(response.wsgi_request)]
        assert len(messages) == 1
        assert "15" in messages[0]

    def test_an_htmx_request_gets_the_whole_page_sent_to_the_login(self, client, tanaka):
        login_as(client, tanaka)
        set_clock(client, active=31 * MINUTE)

        response = client.get(
            reverse("reminders:badge"),
            headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/cases/?scope=own"},
        )

        assert response.status_code == 200
        assert response.content == b""
        assert response["HX-Redirect"] == f"{reverse('login')}?next=%2Fcases%2F%3Fscope%3Down"
        assert not logged_in(client)

    def test_a_form_posted_after_the_timeout_saves_nothing_and_comes_back_to_its_page(
        self, client, tanaka, yamamoto
    ):
        login_as(client, tanaka)
        set_clock(client, active=31 * MINUTE)
        page = reverse("cases:client_create")

        response = client.post(
            page, {"full_name": "新井 花"}, headers={"Referer": f"http://testserver{page}"}
        )

        assert response.status_code == 302
        assert response["Location"].endswith(f"?next={page.replace('/', '%2F')}")
        assert not logged_in(client)
        assert not ClientRecord.objects.filter(full_name="新井 花").exists()


class TestAbsoluteLifetime:
    def test_a_session_older_than_twelve_hours_ends_even_when_active(self, client, tanaka):
        login_as(client, tanaka)
        set_clock(client, login=12 * 60 * MINUTE + 1, active=10)

        response = client.get(reverse("cases:caseload"))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert not logged_in(client)
        assert AuthenticationEvent.objects.get().kind == AuthenticationEventKind.MAX_AGE

    def test_the_login_starts_the_clock(self, client, tanaka):
        before = time.time()
        client.post(reverse("login"), {"username": "tanaka", "password": PASSWORD})

        assert before <= client.session[LOGIN_AT] <= time.time()
        assert client.session[ACTIVE_AT] == client.session[LOGIN_AT]


class TestActivity:
    def test_the_badge_poll_does_not_keep_the_session_alive(self, client, tanaka):
        login_as(client, tanaka)
        set_clock(client, active=20 * MINUTE)
        before = active_at(client)

        for _ in range(3):
            polled = client.get(reverse("reminders:badge"), headers={"HX-Request": "true"})
            assert polled.status_code == 200

        assert active_at(client) == before
        # ... so the session still ends 30 minutes after the last real request.
        set_clock(client, active=31 * MINUTE)
        ended = client.get(reverse("reminders:badge"), headers={"HX-Request": "true"})
        assert "HX-Redirect" in ended
        assert not logged_in(client)

    def test_a_page_is_activity(self, client, tanaka):
        login_as(client, tanaka)
        set_clock(client, active=20 * MINUTE)

        client.get(reverse("cases:caseload"))

        assert time.time() - active_at(client) < 5

    def test_activity_is_written_at_most_once_a_minute(self, client, tanaka):
        login_as(client, tanaka)
        set_clock(client, active=10)
        before = active_at(client)

        client.get(reverse("cases:caseload"))

        assert active_at(client) == before  # the session row was not saved for it
        set_clock(client, active=61)
        client.get(reverse("cases:caseload"))
        assert time.time() - active_at(client) < 5

    def test_the_status_check_is_not_activity_and_stay_logged_in_is(self, client, tanaka):
        login_as(client, tanaka)
        set_clock(client, login=60 * MINUTE, active=29 * MINUTE)
        before = active_at(client)

        status = client.get(reverse("session_status"), headers={"Accept": "application/json"})

        assert status.status_code == 200
        left = status.json()
        assert 55 <= left["idle_remaining"] <= 60
        assert 11 * 60 * MINUTE - 5 <= left["max_remaining"] <= 11 * 60 * MINUTE
        assert left["warning"] == 120
        assert active_at(client) == before

        stayed = client.post(reverse("session_keep_alive"))

        assert stayed.status_code == 200
        assert stayed.json()["idle_remaining"] >= 30 * MINUTE - 5
        assert time.time() - active_at(client) < 5

    def test_the_status_of_an_ended_session_says_so(self, client, tanaka):
        login_as(client, tanaka)
        set_clock(client, active=31 * MINUTE)

        ended = client.get(reverse("session_status"), headers={"Accept": "application/json"})

        assert ended.status_code == 401
        assert ended.json() == {"ended": True, "login_url": reverse("login")}
        assert AuthenticationEvent.objects.get().kind == AuthenticationEventKind.IDLE_TIMEOUT
        # Asked again (another tab), it is simply not logged in.
        again = client.get(reverse("session_status"), headers={"Accept": "application/json"})
        assert again.status_code == 401
        assert AuthenticationEvent.objects.count() == 1

    def test_the_page_knows_how_long_it_has(self, client, tanaka):
        login_as(client, tanaka)

        body = client.get(reverse("cases:caseload")).content.decode()

        remaining = int(re.search(r'data-session-idle-remaining="(\d+)"', body)[1])
        assert 30 * MINUTE - 5 <= remaining <= 30 * MINUTE
        assert f'data-session-status-url="{reverse("session_status")}"' in body
        assert 'role="alertdialog"' in body


class TestEndingSessions:
    def test_a_system_admin_ends_every_session_of_a_user(self, client, tanaka, sysadmin):
        laptop, phone = login_as(Client(), tanaka), login_as(Client(), tanaka)
        assert laptop.get(reverse("cases:caseload")).status_code == 200
        login_as(client, sysadmin)
        url = reverse("agencies:system_user_end_sessions", args=[tanaka.pk])

        question = client.get(url)
        assert "every browser, computer and phone" in question.content.decode() or (
            "すべて" in question.content.decode()
        )
        response = client.post(url)

        assert response.status_code == 302
        ended = laptop.get(reverse("cases:caseload"))
        assert ended.status_code == 302
        assert ended["Location"].startswith(reverse("login"))
        # The phone's page polls: the whole page goes to the login, not a fragment of it.
        polled = phone.get(
            reverse("reminders:badge"),
            headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/cases/"},
        )
        assert polled["HX-Redirect"] == f"{reverse('login')}?next=%2Fcases%2F"
        entry = AuditEntry.objects.get(action="authentication.sessions_ended")
        assert (entry.actor, entry.target_id) == (sysadmin, str(tanaka.pk))
        event = AuthenticationEvent.objects.get()
        assert (event.kind, event.user, event.actor) == (
            AuthenticationEventKind.SESSIONS_ENDED,
            tanaka,
            sysadmin,
        )
        # The admin's own session goes on; the authentication log and the account show it.
        log = client.get(reverse("audit:authentication")).content.decode()
        assert 'data-outcome="sessions_ended"' in log
        account = client.get(reverse("agencies:system_user", args=[tanaka.pk])).content.decode()
        assert 'data-outcome="sessions_ended"' in account

    def test_only_a_system_admin_may(self, client, tanaka, yamada):
        login_as(client, yamada)  # the roster admin of tanaka's own agency
        url = reverse("agencies:system_user_end_sessions", args=[tanaka.pk])

        assert client.post(url).status_code == 404
        assert not AuditEntry.objects.filter(action="authentication.sessions_ended").exists()

    def test_changing_the_password_ends_the_other_sessions(self, client, tanaka):
        other = login_as(Client(), tanaka)
        client.post(reverse("login"), {"username": "tanaka", "password": PASSWORD})
        new = "another-long-passphrase-42"

        changed = client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        )

        assert changed.status_code == 302
        page = reverse("password_change_done")
        assert client.get(page).status_code == 200  # this one goes on
        ended = other.get(page)
        assert ended.status_code == 302
        assert ended["Location"].startswith(reverse("login"))


class TestUserAccounts:
    def make_staff(self, count, start=0):
        return [make_user(f"staff{n:03}", f"職員 {n:03}") for n in range(start, start + count)]

    def test_the_search_finds_by_name_kana_and_user_name_a_page_at_a_time(
        self, client, sysadmin, tanaka
    ):
        self.make_staff(30)
        login_as(client, sysadmin)
        url = reverse("agencies:system_users")

        first = client.post(url, {"q": "職員"}, headers={"HX-Request": "true"})
        text = first.content.decode()
        assert text.count("職員 0") == 25
        assert "田中" not in text
        cursor = first.context["page"].next_cursor
        rest = client.post(url, {"q": "職員", "after": cursor}, headers={"HX-Request": "true"})
        assert rest.content.decode().count("職員 0") == 5
        assert 'id="user-more"' not in rest.content.decode()

        by_name = client.post(url, {"q": "田中"}).content.decode()
        assert "tanaka" in by_name
        assert reverse("agencies:system_user", args=[tanaka.pk]) in by_name

    def test_the_search_spends_the_same_queries_whatever_the_number_of_accounts(
        self, client, sysadmin, django_assert_num_queries
    ):
        login_as(client, sysadmin)
        url = reverse("agencies:system_users")
        self.make_staff(3)
        client.post(url, {"q": "職員"}, headers={"HX-Request": "true"})
        # The session, the user, the second-factor device the session was verified with
        # (django-otp), the page of accounts (one SELECT, 26 rows at most).
        with django_assert_num_queries(4):
            client.post(url, {"q": "職員"}, headers={"HX-Request": "true"})
        self.make_staff(40, start=3)
        with django_assert_num_queries(4):
            client.post(url, {"q": "職員"}, headers={"HX-Request": "true"})

    def test_an_account_page_shows_memberships_and_lockout(self, client, sysadmin, yamada):
        login_as(client, sysadmin)

        page = client.get(reverse("agencies:system_user", args=[yamada.pk]))

        text = page.content.decode()
        assert "ひきこもり支援ステーションA" in text
        assert reverse("agencies:system_user_end_sessions", args=[yamada.pk]) in text
        assert page.context["lockout"] is None

    def test_a_locked_out_account_says_so_and_links_to_the_unlock(self, client, sysadmin, tanaka):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            Client().post(
                reverse("login"),
                {"username": "tanaka", "password": "wrong"},
                REMOTE_ADDR="10.0.0.9",
            )
        login_as(client, sysadmin)

        page = client.get(reverse("agencies:system_user", args=[tanaka.pk]))

        assert page.context["lockout"]["failures"] == settings.AXES_FAILURE_LIMIT
        assert f"{reverse('audit:authentication')}?unlock=tanaka" in page.content.decode()
        assert page.content.decode().count('data-outcome="failure"') == (
            settings.AXES_FAILURE_LIMIT - 1
        )

    def test_an_unknown_account_is_a_404(self, client, sysadmin):
        login_as(client, sysadmin)

        assert client.get(reverse("agencies:system_user", args=[999999])).status_code == 404
