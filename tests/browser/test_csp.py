"""What moved out of the pages for the Content-Security-Policy still works in a browser that
enforces it: the queue's "tick all" box and the print buttons (static/js). The ``page`` fixture
(tests/conftest.py) fails either test if the browser refused anything on the way."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_roster import log_in
from tests.conftest import PASSWORD, send_referral, viewer_for

pytestmark = pytest.mark.browser


def test_the_supervisor_ticks_every_referral_on_the_queue_page_at_once(
    live_server, page, suzuki, tanaka, yamamoto, jiritsu_b
):
    from cases.services import client_create

    send_referral(tanaka, yamamoto, jiritsu_b)
    kimura = client_create(
        viewer=viewer_for(tanaka),
        fields={"full_name": "木村 花子", "full_name_kana": "キムラ ハナコ"},
    )
    send_referral(tanaka, kimura, jiritsu_b)
    log_in(page, live_server.url, "suzuki", PASSWORD)
    page.goto(live_server.url + "/referrals/incoming/")
    header = page.get_by_role("checkbox", name="このページをすべて選択")
    boxes = page.locator('#queue-table input[name="referral"]')
    expect(boxes).to_have_count(2)

    header.check()
    for box in boxes.all():
        expect(box).to_be_checked()
    header.uncheck()
    for box in boxes.all():
        expect(box).not_to_be_checked()


def test_the_print_button_prints(live_server, page, tanaka):
    # The browser's print dialog cannot show headless: the page's print() records the call.
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + "/agencies/directory/")
    page.get_by_role("button", name="印刷").click()
    assert page.evaluate("window.printed") == 1


STORED = "JSON.stringify(Object.assign({}, localStorage, sessionStorage))"


def test_going_back_after_filtering_the_queue_keeps_no_copy_of_the_page(
    live_server, page, tanaka, yamamoto, jiritsu_b
):
    """htmx keeps no snapshot of a page whose URL it pushed (its history cache in the tab's
    storage would hold the clients' names the outgoing queue lists): going back reloads it."""
    send_referral(tanaka, yamamoto, jiritsu_b)
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + "/referrals/outgoing/")
    expect(page.locator("#queue-table")).to_contain_text("山本 太郎")

    page.get_by_label("緊急度").select_option(index=1)
    expect(page).to_have_url(re.compile(r"urgency="))
    stored = page.evaluate(STORED)
    assert "htmx-history-cache" not in stored
    assert "山本" not in stored

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"urgency="))
    expect(page.locator("#queue-table")).to_contain_text("山本 太郎")
    expect(page.get_by_role("heading", name="送付キュー")).to_be_visible()
    stored = page.evaluate(STORED)
    assert "htmx-history-cache" not in stored
    assert "山本" not in stored
