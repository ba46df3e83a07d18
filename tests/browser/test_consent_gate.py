"""The consent gate in the browser, across two agencies (issue 7).

山本さん is a client of ひきこもり支援ステーションA. He agrees to pass 基本情報 and 相談内容 — and
nothing else — to 自立相談支援機関B, and an accepted つなぎ links the two records. Three people
sit at their own desks (three browsers):

- 田中, caseworker at A, records the consent, later an emergency disclosure of 心身の状況 to B,
  then his withdrawal of the consent, and ends the emergency;
- 小林, supervisor at A, is told of the emergency disclosure, reviews it, and reads who at B
  looked at the record;
- 中島, caseworker at B, keeps the live view of A's record open and reloads it after each step:
  the consented categories, then the emergency with its red banner, then placeholders only.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reminders.models import Kind
from tests.browser.conftest import open_section
from tests.browser.test_agency_picker import pick_agency
from tests.browser.test_roster import field, log_in
from tests.conftest import PASSWORD, make_user, viewer_for

pytestmark = pytest.mark.browser

HOUSEHOLD_ADDRESS = "長野市鶴賀緑町1613"
FIRST_TALK = "母親から電話。本人は昼夜逆転、食事は自室で取る"
HOME_VISIT = "本人と自宅で面談。就労に関心あり"
PLAN_WORDS = "週に一度は外に出たい"
EMERGENCY_REASON = (
    "母親（82）から、本人が3日間食事を取らず自室から出てこないと電話。\n"
    "本人と連絡が取れず同意を得られないため、訪問に同行する自立相談支援機関Bに心身の状況を示す。"
)
CATEGORIES = ["basic", "household", "consultation", "health", "finance", "plan"]
NOT_CONSENTED = ["household", "health", "finance", "plan"]


@pytest.fixture
def kobayashi(station_a):
    """小林: the supervisor at station A, who reviews the agency's emergency disclosures."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("kobayashi", "小林 真理")
    membership_ensure(actor=None, user=user, agency=station_a, role=Role.SUPERVISOR)
    return user


@pytest.fixture
def nakajima(jiritsu_b):
    """中島: a caseworker at 自立相談支援機関B."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("nakajima", "中島 健太")
    membership_ensure(actor=None, user=user, agency=jiritsu_b, role=Role.CASEWORKER)
    return user


@pytest.fixture
def yamamoto_at_a(tanaka, station_a, yamamoto):
    """山本's whole record at station A: an open case with his hikikomori situation (心身の
    状況), two consultations, his household (he lives with his mother, 82) and a plan."""
    from cases.services import (
        case_open,
        consultation_log,
        household_member_save,
        household_save,
        plan_create,
        plan_goal_save,
        plan_item_save,
    )

    viewer = viewer_for(tanaka)
    case = case_open(
        viewer=viewer,
        client=yamamoto,
        fields={
            "origin": "family",
            "support_type": "plan",
            "withdrawal_duration": "10y",
            "withdrawal_triggers": ["job_hunting"],
            "going_out": "room",
        },
        topics=["hikikomori", "family"],
        main_topic="hikikomori",
        primary_worker=tanaka,
    )
    household_save(
        viewer=viewer, client=yamamoto, postal_code="", address=HOUSEHOLD_ADDRESS, note=""
    )
    yamamoto.refresh_from_db()
    household_member_save(
        viewer=viewer,
        client=yamamoto,
        member=None,
        fields={"name": "山本 ハル", "relationship": "mother", "age": 82, "lives_together": True},
    )
    today = timezone.localdate()
    for summary, days_ago in ((FIRST_TALK, 14), (HOME_VISIT, 0)):
        consultation_log(
            viewer=viewer,
            case=case,
            fields={
                "method": "phone" if days_ago else "home_visit",
                "with_client": not days_ago,
                "summary": summary,
                "occurred_on": today - datetime.timedelta(days=days_ago),
            },
        )
    plan = plan_create(viewer=viewer, case=case, client_words=PLAN_WORDS)
    plan_goal_save(viewer=viewer, plan=plan, goal=None, text="週1回、居場所に通う")
    plan_item_save(
        viewer=viewer, plan=plan, item=None, fields={"what": "見守り", "agency": station_a}
    )
    return yamamoto


def tsunagi_accepted(*, tanaka, suzuki, nakajima, client, jiritsu_b):
    """The つなぎ A → B with 基本情報 and 相談内容, accepted at B with 中島 as its caseworker
    (the clicks of sending and accepting are test_tsunagi's; here it only has to link)."""
    from referrals.services import referral_accept, referral_draft, referral_send

    referral = referral_draft(
        viewer=viewer_for(tanaka),
        client=client,
        fields={
            "type": "tsunagi",
            "to_agency": jiritsu_b,
            "reason": "就労準備支援につなぎたい",
            "client_wishes": "働けるかどうか、一度話だけ聞いてみたい",
            "categories": ["basic", "consultation"],
        },
    )
    referral_send(viewer=viewer_for(tanaka), referral=referral)
    return referral_accept(viewer=viewer_for(suzuki), referral=referral, assignee=nakajima)


def sweep_reminders():
    """What the beat's worker does on its next run (the disclosure also nudges it at once):
    the browser test has no worker, so it runs the same service in this process."""
    from reminders.sweep import reminders_sweep

    return reminders_sweep()


def expect_message(page, text):
    expect(page.locator("main > [aria-live] > [role=alert]")).to_contain_text(text)


def section(page, category):
    return page.locator(f'section[data-category="{category}"]')


def expect_withheld(page, categories):
    for category in categories:
        expect(section(page, category).locator("[data-withheld]")).to_contain_text("同意なし")
        expect(section(page, category).locator("dl")).to_have_count(0)


def test_a_partner_sees_only_what_was_consented_an_emergency_and_nothing_after_withdrawal(
    live_server,
    new_context,
    output_path,
    tanaka,
    kobayashi,
    suzuki,
    nakajima,
    jiritsu_b,
    yamamoto_at_a,
):
    shots = Path(output_path)
    url = live_server.url
    client_url = f"{url}/cases/clients/{yamamoto_at_a.public_id}/"
    a_worker = new_context().new_page()
    a_supervisor = new_context().new_page()
    b_worker = new_context().new_page()
    for page in (a_worker, a_supervisor, b_worker):
        page.set_default_timeout(8000)

    # --- 1. 田中 at A records the consent: 基本情報 and 相談内容 to B, nothing else. ----------
    log_in(a_worker, url, "tanaka", PASSWORD)
    a_worker.goto(client_url)
    open_section(a_worker, "consents").get_by_role("link", name="本人同意を記録").click()
    pick_agency(a_worker, "提供先機関", "じりつ", "自立相談支援機関B（自立相談支援機関）")
    field(a_worker, "利用目的").select_option(label="つなぎ")
    a_worker.get_by_label("基本情報（氏名・連絡先・住所）", exact=True).check()
    a_worker.get_by_label("相談内容・支援経過", exact=True).check()
    a_worker.get_by_label("書面", exact=True).check()
    a_worker.get_by_role("button", name="本人同意を記録する").click()
    expect_message(a_worker, "本人同意を記録しました。")
    consent_row = (
        open_section(a_worker, "consents")
        .locator("li[data-consent]")
        .filter(has_text="自立相談支援機関B")
    )
    expect(consent_row.locator("[data-consent-status=valid]")).to_have_text("有効")
    tsunagi_accepted(
        tanaka=tanaka, suzuki=suzuki, nakajima=nakajima, client=yamamoto_at_a, jiritsu_b=jiritsu_b
    )

    # --- 2. 中島 at B opens A's record from his own: the consented part, the rest 同意なし. --
    log_in(b_worker, url, "nakajima", PASSWORD)
    expect(b_worker.get_by_role("heading", level=1)).to_have_text("担当ケース")
    b_worker.get_by_role("link", name="山本 太郎").first.click()
    expect(b_worker.get_by_role("heading", level=1)).to_contain_text("山本 太郎")
    own_record_url = b_worker.url
    assert own_record_url != client_url  # B's own record of him, made at acceptance
    open_section(b_worker, "referrals").locator("[data-partner-record]").click()
    expect(b_worker).to_have_url(f"{url}/referrals/partner-record/{yamamoto_at_a.public_id}/")
    expect(b_worker.locator("h1[data-person]")).to_have_text("山本 太郎")
    expect(b_worker.locator("main")).to_contain_text("ひきこもり支援ステーションA")
    expect(b_worker.locator("section[data-category]")).to_have_count(len(CATEGORIES))
    basic = section(b_worker, "basic")
    expect(basic.locator("[data-basis]")).to_have_attribute("data-basis", "consent")
    expect(basic).to_contain_text("ヤマモト タロウ")
    expect(basic).to_contain_text("090-0000-1111")
    consultation = section(b_worker, "consultation")
    expect(consultation.locator("[data-basis]")).to_have_attribute("data-basis", "consent")
    expect(consultation).to_contain_text(FIRST_TALK)
    expect(consultation).to_contain_text(HOME_VISIT)
    expect(consultation).to_contain_text("ひきこもり")  # the case's topics
    expect_withheld(b_worker, NOT_CONSENTED)
    live = b_worker.locator("main")
    for secret in (
        HOUSEHOLD_ADDRESS,
        "山本 ハル",
        "10年以上",
        "自室からほとんど出ない",
        PLAN_WORDS,
    ):
        expect(live).not_to_contain_text(secret)
    expect(b_worker.locator("[data-emergency]")).to_have_count(0)
    b_worker.screenshot(path=shots / "1-live-view-consented-only.png", full_page=True)

    # --- 3. An emergency: 田中 shows 心身の状況 to B without consent. ------------------------
    a_worker.goto(client_url)
    open_section(a_worker, "emergency").locator("a[href$='/emergency/']").click()
    expect(a_worker).to_have_url(f"{url}/consent/client/{yamamoto_at_a.public_id}/emergency/")
    pick_agency(a_worker, "提供先機関", "じりつ", "自立相談支援機関B（自立相談支援機関）")
    a_worker.get_by_label("心身の状況（要配慮個人情報）", exact=True).check()
    field(a_worker, "理由").fill(EMERGENCY_REASON)
    a_worker.screenshot(path=shots / "2-emergency-form.png", full_page=True)
    a_worker.locator("main form button[type=submit]").click()
    expect(a_worker.locator("h1 [data-state=active]")).to_be_visible()
    expect(a_worker.locator("h1 [data-review=pending]")).to_be_visible()
    expect(a_worker.locator("main")).to_contain_text("3日間食事を取らず")
    expect(a_worker.locator("form[action$='/review/']")).to_have_count(0)  # not his to review
    emergency_url = a_worker.url

    # 小林, A's supervisor: told of it at once (a notification), and the review is hers.
    log_in(a_supervisor, url, "kobayashi", PASSWORD)
    assert sweep_reminders() >= 1
    a_supervisor.reload()
    badge = a_supervisor.locator("#reminder-badge")
    expect(badge).to_contain_text("1")
    badge.click()
    row = a_supervisor.locator("#reminder-rows li").filter(
        has_text=str(Kind.EMERGENCY_REVIEW.label)
    )
    expect(row).to_have_count(1)
    expect(row).to_contain_text("未読")
    a_supervisor.screenshot(path=shots / "3-supervisor-notification.png", full_page=True)
    row.get_by_role("button", name="開く").click()
    expect(a_supervisor).to_have_url(client_url)
    pending = open_section(a_supervisor, "emergency").locator("li[data-emergency]")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("自立相談支援機関B")
    # The supervisors' list of disclosures: its "to review" section.
    a_supervisor.goto(f"{url}/consent/emergency/")
    to_review = a_supervisor.locator("[data-section=to-review] li")
    expect(to_review).to_have_count(1)
    expect(to_review).to_contain_text("山本 太郎")
    expect(to_review).to_contain_text("自立相談支援機関B")
    expect(to_review).to_contain_text("田中 一郎")
    a_supervisor.screenshot(path=shots / "4-emergency-list-to-review.png", full_page=True)
    to_review.get_by_role("link", name="山本 太郎").click()
    expect(a_supervisor).to_have_url(emergency_url)
    review = a_supervisor.locator("form[action$='/review/']")
    review.locator("textarea").fill(
        "生命の危険があり本人同意を得られない状況。提供は心身の状況のみで妥当。"
    )
    a_supervisor.screenshot(path=shots / "5-emergency-review.png", full_page=True)
    review.get_by_role("button").click()
    expect(a_supervisor.locator("h1 [data-review=done]")).to_be_visible()
    expect(a_supervisor.locator("[data-review-note]")).to_contain_text("小林 真理")
    expect(a_supervisor.locator("form[action$='/review/']")).to_have_count(0)
    a_supervisor.goto(f"{url}/consent/emergency/")
    expect(a_supervisor.locator("[data-section=to-review]")).to_have_count(0)

    # 中島 reloads the live view: 心身の状況 now shows, under the emergency, in red.
    b_worker.reload()
    expect(b_worker.locator("[data-emergency]")).to_have_count(1)
    health = section(b_worker, "health")
    expect(health.locator("[data-basis]")).to_have_attribute("data-basis", "emergency")
    expect(health).to_contain_text("10年以上")
    expect(health).to_contain_text("自室からほとんど出ない")
    expect(health).to_contain_text("就職活動の挫折")
    expect(section(b_worker, "basic").locator("[data-basis]")).to_have_attribute(
        "data-basis", "consent"
    )
    expect_withheld(b_worker, ["household", "finance", "plan"])
    b_worker.screenshot(path=shots / "6-live-view-emergency.png", full_page=True)

    # --- 4. He withdraws his consent: 田中 records it on the consent's page. ---------------
    a_worker.goto(client_url)
    consent_row = (
        open_section(a_worker, "consents")
        .locator("li[data-consent]")
        .filter(has_text="自立相談支援機関B")
    )
    consent_row.get_by_role("link", name=re.compile("^撤回を記録")).click()
    withdraw = a_worker.locator("#withdraw")
    expect(field(a_worker, "撤回日")).to_have_value(timezone.localdate().isoformat())
    field(a_worker, "撤回の方法").fill("本人から電話で（「もう話さないでほしい」）")
    withdraw.get_by_role("button", name="撤回を記録する").click()
    expect_message(a_worker, "同意の撤回を記録しました。")
    expect(a_worker.locator("#withdraw")).to_have_count(0)
    a_worker.screenshot(path=shots / "7-consent-withdrawn.png", full_page=True)

    # 中島's very next load: placeholders for what rested on the consent; 心身の状況 stays
    # while the emergency lasts.
    b_worker.reload()
    expect(b_worker.locator("h1[data-person]")).to_contain_text("同意なし")
    expect_withheld(b_worker, ["basic", "consultation", "household", "finance", "plan"])
    expect(section(b_worker, "health").locator("[data-basis]")).to_have_attribute(
        "data-basis", "emergency"
    )
    expect(b_worker.locator("[data-emergency]")).to_have_count(1)
    live = b_worker.locator("main")
    for gone in ("ヤマモト タロウ", "090-0000-1111", FIRST_TALK, HOME_VISIT):
        expect(live).not_to_contain_text(gone)
    b_worker.screenshot(path=shots / "8-live-view-after-withdrawal.png", full_page=True)

    # The danger has passed: 田中 ends the emergency; 中島's next load shows only placeholders.
    a_worker.goto(client_url)
    open_section(a_worker, "emergency").locator("li[data-emergency] a").first.click()
    expect(a_worker).to_have_url(emergency_url)
    a_worker.locator("form[action$='/end/'] button").click()
    expect(a_worker.locator("h1 [data-state=ended]")).to_be_visible()
    expect(a_worker.locator("form[action$='/end/']")).to_have_count(0)
    a_worker.screenshot(path=shots / "9-emergency-ended.png", full_page=True)

    b_worker.reload()
    expect(b_worker.locator("[data-nothing-shared]")).to_be_visible()
    expect(b_worker.locator("[data-emergency]")).to_have_count(0)
    expect_withheld(b_worker, CATEGORIES)
    expect(b_worker.locator("main")).not_to_contain_text("10年以上")
    b_worker.screenshot(path=shots / "10-live-view-placeholders-only.png", full_page=True)
    # His own record (what crossed with the つなぎ) is B's and stays.
    b_worker.goto(own_record_url)
    expect(b_worker.get_by_role("heading", level=1)).to_contain_text("山本 太郎")

    # --- 5. 小林 reads who looked at the record: 中島's four loads of the live view. -------
    a_supervisor.goto(client_url)
    looks = open_section(a_supervisor, "access-log").locator("li[data-access]")
    looks = looks.filter(has_text="中島 健太")
    expect(looks).to_have_count(4)  # newest first
    expect(looks.first).to_contain_text("自立相談支援機関B")
    # The first look: what the consent covered, no 心身の状況.
    expect(looks.last).to_contain_text("基本情報（氏名・連絡先・住所）、相談内容・支援経過")
    expect(looks.last).not_to_contain_text("心身の状況")
    # After the withdrawal: 心身の状況 alone, on the emergency basis.
    expect(looks.nth(1)).to_contain_text("心身の状況")
    expect(looks.nth(1)).not_to_contain_text("基本情報")
    # After the emergency ended the page showed only placeholders: a look with nothing shown.
    expect(looks.first).to_have_attribute("data-access", "shown")
    expect(looks.first).not_to_contain_text("基本情報")
    expect(looks.first).not_to_contain_text("心身の状況")
    a_supervisor.screenshot(path=shots / "11-who-looked.png", full_page=True)
    a_supervisor.locator("#access-log").screenshot(path=shots / "12-who-looked-panel.png")
    # A caseworker of A does not get the panel (it is for supervisors).
    a_worker.goto(client_url)
    expect(a_worker.locator("#access-log-section")).to_have_count(0)
    expect(a_worker.locator("#access-log")).to_have_count(0)
