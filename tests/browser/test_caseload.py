"""The caseload's filter in a real browser: 田中 types a reading in hiragana, then a name in
kanji, and the server narrows the list as he types (POSTed: the name goes into neither the URL
nor the history, so a reload shows the whole list again); logging a consultation from a row
refreshes that row and the summary alone; without JavaScript the same form filters with its
button."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_roster import field, log_in
from tests.conftest import PASSWORD
from tests.test_caseload import days, log, open_case_for, today

pytestmark = pytest.mark.browser


@pytest.fixture
def caseload(tanaka):
    cases = {
        "goto": open_case_for(tanaka, "後藤 一", "ゴトウ ハジメ"),
        "aoki": open_case_for(tanaka, "青木 二郎", "アオキ ジロウ"),
        "wada": open_case_for(tanaka, "和田 三郎", "ワダ サブロウ"),
        "wada_2": open_case_for(tanaka, "和田 花子", "ワダ ハナコ"),
    }
    log(tanaka, cases["goto"], occurred_on=days(-9), next_contact_on=days(-2))
    log(tanaka, cases["wada"], occurred_on=days(-9), next_contact_on=days(4))
    return cases


def rows(page):
    return page.locator("#caseload-table tbody tr.case-row")


def test_the_filter_asks_the_server_as_one_types(live_server, page, caseload, output_path):
    shots = Path(output_path)
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    log_in(page, live_server.url, "tanaka", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")
    expect(rows(page)).to_have_count(4)
    box = page.get_by_label("一覧を絞り込む")
    address, history = page.url, page.evaluate("history.length")

    # A reading in hiragana finds the katakana one, as one types.
    box.press_sequentially("あおき", delay=60)
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("青木 二郎")
    expect(page.locator("#caseload-shown")).to_have_text("4件中 1件を表示")
    # Nothing of it in the address bar or the history.
    assert page.url == address
    assert page.evaluate("history.length") == history

    # A name in kanji, typed over it.
    box.fill("")
    box.press_sequentially("和田", delay=60)
    expect(rows(page)).to_have_count(2)
    expect(rows(page).nth(0)).to_contain_text("和田 三郎")
    expect(rows(page).nth(1)).to_contain_text("和田 花子")
    assert page.url == address
    assert page.evaluate("history.length") == history
    page.screenshot(path=shots / "caseload-filtered.png", full_page=True)

    # The name was never in the URL: a reload shows the whole list and an empty box.
    page.reload()
    expect(rows(page)).to_have_count(4)
    expect(page.get_by_label("一覧を絞り込む")).to_have_value("")

    # Only the overdue and due today, with the filter emptied.
    page.get_by_label("一覧を絞り込む").fill("")
    page.get_by_label("一覧を絞り込む").dispatch_event("input")
    expect(rows(page)).to_have_count(4)
    page.get_by_label("期限超過と本日予定のみ").check()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("後藤 一")
    assert page.url == address
    assert errors == []


def test_logging_from_a_row_refreshes_that_row_and_the_summary(live_server, page, caseload):
    log_in(page, live_server.url, "tanaka", PASSWORD)
    summary = page.locator("#caseload-summary")
    expect(summary).to_contain_text(re.compile(r"本日予定\s*0"))
    aoki = page.locator(f"#case-{caseload['aoki'].public_id}")
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    aoki.get_by_role("link", name=re.compile("記録")).click()
    quick = page.locator("tr.quick-row form")
    field(quick, "概要").fill("電話で近況を聞いた")
    field(quick, "次回連絡予定日").fill(today().isoformat())
    quick.get_by_role("button", name="記録する").click()

    expect(page.locator("tr.quick-row")).to_contain_text("記録しました")
    expect(aoki).to_have_class(re.compile(r"\btable-warning\b"))
    expect(aoki).to_contain_text("本日")
    expect(summary).to_contain_text(re.compile(r"本日予定\s*1"))
    # The fresh row still says its quick entry is open under it.
    expect(aoki.get_by_role("link", name=re.compile("記録"))).to_have_attribute(
        "aria-expanded", "true"
    )
    # The row came from its own small endpoint, not from the whole page again.
    row_url = f"/cases/caseload/rows/{caseload['aoki'].public_id}/"
    assert any(row_url in url for url in requests)
    assert not any(re.search(r"/cases/(\?|$)", url) for url in requests)


def test_without_javascript_the_button_filters(live_server, browser, caseload, tanaka):
    context = browser.new_context(java_script_enabled=False, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(8000)
    try:
        log_in(page, live_server.url, "tanaka", PASSWORD)
        page.get_by_label("一覧を絞り込む").fill("ﾜﾀﾞ")
        page.get_by_role("button", name="絞り込み").click()

        expect(rows(page)).to_have_count(2)
        # POSTed: the name is not in the address.
        assert "q=" not in page.url
        assert "ﾜﾀﾞ" not in page.url
        expect(page.get_by_label("一覧を絞り込む")).to_have_value("ﾜﾀﾞ")
    finally:
        context.close()
