"""No name in the address bar or the history (issue 15), in a real browser: 田中 types 山本's
name into the client search, the caseload's filter and the household member picker; the address
stays as it was, the history gains no entry, and after opening the client and going back the
address still names no one. Every request that carried what was typed was a POST.

Personas: 田中 (caseworker, station A) and 山本 太郎, his client."""

from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.services import household_save
from tests.browser.test_roster import field, log_in
from tests.conftest import PASSWORD, viewer_for
from tests.test_caseload import open_case_for

pytestmark = pytest.mark.browser

TYPED = ("山本", "やまもと", "ﾔﾏﾓﾄ")


def names_no_one(url: str) -> bool:
    """Neither what was typed nor any encoding of it, nor a query named q."""
    forms = {form for text in TYPED for form in (text, quote(text), quote_plus(text))}
    return "q=" not in url and not any(form in url for form in forms)


def watch_requests(page) -> list[tuple[str, str, str]]:
    """(method, URL, body) of every request the page makes from now on."""
    seen: list[tuple[str, str, str]] = []
    page.on(
        "request",
        lambda request: seen.append((request.method, request.url, request.post_data or "")),
    )
    return seen


def to(path: str, requests) -> list[tuple[str, str, str]]:
    return [request for request in requests if urlsplit(request[1]).path == path]


def test_the_client_search_keeps_the_name_out_of_the_address_and_the_history(
    live_server, page, tanaka, yamamoto
):
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + reverse("cases:client_search"))
    address, history = page.url, page.evaluate("history.length")
    requests = watch_requests(page)

    box = page.get_by_label("氏名・フリガナ")
    box.press_sequentially("やまもと", delay=60)
    result = page.locator("#results").get_by_role("link", name="山本 太郎")
    expect(result).to_be_visible()
    box.press("Enter")  # the button's submit: the same POST
    expect(result).to_be_visible()

    assert page.url == address
    assert page.evaluate("history.length") == history
    searches = to(reverse("cases:client_search"), requests)
    assert len(searches) >= 2, requests
    for method, url, body in searches:
        assert method == "POST", searches
        assert names_no_one(url), url
        assert parse_qs(body)["q"] == ["やまもと"]  # in the body, where it belongs

    # Open the client, then come back: the address the history kept names no one.
    result.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("山本 太郎")
    page.go_back()
    expect(page.get_by_label("氏名・フリガナ")).to_be_visible()
    assert names_no_one(page.url), page.url
    assert all(names_no_one(url) for url in page.evaluate("[location.href, document.referrer]"))


def test_the_caseload_filter_keeps_the_name_out_of_the_address_and_the_history(
    live_server, page, tanaka
):
    open_case_for(tanaka, "山本 太郎", "ヤマモト タロウ")
    open_case_for(tanaka, "青木 二郎", "アオキ ジロウ")
    log_in(page, live_server.url, "tanaka", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")
    address, history = page.url, page.evaluate("history.length")
    requests = watch_requests(page)

    page.get_by_label("一覧を絞り込む").press_sequentially("山本", delay=60)
    rows = page.locator("#caseload-table tbody tr.case-row")
    expect(rows).to_have_count(1)

    assert page.url == address
    assert page.evaluate("history.length") == history
    filters = to(reverse("cases:caseload"), requests)
    assert filters, requests
    for method, url, _body in filters:
        assert method == "POST", filters
        assert names_no_one(url), url

    rows.first.get_by_role("link", name="山本 太郎", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("山本 太郎")
    page.go_back()
    expect(page.get_by_label("一覧を絞り込む")).to_be_visible()
    assert names_no_one(page.url), page.url


def test_the_client_picker_posts_what_is_typed(live_server, page, tanaka, yamamoto):
    household_save(viewer=viewer_for(tanaka), client=yamamoto, postal_code="", address="", note="")
    open_case_for(tanaka, "山本 花子", "ヤマモト ハナコ")
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + reverse("cases:member_add", args=[yamamoto.public_id]))
    address, history = page.url, page.evaluate("history.length")
    requests = watch_requests(page)

    field(page, "当機関の相談者").press_sequentially("やまもと", delay=60)
    expect(page.get_by_role("listbox").get_by_role("option")).to_contain_text("山本 花子")

    picks = to(reverse("cases:client_pick"), requests)
    assert picks, requests
    for method, url, body in picks:
        assert method == "POST", picks
        assert names_no_one(url), url
        # What was typed, and not the member form around the picker.
        assert set(parse_qs(body)) == {"q"}, body
    assert page.url == address
    assert page.evaluate("history.length") == history
