"""Queue benchmark: a supervisor's incoming referral queue with 1,000 and with 100,000 referrals.

    .venv/bin/python bench/queue_bench.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/other_db .venv/bin/python bench/queue_bench.py

PostgreSQL only (the referrals are generated with INSERT … SELECT generate_series): the database
is created if missing, migrated, and emptied (manage.py flush) before each run. TSUNAGU_VAR_DIR
points at a temporary directory, removed at the end.

Every referral is sent to the one benchmarked 自立相談支援機関 by 20 ひきこもり支援ステーション —
a far longer history than any real agency's, so the index has to carry it. Statuses: 10 % sent
(waiting for an answer: the default tab), 5 % accepted, 10 % in support, 60 % completed, 10 %
declined, 5 % withdrawn; sending times spread over five years.

Per page, ~30 requests through django.test.Client as the logged-in supervisor, after warm-up:
server time (median and p95 of the whole request in process: middleware, queries, template),
the number of queries, and the median time spent in the database driver — the only part that
could grow with the data; rendering 50 rows costs the same whatever is behind them. The first
page is the default tab; the deep page is reached by following the keyset cursor ("Next page")
50 pages in, or to the last page when there are fewer (page 2 with 1,000 referrals).

On a shared machine the totals move by ±30 % from run to run whatever the data; compare the
two scales within one run, and the SQL column.
"""

import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tsunagu_bench_queue"
SCALES = (1_000, 100_000)
SENDERS = 20
CLIENTS_PER_SENDER = 50
WORKERS = 10
REQUESTS = 30
WARM_UP = 10
DEEP_PAGES = 50


def configure() -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="tsunagu-bench-"))
    os.environ["TSUNAGU_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DEBUG", "false")  # no query log in the timed requests
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        raise SystemExit("queue_bench needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from import_bench import create_postgres_database

    create_postgres_database(os.environ["DATABASE_URL"])
    import django

    # Not setup_test_environment(): its instrumented template rendering (the test client keeps
    # a copy of every context) would be timed too, and no server does that.
    django.setup()
    return var_dir


def set_up_agencies():
    """The benchmarked agency with its supervisor and caseworkers; the sending stations, each
    with a caseworker and a pool of clients. Through the services, as an admin would."""
    from accounts.models import User
    from agencies.models import Role
    from agencies.permissions import Viewer
    from agencies.services import agency_create, membership_ensure
    from cases.models import Client

    system = User.objects.create(
        username="bench-system", full_name="初期設定", is_system_admin=True
    )
    viewer = Viewer(user=system, membership=None)

    def agency(name, kana, kind):
        fields = {"name": name, "name_kana": kana, "kind": kind}
        return agency_create(viewer=viewer, fields=fields, service_area=[], functions=[])

    def user(username, name, at, role):
        person = User.objects.create(username=username, full_name=name)
        membership_ensure(actor=None, user=person, agency=at, role=role)
        return person

    target = agency("自立相談支援機関ベンチ", "ジリツソウダンシエンキカンベンチ", "self_reliance")
    supervisor = user("bench-supervisor", "主任 鈴木", target, Role.SUPERVISOR)
    workers = [user(f"bench-w{n}", f"相談員 {n}", target, Role.CASEWORKER) for n in range(WORKERS)]
    senders = []
    for number in range(SENDERS):
        station = agency(
            f"ひきこもり支援ステーション{number}",
            f"ヒキコモリシエンステーション{number}",
            "hikikomori_station",
        )
        worker = user(f"bench-s{number}", f"送付 {number}", station, Role.CASEWORKER)
        clients = Client.objects.bulk_create(
            Client(
                agency=station,
                full_name=f"相談者 {number}-{n}",
                full_name_kana=f"ソウダンシャ {number}-{n}",
                name_key=f"相談者{number}-{n}",
                kana_key=f"ソウダンシャ{number}-{n}",
                created_by=worker,
            )
            for n in range(CLIENTS_PER_SENDER)
        )
        senders.append((station, worker, clients))
    # Each accepted referral has the receiving agency's own record: a pool of them.
    own_records = Client.objects.bulk_create(
        Client(
            agency=target,
            full_name=f"受理者 {n}",
            full_name_kana=f"ジュリシャ {n}",
            name_key=f"受理者{n}",
            kana_key=f"ジュリシャ{n}",
            created_by=supervisor,
        )
        for n in range(1000)
    )
    return target, supervisor, workers, senders, own_records


INSERT_REFERRALS = """
WITH senders AS (
    SELECT row_number() OVER (ORDER BY agency_id) - 1 AS n, agency_id, worker_id, clients
    FROM unnest(%(agencies)s::bigint[], %(senders)s::bigint[], %(clients)s::text[])
        AS s(agency_id, worker_id, clients)
), series AS (
    SELECT g,
           CASE WHEN g %% 100 < 10 THEN 'sent' WHEN g %% 100 < 15 THEN 'accepted'
                WHEN g %% 100 < 25 THEN 'in_support' WHEN g %% 100 < 85 THEN 'completed'
                WHEN g %% 100 < 95 THEN 'declined' ELSE 'withdrawn' END AS status,
           CASE WHEN g %% 10 < 4 THEN 'introduction' WHEN g %% 10 < 9 THEN 'tsunagi'
                ELSE 'joint' END AS type,
           now() - (g::float8 / %(total)s) * interval '5 years' - interval '1 hour' AS sent_at
    FROM generate_series(1, %(total)s) AS g
)
INSERT INTO referrals_referral (
    public_id, type, from_agency_id, from_worker_id, to_agency_id, client_id, reason,
    client_wishes, urgency, categories, message, status, sent_at, answered_at, answered_by_id,
    decline_reason, assignee_id, receiving_client_id, snapshot, first_contact_on, completed_at,
    created_at, updated_at
)
SELECT gen_random_uuid(), s.type, snd.agency_id, snd.worker_id, %(target)s,
       (string_to_array(snd.clients, ','))[1 + g %% %(per_sender)s]::bigint,
       '家計の相談と就労の支援が必要。' || g, '本人の言葉で: 少しずつ外に出たい。' || g,
       CASE WHEN g %% 20 = 0 THEN 'urgent' WHEN g %% 5 = 0 THEN 'soon' ELSE 'normal' END,
       CASE WHEN s.type = 'introduction' THEN '[]'::jsonb
            ELSE '["basic", "consultation"]'::jsonb END,
       '', s.status, s.sent_at,
       CASE WHEN s.status IN ('sent', 'withdrawn') THEN NULL ELSE s.sent_at + interval '1 day' END,
       CASE WHEN s.status IN ('sent', 'withdrawn') THEN NULL ELSE %(supervisor)s END,
       CASE WHEN s.status = 'declined' THEN '対象外の地域' ELSE '' END,
       CASE WHEN s.status = 'sent' AND g %% 2 = 0 THEN NULL
            WHEN s.status = 'withdrawn' THEN NULL
            ELSE (%(workers)s::bigint[])[1 + g %% %(worker_count)s] END,
       CASE WHEN s.status IN ('accepted', 'in_support', 'completed') AND s.type <> 'introduction'
            THEN (%(own_records)s::bigint[])[1 + g %% %(own_count)s] END,
       CASE WHEN s.type = 'introduction' THEN '{}'::jsonb ELSE jsonb_build_object(
            'basic', jsonb_build_object('full_name', '相談者 ' || g, 'address', '長野市' || g,
                                        'phone', '090-0000-0000'),
            'consultation', jsonb_build_object('topics', '["hikikomori", "finance"]'::jsonb,
                'records', (SELECT jsonb_agg(jsonb_build_object(
                    'date', '2025-04-01', 'summary', repeat('相談の要旨。', 20)))
                    FROM generate_series(1, 5)))) END,
       CASE WHEN s.status = 'completed' THEN (s.sent_at + interval '3 days')::date END,
       CASE WHEN s.status = 'completed' THEN s.sent_at + interval '3 days' END,
       s.sent_at, s.sent_at
FROM series AS s JOIN senders AS snd ON snd.n = g %% %(sender_count)s
"""


def generate_referrals(total, target, supervisor, workers, senders, own_records) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE referrals_referral RESTART IDENTITY CASCADE")
        cursor.execute(
            INSERT_REFERRALS,
            {
                "total": total,
                "target": target.pk,
                "supervisor": supervisor.pk,
                "workers": [w.pk for w in workers],
                "worker_count": len(workers),
                "agencies": [station.pk for station, _, _ in senders],
                "senders": [worker.pk for _, worker, _ in senders],
                "clients": [",".join(str(c.pk) for c in clients) for _, _, clients in senders],
                "per_sender": CLIENTS_PER_SENDER,
                "sender_count": len(senders),
                "own_records": [c.pk for c in own_records],
                "own_count": len(own_records),
            },
        )
        # Fresh statistics and visibility map, as autovacuum would leave them after a while.
        cursor.execute("VACUUM ANALYZE referrals_referral")
    return time.perf_counter() - started


class SqlTimer:
    """Wall time spent in the database driver per request (execute_wrapper, finer than the
    millisecond rounding of CaptureQueriesContext)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def measure(client, url: str) -> tuple[float, float, int, float]:
    """Median and p95 ms of the whole request, its query count, and the median ms of SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARM_UP):
        client.get(url)
    times, sql_times = [], []
    for _ in range(REQUESTS):
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        sql_times.append(timer.seconds * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(queries), statistics.median(sql_times)


NEXT = re.compile(r'href="\?([^"]*after=[^"]+)" data-next')


def deep_url(client, base: str) -> tuple[str, int]:
    """Follow "Next page" up to DEEP_PAGES times: the URL of the page reached, and its number."""
    url, page = base, 1
    while page <= DEEP_PAGES:
        match = NEXT.search(client.get(url).text)
        if not match:
            break
        url = base + "?" + match.group(1).replace("&amp;", "&")
        page += 1
    return url, page


def main() -> None:
    var_dir = configure()
    try:
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        name = connection.settings_dict["NAME"]
        print(f"database: PostgreSQL {connection.pg_version} ({name})")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
        target, supervisor, workers, senders, own_records = set_up_agencies()
        client = Client()
        client.force_login(supervisor)
        client.get(reverse("agencies:choose"))  # picks the only agency, as logging in does
        base = reverse("referrals:incoming")

        results = []
        for total in SCALES:
            seconds = generate_referrals(total, target, supervisor, workers, senders, own_records)
            first = measure(client, base)
            url, page = deep_url(client, base)
            deep = measure(client, url)
            results.append((total, seconds, first, page, deep))

        print(
            f"{'referrals':>10} {'generated s':>11}  {'page':<9} {'median ms':>9} {'p95 ms':>7}"
            f" {'queries':>7} {'SQL median ms':>13}"
        )
        for total, seconds, first, page, deep in results:
            for label, (median, p95, queries, sql_ms) in (("first", first), (f"page {page}", deep)):
                generated = f"{seconds:>11.1f}" if label == "first" else " " * 11
                print(
                    f"{total:>10,} {generated}  {label:<9} {median:>9.1f} {p95:>7.1f}"
                    f" {queries:>7} {sql_ms:>13.2f}"
                )
        small, large = results[0], results[-1]
        for label, a, b in (("first", small[2], large[2]), ("deep", small[4], large[4])):
            if a[2] != b[2]:
                raise SystemExit(
                    f"{label} page: {a[2]} queries with {small[0]:,}, {b[2]} with {large[0]:,}"
                )
            print(
                f"{label} page with {large[0]:,}: {b[0] / a[0]:.2f}× the time and "
                f"{b[3] / a[3]:.2f}× the SQL time with {small[0]:,}"
            )
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
