"""The kinds added in issue 8's second part, each agency's own thresholds and closure, a person's
delivery preference, the in-flight state and the reconciler's work list, the operator's queue,
the settings pages and the dashboard.

Personas: 田中 tanaka (caseworker, station A), 木村 kimura (supervisor, station A), 鈴木 suzuki
(supervisor, 自立相談 B), 伊藤 ito (supporter, station A), 山田 yamada (roster admin, A).
"""

import time
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reminders.delivery import next_delivery, reminder_claim_unsent, reminders_send_due
from reminders.models import Delivery, DeliveryPreference, Kind, Reminder
from reminders.services import agency_reminder_settings_update, delivery_preference_save
from reminders.sweep import reminder_late_id_chunks, reminder_pending_id_chunks, reminders_sweep
from tests.conftest import login_as, make_user, send_referral, viewer_for


def today() -> date:
    return timezone.localdate()


def live(kind=None):
    """(kind, recipient username, due date) of every reminder not cancelled."""
    rows = Reminder.objects.filter(cancelled_at=None)
    if kind:
        rows = rows.filter(kind=kind)
    return {(r.kind, r.recipient.username, r.due_on) for r in rows.select_related("recipient")}


@pytest.fixture
def kimura(station_a):
    """木村: supervisor of station A."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("kimura", "木村 主任")
    membership_ensure(actor=None, user=user, agency=station_a, role=Role.SUPERVISOR)
    return user


# --- First interview not confirmed ------------------------------------------------------------


def tsunagi_sent(tanaka, yamamoto_case, jiritsu_b, *, kind="tsunagi"):
    """田中 sends 山本's referral to 自立相談 B: a つなぎ with his consent, or an introduction."""
    return send_referral(tanaka, yamamoto_case.client, jiritsu_b, kind=kind)


@pytest.fixture
def accepted_tsunagi(tanaka, suzuki, yamamoto_case, jiritsu_b):
    """田中 refers 山本 to 自立相談 B with consent; 鈴木 accepts (and so is its assigned worker)."""
    from referrals.services import referral_accept

    referral = tsunagi_sent(tanaka, yamamoto_case, jiritsu_b)
    return referral_accept(viewer=viewer_for(suzuki), referral=referral)


def accepted_on(referral, day: date) -> None:
    from referrals.models import Referral

    moment = timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=10)))
    Referral.objects.filter(pk=referral.pk).update(answered_at=moment)


@pytest.mark.django_db
def test_first_interview_not_confirmed_reminds_both_sides_after_10_business_days_then_stops(
    tanaka, suzuki, accepted_tsunagi
):
    from referrals.services import referral_confirm_first_contact

    # Accepted on Monday 2025-04-28: Golden Week (4/29, 5/3–5/6 with the 振替休日) does not
    # count, so 10 business days have passed on 2025-05-15 and it is late on 5/16, the 11th.
    accepted_on(accepted_tsunagi, date(2025, 4, 28))

    reminders_sweep(today=date(2025, 5, 15))
    assert live() == set()

    reminders_sweep(today=date(2025, 5, 16))
    due = date(2025, 5, 16)
    assert live() == {
        (Kind.FIRST_CONTACT_UNCONFIRMED, "suzuki", due),
        (Kind.FIRST_CONTACT_UNCONFIRMED, "tanaka", due),
    }

    referral_confirm_first_contact(
        viewer=viewer_for(suzuki), referral=accepted_tsunagi, on=date(2025, 5, 16)
    )
    reminders_sweep(today=date(2025, 5, 19))
    assert live() == set()


@pytest.mark.django_db
def test_each_side_counts_with_its_own_agencys_business_days(
    tanaka, suzuki, station_a, jiritsu_b, accepted_tsunagi
):
    # Station A waits only 2 business days; 自立相談 B keeps the default 10.
    agency_reminder_settings_update(
        viewer=viewer_for(make_admin(station_a)),
        agency=station_a,
        fields={"first_contact_business_days": 2},
    )
    accepted_on(accepted_tsunagi, date(2025, 6, 2))  # a Monday

    reminders_sweep(today=date(2025, 6, 5))  # Thursday: 3 business days later
    assert live() == {(Kind.FIRST_CONTACT_UNCONFIRMED, "tanaka", date(2025, 6, 5))}


@pytest.mark.django_db
def test_an_introduction_is_neither_unanswered_nor_waiting_for_a_first_interview(
    tanaka, suzuki, yamamoto_case, jiritsu_b
):
    # 紹介のみ: the person gets the contact and nothing is sent, so 自立相談 B cannot open it,
    # let alone answer it, and there is no first interview for the agencies to confirm.
    from referrals.models import Referral
    from referrals.services import referral_accept

    introduction = tsunagi_sent(tanaka, yamamoto_case, jiritsu_b, kind="introduction")
    weeks_ago = timezone.now() - timedelta(days=21)
    Referral.objects.filter(pk=introduction.pk).update(sent_at=weeks_ago)
    reminders_sweep(today=today())
    assert live() == set()

    referral_accept(viewer=viewer_for(suzuki), referral=introduction)
    Referral.objects.filter(pk=introduction.pk).update(answered_at=weeks_ago)
    reminders_sweep(today=today())
    assert live() == set()

    # The same three weeks for a つなぎ: both remind.
    tsunagi = tsunagi_sent(tanaka, yamamoto_case, jiritsu_b)
    Referral.objects.filter(pk=tsunagi.pk).update(sent_at=weeks_ago)
    reminders_sweep(today=today())
    assert {k for k, _u, _d in live()} == {Kind.REFERRAL_UNANSWERED}


def make_admin(agency):
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user(f"admin-{agency.pk}", "名簿 管理者")
    membership_ensure(
        actor=None, user=user, agency=agency, role=Role.ADMINISTRATIVE, is_roster_admin=True
    )
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(("closed", "due"), [(True, date(2026, 1, 6)), (False, date(2025, 12, 30))])
def test_the_year_end_closure_is_the_agencys_choice(
    tanaka, suzuki, jiritsu_b, accepted_tsunagi, closed, due
):
    # 自立相談 B answers within 1 business day of the sending, Friday 2025-12-26.
    from referrals.models import Referral, Status

    agency_reminder_settings_update(
        viewer=viewer_for(make_admin(jiritsu_b)),
        agency=jiritsu_b,
        fields={"referral_alert_business_days": 1, "closed_year_end": closed},
    )
    sent = at(2025, 12, 26, 10)
    Referral.objects.filter(pk=accepted_tsunagi.pk).update(
        status=Status.SENT, sent_at=sent, answered_at=None
    )

    reminders_sweep(today=date(2026, 1, 7))

    # Closed: 12/29–1/3 do not count, so the 2nd business day after 12/26 is Tuesday 1/6.
    # Open: 12/29 and 12/30 are business days, so it is Tuesday 12/30.
    assert live() == {(Kind.REFERRAL_UNANSWERED, "suzuki", due)}


# --- Emergency disclosure to review -----------------------------------------------------------


@pytest.mark.django_db
def test_an_emergency_disclosure_reminds_the_holding_supervisors_daily_until_reviewed(
    tanaka, kimura, suzuki, yamamoto_case, jiritsu_b
):
    from consent.services import emergency_disclose, emergency_review

    disclosure = emergency_disclose(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        recipient=jiritsu_b,
        categories=["basic"],
        reason="本人の命に危険があり、連絡がつかない",
    )

    reminders_sweep(today=today())
    assert live() == {(Kind.EMERGENCY_REVIEW, "kimura", today())}  # not 自立相談 B's 鈴木

    reminders_sweep(today=today() + timedelta(days=1))  # the next day: again
    # Yesterday's stays too (its condition still holds): it may not have been emailed yet.
    assert live() == {
        (Kind.EMERGENCY_REVIEW, "kimura", today()),
        (Kind.EMERGENCY_REVIEW, "kimura", today() + timedelta(days=1)),
    }
    assert Reminder.objects.filter(kind=Kind.EMERGENCY_REVIEW).count() == 2

    emergency_review(viewer=viewer_for(kimura), disclosure=disclosure, note="妥当だった")
    reminders_sweep(today=today() + timedelta(days=2))
    assert live() == set()


@pytest.mark.django_db
def test_the_supervisor_who_made_the_disclosure_is_not_asked_to_review_it(
    kimura, station_a, yamamoto_case, jiritsu_b
):
    from agencies.models import Role
    from agencies.services import membership_ensure
    from consent.services import emergency_disclose

    morita = make_user("morita", "森田 主任")
    membership_ensure(actor=None, user=morita, agency=station_a, role=Role.SUPERVISOR)
    emergency_disclose(
        viewer=viewer_for(kimura),
        client=yamamoto_case.client,
        recipient=jiritsu_b,
        categories=["basic"],
        reason="本人の命に危険があり、連絡がつかない",
    )

    reminders_sweep(today=today())

    # Another supervisor must review it (consent.permissions.can_review_emergency).
    assert live() == {(Kind.EMERGENCY_REVIEW, "morita", today())}


# --- Meeting tomorrow -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_meeting_tomorrow_reminds_its_participants_and_stops_when_it_moves(
    tanaka, suzuki, station_a, jiritsu_b
):
    from cases.services import meeting_save

    meeting = meeting_save(
        viewer=viewer_for(tanaka),
        meeting=None,
        fields={"held_on": today() + timedelta(days=1), "place": "会議室"},
        participant_agencies=[jiritsu_b],
        participant_users=[tanaka, suzuki],
    )

    reminders_sweep(today=today() - timedelta(days=1))
    assert live() == set()  # two days before: not yet

    reminders_sweep(today=today())
    assert live() == {
        (Kind.MEETING_TOMORROW, "tanaka", today()),
        (Kind.MEETING_TOMORROW, "suzuki", today()),
    }
    # Each in the agency they take part for: 鈴木 sees it acting for 自立相談 B.
    assert Reminder.objects.get(recipient=suzuki).agency == jiritsu_b

    meeting_save(
        viewer=viewer_for(tanaka),
        meeting=meeting,
        fields={"held_on": today() + timedelta(days=7)},
        participant_agencies=[jiritsu_b],
        participant_users=[tanaka, suzuki],
    )
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_a_participant_from_another_agency_is_told_when_and_where_without_a_dead_link(
    client, tanaka, suzuki, station_a, jiritsu_b
):
    from datetime import time

    from cases.services import meeting_save

    meeting_save(
        viewer=viewer_for(tanaka),
        meeting=None,
        fields={
            "held_on": today() + timedelta(days=1),
            "start_time": time(10, 0),
            "place": "松本市役所 第2会議室",
        },
        participant_agencies=[jiritsu_b],
        participant_users=[tanaka, suzuki],
    )
    reminders_sweep(today=today())
    reminder = Reminder.objects.get(recipient=suzuki)
    when = f"{today() + timedelta(days=1):%Y-%m-%d} 10:00 · 松本市役所 第2会議室"

    login_as(client, suzuki)
    page = client.get(reverse("reminders:list")).text
    opened = client.post(reverse("reminders:read", args=[reminder.public_id]))

    assert f"{when} · 主催：ひきこもり支援ステーションA" in page
    # The meeting's record (its agenda names people) is the host's: no button leads to a 404.
    assert "開く" not in page.split(f'id="reminder-{reminder.public_id}"')[1].split("</li>")[0]
    assert opened["Location"] == reverse("reminders:list")

    client.logout()
    login_as(client, tanaka)
    hosts = client.get(reverse("reminders:list")).text
    assert when in hosts
    assert "主催" not in hosts


# --- Supporter visits without contact ---------------------------------------------------------


@pytest.fixture
def visits(tanaka, ito, yamamoto_case):
    from cases.models import VisitOutcome
    from cases.services import home_visit_log, supporter_assign

    supporter_assign(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        supporter=ito.memberships.get(),
        approach_note="",
    )

    def log(*outcomes_days):
        for outcome, days_ago in outcomes_days:
            home_visit_log(
                viewer=viewer_for(ito),
                client=yamamoto_case.client,
                fields={
                    "visited_on": today() - timedelta(days=days_ago),
                    "outcome": VisitOutcome(outcome),
                },
            )

    return log


@pytest.mark.django_db
def test_three_visits_in_a_row_without_contact_remind_the_caseworker_and_a_contact_stops_it(
    tanaka, visits
):
    visits(("met_client", 20), ("no_answer", 14), ("left_note", 7))
    reminders_sweep(today=today())
    assert live() == set()  # two in a row

    visits(("no_answer", 1))
    reminders_sweep(today=today())
    # Due on the day of the visit that made it three.
    assert live() == {(Kind.VISITS_WITHOUT_CONTACT, "tanaka", today() - timedelta(days=1))}

    visits(("no_answer", 0))  # a fourth: the same run, no second reminder
    reminders_sweep(today=today())
    assert Reminder.objects.filter(kind=Kind.VISITS_WITHOUT_CONTACT).count() == 1

    Reminder.objects.update(sent_at=None)  # still unsent when the person is reached
    visits(("met_family", 0))
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_the_client_page_and_the_reminder_use_the_same_rule(tanaka, visits, yamamoto_case):
    from cases.selectors import client_visits

    visits(("no_answer", 3), ("no_answer", 2), ("no_answer", 1))
    reminders_sweep(today=today())

    note = client_visits(viewer=viewer_for(tanaka), client=yamamoto_case.client).no_contact_note
    assert note is True
    assert {k for k, _u, _d in live()} == {Kind.VISITS_WITHOUT_CONTACT}


# --- Each agency's own numbers ----------------------------------------------------------------


@pytest.mark.django_db
def test_each_agency_reminds_after_its_own_number_of_days(
    tanaka, yamada, kimura, station_a, yamamoto
):
    from cases.services import case_open

    case = case_open(
        viewer=viewer_for(tanaka),
        client=yamamoto,
        fields={"origin": "family", "opened_on": today() - timedelta(days=12)},
        topics=["hikikomori"],
        main_topic="hikikomori",
        primary_worker=tanaka,
    )
    reminders_sweep(today=today())
    assert live() == set()  # 12 days: under the default 30

    agency_reminder_settings_update(
        viewer=viewer_for(yamada),
        agency=station_a,
        fields={"no_contact_days": 10, "no_contact_supervisor_days": 11},
    )
    reminders_sweep(today=today())
    assert live() == {
        (Kind.NO_CONTACT_30, "tanaka", case.opened_on + timedelta(days=10)),
        (Kind.NO_CONTACT_60_SUPERVISOR, "kimura", case.opened_on + timedelta(days=11)),
    }


@pytest.mark.django_db
def test_the_supervisors_cannot_be_told_before_the_caseworker(yamada, station_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        agency_reminder_settings_update(
            viewer=viewer_for(yamada),
            agency=station_a,
            fields={"no_contact_days": 30, "no_contact_supervisor_days": 20},
        )
    assert "no_contact_supervisor_days" in raised.value.message_dict


@pytest.mark.django_db
def test_only_the_agencys_roster_admins_change_its_settings(tanaka, suzuki, station_a):
    from django.core.exceptions import PermissionDenied

    for person in (tanaka, suzuki):
        with pytest.raises(PermissionDenied):
            agency_reminder_settings_update(
                viewer=viewer_for(person), agency=station_a, fields={"no_contact_days": 5}
            )


@pytest.mark.django_db
def test_the_settings_page_keeps_what_was_typed_and_explains_the_error(client, yamada, station_a):
    login_as(client, yamada)
    url = reverse("reminders:agency_settings", args=[station_a.public_id])
    data = {
        "next_contact_overdue_days": 4,
        "no_contact_days": 45,
        "no_contact_supervisor_days": 40,
        "referral_alert_business_days": 3,
        "first_contact_business_days": 10,
        "plan_review_days_before": 7,
        "consent_expiring_days_before": 14,
        "visits_without_contact": 3,
        "closed_year_end": "on",
    }

    response = client.post(url, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="45"' in page
    assert 'value="40"' in page
    assert "is-invalid" in page
    station_a.refresh_from_db()
    assert station_a.no_contact_days == 30

    response = client.post(url, data | {"no_contact_supervisor_days": 90})
    assert response.status_code == 302
    station_a.refresh_from_db()
    assert (station_a.no_contact_days, station_a.no_contact_supervisor_days) == (45, 90)
    from audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="agency.reminder_settings_updated").exists()


@pytest.mark.django_db
def test_a_zero_is_refused_in_japanese(client, yamada, station_a):
    login_as(client, yamada)
    url = reverse("reminders:agency_settings", args=[station_a.public_id])

    response = client.post(url, {"no_contact_days": 0}, headers={"Accept-Language": "ja"})

    assert response.status_code == 200
    assert "1 以上" in response.content.decode()  # Django's own Japanese message


# --- Delivery: as they come, a digest, no emails on days off ----------------------------------

JST = timezone.get_fixed_timezone(9 * 60)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


@pytest.mark.parametrize(
    ("delivery", "hour", "quiet", "now", "expected"),
    [
        # As they come: now.
        (Delivery.IMMEDIATE, 8, False, at(2025, 5, 3, 10), at(2025, 5, 3, 10)),
        # As they come but none on days off: Golden Week holds it to Wednesday 5/7 at 8.
        (Delivery.IMMEDIATE, 8, True, at(2025, 5, 3, 10), at(2025, 5, 7, 8)),
        (Delivery.IMMEDIATE, 8, True, at(2025, 5, 2, 10), at(2025, 5, 2, 10)),
        # A digest at 7: later today before 7, else tomorrow.
        (Delivery.DIGEST, 7, False, at(2025, 6, 2, 6, 30), at(2025, 6, 2, 7)),
        (Delivery.DIGEST, 7, False, at(2025, 6, 2, 9), at(2025, 6, 3, 7)),
        # A digest on Friday evening, none on days off: Monday.
        (Delivery.DIGEST, 7, True, at(2025, 6, 6, 18), at(2025, 6, 9, 7)),
        # Over 年末年始 and a 振替休日 (2/24/2025 for 天皇誕生日 on a Sunday).
        (Delivery.DIGEST, 9, True, at(2025, 12, 26, 12), at(2026, 1, 5, 9)),
        (Delivery.IMMEDIATE, 9, True, at(2025, 2, 24, 12), at(2025, 2, 25, 9)),
    ],
)
def test_the_next_delivery_follows_the_persons_choice(delivery, hour, quiet, now, expected):
    preference = DeliveryPreference(delivery=delivery, hour=hour, quiet_on_days_off=quiet)
    assert next_delivery(preference=preference, now=now) == expected


@pytest.fixture
def tanakas_overdue_reminder(tanaka, yamamoto_case):
    from cases.services import consultation_log

    tanaka.email = "tanaka@example.jp"
    tanaka.save()
    consultation_log(
        viewer=viewer_for(tanaka),
        case=yamamoto_case,
        fields={
            "method": "phone",
            "summary": "電話",
            "occurred_on": today() - timedelta(days=10),
            "next_contact_on": today() - timedelta(days=3),
        },
    )


@pytest.mark.django_db
def test_a_digest_holds_the_email_but_not_the_notification(
    client, tanaka, tanakas_overdue_reminder, mailoutbox
):
    delivery_preference_save(
        viewer=viewer_for(tanaka), delivery=Delivery.DIGEST, hour=7, quiet_on_days_off=False
    )
    reminders_sweep(today=today())
    reminder = Reminder.objects.get()
    assert reminder.send_after > timezone.now()

    assert reminders_send_due(ids=[reminder.id]).sent == 0  # not before the digest hour
    assert mailoutbox == []
    login_as(client, tanaka)
    assert ">1<span" in client.get(reverse("reminders:badge")).content.decode()

    # Back to "as they come": the waiting row may go now.
    delivery_preference_save(
        viewer=viewer_for(tanaka), delivery=Delivery.IMMEDIATE, hour=7, quiet_on_days_off=False
    )
    assert reminders_send_due(ids=[reminder.id]).sent == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_preference_page_saves_and_keeps_bad_input(client, tanaka):
    login_as(client, tanaka)
    url = reverse("reminders:preferences")

    response = client.post(url, {"delivery": "digest", "hour": "25", "quiet_on_days_off": "on"})
    assert response.status_code == 200
    assert 'value="25"' in response.content.decode()
    assert not DeliveryPreference.objects.exists()

    response = client.post(url, {"delivery": "digest", "hour": "6", "quiet_on_days_off": "on"})
    assert response.status_code == 302
    preference = DeliveryPreference.objects.get(user=tanaka)
    assert (preference.delivery, preference.hour, preference.quiet_on_days_off) == (
        Delivery.DIGEST,
        6,
        True,
    )


# --- In flight, late, failed ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_claimed_row_is_in_flight_until_its_claim_is_older_than_the_grace(
    tanaka, tanakas_overdue_reminder, settings
):
    settings.REMINDERS_CLAIM_GRACE_SECONDS = 60
    reminders_sweep(today=today())
    (claimed,) = reminder_claim_unsent(10)

    assert claimed.claimed_at is not None
    assert claimed.sent_at is None
    assert reminder_claim_unsent(10) == []  # a live sender holds it
    assert list(reminder_late_id_chunks()) == []

    # Its sender died (kill -9) two minutes ago: the reconciler re-queues it, a sender takes it.
    Reminder.objects.update(
        claimed_at=timezone.now() - timedelta(minutes=2),
        send_after=timezone.now() - timedelta(minutes=3),
    )
    assert list(reminder_late_id_chunks()) == [[claimed.id]]
    assert [r.id for r in reminder_claim_unsent(10)] == [claimed.id]


@pytest.mark.django_db
def test_a_sent_row_is_never_claimed_again(tanaka, tanakas_overdue_reminder, mailoutbox):
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))

    assert reminders_send_due(ids=ids).sent == 1
    Reminder.objects.update(claimed_at=timezone.now() - timedelta(days=1))
    assert reminders_send_due(ids=ids).sent == 0
    assert reminder_claim_unsent(10) == []
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_operator_sees_the_queue_per_kind_and_the_error(
    client, sysadmin, tanaka, tanakas_overdue_reminder, settings
):
    reminders_sweep(today=today())
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    reminders_send_due(ids=list(Reminder.objects.values_list("id", flat=True)))
    client.force_login(sysadmin)

    page = client.get(reverse("admin:reminders_reminder_changelist")).content.decode()
    failed = client.get(
        reverse("admin:reminders_reminder_changelist") + "?state=failed"
    ).content.decode()

    row = page.split(f'data-kind="{Kind.NEXT_CONTACT_OVERDUE}"')[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in row.split("<td>")[1:]] == ["0", "0", "0", "1", "0"]
    assert "ConnectionRefusedError" in failed


@pytest.mark.django_db
def test_the_dashboard_shows_unread_reminders_that_open_where_they_lead(
    client, tanaka, tanakas_overdue_reminder, yamamoto_case
):
    reminders_sweep(today=today())
    reminder = Reminder.objects.get()
    login_as(client, tanaka)

    page = client.get(reverse("cases:caseload")).content.decode()

    assert 'id="caseload-reminders"' in page
    assert reverse("reminders:read", args=[reminder.public_id]) in page
    response = client.post(reverse("reminders:read", args=[reminder.public_id]))
    assert response["Location"] == reverse("cases:client", args=[yamamoto_case.client.public_id])
    page = client.get(reverse("cases:caseload")).content.decode()
    assert 'id="caseload-reminders"' not in page


# --- Held for a digest or a day off: still sent, checked as of its own day --------------------


def meeting_on(day: date, host, participants):
    from cases.services import meeting_save

    return meeting_save(
        viewer=viewer_for(host),
        meeting=None,
        fields={"held_on": day, "place": "会議室"},
        participant_agencies=[],
        participant_users=participants,
    )


def with_email(user, **preference):
    user.email = f"{user.username}@example.jp"
    user.save()
    if preference:
        delivery_preference_save(viewer=viewer_for(user), **preference)
    return user


@pytest.mark.django_db
def test_a_monday_meeting_held_over_the_weekend_is_emailed_on_monday_and_never_cancelled(
    tanaka, mailoutbox
):
    with_email(tanaka, delivery=Delivery.IMMEDIATE, hour=8, quiet_on_days_off=True)
    meeting_on(date(2025, 6, 9), tanaka, [tanaka])  # a Monday

    reminders_sweep(today=date(2025, 6, 8), now=at(2025, 6, 8, 10))  # Sunday: due, held over
    (reminder,) = Reminder.objects.all()
    assert reminder.send_after == at(2025, 6, 9, 8)
    assert reminders_send_due(ids=[reminder.id], now=at(2025, 6, 8, 10, 5)).sent == 0

    # Monday morning: the meeting is today, no longer "tomorrow", but it was on the day the
    # reminder was due, so the sweep keeps it and it goes out.
    reminders_sweep(today=date(2025, 6, 9), now=at(2025, 6, 9, 8, 5))
    assert reminders_send_due(ids=[reminder.id], now=at(2025, 6, 9, 8, 5)).sent == 1

    reminder.refresh_from_db()
    assert reminder.cancelled_at is None
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_digest_after_its_hour_still_brings_the_meeting_the_next_morning(tanaka, mailoutbox):
    with_email(tanaka, delivery=Delivery.DIGEST, hour=7, quiet_on_days_off=False)
    meeting_on(date(2025, 6, 11), tanaka, [tanaka])

    reminders_sweep(today=date(2025, 6, 10), now=at(2025, 6, 10, 9))  # the digest went at 7
    (reminder,) = Reminder.objects.all()
    assert reminder.send_after == at(2025, 6, 11, 7)

    reminders_sweep(today=date(2025, 6, 11), now=at(2025, 6, 11, 7, 2))
    assert reminders_send_due(ids=[reminder.id], now=at(2025, 6, 11, 7, 2)).sent == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_held_reminder_whose_meeting_moved_is_still_cancelled(tanaka, mailoutbox):
    from cases.services import meeting_save

    with_email(tanaka, delivery=Delivery.IMMEDIATE, hour=8, quiet_on_days_off=True)
    meeting = meeting_on(date(2025, 6, 9), tanaka, [tanaka])
    reminders_sweep(today=date(2025, 6, 8), now=at(2025, 6, 8, 10))

    meeting_save(
        viewer=viewer_for(tanaka),
        meeting=meeting,
        fields={"held_on": date(2025, 6, 16)},
        participant_agencies=[],
        participant_users=[tanaka],
    )
    reminders_sweep(today=date(2025, 6, 9), now=at(2025, 6, 9, 8, 5))

    assert Reminder.objects.get().cancelled_at is not None
    assert reminders_send_due(ids=[Reminder.objects.get().id], now=at(2025, 6, 9, 8, 5)).sent == 0
    assert mailoutbox == []


# --- A cancelled reminder does not block the same one coming back ------------------------------


@pytest.mark.django_db
def test_a_meeting_moved_away_and_back_reminds_again_once(tanaka, mailoutbox):
    from django.db import IntegrityError, transaction

    from cases.services import meeting_save

    with_email(tanaka)
    tomorrow = today() + timedelta(days=1)
    meeting = meeting_on(tomorrow, tanaka, [tanaka])

    def move(day):
        meeting_save(
            viewer=viewer_for(tanaka),
            meeting=meeting,
            fields={"held_on": day},
            participant_agencies=[],
            participant_users=[tanaka],
        )
        reminders_sweep(today=today())

    reminders_sweep(today=today())
    move(today() + timedelta(days=7))
    assert live() == set()
    move(tomorrow)  # back the same day: the reminder is made again

    assert live() == {(Kind.MEETING_TOMORROW, "tanaka", today())}
    assert Reminder.objects.count() == 2  # the cancelled one and the new one
    ids = list(Reminder.objects.values_list("id", flat=True))
    assert reminders_send_due(ids=ids).sent == 1
    reminders_sweep(today=today())
    assert Reminder.objects.count() == 2
    assert reminders_send_due(ids=ids).sent == 0
    assert len(mailoutbox) == 1

    # Still never two live rows for one key.
    live_row = Reminder.objects.get(cancelled_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            kind=live_row.kind,
            target_type=live_row.target_type,
            target_id=live_row.target_id,
            due_on=live_row.due_on,
            recipient=live_row.recipient,
            agency=live_row.agency,
            created_at=timezone.now(),
        )


# --- A retry keeps the person's days off ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("meeting", "failed", "closed", "retry"),
    [
        # Friday 23:59, two minutes' backoff: Saturday, so Monday at the person's hour.
        (date(2025, 6, 7), at(2025, 6, 6, 23, 59), True, at(2025, 6, 9, 8)),
        # Monday 12/28 23:59 into 年末年始: an agency closed then holds it to 1/4 …
        (date(2026, 12, 29), at(2026, 12, 28, 23, 59), True, at(2027, 1, 4, 8)),
        # … one open then (its own choice) retries on 12/29 as due.
        (date(2026, 12, 29), at(2026, 12, 28, 23, 59), False, at(2026, 12, 29, 0, 1)),
    ],
)
def test_a_retry_is_held_over_the_persons_days_off_by_their_agencys_calendar(
    tanaka, yamada, station_a, settings, meeting, failed, closed, retry
):
    settings.REMINDERS_RETRY_BACKOFF_SECONDS = 120
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},  # refused: transient
        }
    }
    agency_reminder_settings_update(
        viewer=viewer_for(yamada), agency=station_a, fields={"closed_year_end": closed}
    )
    with_email(tanaka, delivery=Delivery.IMMEDIATE, hour=8, quiet_on_days_off=True)
    meeting_on(meeting, tanaka, [tanaka])
    reminders_sweep(today=failed.date(), now=failed)
    (reminder,) = Reminder.objects.all()

    result = reminders_send_due(ids=[reminder.id], now=failed)

    assert result.failed_ids == [reminder.id]
    reminder.refresh_from_db()
    assert reminder.send_after == retry
    assert reminders_send_due(ids=[reminder.id], now=failed + timedelta(minutes=3)).sent == 0


def test_the_days_off_follow_the_agencys_year_end_choice():
    quiet = DeliveryPreference(delivery=Delivery.IMMEDIATE, hour=9, quiet_on_days_off=True)
    moment = at(2026, 12, 29, 10)
    assert next_delivery(preference=quiet, now=moment) == at(2027, 1, 4, 9)
    assert next_delivery(preference=quiet, now=moment, closed_year_end=False) == moment


# --- Each row goes on the broker once per grace period ----------------------------------------


@pytest.mark.django_db
def test_a_sendable_reminder_is_queued_once_per_grace_period(
    tanaka, tanakas_overdue_reminder, settings
):
    settings.REMINDERS_CLAIM_GRACE_SECONDS = 60
    reminders_sweep(today=today())
    (reminder,) = Reminder.objects.all()

    assert list(reminder_pending_id_chunks()) == [[reminder.id]]
    # The next sweep (five minutes on, its message still waiting behind a backlog): not again.
    assert list(reminder_pending_id_chunks()) == []

    # Its message was lost: past the grace, the reconciler queues it once more, and only once.
    Reminder.objects.update(
        queued_at=timezone.now() - timedelta(minutes=2),
        send_after=timezone.now() - timedelta(minutes=3),
    )
    assert list(reminder_late_id_chunks()) == [[reminder.id]]
    assert list(reminder_late_id_chunks()) == []
    assert list(reminder_pending_id_chunks()) == []


@pytest.mark.django_db
def test_a_failed_emails_rows_are_left_to_its_own_retry(tanaka, tanakas_overdue_reminder, settings):
    settings.REMINDERS_RETRY_BACKOFF_SECONDS = 1
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))
    assert reminders_send_due(ids=ids).failed_ids == ids  # the task will retry in a second

    time.sleep(1.2)  # the backoff is over: the row may be sent again …
    assert Reminder.objects.get().send_after <= timezone.now()
    # … by the task's own retry: a sweep now does not queue a second message for it.
    assert list(reminder_pending_id_chunks()) == []
