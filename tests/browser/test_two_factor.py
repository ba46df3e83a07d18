"""Two-factor login as a person meets it: a supervisor enrols on first login (reading the
secret on the page, as someone who cannot scan the QR code types it into the app), keeps the
backup codes, and logs in again with the code the app shows; a system admin without a verified
second factor does not reach the Django admin."""

import re
from pathlib import Path

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.test_roster import field, log_out
from tests.conftest import PASSWORD
from tests.second_factor import authenticator_for, device_code, secret_code

pytestmark = pytest.mark.browser


def type_password(page, url, username):
    page.goto(url + "/accounts/login/")
    field(page, "ユーザー名").fill(username)
    field(page, "パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_a_supervisor_enrols_on_first_login_and_then_logs_in_with_a_code(
    live_server, page, suzuki, output_path
):
    url = live_server.url
    type_password(page, url, "suzuki")

    # Straight to the enrolment: a QR code drawn in the page, and the secret as text.
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/set-up/"))
    expect(page.locator("figure svg.segno")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", secret)
    page.screenshot(path=Path(output_path) / "two-factor-enrol.png", full_page=True)
    # Nothing else opens before it is done.
    page.goto(url + "/cases/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/set-up/"))
    assert page.locator("#totp-secret").inner_text() == secret

    # The code the app would show, typed with a space as people do.
    code = secret_code(secret)
    page.locator("#id_code").fill(f"{code[:3]} {code[3:]}")
    page.locator("#two-factor-confirm button[type=submit]").click()

    # Ten backup codes, shown once, to print or save.
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/backup-codes/"))
    expect(page.locator(".backup-code")).to_have_count(10)
    with page.expect_download() as download:
        page.locator("[data-backup-codes=download]").click()
    saved = download.value.path().read_text()
    first_code = page.locator(".backup-code").first.inner_text()
    assert first_code in saved
    page.screenshot(path=Path(output_path) / "two-factor-backup-codes.png", full_page=True)
    page.locator("#backup-codes-continue").click()
    expect(page.locator("#user-menu")).to_be_visible()
    assert "/accounts/" not in page.url

    # The next login asks for the code after the password; a wrong one is refused.
    log_out(page)
    type_password(page, url, "suzuki")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/code/"))
    page.locator("#id_code").fill("000000")
    page.locator("#two-factor-code button[type=submit]").click()
    expect(page.locator("#id_code.is-invalid")).to_be_visible()
    page.wait_for_timeout(1100)  # django-otp makes the next try wait a second
    device = TOTPDevice.objects.get(user=suzuki, confirmed=True)
    page.locator("#id_code").fill(device_code(device))
    page.locator("#two-factor-code button[type=submit]").click()
    expect(page.locator("#user-menu")).to_be_visible()
    assert "/accounts/" not in page.url

    # The user menu leads to the settings.
    page.locator("#user-menu").click()
    page.locator("a[href='/accounts/two-factor/']").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/$"))
    expect(page.locator("#device-heading")).to_be_visible()


def test_a_system_admin_without_a_verified_second_factor_cannot_reach_the_admin(
    live_server, page, sysadmin
):
    url = live_server.url
    type_password(page, url, "sysadmin")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/set-up/"))

    page.goto(url + "/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/set-up/\?next=%2Fadmin%2F"))
    expect(page.locator("#site-name")).to_have_count(0)

    # With an authenticator, the password alone still does not open it: the code page does.
    log_out_from_enrolment(page)
    authenticator_for(sysadmin)
    type_password(page, url, "sysadmin")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/code/"))
    page.goto(url + "/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # With the code, the admin opens.
    type_password(page, url, "sysadmin")
    device = TOTPDevice.objects.get(user=sysadmin, confirmed=True)
    page.locator("#id_code").fill(device_code(device))
    page.locator("#two-factor-code button[type=submit]").click()
    expect(page.locator("#user-menu")).to_be_visible()
    page.goto(url + "/admin/")
    expect(page.locator("#site-name")).to_be_visible()


def log_out_from_enrolment(page):
    # The enrolment page's own way out (the menu's pages are closed until enrolled).
    page.locator("#two-factor-logout").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
