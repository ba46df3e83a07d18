"""The idle timeout as a person meets it: the warning comes, "Stay logged in" keeps the session,
and a page left alone is logged out and comes back after logging in again.

The live server runs with a 14-second idle timeout and a 10-second warning (settings, changed
for the test process the live server runs in): the same code, with seconds instead of minutes.
The new strings are not translated yet, so the dialog is found by its role and its buttons by
their data- attributes."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.models import AuthenticationEvent, AuthenticationEventKind
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

IDLE = timedelta(seconds=14)
WARNING = timedelta(seconds=10)


@pytest.fixture
def short_sessions(settings):
    settings.TSUNAGU_SESSION_IDLE = IDLE
    settings.TSUNAGU_SESSION_WARNING = WARNING


def log_in(page, username):
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_the_warning_keeps_a_person_who_stays_and_logs_out_a_page_left_alone(
    live_server, page, tanaka, short_sessions
):
    page.goto(live_server.url + "/")
    log_in(page, "tanaka")
    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_hidden()

    # Four seconds in, the warning: focus on "Stay logged in", a countdown running.
    expect(dialog).to_be_visible(timeout=10_000)
    stay = dialog.locator("[data-session-stay]")
    expect(stay).to_be_focused()
    expect(dialog.locator("[data-session-countdown]")).to_have_text(re.compile(r"^0:(0\d|10)$"))

    # Enter on the focused button stays; the dialog goes and the page is still logged in.
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    assert not AuthenticationEvent.objects.exists()

    # Left alone, the warning comes again and this time the session ends: the login page, with
    # the message, and the way back to the caseload.
    expect(dialog).to_be_visible(timeout=10_000)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fcases%2F$"), timeout=15_000)
    expect(page.get_by_role("alert")).to_contain_text("1")
    assert AuthenticationEvent.objects.get().kind == AuthenticationEventKind.IDLE_TIMEOUT

    log_in(page, "tanaka")
    expect(page).to_have_url(live_server.url + "/cases/")
    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")


def test_activity_in_another_tab_keeps_this_one(live_server, page, tanaka, settings):
    # Long enough that "stay" clicked in the other tab takes the session out of the warning
    # period before this tab asks again (it asks every 10 seconds while warning).
    settings.TSUNAGU_SESSION_IDLE = timedelta(seconds=24)
    settings.TSUNAGU_SESSION_WARNING = WARNING
    page.goto(live_server.url + "/")
    log_in(page, "tanaka")
    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")
    other = page.context.new_page()
    other.goto(live_server.url + "/cases/")
    dialog = page.get_by_role("alertdialog")

    expect(dialog).to_be_visible(timeout=20_000)
    # "Stay" in the other tab: this tab, asking the server again, closes its warning.
    other_dialog = other.get_by_role("alertdialog")
    expect(other_dialog).to_be_visible(timeout=10_000)
    other_dialog.locator("[data-session-stay]").click()

    expect(dialog).to_be_hidden(timeout=12_000)
    expect(page).to_have_url(live_server.url + "/cases/")
    assert not AuthenticationEvent.objects.exists()
