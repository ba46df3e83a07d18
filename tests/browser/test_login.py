import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_caseworker_logs_in_through_the_real_form(live_server, page, tanaka, output_path):
    page.goto(live_server.url + "/")

    # Not logged in: the Japanese login page.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tsunagu にログイン")

    page.get_by_label("ユーザー名").fill("tanaka")
    page.get_by_label("パスワード").fill("wrong password")
    page.get_by_role("button", name="ログイン").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "ユーザー名またはパスワードが正しくありません"
    )
    expect(page.get_by_label("ユーザー名")).to_have_value("tanaka")

    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")
    header = page.get_by_role("navigation", name="メインナビゲーション")
    expect(header).to_contain_text("田中 一郎")
    expect(header).to_contain_text("ひきこもり支援ステーションA")
    expect(header).to_contain_text("相談支援員")
    page.screenshot(path=Path(output_path) / "landing.png", full_page=True)
