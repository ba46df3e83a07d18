"""A caseworker's day in the browser: register a client with a household, see the 8050 flag,
meet the duplicate warning, log three consultations (one by keyboard only), move the stage
forward and back, and find the client again by a half-width katakana search."""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import open_quick_entry
from tests.browser.test_roster import field, log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_caseworkers_day(live_server, page, tanaka, output_path):
    shots = Path(output_path)
    today = timezone.localdate()
    born = today.replace(year=today.year - 53, day=1)
    log_in(page, live_server.url, "tanaka", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")

    # Register the client.
    page.get_by_role("link", name="相談者を登録").click()
    field(page, "氏名").fill("山本 太郎")
    field(page, "氏名（フリガナ）").fill("やまもと たろう")
    field(page, "生年月日").fill(born.isoformat())
    field(page, "本人の意向").fill("外に出るきっかけがほしい")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("山本 太郎")
    expect(page.get_by_text("本人未接触")).to_be_visible()

    # Open a case about withdrawal.
    page.get_by_role("link", name="ケースを開始").click()
    field(page, "相談経路").select_option(label="家族からの相談")
    page.get_by_label("ひきこもり・不登校").check()
    page.get_by_label("家族との関係").check()
    field(page, "主な相談内容").select_option(label="ひきこもり・不登校")
    field(page, "ひきこもりの期間").select_option(label="10年以上")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("ケースを開始しました")

    # The household: the client and his mother, 82, living together.
    page.get_by_role("link", name="世帯を登録").click()
    page.get_by_role("button", name="保存").click()
    page.get_by_role("link", name="世帯員を追加").first.click()
    field(page, "続柄（本人から見て）").select_option(label="母")
    field(page, "年齢").fill("82")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("8050世帯の可能性")).to_be_visible()
    page.screenshot(path=shots / "1-client-with-8050-flag.png", full_page=True)
    client_url = page.url

    # Registering him again is caught.
    page.goto(live_server.url + "/cases/clients/new/")
    field(page, "氏名").fill("山本太郎")
    field(page, "氏名（フリガナ）").fill("ﾔﾏﾓﾄ ﾀﾛｳ")
    field(page, "生年月日").fill(born.isoformat())
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("すでに登録されている可能性があります")
    expect(field(page, "氏名")).to_have_value("山本太郎")
    page.screenshot(path=shots / "2-duplicate-warning.png", full_page=True)

    # Three consultations from the client page; the last one by keyboard only.
    page.goto(client_url)
    open_quick_entry(page)
    for summary in ("母親から電話。本人の様子を聞き取り", "母親と面談。家計の不安"):
        field(page, "概要").fill(summary)
        page.get_by_role("button", name="記録する").click()
        expect(page.locator("#timeline")).to_contain_text(summary)
    page.goto(client_url)
    open_quick_entry(page)
    expect(field(page, "概要")).to_be_focused()  # the quick entry has the focus when opened
    page.keyboard.type("本人と電話で5分話せた")  # method "phone" and today's date are preset
    page.keyboard.press("Enter")
    expect(page.locator("#timeline")).to_contain_text("本人と電話で5分話せた")
    page.reload()
    expect(page.locator("#timeline li").filter(has_text="電話")).to_have_count(3)

    # The stage forward, then back, each with a reason.
    field(page, "移行先").select_option(label="アセスメント")
    field(page, "理由").fill("本人と話せたため")
    page.get_by_role("button", name="移行", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="支援段階")).to_contain_text("移行しました")
    field(page, "移行先").select_option(label="相談受付")
    field(page, "理由").fill("再び連絡がとれなくなった")
    page.get_by_role("button", name="移行", exact=True).click()
    expect(page.locator("#timeline")).to_contain_text("再び連絡がとれなくなった")
    expect(page.locator("#timeline").get_by_text("後戻り")).to_have_count(1)
    page.screenshot(path=shots / "3-client-page-after-the-day.png", full_page=True)

    # Found again by the reading typed in half-width katakana.
    page.get_by_role("link", name="担当ケース").click()
    page.get_by_role("link", name="相談者を検索").click()
    page.get_by_role("searchbox", name="氏名・フリガナ").fill("ﾔﾏﾓﾄ ﾀﾛｳ")
    page.get_by_role("button", name="検索").click()
    results = page.locator("#results")
    expect(results).to_contain_text("山本 太郎")
    page.screenshot(path=shots / "4-search-half-width.png", full_page=True)
    assert re.search(r"/cases/clients/[0-9a-f-]{36}/", client_url)
