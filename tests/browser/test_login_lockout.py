import re
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, password: str):
    page.get_by_label("ユーザー名").fill("tanaka")
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def test_five_wrong_passwords_lock_the_login_until_the_cool_off_ends(
    live_server, page, tanaka, output_path
):
    page.goto(live_server.url + "/accounts/login/")

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(page, "wrong password")
        expect(page.get_by_role("alert")).to_contain_text(
            "ユーザー名またはパスワードが正しくありません"
        )
    with page.expect_response(re.compile(r"/accounts/login/$")) as answer:
        log_in(page, "wrong password")
    assert answer.value.status == 429

    # The lockout page, in the Japanese layout, with the cool-off in minutes.
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#locked-out")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("15")
    page.screenshot(path=Path(output_path) / "locked-out.png", full_page=True)

    # Even the right password is refused while locked.
    page.goto(live_server.url + "/accounts/login/")
    log_in(page, PASSWORD)
    expect(page.locator("#locked-out")).to_be_visible()

    # The cool-off passes (moved back in the database rather than waited for).
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    page.goto(live_server.url + "/accounts/login/")
    log_in(page, PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")
