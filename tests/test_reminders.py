"""Reminders: the seven conditions, exactly-once creation and sending, the notification centre."""

import email
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reminders.delivery import reminder_claim_unsent, reminders_send_due
from reminders.models import Kind, Reminder
from reminders.sweep import reminders_sweep
from tests.conftest import login_as, make_user, send_referral, viewer_for

ROOT = Path(__file__).resolve().parent.parent


def today():
    return timezone.localdate()


def live(kind=None):
    """(kind, recipient username, due date) of every reminder not cancelled."""
    rows = Reminder.objects.filter(cancelled_at=None)
    if kind:
        rows = rows.filter(kind=kind)
    return {(r.kind, r.recipient.username, r.due_on) for r in rows.select_related("recipient")}


def log_contact(user, case, *, days_ago=0, next_in=None):
    from cases.services import consultation_log

    return consultation_log(
        viewer=viewer_for(user),
        case=case,
        fields={
            "method": "phone",
            "summary": "電話",
            "occurred_on": today() - timedelta(days=days_ago),
            "next_contact_on": today() + timedelta(days=next_in) if next_in is not None else None,
        },
    )


@pytest.fixture
def case_opened(tanaka, yamamoto):
    """山本's case, opened ``days`` ago."""
    from cases.services import case_open

    def open_case(days: int):
        return case_open(
            viewer=viewer_for(tanaka),
            client=yamamoto,
            fields={"origin": "family", "opened_on": today() - timedelta(days=days)},
            topics=["hikikomori"],
            main_topic="hikikomori",
            primary_worker=tanaka,
        )

    return open_case


@pytest.fixture
def kimura(station_a):
    """木村: supervisor of station A."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("kimura", "木村 主任")
    membership_ensure(actor=None, user=user, agency=station_a, role=Role.SUPERVISOR)
    return user


# --- The conditions ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_next_contact_due_fires_on_the_day_and_stops_when_the_contact_is_logged(
    tanaka, yamamoto_case
):
    log_contact(tanaka, yamamoto_case, days_ago=7, next_in=0)

    reminders_sweep(today=today())
    assert live() == {(Kind.NEXT_CONTACT_DUE, "tanaka", today())}

    log_contact(tanaka, yamamoto_case, next_in=14)
    reminders_sweep(today=today())
    assert live() == set()
    assert Reminder.objects.get().cancelled_at is not None


@pytest.mark.django_db
def test_next_contact_due_does_not_fire_before_the_day(tanaka, yamamoto_case):
    log_contact(tanaka, yamamoto_case, days_ago=1, next_in=1)
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_next_contact_overdue_fires_three_days_after_and_stops_when_contacted(
    tanaka, yamamoto_case
):
    log_contact(tanaka, yamamoto_case, days_ago=10, next_in=-3)

    reminders_sweep(today=today())
    assert live() == {(Kind.NEXT_CONTACT_OVERDUE, "tanaka", today())}

    log_contact(tanaka, yamamoto_case)
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_no_contact_for_30_days_reminds_the_caseworker_and_60_the_supervisor(
    tanaka, kimura, case_opened
):
    case = case_opened(61)

    reminders_sweep(today=today())
    assert live() == {
        (Kind.NO_CONTACT_30, "tanaka", case.opened_on + timedelta(days=30)),
        (Kind.NO_CONTACT_60_SUPERVISOR, "kimura", case.opened_on + timedelta(days=60)),
    }

    log_contact(tanaka, case)
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_no_contact_does_not_fire_within_30_days_of_the_last_contact(tanaka, case_opened):
    case = case_opened(90)
    log_contact(tanaka, case, days_ago=29)
    reminders_sweep(today=today())
    assert live() == set()


@pytest.fixture
def sent_tsunagi(tanaka, yamamoto_case, jiritsu_b):
    """田中 sends 山本's つなぎ to 自立相談 B, with 山本's consent: a referral B can open and
    must answer."""
    return send_referral(tanaka, yamamoto_case.client, jiritsu_b)


@pytest.mark.django_db
def test_an_unanswered_referral_reminds_the_receiving_supervisors_until_answered(
    suzuki, sent_tsunagi
):
    from referrals.models import Referral
    from referrals.services import referral_decline

    # Sent three weeks ago: well past 3 business days, whatever the holidays.
    Referral.objects.filter(pk=sent_tsunagi.pk).update(sent_at=timezone.now() - timedelta(days=21))

    reminders_sweep(today=today())
    assert {(k, u) for k, u, _d in live()} == {(Kind.REFERRAL_UNANSWERED, "suzuki")}

    referral_decline(
        viewer=viewer_for(suzuki),
        referral=Referral.objects.get(pk=sent_tsunagi.pk),
        reason="対象外",
    )
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_a_referral_sent_today_is_not_yet_unanswered(suzuki, sent_tsunagi):
    reminders_sweep(today=today())
    assert live(Kind.REFERRAL_UNANSWERED) == set()


@pytest.fixture
def agreed_plan(tanaka, yamamoto_case):
    from cases.services import plan_create, plan_goal_save, plan_item_save, plan_record_agreement

    def make(review_in: int, *, agree: bool = True):
        viewer = viewer_for(tanaka)
        plan = plan_create(
            viewer=viewer, case=yamamoto_case, review_on=today() + timedelta(days=review_in)
        )
        plan_goal_save(viewer=viewer, plan=plan, goal=None, text="週1回外出する")
        plan_item_save(
            viewer=viewer, plan=plan, item=None, fields={"what": "見守り", "agency": viewer.agency}
        )
        if agree:
            plan = plan_record_agreement(
                viewer=viewer, plan=plan, agreed_on=today() - timedelta(days=30), method="oral"
            )
        return plan

    return make


@pytest.mark.django_db
def test_plan_review_fires_a_week_before_and_stops_once_reviewed(tanaka, agreed_plan):
    from cases.services import plan_review_record

    plan = agreed_plan(5)

    reminders_sweep(today=today())
    assert live() == {(Kind.PLAN_REVIEW_DUE, "tanaka", plan.review_on - timedelta(days=7))}

    plan_review_record(
        viewer=viewer_for(tanaka),
        plan=plan,
        reviewed_on=today(),
        note="",
        goal_results=[{"goal": g, "achievement": "partly"} for g in plan.goals.all()],
    )
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_plan_review_does_not_fire_early_or_for_a_draft(agreed_plan):
    agreed_plan(8)
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_plan_review_does_not_fire_for_a_draft(agreed_plan):
    agreed_plan(3, agree=False)
    reminders_sweep(today=today())
    assert live() == set()


@pytest.fixture
def consent_ending(tanaka, yamamoto_case, jiritsu_b):
    from consent.services import consent_record

    def make(ends_in: int, **extra):
        return consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            purpose="joint_support",
            categories=["basic"],
            method="oral",
            obtained_on=today() - timedelta(days=300),
            valid_until=today() + timedelta(days=ends_in),
            **extra,
        )

    return make


@pytest.mark.django_db
def test_consent_expiring_fires_14_days_before_and_stops_when_renewed(
    tanaka, consent_ending, jiritsu_b, yamamoto_case
):
    from consent.services import consent_record

    consent = consent_ending(10)

    reminders_sweep(today=today())
    assert live() == {(Kind.CONSENT_EXPIRING, "tanaka", consent.valid_until - timedelta(days=14))}

    consent_record(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        recipient=jiritsu_b,
        purpose="joint_support",
        categories=["basic"],
        method="oral",
        valid_until=today() + timedelta(days=365),
        replaces=consent,
    )
    reminders_sweep(today=today())
    assert live() == set()


@pytest.mark.django_db
def test_a_later_consent_for_another_purpose_does_not_silence_the_reminder(
    tanaka, consent_ending, jiritsu_b, yamamoto_case
):
    from consent.services import consent_record

    consent = consent_ending(10)
    # A つなぎ consent to the same agency, running longer, carries on nothing of joint support.
    consent_record(
        viewer=viewer_for(tanaka),
        client=yamamoto_case.client,
        recipient=jiritsu_b,
        purpose="referral",
        categories=["basic"],
        method="oral",
        valid_until=today() + timedelta(days=365),
    )

    reminders_sweep(today=today())

    assert live() == {(Kind.CONSENT_EXPIRING, "tanaka", consent.valid_until - timedelta(days=14))}


@pytest.mark.django_db
def test_consent_expiring_does_not_fire_more_than_14_days_before(consent_ending):
    consent_ending(15)
    reminders_sweep(today=today())
    assert live() == set()


# --- Exactly once -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_running_the_sweep_twice_creates_each_reminder_once(tanaka, kimura, case_opened, jiritsu_b):
    from consent.services import consent_record

    case = case_opened(70)
    log_contact(tanaka, case, days_ago=65, next_in=-60)
    consent_record(
        viewer=viewer_for(tanaka),
        client=case.client,
        recipient=jiritsu_b,
        purpose="joint_support",
        categories=["basic"],
        method="oral",
        obtained_on=today() - timedelta(days=300),
        valid_until=today() + timedelta(days=3),
    )

    first = reminders_sweep(today=today(), batch_size=1)
    count = Reminder.objects.count()
    second = reminders_sweep(today=today(), batch_size=1)

    assert first == count == 4  # overdue, 30 days, 60 days (to the supervisor), consent
    assert second == 0
    assert Reminder.objects.count() == count


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_time_create_each_reminder_once(tanaka, kimura, case_opened):
    case = case_opened(70)
    log_contact(tanaka, case, days_ago=65, next_in=-60)
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(reminders_sweep(today=today(), batch_size=1))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Reminder.objects.count() == 3
    assert sum(results) == 3  # every row was created by exactly one of them


@pytest.mark.django_db
def test_a_claimed_reminder_is_not_claimed_again(tanaka, yamamoto_case):
    log_contact(tanaka, yamamoto_case, days_ago=7, next_in=0)
    reminders_sweep(today=today())

    assert len(reminder_claim_unsent(10)) == 1
    assert reminder_claim_unsent(10) == []


@pytest.mark.django_db
def test_sending_rechecks_the_condition_and_sends_nothing_when_it_has_gone(
    tanaka, yamamoto_case, mailoutbox
):
    log_contact(tanaka, yamamoto_case, days_ago=7, next_in=0)
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))

    log_contact(tanaka, yamamoto_case, next_in=7)  # logged after the sweep, before sending
    result = reminders_send_due(ids=ids)

    assert result.sent == 0
    assert mailoutbox == []
    reminder = Reminder.objects.get()
    assert reminder.sent_at is None
    assert reminder.cancelled_at is not None


@pytest.mark.django_db
def test_the_email_names_kinds_and_counts_but_no_client(tanaka, yamamoto_case, mailoutbox):
    tanaka.email = "tanaka@example.jp"
    tanaka.save()
    log_contact(tanaka, yamamoto_case, days_ago=10, next_in=-3)
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))

    assert reminders_send_due(ids=ids).sent == 1
    assert reminders_send_due(ids=ids).sent == 0  # a retry sends nothing

    (message,) = mailoutbox
    assert message.to == ["tanaka@example.jp"]
    text = message.subject + message.body
    for personal in ("山本", "ヤマモト", "090-0000-1111", str(yamamoto_case.public_id)):
        assert personal not in text
    assert reverse("reminders:list") in message.body


@pytest.mark.django_db
def test_a_failed_email_is_put_back_for_a_retry(tanaka, yamamoto_case, settings):
    tanaka.email = "tanaka@example.jp"
    tanaka.save()
    log_contact(tanaka, yamamoto_case, days_ago=10, next_in=-3)
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }

    result = reminders_send_due(ids=ids)

    assert result.failed_ids == ids
    reminder = Reminder.objects.get()
    assert reminder.sent_at is None
    assert reminder.failed_at is not None
    assert reminder.error
    assert reminder.attempts == 1


# --- A real SMTP server in this process: refusals, outages, the re-check at send time ---------


class Smtp:
    """aiosmtpd on loopback, in this process. ``rcpt_reply`` is what it answers to RCPT TO (None:
    accept); ``on_message`` runs (in a thread of its own, as Django's ORM needs) when a message
    is accepted, with its recipient's address. Stopped and started again on the same port, it is
    an SMTP server that is down, then back."""

    def __init__(self):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.rcpt_reply: str | None = None
        self.on_message = None
        self.received: list[str] = []
        self._controller = None

    def start(self):
        import asyncio

        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):  # noqa: N802
                if server.rcpt_reply:
                    return server.rcpt_reply
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, smtp, session, envelope):  # noqa: N802
                server.received.extend(envelope.rcpt_tos)
                if server.on_message is not None:
                    await asyncio.to_thread(server._run, envelope.rcpt_tos[0])
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def _run(self, address: str) -> None:
        try:
            self.on_message(address)
        finally:
            connection.close()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp(settings):
    """The in-process SMTP server, and the app's mail going to it."""
    server = Smtp()
    server.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "use_tls": False, "timeout": 5},
        }
    }
    yield server
    server.stop()


def overdue_reminder(user, case):
    """``user`` has an email address and ``case`` a planned contact three days overdue."""
    user.email = f"{user.username}@example.jp"
    user.save()
    log_contact(user, case, days_ago=10, next_in=-3)


def another_caseworker_with_a_case(station, username="takahashi", full_name="高橋 次郎"):
    from agencies.models import Role
    from agencies.services import membership_ensure
    from cases.services import case_open, client_create

    user = make_user(username, full_name)
    membership_ensure(actor=None, user=user, agency=station, role=Role.CASEWORKER)
    person = client_create(
        viewer=viewer_for(user),
        duplicate_confirmed=True,
        fields={"full_name": "小林 一郎", "full_name_kana": "コバヤシ イチロウ"},
    )
    case = case_open(
        viewer=viewer_for(user),
        client=person,
        fields={"origin": "family", "opened_on": today() - timedelta(days=20)},
        topics=["hikikomori"],
        main_topic="hikikomori",
        primary_worker=user,
    )
    return user, case


def send_hours_later(ids, hours: int):
    # Each try an hour after the first: past the capped backoff, so each call may try again.
    return reminders_send_due(ids=ids, now=timezone.now() + timedelta(hours=hours))


@pytest.mark.django_db
def test_a_permanent_refusal_stops_after_the_last_try_and_waits_in_the_queue_for_an_operator(
    client, sysadmin, tanaka, yamamoto_case, smtp, settings, django_capture_on_commit_callbacks
):
    from audit.models import AuditEntry

    settings.REMINDERS_SEND_MAX_ATTEMPTS = 3
    overdue_reminder(tanaka, yamamoto_case)
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))
    smtp.rcpt_reply = "550 5.1.1 Mailbox unavailable"

    results = [send_hours_later(ids, hours) for hours in range(1, 6)]

    assert [r.failed_ids for r in results[:2]] == [ids, ids]  # tries 1 and 2: retried
    assert results[2].gave_up_ids == ids  # the third refusal is the last
    assert [r.failed_ids + r.gave_up_ids for r in results[3:]] == [[], []]  # never tried again
    reminder = Reminder.objects.get()
    assert (reminder.attempts, reminder.sent_at) == (3, None)
    assert reminder.gave_up_at is not None
    assert "550" in reminder.error
    assert smtp.received == []

    # The operator sees it, given up, with the error, and sends it again once it is fixed.
    client.force_login(sysadmin)
    changelist = reverse("admin:reminders_reminder_changelist")
    page = client.get(changelist).content.decode()
    row = page.split(f'data-kind="{Kind.NEXT_CONTACT_OVERDUE}"')[1].split("</tr>")[0]
    assert row.split('class="gave-up">')[1].split("<")[0] == "1"
    assert "Mailbox unavailable" in client.get(changelist + "?state=gave_up").content.decode()
    assert "Mailbox unavailable" not in client.get(changelist + "?state=sent").content.decode()

    with django_capture_on_commit_callbacks() as callbacks:  # the send is a nudge after commit
        response = client.post(
            changelist, {"action": "requeue_given_up", "_selected_action": [reminder.pk]}
        )
    assert response.status_code == 302
    assert len(callbacks) == 1
    reminder.refresh_from_db()
    assert (reminder.gave_up_at, reminder.attempts) == (None, 0)
    assert AuditEntry.objects.filter(action="reminders.requeued", actor=sysadmin).count() == 1

    smtp.rcpt_reply = None
    assert send_hours_later(ids, 6).sent == 1
    assert smtp.received == ["tanaka@example.jp"]


@pytest.mark.django_db
def test_only_a_system_admin_requeues_given_up_reminders(tanaka, yamamoto_case):
    from django.core.exceptions import PermissionDenied

    from reminders.services import reminders_requeue_given_up

    overdue_reminder(tanaka, yamamoto_case)
    reminders_sweep(today=today())
    Reminder.objects.update(gave_up_at=timezone.now(), failed_at=timezone.now())

    with pytest.raises(PermissionDenied):
        reminders_requeue_given_up(actor=tanaka, ids=[Reminder.objects.get().pk])
    assert Reminder.objects.get().gave_up_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["451 4.3.0 Try again later", "server down"])
def test_a_transient_failure_is_retried_past_the_maximum_and_delivered_when_it_ends(
    tanaka, yamamoto_case, smtp, settings, outage
):
    settings.REMINDERS_SEND_MAX_ATTEMPTS = 3
    overdue_reminder(tanaka, yamamoto_case)
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))
    if outage == "server down":
        smtp.stop()
    else:
        smtp.rcpt_reply = outage

    results = [send_hours_later(ids, hours) for hours in range(1, 7)]

    assert [r.failed_ids for r in results] == [ids] * 6  # six tries, twice the maximum
    reminder = Reminder.objects.get()
    assert (reminder.attempts, reminder.gave_up_at, reminder.sent_at) == (6, None, None)

    if outage == "server down":
        smtp.start()
    smtp.rcpt_reply = None
    assert send_hours_later(ids, 7).sent == 1
    assert smtp.received == ["tanaka@example.jp"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_condition_gone_while_the_batch_is_being_sent_is_not_emailed(
    station_a, tanaka, yamamoto_case, smtp
):
    takahashi, takahashis_case = another_caseworker_with_a_case(station_a)
    overdue_reminder(tanaka, yamamoto_case)
    overdue_reminder(takahashi, takahashis_case)
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))
    assert len(ids) == 2
    others = {
        "tanaka@example.jp": (takahashi, takahashis_case),
        "takahashi@example.jp": (tanaka, yamamoto_case),
    }

    def the_other_logs_their_contact(address):
        # While the first email is being delivered, the other caseworker reaches their client.
        smtp.on_message = None
        log_contact(*others[address], next_in=14)

    smtp.on_message = the_other_logs_their_contact

    result = reminders_send_due(ids=ids)

    assert (result.sent, result.cancelled) == (1, 1)
    (first,) = smtp.received
    other = Reminder.objects.get(recipient=others[first][0])
    assert other.sent_at is None
    assert other.cancelled_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("cases", [1, 3])
def test_sending_takes_the_same_queries_for_one_reminder_or_three(
    tanaka, station_a, yamamoto_case, mailoutbox, cases
):
    from cases.services import case_open, client_create

    overdue_reminder(tanaka, yamamoto_case)
    for number in range(cases - 1):
        person = client_create(
            viewer=viewer_for(tanaka),
            duplicate_confirmed=True,
            fields={"full_name": f"相談者 {number}", "full_name_kana": "ソウダンシャ"},
        )
        case = case_open(
            viewer=viewer_for(tanaka),
            client=person,
            fields={"origin": "family"},
            topics=["hikikomori"],
            main_topic="hikikomori",
            primary_worker=tanaka,
        )
        log_contact(tanaka, case, days_ago=10, next_in=-3)
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))
    assert len(ids) == cases

    with CaptureQueriesContext(connection) as queries:
        assert reminders_send_due(ids=ids).sent == cases

    assert len(mailoutbox) == 1
    # The batch's pending ids; the claim (savepoint, the rows locked, claimed, released, read
    # with their person, preference and agency); the re-check of their one kind (the agencies'
    # thresholds, the cases still overdue); marked sent.
    assert len(queries) == 9, [q["sql"][:90] for q in queries]


# --- A real worker process --------------------------------------------------------------------


@pytest.fixture
def mail_worker(tmp_path):
    """A real `celery worker` process on its own queue, on this test's PostgreSQL database,
    writing its mail to files under ``tmp_path``."""
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    redis_url = os.environ["REDIS_URL"]
    queue = f"test-{uuid.uuid4().hex}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"EMAIL_HOST", "DJANGO_ENV", "PYTEST_XDIST_WORKER"}
    }
    env |= {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "TSUNAGU_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "reminder-worker-test-secret-key-reminder-worker-test",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield queue, redis_url, tmp_path / "mail"
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _mails(folder: Path) -> list[email.message.Message]:
    messages = []
    for path in sorted(folder.glob("*")) if folder.exists() else []:
        for part in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if part.strip():
                messages.append(email.message_from_bytes(part.strip()))
    return messages


def _text(message: email.message.Message) -> str:
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    return subject + message.get_payload(decode=True).decode()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_sends_each_reminder_once_even_when_asked_twice(
    mail_worker, tanaka, kimura, case_opened
):
    from celery.backends.redis import RedisBackend

    from config.celery import app as celery_app
    from reminders.tasks import send_due

    queue, redis_url, mail_dir = mail_worker
    for user in (tanaka, kimura):
        user.email = f"{user.username}@example.jp"
        user.save()
    case = case_opened(70)
    log_contact(tanaka, case, days_ago=65, next_in=-60)
    reminders_sweep(today=today())
    ids = list(Reminder.objects.values_list("id", flat=True))
    assert len(ids) == 3

    backend = RedisBackend(app=celery_app, url=redis_url)
    first = send_due.apply_async(args=[ids], queue=queue)
    second = send_due.apply_async(args=[ids], queue=queue)
    sent = [celery_app.AsyncResult(r.id, backend=backend).get(timeout=60) for r in (first, second)]

    assert sorted(sent) == [0, 3]
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}
    assert not Reminder.objects.filter(sent_at=None).exists()
    deadline = time.monotonic() + 10
    while len(_mails(mail_dir)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    mails = _mails(mail_dir)
    assert sorted(m["To"] for m in mails) == ["kimura@example.jp", "tanaka@example.jp"]
    for message in mails:
        text = _text(message)
        assert "/reminders/" in text
        for personal in ("山本", "ヤマモト", "090-0000-1111"):
            assert personal not in text


# --- The notification centre ------------------------------------------------------------------


@pytest.fixture
def tanakas_reminder(tanaka, yamamoto_case):
    log_contact(tanaka, yamamoto_case, days_ago=10, next_in=-3)
    reminders_sweep(today=today())
    return Reminder.objects.get(recipient=tanaka)


@pytest.mark.django_db
def test_the_header_badge_counts_unread_reminders(client, tanaka, tanakas_reminder):
    login_as(client, tanaka)

    page = client.get(reverse("cases:caseload")).content.decode()
    badge = client.get(reverse("reminders:badge")).content.decode()

    assert 'id="reminder-badge"' in page
    assert reverse("reminders:badge") in page
    assert ">1<span" in badge


@pytest.mark.django_db
def test_opening_a_reminder_marks_it_read_and_lands_on_the_case(
    client, tanaka, tanakas_reminder, yamamoto_case
):
    login_as(client, tanaka)

    response = client.post(reverse("reminders:read", args=[tanakas_reminder.public_id]))

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:client", args=[yamamoto_case.client.public_id])
    tanakas_reminder.refresh_from_db()
    assert tanakas_reminder.read_at is not None
    badge = client.get(reverse("reminders:badge")).content.decode()
    assert ">1<span" not in badge


@pytest.mark.django_db
def test_mark_all_read(client, tanaka, tanakas_reminder):
    login_as(client, tanaka)

    response = client.post(reverse("reminders:read_all"))

    assert response.status_code == 302
    assert not Reminder.objects.filter(read_at=None).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["yamada", "suzuki", "sysadmin"])
def test_another_persons_reminder_is_a_404(request, client, persona, tanakas_reminder):
    login_as(client, request.getfixturevalue(persona))

    response = client.post(reverse("reminders:read", args=[tanakas_reminder.public_id]))

    assert response.status_code == 404
    tanakas_reminder.refresh_from_db()
    assert tanakas_reminder.read_at is None


@pytest.mark.django_db
def test_the_list_names_the_person_of_the_agencys_own_record(
    client, tanaka, tanakas_reminder, yamamoto_case
):
    login_as(client, tanaka)

    listed = client.get(reverse("reminders:list")).content.decode()
    dashboard = client.get(reverse("cases:caseload")).content.decode()

    assert reverse("reminders:read", args=[tanakas_reminder.public_id]) in listed
    # In the app, behind the login, the holder's own caseworker sees whom it is about (the
    # email never does).
    assert "山本 太郎" in listed
    assert "山本 太郎" in dashboard.split('id="caseload-reminders"')[1].split("</section>")[0]


@pytest.mark.django_db
def test_an_unanswered_referral_names_the_sending_agency_not_the_person(
    client, suzuki, sent_tsunagi
):
    from referrals.models import Referral

    Referral.objects.filter(pk=sent_tsunagi.pk).update(sent_at=timezone.now() - timedelta(days=21))
    reminders_sweep(today=today())
    login_as(client, suzuki)

    page = client.get(reverse("reminders:list")).content.decode()

    assert "ひきこもり支援ステーションAから" in page
    assert "山本" not in page
    assert "ヤマモト" not in page


def _reminders(user, agency, count):
    Reminder.objects.bulk_create(
        Reminder(
            kind=Kind.NEXT_CONTACT_DUE,
            target_type="case",
            target_id=str(uuid.uuid4()),
            agency=agency,
            recipient=user,
            due_on=today(),
            created_at=timezone.now(),
        )
        for _ in range(count)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 30])
def test_the_list_takes_the_same_queries_for_3_and_30_reminders(client, tanaka, station_a, count):
    login_as(client, tanaka)
    _reminders(tanaka, station_a, count)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reminders:list"))

    assert response.status_code == 200
    assert response.content.decode().count("reminder-") >= count
    # session, user, membership (middleware), the page of reminders, the cases they are about
    # (client joined, for the links and names; the header badge comes by htmx in its own request)
    assert len(queries) == 5, [q["sql"] for q in queries]


@pytest.mark.django_db
@pytest.mark.parametrize("each", [1, 5])  # 6 × 5 = one full page
def test_a_page_of_every_kind_of_target_takes_one_query_per_kind(client, tanaka, station_a, each):
    from reminders.models import TargetType

    login_as(client, tanaka)
    Reminder.objects.bulk_create(
        Reminder(
            kind=Kind.NEXT_CONTACT_DUE,
            target_type=target_type,
            target_id=str(uuid.uuid4()),
            agency=station_a,
            recipient=tanaka,
            due_on=today(),
            created_at=timezone.now(),
        )
        for target_type in TargetType.values
        for _ in range(each)
    )

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reminders:list"))

    assert response.status_code == 200
    # session, user, membership, the page; then cases, emergency disclosures, plans, consents,
    # referrals and meetings
    assert len(queries) == 10, [q["sql"][:120] for q in queries]


@pytest.mark.django_db
def test_mark_read_with_htmx_answers_the_row(client, tanaka, tanakas_reminder):
    login_as(client, tanaka)

    response = client.post(
        reverse("reminders:read", args=[tanakas_reminder.public_id]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert f'id="reminder-{tanakas_reminder.public_id}"' in response.content.decode()
    assert "<html" not in response.content.decode()


@pytest.mark.django_db
def test_the_demo_caseworker_has_reminders_right_after_seeding(settings, tmp_path):
    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115

    kinds = set(
        Reminder.objects.filter(recipient__username="tanaka").values_list("kind", flat=True)
    )
    assert {
        Kind.NEXT_CONTACT_OVERDUE,
        Kind.NEXT_CONTACT_DUE,
        Kind.MEETING_TOMORROW,
        Kind.VISITS_WITHOUT_CONTACT,
    } <= kinds


# --- Configuration ----------------------------------------------------------------------------


def test_exactly_one_beat_entry_sweeps_and_one_reconciles():
    from config.celery import app as celery_app

    tasks = [entry["task"] for entry in celery_app.conf.beat_schedule.values()]

    assert tasks.count("reminders.tasks.sweep") == 1
    assert tasks.count("reminders.tasks.reconcile") == 1


def _settings_with(tmp_path, **values):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("REMINDERS_", "CELERY_", "EMAIL_"))
    }
    env |= {"TSUNAGU_VAR_DIR": str(tmp_path), **values}
    code = (
        "from django.conf import settings; "
        "print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], "
        "settings.REMINDERS_CLAIM_GRACE_SECONDS, settings.REMINDERS_RETRY_BACKOFF_SECONDS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_engines_timings_come_from_the_environment(tmp_path):
    done = _settings_with(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:1/0",
        CELERY_BROKER_VISIBILITY_TIMEOUT="8",
        REMINDERS_CLAIM_GRACE_SECONDS="13",
        EMAIL_TIMEOUT="2",
        REMINDERS_RETRY_BACKOFF_SECONDS="1",
        REMINDERS_RETRY_BACKOFF_MAX_SECONDS="2",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["8", "13", "1"]


@pytest.mark.parametrize(
    "values",
    [
        {"REMINDERS_CLAIM_GRACE_SECONDS": "soon"},
        {"REMINDERS_CLAIM_GRACE_SECONDS": "0"},
        # A claim must not be taken for abandoned while its SMTP exchange may still be going on:
        # one exchange is several socket operations, each with its own timeout.
        {"REMINDERS_CLAIM_GRACE_SECONDS": "20", "EMAIL_TIMEOUT": "30"},
        {"REMINDERS_CLAIM_GRACE_SECONDS": "180", "EMAIL_TIMEOUT": "30"},
        # A retry waiting longer than the visibility timeout would be delivered twice.
        {"CELERY_BROKER_VISIBILITY_TIMEOUT": "60", "REMINDERS_RETRY_BACKOFF_MAX_SECONDS": "600"},
    ],
)
def test_a_bad_engine_setting_stops_the_process(tmp_path, values):
    done = _settings_with(tmp_path, REDIS_URL="redis://127.0.0.1:1/0", **values)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
