"""Plans, a 支援調整会議 that approves one, and a supporter's visits on a phone."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_agency_picker import pick_agency
from tests.browser.test_roster import field, log_in
from tests.conftest import PASSWORD, viewer_for

pytestmark = pytest.mark.browser


def option_value(page, select_label: str, text: str) -> str:
    select = field(page, select_label)
    return select.locator("option", has_text=text).first.get_attribute("value")


def test_a_plan_approved_at_a_meeting_and_printed(
    live_server, page, tanaka, yamamoto_case, jiritsu_b, output_path
):
    shots = Path(output_path)
    client_url = f"{live_server.url}/cases/clients/{yamamoto_case.client.public_id}/"
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(client_url)

    page.get_by_role("button", name="プランを作成").click()
    words = "外に出るきっかけがほしい。\n　母に心配をかけたくない。"
    page.get_by_role("textbox", name="本人の言葉").fill(words)
    page.locator("#plan-words").get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("プランを保存しました")
    field(page, "目標").fill("週に1回、居場所に通う")
    page.get_by_role("button", name="目標を追加する").click()
    expect(page.get_by_role("status")).to_contain_text("目標を追加しました")

    # Two support items: one by this station, one by the partner 自立相談支援機関.
    rows = page.locator("#plan-items table tbody tr")
    # The agency is a picker: this station is chosen already, a partner is typed and picked.
    items = (
        ("居場所での見守り・傾聴", "", "ひきこもり支援ステーションA（当機関）"),
        ("生活リズムを整える就労準備支援", "じりつ", "自立相談支援機関B（自立相談支援機関）"),
    )
    for count, (what, typed, agency) in enumerate(items, start=1):
        field(page, "支援内容").fill(what)
        if typed:
            field(page, "担当機関").fill("")  # this station is chosen: clear it first
            pick_agency(page, "担当機関", typed, agency)
        else:
            expect(field(page, "担当機関")).to_have_value(agency)
        field(page, "頻度").fill("週1回")
        page.get_by_role("button", name="支援内容を追加する").click()
        expect(rows).to_have_count(count)  # the editor was swapped in with the new row
    expect(rows.nth(1)).to_contain_text("自立相談支援機関B")
    page.screenshot(path=shots / "1-plan-editor.png", full_page=True)

    page.get_by_role("link", name="本人の同意を記録").first.click()
    page.get_by_label("書面（署名）").check()
    page.get_by_role("button", name="同意を記録する").click()
    expect(page.get_by_text("本人同意済み").first).to_be_visible()

    # The 支援調整会議 approves this version.
    page.get_by_role("link", name="支援調整会議").first.click()
    page.get_by_role("link", name="会議を記録").first.click()
    field(page, "日付").fill(yamamoto_case.opened_on.isoformat())
    field(page, "場所").fill("ステーション会議室")
    page.get_by_role("button", name="保存").click()
    # The case is chosen by typing the client's reading; the plan list follows the choice.
    pick_agency(page, "協議したケース", "やまもと", "山本 太郎（ヤマモト タロウ、1973-05-10）")
    expect(field(page, "協議したプランの版").locator("option", has_text="第1版")).to_have_count(1)
    field(page, "協議したプランの版").select_option(
        option_value(page, "協議したプランの版", "第1版")
    )
    page.get_by_label("プラン承認").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("プラン第1版を承認").first).to_be_visible()
    page.screenshot(path=shots / "2-meeting.png", full_page=True)

    # The plan says so, and prints on A4 without the navigation.
    page.goto(client_url)
    page.get_by_role("link", name="プランを開く").first.click()
    expect(page.get_by_text("支援調整会議で承認").first).to_be_visible()
    page.get_by_role("link", name="印刷（A4）").first.click()
    expect(page.get_by_role("navigation", name="メインナビゲーション")).to_have_count(0)
    expect(page.locator("body")).to_contain_text("プラン兼事業等利用申込書")
    expect(page.locator("body")).to_contain_text("自立相談支援機関B")
    # the client's words, kept verbatim (the full-width space and the line break included)
    assert page.locator(".verbatim").first.inner_text() == words
    page.emulate_media(media="print")
    page.screenshot(path=shots / "3-plan-print-preview.png", full_page=True)
    page.pdf(path=str(shots / "3-plan.pdf"), format="A4")


def test_a_supporter_logs_visits_on_a_phone_and_the_caseworker_sees_the_flag(
    live_server, browser, page, tanaka, ito, yamamoto_case, output_path
):
    from cases.services import supporter_assign

    shots = Path(output_path)
    supporter_assign(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        supporter=ito.memberships.get(),
        approach_note="インターホンは2回まで。まず母親に声をかける。",
    )
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ja-JP", is_mobile=True, has_touch=True
    ).new_page()
    phone.set_default_timeout(8000)
    log_in(phone, live_server.url, "ito", PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_have_text("担当世帯")
    expect(phone.get_by_text("インターホンは2回まで")).to_be_visible()
    phone.screenshot(path=shots / "1-phone-my-households.png", full_page=True)
    phone.get_by_role("link", name="山本 太郎").first.click()

    # The outcomes are large toggle buttons: a tap on the label.
    phone.locator("label", has_text="応答なし・手紙を置いた").tap()
    phone.get_by_role("button", name="訪問記録を保存").click()
    expect(phone.get_by_role("alert").first).to_contain_text("訪問記録を保存しました")

    phone.locator("label", has_text="家族のみ").tap()
    field(phone, "聞き取った内容").fill("母親が玄関先で対応。本人は部屋から出てこない。")
    phone.get_by_label("緊急の対応が必要").check()
    field(phone, "緊急の内容").fill("母親が体調を崩し、食事がとれていない様子")
    phone.get_by_role("button", name="訪問記録を保存").click()
    expect(phone.get_by_role("alert").first).to_contain_text("緊急")
    # Nothing on the phone is wider than the screen: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=shots / "2-phone-after-visits.png", full_page=True)

    log_in(page, live_server.url, "tanaka", PASSWORD)
    urgent = page.get_by_text("サポーターの訪問記録からの緊急の知らせ")
    expect(urgent).to_be_visible()
    expect(page.locator("body")).to_contain_text("食事がとれていない様子")
    page.screenshot(path=shots / "3-caseworker-sees-the-flag.png", full_page=True)
