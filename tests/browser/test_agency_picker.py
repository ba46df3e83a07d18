"""The agency picker in the browser: 田中 records 山本さん's consent to 自立相談支援機関B by typing
part of its name in hiragana and choosing it with the keyboard alone, as in the quick entry."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.test_roster import field, log_in
from tests.conftest import PASSWORD, make_agency

pytestmark = pytest.mark.browser


def pick_agency(page, label: str, typed: str, choice: str) -> None:
    """Type part of the name into the picker and choose ``choice`` with the keyboard."""
    name = choice.split("（")[0]
    box = field(page, label)
    box.click()
    box.press_sequentially(typed, delay=30)
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options.filter(has_text=name)).to_have_count(1)
    for _ in range(options.count()):
        box.press("ArrowDown")
        if name in page.get_by_role("listbox").get_by_role("option", selected=True).inner_text():
            break
    box.press("Enter")
    expect(box).to_have_value(choice)


def test_a_caseworker_picks_the_recipient_by_kana_with_the_keyboard(
    live_server, page, tanaka, jiritsu_b, yamamoto, output_path
):
    # Another agency of a similar name: the first match is not the one wanted.
    make_agency("自立支援センターC", "ジリツシエンセンターC", "npo")
    shots = Path(output_path)
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + reverse("consent:new", args=[yamamoto.public_id]))
    expect(page.get_by_role("heading", level=1)).to_have_text("本人同意を記録")

    box = field(page, "提供先機関")
    expect(box).to_have_attribute("role", "combobox")
    box.click()
    box.press_sequentially("じりつ", delay=30)
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(2)
    expect(box).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=shots / "agency-picker-1-typed.png", full_page=True)

    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(page.get_by_role("listbox").get_by_role("option", selected=True)).to_contain_text(
        "自立相談支援機関B"
    )
    box.press("Enter")
    expect(box).to_have_value("自立相談支援機関B（自立相談支援機関）")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_be_focused()

    # The rest of the form by keyboard too.
    field(page, "利用目的").select_option(label="つなぎ")
    page.get_by_label("基本情報（氏名・連絡先・住所）", exact=True).check()
    page.get_by_label("口頭", exact=True).check()
    page.screenshot(path=shots / "agency-picker-2-chosen.png", full_page=True)
    page.get_by_role("button", name="本人同意を記録する").click()

    page.screenshot(path=shots / "agency-picker-3-recorded.png", full_page=True)
    expect(page.get_by_text("本人同意を記録しました。")).to_be_visible()
    assert yamamoto.consents.get().recipient == jiritsu_b
