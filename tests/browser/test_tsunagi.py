"""A つなぎ across two agencies in the browser.

田中 at ひきこもり支援ステーションA records 山本さん's written consent (with the scan of the signed
form) to pass 基本情報 and 相談内容・支援経過 to 自立相談支援機関B, and sends a つなぎ with the
person's wishes in his own words. 鈴木, the supervisor at B, sees it in the incoming queue and
assigns a caseworker, who accepts it, finds a client record at B holding only what crossed (no
household, no 心身の状況), and confirms the first interview. Both sides then see it 完了.
"""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.functional import empty
from playwright.sync_api import expect

from tests.browser.conftest import open_section
from tests.browser.test_agency_picker import pick_agency
from tests.browser.test_roster import field, log_in, log_out
from tests.conftest import PASSWORD, make_user, viewer_for

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% a signed consent form, scanned\n%%EOF\n"
# In the person's own words, kept exactly as typed (a line break and a full-width space too).
WISHES = "母にこれ以上心配をかけたくない。\n　働けるかどうか、一度話だけ聞いてみたい。"
HOUSEHOLD_ADDRESS = "長野市鶴賀緑町1613"


@pytest.fixture
def media(settings, tmp_path):
    """Scans go to a temporary MEDIA_ROOT (the private storage is set up again for it)."""
    from consent.storage import private_storage

    settings.MEDIA_ROOT = tmp_path / "media"
    private_storage._wrapped = empty
    yield settings.MEDIA_ROOT
    private_storage._wrapped = empty


@pytest.fixture
def nakajima(jiritsu_b):
    """中島: a caseworker at 自立相談支援機関B."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("nakajima", "中島 健太")
    membership_ensure(actor=None, user=user, agency=jiritsu_b, role=Role.CASEWORKER)
    return user


@pytest.fixture
def yamamoto_at_a(tanaka, yamamoto_case):
    """山本 at station A with what must not cross: his household (he lives with his mother,
    82), and a consultation that may (相談内容 is consented)."""
    from cases.services import consultation_log, household_member_save, household_save

    viewer = viewer_for(tanaka)
    client = yamamoto_case.client
    household_save(viewer=viewer, client=client, postal_code="", address=HOUSEHOLD_ADDRESS, note="")
    client.refresh_from_db()
    household_member_save(
        viewer=viewer,
        client=client,
        member=None,
        fields={"name": "山本 ハル", "relationship": "mother", "age": 82, "lives_together": True},
    )
    consultation_log(
        viewer=viewer,
        case=yamamoto_case,
        fields={
            "method": "home_visit",
            "with_client": True,
            "summary": "本人と自宅で面談。就労に関心あり",
            "occurred_on": timezone.localdate(),
        },
    )
    return client


def expect_message(page, text):
    """The message the last step left (the page may hold other alerts, e.g. the 8050 flag)."""
    expect(page.locator("main > [aria-live] > [role=alert]")).to_contain_text(text)


def test_a_tsunagi_from_a_station_to_a_self_reliance_agency(
    live_server, page, media, tanaka, suzuki, nakajima, jiritsu_b, yamamoto_at_a, output_path
):
    shots = Path(output_path)
    url = live_server.url
    client_url = f"{url}/cases/clients/{yamamoto_at_a.public_id}/"

    # --- 田中 at station A: the written consent, with the scan of the signed form. ---------
    log_in(page, url, "tanaka", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("担当ケース")
    page.get_by_role("link", name="山本 太郎").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("山本 太郎")
    household = page.locator("#household")
    expect(household).to_contain_text(HOUSEHOLD_ADDRESS)
    expect(household).to_contain_text("母")
    expect(page.get_by_text("ひきこもりの状況")).to_be_visible()  # 心身の状況 at A

    open_section(page, "consents").get_by_role("link", name="本人同意を記録").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("本人同意を記録")
    pick_agency(page, "提供先機関", "じりつ", "自立相談支援機関B（自立相談支援機関）")
    field(page, "利用目的").select_option(label="つなぎ")
    page.get_by_label("基本情報（氏名・連絡先・住所）", exact=True).check()
    page.get_by_label("相談内容・支援経過", exact=True).check()
    page.get_by_label("書面", exact=True).check()
    expect(page.get_by_label("本人", exact=True)).to_be_checked()
    field(page, "署名済み同意書のスキャン").set_input_files(
        {"name": "同意書.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.screenshot(path=shots / "1-consent-form.png", full_page=True)
    page.get_by_role("button", name="本人同意を記録する").click()

    expect_message(page, "本人同意を記録しました。")
    consent = open_section(page, "consents").locator("li").filter(has_text="自立相談支援機関B")
    expect(consent).to_have_count(1)
    expect(consent.locator("[data-consent-status=valid]")).to_have_text("有効")
    expect(consent).to_contain_text("基本情報（氏名・連絡先・住所）、相談内容・支援経過")
    expect(consent).not_to_contain_text("心身の状況")
    expect(consent).to_contain_text("書面")
    with page.expect_download() as download:
        consent.get_by_role("link", name=re.compile("^書面（署名）")).click()
    assert Path(download.value.path()).read_bytes() == PDF
    assert list((media / "private" / "consent-scans").rglob("*.pdf"))
    page.screenshot(path=shots / "2-consent-recorded.png", full_page=True)

    # --- ... and the つなぎ, with 本人の意向 in his own words. --------------------------------
    open_section(page, "referrals").get_by_role("link", name="つなぐ・紹介する").click()
    expect(page.get_by_label("つなぎ（情報提供あり）", exact=True)).to_be_checked()
    pick_agency(page, "提供先機関", "じりつ", "自立相談支援機関B（自立相談支援機関）")
    basic = page.get_by_label("基本情報（氏名・連絡先・住所）", exact=True)
    consultation = page.get_by_label("相談内容・支援経過", exact=True)
    expect(basic).to_be_enabled()  # the categories came back for B (htmx)
    expect(consultation).to_be_enabled()
    expect(page.get_by_label("世帯の状況", exact=True)).to_be_disabled()
    expect(page.get_by_label("心身の状況（要配慮個人情報）", exact=True)).to_be_disabled()
    basic.check()
    consultation.check()
    field(page, "つなぎの理由").fill("就労に関心が出てきたため、就労準備支援につなぎたい。")
    field(page, "本人の意向").fill(WISHES)
    field(page, "つなぎ先へのメッセージ").fill("初回は当ステーションで同席面談を希望します。")
    page.screenshot(path=shots / "3-referral-form.png", full_page=True)
    page.get_by_role("button", name="下書き保存").click()
    expect_message(page, "下書きを保存しました")
    page.get_by_role("button", name="送付する").click()
    expect_message(page, "自立相談支援機関B へ送付しました。")
    expect(page.locator("[data-referral-status]")).to_have_text("送付済")
    expect(page.locator("#sent")).to_contain_text("本人と自宅で面談。就労に関心あり")
    expect(page.locator("[data-snapshot=health]")).to_have_count(0)
    expect(page.locator("[data-snapshot=household]")).to_have_count(0)
    page.screenshot(path=shots / "4-referral-sent.png", full_page=True)
    referral_url = page.url
    referral_id = re.search(r"/referrals/([0-9a-f-]{36})/", referral_url).group(1)
    log_out(page)

    # --- 鈴木, supervisor at B: the incoming queue, and a caseworker assigned. ---------------
    log_in(page, url, "suzuki", PASSWORD)
    page.get_by_role("link", name="受付キュー").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付キュー")
    row = page.locator(f'tr[data-referral="{referral_id}"]')
    expect(row).to_contain_text("ひきこもり支援ステーションA")
    expect(row).to_contain_text("基本情報（氏名・連絡先・住所）、相談内容・支援経過")
    expect(row).to_contain_text("未割当")
    row.get_by_role("checkbox").check()
    field(page, "チェックしたつなぎの担当者").select_option(label="中島 健太")
    page.get_by_role("button", name="割り当てる").click()
    expect_message(page, "1件のつなぎを中島 健太に割り当てました。")
    expect(row).to_contain_text("中島 健太")
    # The filters still reload the list as they change (and only they do: ticking a row or
    # choosing whom to assign must not reload it).
    field(page, "担当者").select_option(label="中島 健太")
    expect(page).to_have_url(re.compile(r"[?&]worker=\d+"))
    expect(row).to_contain_text("中島 健太")
    page.screenshot(path=shots / "5-incoming-queue-assigned.png", full_page=True)
    log_out(page)

    # --- 中島, caseworker at B: opens it, accepts it. -----------------------------------------
    # Nothing in a caseworker's menus lists referrals assigned to them yet (the incoming
    # queue is the supervisors'): 中島 opens the link 鈴木 passed on.
    log_in(page, url, "nakajima", PASSWORD)
    page.goto(referral_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("山本 太郎")
    expect(page.locator("[data-referral-status]")).to_have_text("送付済")
    expect(page.locator("dd.wishes")).to_have_text(WISHES)
    expect(page.locator("[data-snapshot]")).to_have_count(2)
    expect(page.locator("#sent")).to_contain_text("本人と自宅で面談。就労に関心あり")
    expect(field(page, "担当者")).to_have_value("")  # myself, or the worker already assigned
    page.screenshot(path=shots / "6-received-referral.png", full_page=True)
    page.get_by_role("button", name="受理する").click()
    expect_message(page, "受理しました。送付された情報から当機関の相談者記録を作成しました。")
    expect(page.locator("[data-referral-status]")).to_have_text("受理")
    expect(page.locator("#actions")).to_contain_text("初回面談実施を記録する")

    # B's own record of the person: only what crossed.
    page.get_by_role("link", name="当機関の相談者記録").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("山本 太郎")
    expect(page.get_by_role("heading", level=1)).to_contain_text("ヤマモト タロウ")
    main = page.locator("main")
    expect(main).to_contain_text("1973-05-10")
    expect(main).to_contain_text("090-0000-1111")
    expect(page.locator("dd.wishes")).to_contain_text("母にこれ以上心配をかけたくない。")
    expect(page.locator("#household")).to_contain_text("世帯はまだ登録されていません。")
    expect(main).not_to_contain_text(HOUSEHOLD_ADDRESS)
    expect(main).not_to_contain_text("山本 ハル")
    expect(page.get_by_text("ひきこもりの状況")).to_have_count(0)  # no 心身の状況
    expect(main).not_to_contain_text("10年以上")
    consents = open_section(page, "consents").locator("li[data-consent]")
    expect(consents).to_have_count(0)  # A's consent is A's
    expect(main).to_contain_text("中島 健太")  # the case is his
    incoming = open_section(page, "referrals").locator("li")
    incoming = incoming.filter(has_text="ひきこもり支援ステーションA")
    expect(incoming.locator("[data-referral-status]")).to_have_text("受理")
    page.screenshot(path=shots / "7-client-record-at-b.png", full_page=True)

    # The first interview happened: only now is the つなぎ 完了.
    incoming.get_by_role("link", name="つなぎ（情報提供あり）").click()
    expect(field(page, "初回面談実施日")).to_have_value(timezone.localdate().isoformat())
    page.get_by_role("button", name="初回面談実施を記録する").click()
    expect_message(page, "初回面談実施を記録しました。つなぎは完了です。")
    expect(page.locator("[data-referral-status]")).to_have_text("完了")
    expect(page.locator("#actions")).to_have_count(0)
    page.screenshot(path=shots / "8-completed-at-b.png", full_page=True)
    log_out(page)

    # --- 田中 sees it 完了 too. ---------------------------------------------------------------
    log_in(page, url, "tanaka", PASSWORD)
    page.goto(client_url)
    sent = open_section(page, "referrals").locator(f'li[data-referral="{referral_id}"]')
    expect(sent).to_contain_text("→ 自立相談支援機関B")
    expect(sent.locator("[data-referral-status]")).to_have_text("完了")
    sent.get_by_role("link", name="つなぎ（情報提供あり）").click()
    expect(page.locator("[data-referral-status]")).to_have_text("完了")
    expect(page.locator("main")).to_contain_text(timezone.localdate().isoformat())
    expect(page.locator("main")).to_contain_text("中島 健太")
    page.screenshot(path=shots / "9-completed-at-a.png", full_page=True)
