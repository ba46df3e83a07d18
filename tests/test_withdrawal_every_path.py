"""Withdrawal on every path (issue 7): the very next request after the person withdraws their
consent shows the partners nothing new of the withdrawn categories — on the live view, on a
referral's page and its message thread (what the holder wrote after acceptance disappears,
and it can write nothing more), on the joint-support page, in the notification centre
and the reminder email — while what lawfully crossed with an accepted referral stays (it is the
recipient's own record), and the two bases without consent (支援会議, emergency) are untouched.

No mocks: the state is built through the services and the pages are real requests, each
persona with one browser session kept from before the withdrawal to after it (nothing cached in
a session may outlive the consent).

Personas:
- 中村 nakamura: caseworker at 自立相談支援機関H, which holds 伊藤 花子's record;
- 小林 kobayashi: supervisor at H, secretariat of the 支援会議;
- 森 mori: caseworker at ひきこもり支援ステーションL, which accepted H's つなぎ;
- 林 hayashi: caseworker at ひきこもり地域支援センターJ, which accepted H's 共同支援;
- 清水 shimizu: supervisor at サポステN, to which a つなぎ was sent and not yet answered;
- 池田 ikeda: caseworker at 社会福祉協議会C, a member of the 支援会議;
- 山口 yamaguchi: caseworker at 保健所U, which received an emergency disclosure.
"""

import contextlib
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import DataCategory
from tests.conftest import login_as, make_agency, make_user, municipality, viewer_for

pytestmark = pytest.mark.django_db

BASIC = DataCategory.BASIC.value
HOUSEHOLD = DataCategory.HOUSEHOLD.value
CONSULTATION = DataCategory.CONSULTATION.value
HEALTH = DataCategory.HEALTH.value
PLAN = DataCategory.PLAN.value
CONSENTED = [BASIC, CONSULTATION, PLAN]

# What crossed with the referrals (their snapshots), written before sending.
SENT_NAME = "ZQSENTNAMEQZ"
SENT_SUMMARY = "ZQSENTSUMMARYQZ"
# The live record, written after sending (only the live view and the gate can show these).
LIVE_NAME = "ZQLIVENAMEQZ"
LIVE_SUMMARY = "ZQLIVESUMMARYQZ"
LIVE_PLAN = "ZQLIVEPLANQZ"
# The referral's own text: why H refers the person, and the person's wishes in their words.
REASON = "ZQREASONQZ"
WISHES = "ZQWISHESQZ"
# Messages and the joint policy from H: the person's information too.
THREAD = "ZQTHREADQZ"
POLICY = "ZQPOLICYQZ"
# A message from H written after L and J accepted: not what crossed, so it follows the consent.
LATER_THREAD = "ZQLATERTHREADQZ"
# Written after the withdrawal: "nothing new" means none of these, anywhere. The message is
# refused by the service (passing information needs consent); were it ever written, the
# pages must still not show it.
NEW_NAME = "ZQNEWNAMEQZ"
NEW_SUMMARY = "ZQNEWSUMMARYQZ"
NEW_PLAN = "ZQNEWPLANQZ"
NEW_THREAD = "ZQNEWTHREADQZ"
NEW = (NEW_NAME, NEW_SUMMARY, NEW_PLAN, NEW_THREAD)
LIVE = (LIVE_NAME, LIVE_SUMMARY, LIVE_PLAN)


def staff(username: str, name: str, agency, role: str):
    from agencies.services import membership_ensure

    user = make_user(username, name)
    membership_ensure(actor=None, user=user, agency=agency, role=role)
    return user


@pytest.fixture
def world():
    """伊藤 花子 at H, consented to L, J and N for 基本情報, 相談内容 and プラン; a つなぎ to L
    and a 共同支援 to J accepted, a つなぎ to N sent; on the agenda of a 支援会議 with C
    (基本情報 and 世帯); an emergency disclosure to U (基本情報 and 心身の状況)."""
    from agencies.permissions import Viewer
    from cases.services import (
        case_open,
        client_create,
        client_update,
        consultation_log,
        household_save,
        plan_create,
        plan_update,
    )
    from consent.services import consent_record, emergency_disclose
    from councils.services import (
        agenda_item_add,
        council_create,
        council_member_add,
        council_session_create,
    )
    from referrals.services import (
        referral_accept,
        referral_draft,
        referral_message_post,
        referral_send,
        support_policy_propose,
    )

    agencies = {
        "H": make_agency("自立相談支援機関H", "ジリツエイチ", "self_reliance"),
        "L": make_agency("ひきこもり支援ステーションL", "ステーションエル", "hikikomori_station"),
        "J": make_agency("ひきこもり地域支援センターJ", "センタージェイ", "hikikomori_center"),
        "N": make_agency("サポステN", "サポステエヌ", "youth_support_station"),
        "C": make_agency("社会福祉協議会C", "シャキョウシー", "social_welfare_council"),
        "U": make_agency("保健所U", "ホケンジョユー", "public_health_center"),
    }
    people = {
        "nakamura": staff("nakamura", "中村 一", agencies["H"], "caseworker"),
        "kobayashi": staff("kobayashi", "小林 二", agencies["H"], "supervisor"),
        "mori": staff("mori", "森 三", agencies["L"], "caseworker"),
        "hayashi": staff("hayashi", "林 四", agencies["J"], "caseworker"),
        "shimizu": staff("shimizu", "清水 五", agencies["N"], "supervisor"),
        "ikeda": staff("ikeda", "池田 六", agencies["C"], "caseworker"),
        "yamaguchi": staff("yamaguchi", "山口 七", agencies["U"], "caseworker"),
    }
    h = viewer_for(people["nakamura"])
    client = client_create(
        viewer=h,
        fields={
            "full_name": SENT_NAME,
            "full_name_kana": "イトウ ハナコ",
            "phone": "090-2222-3333",
        },
    )
    household_save(viewer=h, client=client, postal_code="", address="", note="")
    client.refresh_from_db()
    case = case_open(
        viewer=h,
        client=client,
        fields={"origin": "family", "support_type": "no_plan", "withdrawal_duration": "10y"},
        topics=["hikikomori"],
        main_topic="hikikomori",
        primary_worker=people["nakamura"],
    )
    consultation_log(viewer=h, case=case, fields={"method": "phone", "summary": SENT_SUMMARY})
    plan = plan_create(viewer=h, case=case, client_words="まだ")
    consents = {
        to: consent_record(
            viewer=h,
            client=client,
            recipient=agencies[to],
            purpose="joint_support" if to == "J" else "referral",
            categories=CONSENTED,
            method="written",
        )
        for to in ("L", "J", "N")
    }
    referrals = {}
    for to, kind, answerer in (
        ("L", "tsunagi", "mori"),
        ("J", "joint", "hayashi"),
        ("N", "tsunagi", None),
    ):
        referral = referral_draft(
            viewer=h,
            client=client,
            fields={
                "type": kind,
                "to_agency": agencies[to],
                "reason": f"{REASON} 世帯の困りごと",
                "client_wishes": f"{WISHES} 相談を続けたい",
                "categories": CONSENTED,
            },
        )
        referral_send(viewer=h, referral=referral)
        referral_message_post(viewer=h, referral=referral, body=f"{THREAD} 面談の日程について")
        if answerer:
            referral = referral_accept(viewer=viewer_for(people[answerer]), referral=referral)
            referral_message_post(viewer=h, referral=referral, body=f"{LATER_THREAD} 次回の予定")
        referrals[to] = referral
    support_policy_propose(viewer=h, referral=referrals["J"], text=f"{POLICY} 就労はHが担う")

    # 支援会議: H (secretariat) and C; 伊藤 on today's session with 基本情報 and 世帯.
    system = Viewer(user=make_user("wd-sysadmin", "管理者", system_admin=True), membership=None)
    nagano = municipality(
        "202011", "長野市", "city", municipality("200000", "長野県", "prefecture")
    )
    council = council_create(
        viewer=system,
        municipality=nagano,
        name="長野市支援会議",
        legal_basis="self_reliance_9",
        chair_agency=agencies["H"],
        established_on=timezone.localdate() - timedelta(days=10),
    )
    council_member_add(
        viewer=viewer_for(people["kobayashi"]),
        council=council,
        agency=agencies["C"],
        joined_on=timezone.localdate() - timedelta(days=10),
    )
    session = council_session_create(
        viewer=viewer_for(people["kobayashi"]), council=council, held_on=timezone.localdate()
    )
    agenda_item_add(
        viewer=h,
        session=session,
        client=client,
        categories=[BASIC, HOUSEHOLD],
        reason="地域で見守りたい",
    )
    emergency_disclose(
        viewer=h,
        client=client,
        recipient=agencies["U"],
        categories=[BASIC, HEALTH],
        reason="本人の生命に危険があり同意を得る時間がない",
    )

    # The live record moves on after sending: only the gate may show this.
    client_update(viewer=h, client=client, fields={"full_name": LIVE_NAME})
    consultation_log(viewer=h, case=case, fields={"method": "home_visit", "summary": LIVE_SUMMARY})
    plan_update(viewer=h, plan=plan, client_words=LIVE_PLAN, review_on=None)
    return {
        "people": people,
        "agencies": agencies,
        "client": client,
        "case": case,
        "plan": plan,
        "consents": consents,
        "referrals": referrals,
        "session": session,
    }


def withdraw_and_write_more(world) -> None:
    """The person withdraws every consent (recorded through the service); H's record then moves
    on, so "nothing new" can be checked as well as "nothing withdrawn"."""
    from django.core.exceptions import ValidationError

    from cases.services import client_update, consultation_log, plan_update
    from consent.services import consent_withdraw
    from referrals.services import referral_message_post

    h = viewer_for(world["people"]["nakamura"])
    for consent in world["consents"].values():
        consent_withdraw(viewer=h, consent=consent, how="本人から電話で撤回の申し出")
    for referral in world["referrals"].values():
        # Refused (asserted in its own test); the pages are checked for it all the same.
        with contextlib.suppress(ValidationError):
            referral_message_post(viewer=h, referral=referral, body=f"{NEW_THREAD} 近況")
    client_update(viewer=h, client=world["client"], fields={"full_name": NEW_NAME})
    consultation_log(
        viewer=h, case=world["case"], fields={"method": "phone", "summary": NEW_SUMMARY}
    )
    plan_update(viewer=h, plan=world["plan"], client_words=NEW_PLAN, review_on=None)


@pytest.fixture
def browsers(world):
    """One logged-in browser session per persona, kept across the withdrawal."""
    from django.test import Client

    return {name: login_as(Client(), user) for name, user in world["people"].items()}


def page(session, url: str, *, status: int = 200) -> str:
    response = session.get(url)
    assert response.status_code == status, url
    return response.content.decode()


SECTION = re.compile(r'<section[^>]*data-category="(\w+)"[^>]*>(.*?)</section>', re.DOTALL)


def live_sections(body: str) -> dict[str, str]:
    """{category: basis or "withheld"} of the live view."""
    found = {}
    for category, inner in SECTION.findall(body):
        basis = re.search(r'data-basis="(\w+)"', inner)
        found[category] = (
            basis.group(1) if basis else ("withheld" if "data-withheld" in inner else "?")
        )
    return found


def present(body: str, *strings: str) -> list[str]:
    """Which of ``strings`` the page holds (asserted empty: none of them)."""
    return [s for s in strings if s in body]


# --- The live view -------------------------------------------------------------------------------


def test_the_linked_agencies_live_view_shows_only_placeholders_on_the_next_request(world, browsers):
    url = reverse("referrals:shared_record", args=[world["client"].public_id])
    for name in ("mori", "hayashi"):
        before = page(browsers[name], url)
        assert live_sections(before)[CONSULTATION] == "consent"
        assert live_sections(before)[PLAN] == "consent"
        assert LIVE_NAME in before
        assert LIVE_SUMMARY in before
        assert LIVE_PLAN in before

    withdraw_and_write_more(world)

    for name in ("mori", "hayashi"):
        after = page(browsers[name], url)
        sections = live_sections(after)
        assert set(sections.values()) == {"withheld"}, sections
        assert "同意なし" in after
        assert present(after, *LIVE, *NEW) == []


def test_the_council_and_the_emergency_bases_are_not_touched_by_a_withdrawal(world, browsers):
    """C sees what the 支援会議 shares and U what the emergency disclosure does, before and
    after: a withdrawn consent was never their basis, and 相談内容 and プラン never reach them."""
    url = reverse("referrals:shared_record", args=[world["client"].public_id])
    session_url = reverse("councils:session", args=[world["session"].public_id])
    expected = {
        "ikeda": {BASIC: "council", HOUSEHOLD: "council"},
        "yamaguchi": {BASIC: "emergency", DataCategory.HEALTH.value: "emergency"},
    }
    for name, shown in expected.items():
        sections = live_sections(page(browsers[name], url))
        assert {c: b for c, b in sections.items() if b != "withheld"} == shown
    council_before = page(browsers["ikeda"], session_url)
    assert LIVE_NAME in council_before

    withdraw_and_write_more(world)

    for name, shown in expected.items():
        after = page(browsers[name], url)
        sections = live_sections(after)
        assert {c: b for c, b in sections.items() if b != "withheld"} == shown
        # the name is 基本情報, which their basis covers: the new one is lawfully shown
        assert NEW_NAME in after
        assert present(after, LIVE_SUMMARY, LIVE_PLAN, NEW_SUMMARY, NEW_PLAN) == []
    council_after = page(browsers["ikeda"], session_url)
    assert NEW_NAME in council_after
    assert present(council_after, LIVE_SUMMARY, LIVE_PLAN, NEW_SUMMARY, NEW_PLAN) == []
    # the linked agencies are not members: the council's page is not theirs
    page(browsers["mori"], session_url, status=404)


# --- Referrals: what crossed, and the thread ------------------------------------------------


def test_an_accepted_referral_keeps_what_crossed_and_its_thread_but_nothing_live(world, browsers):
    """What crossed at sending is the recipient's own record now (it wrote a confirmation
    record): it stays, as does the thread; nothing of the live record appears."""
    for name, to in (("mori", "L"), ("hayashi", "J")):
        url = reverse("referrals:detail", args=[world["referrals"][to].public_id])
        before = page(browsers[name], url)
        assert SENT_NAME in before
        assert SENT_SUMMARY in before
        assert THREAD in before
        assert LATER_THREAD in before  # the consent covers 相談内容 today

    withdraw_and_write_more(world)

    for name, to in (("mori", "L"), ("hayashi", "J")):
        referral = world["referrals"][to]
        after = page(browsers[name], reverse("referrals:detail", args=[referral.public_id]))
        assert SENT_NAME in after
        assert SENT_SUMMARY in after
        assert THREAD in after
        assert "data-withheld" not in after
        assert present(after, *LIVE, *NEW) == []
        # what H wrote after acceptance was never part of what crossed: gone, and counted
        assert LATER_THREAD not in after
        assert "data-thread-withheld" in after
        # and the recipient's own record made from it is theirs
        own = page(
            browsers[name], reverse("cases:client", args=[referral.receiving_client.public_id])
        )
        assert SENT_NAME in own
        assert present(own, *LIVE, *NEW) == []


def test_an_unanswered_referral_hides_its_snapshot_and_the_senders_messages_at_once(
    world, browsers
):
    url = reverse("referrals:detail", args=[world["referrals"]["N"].public_id])
    before = page(browsers["shimizu"], url)
    assert SENT_NAME in before
    assert SENT_SUMMARY in before
    assert THREAD in before

    withdraw_and_write_more(world)

    after = page(browsers["shimizu"], url)
    assert present(after, SENT_NAME, SENT_SUMMARY, THREAD, *LIVE, *NEW) == []
    for category in CONSENTED:
        assert f'data-withheld="{category}"' in after
    assert "data-thread-withheld" in after
    # The htmx thread fragment (what posting a message returns) hides them too.
    fragment = browsers["shimizu"].post(
        reverse("referrals:message_post", args=[world["referrals"]["N"].public_id]),
        {"body": ""},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert present(fragment.content.decode(), THREAD, SENT_NAME, *LIVE, *NEW) == []


def test_the_holder_cannot_write_to_a_thread_after_the_withdrawal(world, browsers):
    """Nothing new reaches the partners through the thread either: H's message is refused on
    the page, with what was typed kept, and nothing is written."""
    from referrals.models import ReferralMessage

    withdraw_and_write_more(world)

    for referral in world["referrals"].values():
        response = browsers["nakamura"].post(
            reverse("referrals:message_post", args=[referral.public_id]),
            {"body": f"{NEW_THREAD} もう一度"},
        )
        assert response.status_code == 200
        assert "body" in response.context["message_form"].errors
        assert f"{NEW_THREAD} もう一度" in response.content.decode()
    assert not ReferralMessage.objects.filter(body__contains=NEW_THREAD).exists()


def test_an_unanswered_referral_hides_the_persons_wishes_and_the_reason_too(world, browsers):
    url = reverse("referrals:detail", args=[world["referrals"]["N"].public_id])
    before = page(browsers["shimizu"], url)
    assert WISHES in before
    assert REASON in before

    withdraw_and_write_more(world)

    after = page(browsers["shimizu"], url)
    assert present(after, WISHES, REASON) == []


def test_the_joint_support_page_hides_the_policy_once_the_consent_is_withdrawn(world, browsers):
    url = reverse("referrals:joint", args=[world["referrals"]["J"].public_id])
    assert POLICY in page(browsers["hayashi"], url)

    withdraw_and_write_more(world)

    after = page(browsers["hayashi"], url)
    assert POLICY not in after
    assert present(after, *LIVE, *NEW) == []


# --- Notifications -------------------------------------------------------------------------------


def test_notifications_lead_to_a_page_that_shows_nothing_withdrawn(world, browsers):
    """The receiving supervisor's "referral not answered" reminder: the notification centre and
    the email name no one, and opening the reminder after the withdrawal shows placeholders."""
    from reminders.delivery import reminder_email
    from reminders.models import Kind, Reminder
    from reminders.sweep import reminders_sweep

    # A week and more later, the つなぎ to N is still not answered.
    reminders_sweep(today=timezone.localdate() + timedelta(days=14))
    reminder = Reminder.objects.get(
        kind=Kind.REFERRAL_UNANSWERED, recipient=world["people"]["shimizu"]
    )
    shimizu = browsers["shimizu"]
    listing = page(shimizu, reverse("reminders:list"))
    assert str(reminder.public_id) in listing
    opened = shimizu.post(reverse("reminders:read", args=[reminder.public_id]), follow=True)
    assert SENT_SUMMARY in opened.content.decode()

    withdraw_and_write_more(world)

    listing = page(shimizu, reverse("reminders:list"))
    opened = shimizu.post(reverse("reminders:read", args=[reminder.public_id]), follow=True)
    assert opened.status_code == 200
    email = reminder_email(recipient=world["people"]["shimizu"], reminders=[reminder])
    for text in (listing, opened.content.decode(), email.subject + email.body):
        assert present(text, SENT_NAME, SENT_SUMMARY, THREAD, *LIVE, *NEW) == []


def test_the_linked_caseworkers_reminder_leads_to_what_crossed_and_nothing_live(world, browsers):
    """森 (L) is reminded that the first interview is not recorded yet: the reminder opens the
    accepted referral, which keeps what crossed and shows nothing of the live record, before
    the withdrawal and after it."""
    from reminders.delivery import reminder_email
    from reminders.models import Kind, Reminder
    from reminders.sweep import reminders_sweep

    # A month later, the first interview is still not recorded.
    reminders_sweep(today=timezone.localdate() + timedelta(days=30))
    reminder = Reminder.objects.get(
        kind=Kind.FIRST_CONTACT_UNCONFIRMED, recipient=world["people"]["mori"]
    )
    mori = browsers["mori"]
    opened = mori.post(reverse("reminders:read", args=[reminder.public_id]), follow=True)
    assert SENT_SUMMARY in opened.content.decode()
    assert present(opened.content.decode(), *LIVE) == []

    withdraw_and_write_more(world)

    listing = page(mori, reverse("reminders:list"))
    opened = mori.post(reverse("reminders:read", args=[reminder.public_id]), follow=True)
    assert opened.status_code == 200
    assert SENT_SUMMARY in opened.content.decode()
    email = reminder_email(recipient=world["people"]["mori"], reminders=[reminder])
    for text in (listing, opened.content.decode(), email.subject + email.body):
        assert present(text, *LIVE, *NEW) == []


# --- No copy outlives the consent ------------------------------------------------------------


def test_pages_that_follow_todays_consent_are_never_kept_by_a_browser(world, browsers):
    """The next request must reach the server: the live view, the receiver's referral page and
    the 支援会議 page (what they show follows today's consent or sharing) tell browsers and
    proxies to keep no copy."""
    for name, url in (
        ("mori", reverse("referrals:shared_record", args=[world["client"].public_id])),
        ("shimizu", reverse("referrals:detail", args=[world["referrals"]["N"].public_id])),
        ("mori", reverse("referrals:detail", args=[world["referrals"]["L"].public_id])),
        ("ikeda", reverse("councils:session", args=[world["session"].public_id])),
    ):
        response = browsers[name].get(url)
        assert response.status_code == 200
        assert "no-store" in response.get("Cache-Control", ""), url
