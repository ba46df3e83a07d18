"""Import benchmark: the real municipality list, then 1,381 generated self-reliance agencies.

    .venv/bin/python bench/import_bench.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tsunagu_bench \
        .venv/bin/python bench/import_bench.py

Without DATABASE_URL it runs on a throwaway SQLite file in a temporary directory; with a
PostgreSQL URL it creates the database if missing and empties its municipalities and agencies.
Either way TSUNAGU_VAR_DIR points at a temporary directory, removed at the end.

Each step runs twice on the same fresh state: once for wall time, once under tracemalloc for the
Python allocation peak (tracemalloc slows allocation-heavy code several-fold, so its times are not
the ones reported). ru_maxrss is the process's resident-set high-water mark after the step.
The aim: municipalities plus agencies imported in well under 10 s on 2 cores.
"""

import csv
import io
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGENCY_COUNT = 1381  # 自立相談支援機関 in 907 municipalities, 2024-04-01 (see shared/domain.md)


def configure() -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="tsunagu-bench-"))
    os.environ["TSUNAGU_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var_dir / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    if os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        create_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    return var_dir


def create_postgres_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    params = dj_database_url.parse(url)
    with psycopg.connect(
        dbname="postgres",
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["NAME"])))


def empty_roster() -> None:
    from agencies.models import Agency, Membership, Municipality, Network, SupporterProfile
    from audit.models import AuditEntry

    AuditEntry.objects.all().delete()
    SupporterProfile.objects.all().delete()
    Membership.objects.all().delete()
    Network.objects.all().delete()
    Agency.objects.all().delete()
    Municipality.objects.filter(prefecture__isnull=False).delete()
    Municipality.objects.all().delete()


def generated_agency_csv(municipality_rows) -> bytes:
    """1,381 self-reliance agencies over the municipalities that must run one.

    Every prefecture, city and special ward gets one; the rest go to the largest cities, which
    run several (by ward or district). A prefecture's agencies serve its towns and villages,
    which have no welfare office of their own.
    """
    from agencies.imports import AGENCY_HEADER, FUNCTION_NAMES
    from agencies.models import AgencyFunction, MunicipalityKind

    rng = random.Random(20240401)  # the same file every run
    with_office = [row for row in municipality_rows if row["has_welfare_office"]]
    big = [
        row
        for row in with_office
        if row["kind"] in {MunicipalityKind.DESIGNATED_CITY, MunicipalityKind.CORE_CITY}
    ]
    hosts = with_office + [big[i % len(big)] for i in range(AGENCY_COUNT - len(with_office))]
    towns_by_prefecture: dict[str, list[str]] = {}
    for row in municipality_rows:
        if not row["has_welfare_office"]:
            towns_by_prefecture.setdefault(row["code"][:2], []).append(row["code"])
    optional = [
        AgencyFunction.WORK_PREPARATION,
        AgencyFunction.HOUSEHOLD_FINANCE,
        AgencyFunction.HOUSING_BENEFIT,
        AgencyFunction.CHILDREN_LEARNING,
        AgencyFunction.HOUSING_SUPPORT,
        AgencyFunction.CERTIFIED_WORK_TRAINING,
    ]

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AGENCY_HEADER)
    seen: dict[str, int] = {}
    for host in hosts:
        seen[host["code"]] = seen.get(host["code"], 0) + 1
        number = seen[host["code"]]
        name = f"{host['name']}自立相談支援センター" + (f"第{number}" if number > 1 else "")
        if host["kind"] == MunicipalityKind.PREFECTURE:
            area = towns_by_prefecture.get(host["code"][:2]) or [host["code"]]
        else:
            area = [host["code"]]
        functions = [AgencyFunction.SELF_RELIANCE_CONSULTATION, *rng.sample(optional, 3)]
        contracted = rng.random() < 0.6
        row = {
            "機関ID": "",
            "名称": name,
            "名称カナ": f"{host['name_kana']}ジリツソウダンシエンセンター",
            "種別": "自立相談支援機関",
            "実施主体コード": host["code"],
            "運営形態": "委託" if contracted else "直営",
            "受託法人名": f"社会福祉法人{host['name']}社会福祉協議会" if contracted else "",
            "提供地域コード": " ".join(area),
            "機能": " ".join(FUNCTION_NAMES[function] for function in functions),
            "郵便番号": f"{rng.randrange(100, 999)}-{rng.randrange(0, 9999):04d}",
            "住所": f"{host['name']}中央1-{number}-1",
            "電話": f"0{rng.randrange(10, 99)}-{rng.randrange(100, 999)}-{rng.randrange(9999):04d}",
            "メール": f"jiritsu{len(seen)}-{number}@example.jp",
            "開所時間": "平日 8:30-17:15",
            "利用者向け案内": "電話でご予約ください。\n訪問での相談もできます。",
            "つなぎ受付": "1",
            "開始日": "2015-04-01",
            "終了日": "",
        }
        writer.writerow([row[column] for column in AGENCY_HEADER])
    return buffer.getvalue().encode("utf-8")


def run_steps(*, traced: bool) -> list[tuple[str, float, float | None, float, str]]:
    from agencies.imports import (
        agencies_export,
        agencies_import,
        municipalities_export,
        municipalities_import,
    )
    from agencies.models import Municipality
    from agencies.municipality_list import BUNDLED_FILE

    municipality_file = BUNDLED_FILE.read_bytes()
    agency_file: bytes = b""
    results = []

    def step(label, function):
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        outcome = function()
        seconds = time.perf_counter() - started
        peak = None
        if traced:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
        summary = (
            f"{outcome.created}/{outcome.updated}/{outcome.unchanged}"
            if hasattr(outcome, "created")
            else f"{len(outcome):,} {'bytes' if isinstance(outcome, bytes) else 'characters'}"
        )
        if hasattr(outcome, "ok") and not outcome.ok:
            raise SystemExit(f"{label}: {[str(error) for error in outcome.errors[:5]]}")
        results.append((label, seconds, peak, rss, summary))

    def make_agency_file():
        nonlocal agency_file
        rows = Municipality.objects.order_by("code").values(
            "code", "name", "name_kana", "kind", "has_welfare_office"
        )
        agency_file = generated_agency_csv(list(rows))
        return agency_file

    step(
        "import municipalities (1,788 new)",
        lambda: municipalities_import(actor=None, data=municipality_file),
    )
    step("generate agency CSV (not an import)", make_agency_file)
    step(
        f"import agencies ({AGENCY_COUNT:,} new)",
        lambda: agencies_import(actor=None, data=agency_file),
    )
    step(
        "re-import municipalities (no change)",
        lambda: municipalities_import(actor=None, data=municipality_file),
    )
    step("re-import agencies (no change)", lambda: agencies_import(actor=None, data=agency_file))
    step(
        "re-import agencies (every one changed)",
        lambda: agencies_import(
            actor=None,
            data=agency_file.replace(b"8:30-17:15", b"9:00-17:00"),
        ),
    )
    step("export municipalities", municipalities_export)
    step("export agencies", agencies_export)
    return results


def main() -> None:
    var_dir = configure()
    try:
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")

        empty_roster()
        timed = run_steps(traced=False)
        empty_roster()
        traced = run_steps(traced=True)

        print(f"{'step':<40} {'wall s':>8} {'py peak MiB':>12} {'maxrss MiB':>11}  result")
        for (label, seconds, _, rss, summary), (_, _, peak, _, _) in zip(
            timed, traced, strict=True
        ):
            print(f"{label:<40} {seconds:>8.2f} {peak:>12.1f} {rss:>11.0f}  {summary}")
        imported = timed[0][1] + timed[2][1]
        total = sum(row[1] for row in timed)
        print(f"{'import total (municipalities + agencies)':<40} {imported:>8.2f}")
        peak = max(row[2] for row in traced)
        print(f"{'all steps':<40} {total:>8.2f} {peak:>12.1f} {timed[-1][3]:>11.0f}")
        if imported >= 10:
            raise SystemExit("over the 10 s aim")
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
