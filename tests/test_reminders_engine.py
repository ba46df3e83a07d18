"""The reminder engine against real services: PostgreSQL, Redis (the shared one, or a throwaway
redis-server this file starts and restarts), real `celery worker` processes, and a real SMTP
server (aiosmtpd) on loopback. Assertions are on what the SMTP server received from the worker
processes — never on Django's in-memory outbox, which only sees this process.

Personas: 田中 and many caseworkers of station A, each with one case whose planned contact is
overdue, so each gets exactly one reminder and one email.
"""

import asyncio
import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from reminders.models import Kind, Reminder
from reminders.sweep import reminders_sweep
from tests.conftest import IN_CI, make_user, viewer_for

ROOT = Path(__file__).resolve().parent.parent
CLIENT_NAME = "相談者"

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, step: float = 0.2, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps every message it accepts. It can be stopped
    and started again on the same port (SMTP down, then back). ``delay`` slows each message
    down *before* its data is accepted (at RCPT), so a worker killed while it waits has not
    delivered that message."""

    def __init__(self, *, delay: float = 0.0):
        self.port = free_port()
        self.delay = delay
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = None

    def _handler(self):
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if sink.delay:
                    await asyncio.sleep(sink.delay)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with sink._lock:
                    sink.messages.append(message)
                return "250 Message accepted for delivery"

        return Handler()

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self._handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list[email.message.EmailMessage]:
        with self._lock:
            return list(self.messages)

    def recipients(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.received())


def text_of(message: email.message.EmailMessage) -> str:
    return str(message["Subject"]) + "\n" + message.get_body().get_content()


@pytest.fixture
def smtp():
    sinks = []

    def make(*, delay: float = 0.0, started: bool = True) -> SmtpSink:
        sink = SmtpSink(delay=delay)
        if started:
            sink.start()
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.stop()


def _database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


class Workers:
    """Real `celery -A config worker` processes on this test's database, a queue of their own
    (so parallel test runs on one Redis never take each other's messages), the SMTP sink, and
    the engine's timings in seconds instead of minutes."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.queue = f"test-{uuid.uuid4().hex}"
        self.procs: list[subprocess.Popen] = []

    def env(self, *, redis_url: str, smtp_port: int) -> dict:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"EMAIL_HOST", "DJANGO_ENV", "PYTEST_XDIST_WORKER"}
        }
        return env | {
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "false",
            "TSUNAGU_VAR_DIR": str(self.tmp_path),
            "SECRET_KEY": "reminder-engine-test-secret-key-reminder-engine-test",
            "CELERY_BROKER_VISIBILITY_TIMEOUT": "8",
            # The grace must outlast six socket timeouts (config/settings.py): 13 > 6 × 2.
            "REMINDERS_CLAIM_GRACE_SECONDS": "13",
            "EMAIL_TIMEOUT": "2",
            "REMINDERS_RETRY_BACKOFF_SECONDS": "1",
            "REMINDERS_RETRY_BACKOFF_MAX_SECONDS": "2",
            "REMINDERS_RECONCILE_SECONDS": "2",
        }

    def start(
        self, *, redis_url: str, smtp_port: int, beat: bool = False, **extra_env: str
    ) -> subprocess.Popen:
        number = len(self.procs)
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            self.queue,
            "--hostname",
            f"w{number}-{self.queue}@%h",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ]
        if beat:
            # Exactly one beat: the reconciler runs every REMINDERS_RECONCILE_SECONDS.
            command += ["-B", "--schedule", str(self.tmp_path / f"beat-{number}")]
        log = (self.tmp_path / f"worker-{number}.log").open("wb")
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(redis_url=redis_url, smtp_port=smtp_port) | extra_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-3000:]
            for path in sorted(self.tmp_path.glob("worker-*.log"))
        )

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


@pytest.fixture
def throwaway_redis(tmp_path):
    """A redis-server of this test's own that keeps nothing (no RDB, no AOF): restarting it
    empties it, as a crashed Redis without persistence would be."""
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is not installed: CI must run the Redis restart test")
        pytest.skip("redis-server is not installed (allowed only outside CI)")
    port = free_port()
    state = {}
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no"]

    def start():
        state["proc"] = subprocess.Popen(
            command,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_for(answers, timeout=10, what="redis-server to answer")

    def kill():
        state["proc"].kill()
        state["proc"].wait()

    start()
    yield f"redis://127.0.0.1:{port}/0", start, kill
    if state["proc"].poll() is None:
        kill()


def overdue_caseworkers(station, count: int) -> list:
    """``count`` caseworkers of ``station``, each with an email address and one case whose
    planned contact is five days overdue: one reminder, one email each."""
    from agencies.models import Role
    from agencies.services import membership_ensure
    from cases.services import case_open, client_create, consultation_log

    today = timezone.localdate()
    users = []
    for number in range(count):
        user = make_user(f"worker{number:02d}", f"職員 {number}")
        user.email = f"worker{number:02d}@example.jp"
        user.save()
        membership_ensure(actor=None, user=user, agency=station, role=Role.CASEWORKER)
        viewer = viewer_for(user)
        person = client_create(
            viewer=viewer,
            duplicate_confirmed=True,
            fields={"full_name": f"{CLIENT_NAME} {number}", "full_name_kana": "ソウダンシャ"},
        )
        case = case_open(
            viewer=viewer,
            client=person,
            fields={"origin": "family", "opened_on": today - timedelta(days=10)},
            topics=["hikikomori"],
            main_topic="hikikomori",
            primary_worker=user,
        )
        consultation_log(
            viewer=viewer,
            case=case,
            fields={
                "method": "phone",
                "summary": "電話",
                "occurred_on": today - timedelta(days=9),
                "next_contact_on": today - timedelta(days=5),
            },
        )
        users.append(user)
    return users


def assert_each_sent_exactly_once(sink: SmtpSink, users: list) -> None:
    expected = sorted(user.email for user in users)
    assert sink.recipients() == expected  # one email each: none lost, none twice
    assert not Reminder.objects.filter(sent_at=None, cancelled_at=None).exists()
    for message in sink.received():
        text = text_of(message)
        assert "/reminders/" in text
        assert CLIENT_NAME not in text
        assert "ソウダンシャ" not in text


def all_sent() -> bool:
    return not Reminder.objects.filter(sent_at=None, cancelled_at=None).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_create_and_send_each_reminder_once(station_a, workers, smtp):
    from reminders.tasks import sweep

    redis_url = os.environ["REDIS_URL"]
    sink = smtp()
    users = overdue_caseworkers(station_a, 12)
    for _ in range(2):
        workers.start(redis_url=redis_url, smtp_port=sink.port)

    # Two sweeps at once, one in each worker process: each creates, each enqueues every row.
    for _ in range(2):
        sweep.apply_async(queue=workers.queue)

    wait_for(lambda: Reminder.objects.count() == 12 and all_sent(), timeout=90, what="sent")
    wait_for(lambda: len(sink.received()) >= 12, timeout=10, what="12 emails")
    time.sleep(1)  # a second copy, if any, would arrive now
    assert Reminder.objects.filter(kind=Kind.NEXT_CONTACT_OVERDUE).count() == 12
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}
    assert_each_sent_exactly_once(sink, users)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(station_a, workers, smtp):
    from reminders.tasks import send_due

    redis_url = os.environ["REDIS_URL"]
    sink = smtp(delay=1.0)
    users = overdue_caseworkers(station_a, 16)
    reminders_sweep()
    ids = list(Reminder.objects.values_list("id", flat=True))
    first = workers.start(redis_url=redis_url, smtp_port=sink.port)

    send_due.apply_async(args=[ids], queue=workers.queue)
    wait_for(lambda: len(sink.received()) >= 5, timeout=60, what="five emails")
    # The sixth email is waiting at RCPT: its data is not accepted, the fifth's sent_at is in.
    time.sleep(0.5)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()

    delivered = len(sink.received())
    assert 5 <= delivered < 16
    assert Reminder.objects.filter(sent_at=None).count() == 16 - delivered
    # The email it was sending when killed: claimed, not sent — in flight, not lost.
    assert Reminder.objects.filter(sent_at=None, claimed_at__isnull=False).count() == 1

    # A fresh worker with the one beat: the reconciler re-queues the dead sender's rows once
    # their claim is older than the grace period (the broker also redelivers the unacked task).
    workers.start(redis_url=redis_url, smtp_port=sink.port, beat=True)
    wait_for(all_sent, timeout=90, what=f"all sent\n{workers.logs()}")
    time.sleep(1.5)
    assert_each_sent_exactly_once(sink, users)
    assert Reminder.objects.filter(attempts=2).count() == 1  # only the one in flight


@pytest.mark.django_db(transaction=True)
def test_a_redis_restart_mid_way_loses_nothing_and_sends_nothing_twice(
    station_a, workers, smtp, throwaway_redis
):
    from config.celery import app as celery_app
    from reminders.tasks import send_due

    redis_url, start_redis, kill_redis = throwaway_redis
    sink = smtp(delay=0.3)
    users = overdue_caseworkers(station_a, 16)
    reminders_sweep()
    ids = sorted(Reminder.objects.values_list("id", flat=True))
    workers.start(redis_url=redis_url, smtp_port=sink.port, beat=True)

    # Four messages of four reminders each; the worker takes one at a time.
    with celery_app.connection_for_write(redis_url) as conn:
        for start in range(0, 16, 4):
            chunk = ids[start : start + 4]
            send_due.apply_async(args=[chunk], queue=workers.queue, connection=conn)
    wait_for(lambda: len(sink.received()) >= 2, timeout=60, what="two emails")

    # Redis dies and comes back empty: the queued messages are gone.
    kill_redis()
    start_redis()
    assert len(sink.received()) < 16

    # The beat's reconciler finds the rows unsent past the grace period and re-queues them.
    wait_for(all_sent, timeout=120, what=f"all sent\n{workers.logs()}")
    time.sleep(1.5)
    assert_each_sent_exactly_once(sink, users)


@pytest.mark.django_db(transaction=True)
def test_smtp_down_is_retried_with_backoff_and_delivered_when_it_comes_back(
    station_a, workers, smtp
):
    from reminders.tasks import send_due

    redis_url = os.environ["REDIS_URL"]
    sink = smtp(started=False)  # the SMTP server is down
    users = overdue_caseworkers(station_a, 3)
    reminders_sweep()
    ids = list(Reminder.objects.values_list("id", flat=True))
    workers.start(redis_url=redis_url, smtp_port=sink.port)

    send_due.apply_async(args=[ids], queue=workers.queue)
    failed = Reminder.objects.filter(sent_at=None, failed_at__isnull=False)
    wait_for(lambda: failed.count() == 3, timeout=60, what="the failures recorded")
    wait_for(
        lambda: min(Reminder.objects.values_list("attempts", flat=True)) >= 2,
        timeout=60,
        what="a retry",
    )
    # Operators see the error on the row.
    assert all("refused" in error.lower() for error in failed.values_list("error", flat=True))
    assert sink.received() == []

    sink.start()  # SMTP is back
    wait_for(all_sent, timeout=60, what=f"all sent\n{workers.logs()}")
    time.sleep(1.5)
    assert_each_sent_exactly_once(sink, users)
    for message in sink.received():
        assert "山本" not in text_of(message)


@pytest.mark.django_db(transaction=True)
def test_an_emergency_disclosure_emails_the_supervisors_at_once_without_waiting_for_the_beat(
    station_a, jiritsu_b, tanaka, yamamoto_case, workers, smtp
):
    """The disclosure's commit nudges a sweep (no beat runs here): the worker creates the review
    reminder and emails the holding agency's supervisor within seconds, naming no one."""
    from agencies.models import Role
    from agencies.services import membership_ensure
    from config.celery import app
    from consent.services import emergency_disclose

    redis_url = os.environ["REDIS_URL"]
    sink = smtp()
    supervisor = make_user("kimura", "木村 主任")
    supervisor.email = "kimura@example.jp"
    supervisor.save()
    membership_ensure(actor=None, user=supervisor, agency=station_a, role=Role.SUPERVISOR)
    workers.start(redis_url=redis_url, smtp_port=sink.port)
    # This process's nudges go to the test's own queue, as the workers' own do.
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = workers.queue
    try:
        emergency_disclose(
            viewer=viewer_for(tanaka),
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            categories=["basic"],
            reason="本人の命に危険があり、連絡がつかない",
        )
        wait_for(
            lambda: sink.recipients() == ["kimura@example.jp"],
            timeout=30,
            what=f"the supervisor's email\n{workers.logs()}",
        )
        # The worker commits sent_at once the mail server has taken the message, a moment
        # after the sink sees it.
        wait_for(
            lambda: Reminder.objects.filter(sent_at__isnull=False).exists(),
            timeout=30,
            what=f"the reminder marked as sent\n{workers.logs()}",
        )
    finally:
        app.conf.task_default_queue = default_queue
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.recipient, reminder.sent_at is not None) == (
        Kind.EMERGENCY_REVIEW,
        supervisor,
        True,
    )
    text = text_of(sink.received()[0])
    assert "/reminders/" in text
    for personal in ("山本", "ヤマモト", "090-0000-1111", "命に危険"):
        assert personal not in text


@pytest.mark.django_db(transaction=True)
def test_the_demo_emails_its_reminders_within_a_minute_of_the_worker_starting(
    settings, tmp_path, workers, smtp
):
    """What bin/run does: seed the demo, then a worker that sweeps as soon as it is ready."""
    from django.core.management import call_command

    from agencies.imports import municipalities_import
    from agencies.models import Municipality
    from agencies.municipality_list import BUNDLED_FILE

    if not Municipality.objects.filter(code="202011").exists():  # flushed by an earlier test
        municipalities_import(actor=None, data=BUNDLED_FILE.read_bytes())
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    sink = smtp()

    started = time.monotonic()
    workers.start(
        redis_url=os.environ["REDIS_URL"],
        smtp_port=sink.port,
        REMINDERS_SWEEP_ON_WORKER_START="true",
    )
    wait_for(
        lambda: "tanaka@example.jp" in sink.recipients(),
        timeout=60,
        what=f"the demo caseworker's email\n{workers.logs()}",
    )

    assert time.monotonic() - started < 60
    (message,) = [m for m in sink.received() if str(m["To"]) == "tanaka@example.jp"]
    for name in ("山本", "小川"):
        assert name not in text_of(message)
