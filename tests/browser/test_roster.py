"""The roster end to end: a system admin sets up an agency, its admin adds a caseworker, and the
caseworker finds the agency in the directory by its reading typed in hiragana."""

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.second_factor import pass_second_factor_in_browser

pytestmark = pytest.mark.browser


def field(page, label):
    """A form field by its exact label; crispy marks required ones with a trailing *."""
    by_label = page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))
    # Only form controls: a section labelled by the same heading is not a field.
    return by_label.and_(page.locator("input, select, textarea"))


def log_in(page, url, username, password):
    page.goto(url + "/accounts/login/")
    field(page, "ユーザー名").fill(username)
    field(page, "パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    # Supervisors, roster admins and system admins log in with a second factor.
    pass_second_factor_in_browser(page, username)


def log_out(page):
    """Through the user menu in the header, as a person would."""
    page.locator("#user-menu").click()
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("button", name="ログイン")).to_be_visible()


def set_password_from_invitation(page, username, password):
    message = next(m for m in reversed(mail.outbox) if f"ユーザー名: {username}" in m.body)
    page.goto(re.search(r"https?://\S+", message.body).group(0))
    field(page, "新しいパスワード").fill(password)
    field(page, "新しいパスワード(確認用)").fill(password)
    page.get_by_role("button", name="パスワードを設定").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスワードを設定しました")


def test_an_agency_is_set_up_staffed_and_found(live_server, page, sysadmin, output_path):
    shots = Path(output_path)
    url = live_server.url

    # The system admin creates the agency.
    log_in(page, url, "sysadmin", PASSWORD)
    page.get_by_role("link", name="システム管理").click()
    page.get_by_role("link", name="機関の登録").click()
    field(page, "名称").fill("松本市ひきこもり支援ステーション")
    field(page, "名称（フリガナ）").fill("まつもとしひきこもりしえんすてーしょん")
    field(page, "種別").select_option(label="ひきこもり支援ステーション")
    field(page, "実施主体").select_option(label="長野県松本市（202029）")
    field(page, "電話番号").fill("0263-00-1234")
    field(page, "①相談支援").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "機関「松本市ひきこもり支援ステーション」を登録しました"
    )

    # ... and its agency admin.
    page.get_by_role("link", name="スタッフの追加").click()
    field(page, "ユーザー名").fill("nakamura")
    field(page, "氏名").fill("中村 由美")
    field(page, "メールアドレス").fill("nakamura@example.jp")
    field(page, "役割").select_option(label="主任相談支援員")
    field(page, "名簿管理者").check()
    page.get_by_role("button", name="追加").click()
    expect(page.get_by_role("alert")).to_contain_text("中村 由美さんをスタッフに追加しました")
    page.screenshot(path=shots / "1-roster-by-system-admin.png", full_page=True)
    log_out(page)

    # The agency admin sets a password from the emailed link, and adds a caseworker.
    set_password_from_invitation(page, "nakamura", "nakamura-pass-2026")
    log_in(page, url, "nakamura", "nakamura-pass-2026")
    page.get_by_role("link", name="名簿管理").click()
    page.get_by_role("link", name="スタッフの追加").click()
    field(page, "ユーザー名").fill("kimura")
    field(page, "氏名").fill("木村 直子")
    field(page, "メールアドレス").fill("kimura@example.jp")
    field(page, "役割").select_option(label="相談支援員")
    page.get_by_role("button", name="追加").click()
    expect(page.get_by_role("table")).to_contain_text("木村 直子")
    page.screenshot(path=shots / "2-roster-by-agency-admin.png", full_page=True)
    log_out(page)

    # The caseworker logs in and finds the agency by its reading typed in hiragana.
    set_password_from_invitation(page, "kimura", "kimura-pass-2026")
    log_in(page, url, "kimura", "kimura-pass-2026")
    page.get_by_role("link", name="機関検索").click()
    field(page, "名称・フリガナ").fill("まつもと")
    page.get_by_role("button", name="検索").click()
    results = page.locator("#results")
    expect(results).to_contain_text("松本市ひきこもり支援ステーション")
    expect(results).to_contain_text("0263-00-1234")
    expect(results).to_contain_text("①相談支援")
    page.screenshot(path=shots / "3-directory.png", full_page=True)
