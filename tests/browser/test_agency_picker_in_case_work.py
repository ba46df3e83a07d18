"""The agency picker in the case forms: 田中 logs a call with 自立相談支援機関B from the quick entry
by keyboard alone (Enter on the open list chooses, it does not save), and records a
支援調整会議 with two partner agencies chosen as chips, one removed again."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Meeting
from tests.browser.conftest import open_quick_entry
from tests.browser.test_roster import field, log_in
from tests.conftest import PASSWORD, make_agency

pytestmark = pytest.mark.browser


def test_the_quick_entry_names_the_other_agency_by_keyboard(
    live_server, page, tanaka, yamamoto_case, jiritsu_b, output_path
):
    make_agency("自立支援センターC", "ジリツシエンセンターC", "npo")
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + reverse("cases:client", args=[yamamoto_case.client.public_id]))
    open_quick_entry(page)
    expect(field(page, "概要")).to_be_focused()
    page.keyboard.type("自立相談Bと電話で今後の役割を確認")

    # Tab through the preset fields, in order, to the other agency.
    box = field(page, "関係機関")
    for _ in range(6):
        page.keyboard.press("Tab")
        if box.evaluate("element => element === document.activeElement"):
            break
    expect(box).to_be_focused()
    page.keyboard.type("じりつ", delay=30)
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("listbox").get_by_role("option", selected=True)).to_contain_text(
        "自立相談支援機関B"
    )
    page.screenshot(path=Path(output_path) / "quick-entry-picker-open.png", full_page=True)

    page.keyboard.press("Enter")  # chooses: the list was open, nothing is saved yet
    expect(box).to_have_value("自立相談支援機関B（自立相談支援機関）")
    expect(box).to_be_focused()
    assert not yamamoto_case.consultations.exists()

    page.keyboard.press("Enter")  # the list is closed: Enter saves
    expect(page.locator("#timeline")).to_contain_text("自立相談Bと電話で今後の役割を確認")
    assert yamamoto_case.consultations.get().partner_agency == jiritsu_b


def test_a_meeting_gets_its_partner_agencies_as_chips(
    live_server, page, tanaka, yamamoto_case, jiritsu_b, agency_c, output_path
):
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + reverse("cases:meeting_create"))
    field(page, "日付").fill(yamamoto_case.opened_on.isoformat())
    field(page, "場所").fill("ステーション会議室")

    box = field(page, "参加機関")
    for typed, name in (("じりつ", "自立相談支援機関B"), ("えぬぴー", "NPO法人C")):
        box.click()
        box.press_sequentially(typed, delay=30)
        expect(page.get_by_role("listbox").get_by_role("option", name=name)).to_have_count(1)
        box.press("ArrowDown")
        box.press("Enter")
        expect(box).to_have_value("")  # ready for the next one
    chips = page.locator("[data-agency-picker-chip]")
    expect(chips).to_have_count(2)
    page.screenshot(path=Path(output_path) / "meeting-picker-chips.png", full_page=True)

    chips.filter(has_text="NPO法人C").get_by_role("button").click()
    expect(chips).to_have_count(1)
    expect(box).to_be_focused()
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("ステーション会議室").first).to_be_visible()
    meeting = Meeting.objects.get()
    assert set(meeting.participant_agencies.all()) == {tanaka.memberships.get().agency, jiritsu_b}
