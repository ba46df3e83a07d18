"""Export benchmark: the provision-record CSV (referrals:records_csv) with 10,000 and with
100,000 records, streamed.

    .venv/bin/python bench/export_bench.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/other_db .venv/bin/python bench/export_bench.py

PostgreSQL only (the records are generated with INSERT … SELECT generate_series): the database
is created if missing, migrated, and emptied (manage.py flush) before each run. TSUNAGU_VAR_DIR
points at a temporary directory, removed at the end.

One station (the benchmarked agency) with 5,000 clients has sent N referrals to 20 other
agencies, each with its provision record (第三者提供記録). The export is requested through
django.test.Client as a caseworker of the station, and its streamed body read chunk by chunk,
as a server hands it to the network; tracemalloc records the peak of Python memory while the
body is produced. Beside it, the same body joined into one bytes object: what the export cost
when it was built whole in the request (HttpResponse), which grows with the rows.

Flat memory is the point: the streamed peak at 100,000 rows should be that at 10,000 (one chunk
of rows from the database and one of CSV text at a time), while the time grows with the rows.
"""

import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tsunagu_bench_export"
SCALES = (10_000, 100_000)
CLIENTS = 5_000
RECIPIENTS = 20


def configure() -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="tsunagu-bench-"))
    os.environ["TSUNAGU_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DEBUG", "false")  # no query log: it would hold every query
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        raise SystemExit("export_bench needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from import_bench import create_postgres_database

    create_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    return var_dir


def set_up():
    """The station with its caseworker and clients, and the agencies it refers to, through
    the services as an admin would; the clients in bulk."""
    from accounts.models import User
    from agencies.models import Role
    from agencies.permissions import Viewer
    from agencies.services import agency_create, membership_ensure
    from cases.models import Client

    system = User.objects.create(
        username="bench-system", full_name="初期設定", is_system_admin=True
    )
    admin = Viewer(user=system, membership=None)

    def agency(name, kana, kind):
        fields = {"name": name, "name_kana": kana, "kind": kind}
        return agency_create(viewer=admin, fields=fields, service_area=[], functions=[])

    station = agency("支援ステーション", "シエンステーション", "hikikomori_station")
    worker = User.objects.create(username="bench-worker", full_name="田中 一郎")
    membership_ensure(actor=None, user=worker, agency=station, role=Role.CASEWORKER)
    recipients = [
        agency(f"自立相談支援機関{n:02d}", f"ジリツソウダンシエンキカン{n:02d}", "self_reliance")
        for n in range(RECIPIENTS)
    ]
    Client.objects.bulk_create(
        Client(
            agency=station,
            full_name=f"相談者 {n}",
            full_name_kana=f"ソウダンシャ {n}",
            name_key=f"相談者{n}",
            kana_key=f"ソウダンシャ{n}",
        )
        for n in range(CLIENTS)
    )
    return station, worker, recipients


INSERT_RECORDS = """
WITH clients AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM cases_client WHERE agency_id = %(station)s
), sent AS (
    INSERT INTO referrals_referral (
        public_id, type, reason, client_wishes, urgency, categories, message, status, sent_at,
        decline_reason, snapshot, created_at, updated_at, client_id, from_agency_id,
        from_worker_id, to_agency_id
    )
    SELECT gen_random_uuid(), 'tsunagi', '家計の相談', '相談したい', 'normal',
        '["basic", "consultation"]', '', 'accepted',
        now() - (g || ' minutes')::interval, '', '{}', now(), now(),
        (SELECT ids[1 + g %% array_length(ids, 1)] FROM clients), %(station)s, %(worker)s,
        (%(recipients)s::bigint[])[1 + g %% %(n_recipients)s]
    FROM generate_series(1, %(total)s) g
    RETURNING id, sent_at, client_id, from_worker_id, from_agency_id, to_agency_id
)
INSERT INTO referrals_provisionrecord (
    provided_at, categories, consents, client_id, provided_by_id, provider_id, recipient_id,
    referral_id
)
SELECT sent_at, '["basic", "consultation"]', jsonb_build_array(gen_random_uuid()::text),
    client_id, from_worker_id, from_agency_id, to_agency_id, id
FROM sent
"""


def generate(total: int, station, worker, recipients) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE referrals_referral RESTART IDENTITY CASCADE")
        cursor.execute(
            INSERT_RECORDS,
            {
                "station": station.pk,
                "worker": worker.pk,
                "recipients": [agency.pk for agency in recipients],
                "n_recipients": len(recipients),
                "total": total,
            },
        )
        cursor.execute("ANALYZE referrals_referral")
        cursor.execute("ANALYZE referrals_provisionrecord")
    return time.perf_counter() - started


def export(client, url: str, *, whole: bool, traced: bool) -> tuple[float, int, int, int]:
    """Seconds, peak Python memory in bytes (when traced), body bytes and lines of one export.
    tracemalloc slows Python several times over, so time and memory come from separate runs."""
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url)
    if response.status_code != 200 or not response.streaming:
        raise SystemExit(
            f"the export answered {response.status_code}, streaming={response.streaming}"
        )
    size = lines = 0
    if whole:  # as the export used to be: the whole body in memory at once
        body = b"".join(response.streaming_content)
        size, lines = len(body), body.count(b"\n")
        del body
    else:  # as a server sends it: one chunk at a time
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    peak = 0
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, peak, size, lines


def main() -> None:
    var_dir = configure()
    try:
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        print(f"database: PostgreSQL {connection.pg_version} ({connection.settings_dict['NAME']})")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
        station, worker, recipients = set_up()
        client = Client()
        client.force_login(worker)
        client.get(reverse("agencies:choose"))  # picks the only agency, as logging in does
        url = reverse("referrals:records_csv")
        client.get(url).close()  # warm-up: imports, translations, the first connection

        print(
            f"{'records':>8} {'generated s':>11}  {'body':<8} {'seconds':>7} {'MB':>6}"
            f" {'rows':>8} {'peak MB':>8}"
        )
        peaks = {}
        for total in SCALES:
            generated = generate(total, station, worker, recipients)
            for whole in (False, True):
                seconds, _peak, size, lines = export(client, url, whole=whole, traced=False)
                _seconds, peak, _size, _lines = export(client, url, whole=whole, traced=True)
                if lines != total + 1:  # the header and every record
                    raise SystemExit(f"{lines - 1:,} rows exported, {total:,} expected")
                label = "joined" if whole else "streamed"
                peaks[total, whole] = peak
                print(
                    f"{total:>8,} {generated:>11.1f}  {label:<8} {seconds:>7.2f}"
                    f" {size / 1e6:>6.1f} {lines - 1:>8,} {peak / 1e6:>8.2f}"
                )
                generated = 0.0
        small, large = SCALES[0], SCALES[-1]
        ratio = peaks[large, False] / peaks[small, False]
        print(
            f"streamed peak {large:,} / {small:,} rows: {ratio:.2f}× "
            f"({'flat' if ratio < 1.5 else 'NOT flat'}); joined: "
            f"{peaks[large, True] / peaks[small, True]:.1f}×"
        )
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
