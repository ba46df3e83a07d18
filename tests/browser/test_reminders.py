"""A reminder in the browser: 田中's planned contact with 山本 is overdue; after the sweep the
header's badge shows it, the dashboard and the notification centre list it with his name, and
opening it lands on 山本's page."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reminders.models import Reminder
from reminders.sweep import reminders_sweep
from tests.browser.test_roster import log_in
from tests.conftest import PASSWORD, viewer_for

pytestmark = pytest.mark.browser


def test_a_caseworker_sees_the_badge_opens_the_reminder_and_lands_on_the_case(
    live_server, page, tanaka, yamamoto_case, output_path
):
    from cases.services import consultation_log

    shots = Path(output_path)
    today = timezone.localdate()
    consultation_log(
        viewer=viewer_for(tanaka),
        case=yamamoto_case,
        fields={
            "method": "phone",
            "summary": "母親と電話",
            "occurred_on": today - timedelta(days=10),
            "next_contact_on": today - timedelta(days=4),
        },
    )
    reminders_sweep()

    log_in(page, live_server.url, "tanaka", PASSWORD)
    badge = page.locator("#reminder-badge")
    expect(badge.locator(".badge")).to_have_text(re.compile(r"^1\D"))
    # The caseload dashboard shows the same unread reminder.
    expect(page.locator("#caseload-reminders")).to_contain_text("山本 太郎")
    page.screenshot(path=shots / "1-badge-and-dashboard.png", full_page=True)

    badge.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お知らせ")
    expect(badge.locator(".badge")).to_have_text(re.compile(r"^1\D"))  # still unread
    rows = page.get_by_role("list", name="Notifications, newest first").or_(
        page.locator("#reminder-rows")
    )
    expect(rows.get_by_role("listitem")).to_have_count(1)
    # The holder's own caseworker sees whom it is about (the email never names anyone).
    expect(rows.get_by_role("listitem")).to_contain_text("予定の連絡日を過ぎています")
    expect(rows.get_by_role("listitem")).to_contain_text("山本 太郎")
    page.screenshot(path=shots / "2-notification-centre.png", full_page=True)

    rows.get_by_role("button", name="開く").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("山本 太郎")
    assert Reminder.objects.get().read_at is not None
    expect(badge.locator(".badge")).to_have_count(0)
    page.screenshot(path=shots / "3-landed-on-the-case.png", full_page=True)
