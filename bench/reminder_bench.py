"""Reminder sweep and sending at scale: 1,000,000 open cases, 50,000 reminders to send.

    .venv/bin/python bench/reminder_bench.py

Two PostgreSQL databases kept between runs (created, migrated and filled on the first run only,
with ``INSERT … SELECT generate_series`` rather than one ORM save at a time):

- ``tsunagu_bench``: 1,000,000 open cases of which 50,000 have an overdue planned contact;
- ``tsunagu_bench_small``: 100,000 open cases of which 5,000 are due — to show that the sweep's
  memory does not grow with the number of cases.

Each measurement runs in a fresh Python process (peak memory cannot be reset inside one): at
100,000 and at 1,000,000 cases, the first sweep (an empty reminders table), then the steady
state — a second sweep with every reminder of the first still pending, as between two runs five
minutes apart while emails wait for a digest or a day off: it re-checks each pending row's
condition (``cancel_gone``) and its inserts all conflict — and that re-check on its own; then
sending the 50,000 reminders to 1,000 caseworkers through a real SMTP server (aiosmtpd on
loopback) that only counts what it receives. Printed: wall time, Python heap peak (tracemalloc)
and the process's peak RSS.

``BENCH_DATABASE_HOST`` / ``BENCH_DATABASE_USER`` (default 127.0.0.1 / postgres) pick the server.
"""

import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = os.environ.get("BENCH_DATABASE_HOST", "127.0.0.1")
USER = os.environ.get("BENCH_DATABASE_USER", "postgres")
DATABASES = {"tsunagu_bench_small": 100_000, "tsunagu_bench": 1_000_000}
# One block of 1,000 cases in 20 is due: 50,000 of 1,000,000, fifty for each caseworker.
DUE_EVERY = 20
AGENCIES = 10
CASEWORKERS = 1_000


def database_url(name: str) -> str:
    return f"postgres://{USER}@{HOST}:5432/{name}"


def setup_django(name: str) -> None:
    os.environ["DATABASE_URL"] = database_url(name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")  # never used here
    import django

    django.setup()


# --- Data ---------------------------------------------------------------------------------


def ensure_data(name: str, cases: int) -> None:
    """Create, migrate and fill the database once; later runs only clear the reminders."""
    import psycopg

    with psycopg.connect(f"host={HOST} user={USER} dbname=postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": database_url(name)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    fill_command = [sys.executable, __file__, "fill", name, str(cases)]
    subprocess.run(fill_command, env=env, check=True)  # noqa: S603 — this very script


def fill(name: str, cases: int) -> None:
    setup_django(name)
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from agencies.models import Agency, Membership, Role

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        have = cursor.fetchone()[0]
    if have == cases:
        return
    if have:
        sys.exit(f"{name} holds {have} cases, not {cases}: drop it and run again.")
    started = time.perf_counter()
    agencies = Agency.objects.bulk_create(
        Agency(name=f"ベンチ機関{n}", name_kana="ベンチ", kind="hikikomori_station", search_key="")
        for n in range(AGENCIES)
    )
    users = User.objects.bulk_create(
        User(
            username=f"bench{n:04d}",
            full_name=f"職員{n}",
            email=f"bench{n:04d}@example.jp",
            password="!",  # noqa: S106 — unusable password
        )
        for n in range(CASEWORKERS)
    )
    Membership.objects.bulk_create(
        Membership(user=user, agency=agencies[n % AGENCIES], role=Role.CASEWORKER)
        for n, user in enumerate(users)
    )
    first_user, first_agency = users[0].pk, agencies[0].pk
    today = timezone.localdate()
    with connection.cursor() as cursor:
        # Clients and cases in one statement each; user n works for agency n % 10, so each
        # case's worker belongs to its agency.
        cursor.execute(
            """
            INSERT INTO cases_client (public_id, full_name, full_name_kana, gender, postal_code,
                address, phone, phone_alt, email, contact_preferences, contact_note, wishes,
                name_key, kana_key, created_at, updated_at, agency_id)
            SELECT gen_random_uuid(), '相談者' || n, 'ソウダンシャ', '', '', '', '', '', '',
                '[]'::jsonb, '', '', '', '', now(), now(), %(agency)s + (n %% %(agencies)s)
            FROM generate_series(0, %(cases)s - 1) AS n
            """,
            {"agency": first_agency, "agencies": AGENCIES, "cases": cases},
        )
        cursor.execute(
            """
            INSERT INTO cases_case (public_id, opened_on, origin, support_type, stage,
                withdrawal_duration, withdrawal_triggers, going_out, outcomes, closure_note,
                created_at, updated_at, agency_id, primary_worker_id, client_id,
                last_contact_on, next_contact_on)
            SELECT gen_random_uuid(), %(today)s::date - 20, 'family', '', 'support', '',
                '[]'::jsonb, '', '[]'::jsonb, '', now(), now(), c.agency_id,
                %(user)s + (((c.id - m.first) %% %(users)s) / %(agencies)s) * %(agencies)s
                    + (c.agency_id - %(agency)s),
                c.id, %(today)s::date - 2,
                CASE WHEN ((c.id - m.first) / %(users)s) %% %(due_every)s = 0
                     THEN %(today)s::date - 5
                     ELSE %(today)s::date + 7 END
            FROM cases_client c, (SELECT min(id) AS first FROM cases_client) m
            """,
            {
                "today": today,
                "user": first_user,
                "users": CASEWORKERS,
                "agencies": AGENCIES,
                "agency": first_agency,
                "due_every": DUE_EVERY,
            },
        )
        cursor.execute("ANALYZE")
    print(f"  filled {name}: {cases:,} cases in {time.perf_counter() - started:.1f} s")


# --- Measurements (each in its own process) -----------------------------------------------


def measure(name: str, what: str) -> None:
    setup_django(name)
    from django.db import connection

    from reminders.delivery import reminders_send_due
    from reminders.models import Reminder
    from reminders.sweep import reminder_pending_id_chunks, reminders_cancel_gone, reminders_sweep

    if what == "sweep":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE reminders_reminder")
    tracemalloc.start()
    started = time.perf_counter()
    if what in ("sweep", "steady"):  # steady: the first sweep's rows are all still pending
        count = reminders_sweep()
    elif what == "cancel_gone":
        count = reminders_cancel_gone()
    else:
        count = 0
        for ids in reminder_pending_id_chunks():
            count += reminders_send_due(ids=ids).sent
    wall = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    unsent = Reminder.objects.filter(sent_at=None, cancelled_at=None).count()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"count": count, "wall": wall, "heap_peak": peak, "rss": rss_kib * 1024, "left": unsent}
        )
    )


class Sink:
    """aiosmtpd on loopback that counts messages and keeps nothing but the count and whether
    any body held a client's name."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.count = 0
        self.named = 0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                with sink.lock:
                    sink.count += 1
                    sink.named += "相談者".encode() in envelope.content
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def run(name: str, what: str, env: dict | None = None) -> dict:
    # DEBUG off: Django would otherwise keep the last 9,000 queries' SQL in memory.
    done = subprocess.run(  # noqa: S603 — this very script
        [sys.executable, __file__, "measure", name, what],
        env={**os.environ, "DEBUG": "false", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(done.stdout + done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def mib(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


def main() -> None:
    print(f"Reminder bench (PostgreSQL at {HOST})")
    for name, cases in DATABASES.items():
        ensure_data(name, cases)
    results: dict[str, dict[int, dict]] = {"sweep": {}, "steady": {}}
    for name, cases in DATABASES.items():
        result = run(name, "sweep")
        results["sweep"][cases] = result
        print(
            f"sweep   {cases:>9,} open cases: {result['count']:>6,} reminders created in "
            f"{result['wall']:6.1f} s; heap peak {mib(result['heap_peak'])}, "
            f"peak RSS {mib(result['rss'])}"
        )
        result = run(name, "steady")
        results["steady"][cases] = result
        print(
            f"steady  {cases:>9,} open cases, {result['left']:,} pending: {result['count']:,} "
            f"created in {result['wall']:6.1f} s; heap peak {mib(result['heap_peak'])}, "
            f"peak RSS {mib(result['rss'])}"
        )
        result = run(name, "cancel_gone")
        print(
            f"  cancel_gone alone over the {result['left']:,} pending: {result['count']:,} "
            f"cancelled in {result['wall']:6.1f} s; heap peak {mib(result['heap_peak'])}, "
            f"peak RSS {mib(result['rss'])}"
        )
    for what, label in (("sweep", "first"), ("steady", "steady")):
        small, large = results[what][100_000], results[what][1_000_000]
        heap = large["heap_peak"] / small["heap_peak"]
        rss = large["rss"] / small["rss"]
        print(
            f"memory  {label} sweep, 1,000,000 vs 100,000 cases: heap peak x{heap:.2f}, "
            f"peak RSS x{rss:.2f}"
        )
    with Sink() as sink:
        result = run(
            "tsunagu_bench",
            "send",
            {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(sink.port), "EMAIL_USE_TLS": "false"},
        )
        time.sleep(0.5)
        print(
            f"send    {result['count']:>6,} reminders as {sink.count:,} emails to the SMTP sink in "
            f"{result['wall']:6.1f} s; heap peak {mib(result['heap_peak'])}, "
            f"peak RSS {mib(result['rss'])}; unsent left {result['left']}; "
            f"bodies naming a client: {sink.named}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fill":
        fill(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "measure":
        measure(sys.argv[2], sys.argv[3])
    else:
        main()
