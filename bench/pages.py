"""Page benchmark: every page a caseworker or supervisor uses, at 10,000 and 1,000,000 clients.

    .venv/bin/python bench/pages.py                       # both sizes, 1,400 agencies
    .venv/bin/python bench/pages.py --sizes 10000         # one size only
    .venv/bin/python bench/pages.py --requests 60         # more samples per page

PostgreSQL only. Each size has its own database, kept between runs because filling the large
one takes minutes (``tsunagu_bench_pages_10000``, ``tsunagu_bench_pages_1000000`` on the server
of DATABASE_URL, default 127.0.0.1:5432): created if missing, migrated, and filled once with
``manage.py seed_scale --clients N --agencies M``. Its ``var/`` (the seeded accounts) lives in
``var/bench/pages_N/``. Drop a database to fill it again.

Each size is measured in a child process (Django's settings name one database). As a caseworker
and a supervisor of the seeded large agency, logged in through the login form (a real session:
the session middleware, the gate and the access-log write all run), each page is requested
``--requests`` times through ``django.test.Client`` after a warm-up: server time (median, p95
of the whole request in process), query count, median SQL time (in the driver) and HTML size.
Beside them, the naive baseline: Django admin's default changelist of the referrals on the same
deep page as the queue (a bench-only admin site with a default ModelAdmin). Then, at the larger
size, throughput: the incoming queue requested by 4 client threads from gunicorn with two
workers on 127.0.0.1, a bounded number of requests.

The last table gives each page's ratio of the large to the small size: time, SQL, queries.
On a shared machine totals move ±30 % between runs: compare within one run.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import queue_bench  # noqa: E402 — its SqlTimer and deep_url (bench/ is not a package)

SERVER_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
WARM_UP = 5
LOAD_THREADS = 4
LOAD_REQUESTS = 400
TARGET_P95_MS = 30.0
TARGET_RATIO = 1.2
TARGET_HTML_KB = 60
TARGET_QUERIES = 10


# --- the parent: one child per size, then the tables ------------------------------------------


def database_url(size: int) -> str:
    base, _, _ = SERVER_URL.rpartition("/")
    return f"{base}/tsunagu_bench_pages_{size}"


def child_env(size: int) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url(size),
        "TSUNAGU_VAR_DIR": str(ROOT / "var" / "bench" / f"pages_{size}"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }


def run_child(size: int, agencies: int, requests: int, load: bool) -> dict:
    command = [sys.executable, __file__, "--child", str(size), "--agencies", str(agencies)]
    command += ["--requests", str(requests)] + (["--load"] if load else [])
    result = subprocess.run(  # noqa: S603 — this very script
        command, env=child_env(size), cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"the child for {size:,} clients failed ({result.returncode})")
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def print_size(size: int, data: dict) -> None:
    print(f"\n{size:,} clients, {data['agencies']:,} agencies, {data['staff']:,} staff")
    print(
        f"  {'page':<34} {'median ms':>9} {'p95 ms':>7} {'queries':>7} {'SQL ms':>7} {'HTML KB':>8}"
    )
    for name, row in data["pages"].items():
        flags = []
        if row["p95"] > TARGET_P95_MS:
            flags.append(f"p95>{TARGET_P95_MS:.0f}")
        if row["queries"] > TARGET_QUERIES:
            flags.append(f"queries>{TARGET_QUERIES}")
        if row["kb"] > TARGET_HTML_KB and not name.endswith("CSV export"):
            flags.append(f"HTML>{TARGET_HTML_KB}KB")
        print(
            f"  {name:<34} {row['median']:>9.1f} {row['p95']:>7.1f} {row['queries']:>7}"
            f" {row['sql']:>7.2f} {row['kb']:>8.1f}  {' '.join(flags)}"
        )
    admin, queue = data["pages"].get("admin changelist (deep)"), data["pages"]["incoming (deep)"]
    if admin:
        speed_up = admin["median"] / queue["median"]
        print(f"  deep queue page vs admin changelist: {speed_up:.1f}× faster")
    if "load" in data:
        load = data["load"]
        print(
            f"  incoming queue under load: {load['rps']:.0f} requests/s "
            f"({load['requests']} requests, {LOAD_THREADS} threads, gunicorn -w 2; "
            f"median {load['median']:.1f} ms, p95 {load['p95']:.1f} ms, {load['errors']} errors)"
        )


def print_ratios(small: int, large: int, results: dict) -> None:
    print(f"\n{large:,} / {small:,} clients")
    print(f"  {'page':<34} {'time':>6} {'SQL':>6} {'queries':>9}")
    for name, row in results[large]["pages"].items():
        base = results[small]["pages"].get(name)
        if not base:
            continue
        queries = f"{base['queries']}→{row['queries']}"
        flag = "" if row["median"] / base["median"] <= TARGET_RATIO else f"  >{TARGET_RATIO}"
        if base["queries"] != row["queries"]:
            flag += "  query count differs"
        print(
            f"  {name:<34} {row['median'] / base['median']:>6.2f}"
            f" {row['sql'] / max(base['sql'], 0.01):>6.2f} {queries:>9}{flag}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="client counts, comma-separated")
    parser.add_argument("--agencies", type=int, default=1400)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of each page's slowest query (largest size only)",
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.agencies, args.requests, args.load, args.explain)
        return
    if not SERVER_URL.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/pages.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    sizes = sorted(int(size) for size in args.sizes.split(","))
    if args.explain:
        command = [sys.executable, __file__, "--child", str(sizes[-1]), "--explain"]
        command += ["--agencies", str(args.agencies)]
        subprocess.run(command, env=child_env(sizes[-1]), cwd=ROOT, check=True)  # noqa: S603
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    results = {}
    for size in sizes:
        results[size] = run_child(size, args.agencies, args.requests, load=size == sizes[-1])
        print_size(size, results[size])
    if len(sizes) > 1:
        print_ratios(sizes[0], sizes[-1], results)


# --- the child: one size, one database --------------------------------------------------------


def child(size: int, agencies: int, requests: int, load: bool, explain: bool) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from import_bench import create_postgres_database

    create_postgres_database(os.environ["DATABASE_URL"])
    import django

    # Not setup_test_environment(): its instrumented template rendering would be timed too.
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    accounts_file = Path(settings.VAR_DIR) / "scale_accounts.json"
    if not accounts_file.exists():
        print(f"filling {os.environ['DATABASE_URL']} …", file=sys.stderr, flush=True)
        call_command("seed_scale", clients=size, agencies=agencies)
    accounts = json.loads(accounts_file.read_text())
    if explain:
        Bench(accounts, requests).explain()
        return
    result = Bench(accounts, requests).run()
    if load:
        result["load"] = queue_under_load(accounts)
    print("RESULT " + json.dumps(result), flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def fetch(client, url: str):
    """GET the URL; a "post:" URL is POSTed with its query as the form (a search by name)."""
    if not url.startswith("post:"):
        return client.get(url)
    path, _, query = url.removeprefix("post:").partition("?")
    return client.post(path, dict(parse_qsl(query)))


class Bench:
    def __init__(self, accounts: dict, requests: int):
        self.accounts = accounts
        self.requests = requests
        self.pages: dict[str, dict] = {}

    def login(self, who: str):
        from django.test import Client
        from django.urls import reverse

        client = Client()
        response = client.post(
            reverse("login"),
            {"username": self.accounts[who], "password": self.accounts["password"]},
        )
        if response.status_code != 302:
            raise SystemExit(f"{who}: login failed ({response.status_code})")
        client.get(reverse("agencies:choose"))  # the only agency, as after logging in
        return client

    def measure(self, name: str, client, url: str, *, streaming: bool = False) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def get():
            response = fetch(client, url)
            if response.status_code != 200:
                raise SystemExit(f"{name} {url}: HTTP {response.status_code}")
            return b"".join(response.streaming_content) if streaming else response.content

        for _ in range(WARM_UP):
            get()
        times, sql_times = [], []
        for _ in range(self.requests):
            timer = queue_bench.SqlTimer()
            with connection.execute_wrapper(timer):
                started = time.perf_counter()
                body = get()
                times.append((time.perf_counter() - started) * 1000)
            sql_times.append(timer.seconds * 1000)
        with CaptureQueriesContext(connection) as queries:
            get()
        self.pages[name] = {
            "median": statistics.median(times),
            "p95": percentile(times, 0.95),
            "queries": len(queries),
            "sql": statistics.median(sql_times),
            "kb": len(body) / 1024,
        }
        print(f"  {name}: {self.pages[name]['median']:.1f} ms", file=sys.stderr, flush=True)

    def page_list(self) -> list[tuple[str, str, str, bool]]:
        """(name, who, url, streamed) of every page measured, in order."""
        import jaconv
        from django.urls import reverse

        from cases.models import Case

        client_id = self.accounts["sample_client"]
        case_id = (
            Case.objects.filter(client__public_id=client_id)
            .exclude(stage="closed")
            .values_list("public_id", flat=True)
            .first()
        )
        # The family name as a caseworker types it: in hiragana, or half-width from an old list.
        family_name = self.accounts["sample_client_kana"].split()[0]
        search = reverse("cases:client_search")
        hiragana, halfwidth = jaconv.kata2hira(family_name), jaconv.z2h(family_name)
        worker, boss = "caseworker", "supervisor"
        return [
            ("caseload (caseworker)", worker, reverse("cases:caseload"), False),
            # The search is POSTed (a name stays out of the URL): "post:" sends the query as a form.
            (
                "kana search (hiragana)",
                worker,
                f"post:{search}?{urlencode({'q': hiragana})}",
                False,
            ),
            (
                "kana search (half-width)",
                worker,
                f"post:{search}?{urlencode({'q': halfwidth})}",
                False,
            ),
            ("client page", worker, reverse("cases:client", args=[client_id]), False),
            ("timeline", worker, reverse("cases:client_timeline", args=[client_id]), False),
            (
                "consultation entry",
                worker,
                reverse("cases:consultation_new", args=[case_id]),
                False,
            ),
            ("consent form", worker, reverse("consent:new", args=[client_id]), False),
            ("new referral form", worker, reverse("referrals:new", args=[client_id]), False),
            ("directory", worker, reverse("agencies:directory"), False),
            ("notification centre", worker, reverse("reminders:list"), False),
            (
                "emergency disclosure form",
                boss,
                reverse("consent:emergency_new", args=[client_id]),
                False,
            ),
            ("caseload (agency-wide)", boss, reverse("cases:caseload") + "?scope=agency", False),
            ("incoming (first)", boss, reverse("referrals:incoming"), False),
            ("incoming (deep)", boss, "deep:" + reverse("referrals:incoming"), False),
            ("outgoing", boss, reverse("referrals:outgoing"), False),
            ("provision records", boss, reverse("referrals:records"), False),
            ("provision records CSV export", boss, reverse("referrals:records_csv"), True),
        ]

    def pages_with_clients(self):
        """Each page with a logged-in client of its persona and its final URL."""
        clients = {who: self.login(who) for who in ("caseworker", "supervisor")}
        for name, who, url, streamed in self.page_list():
            if url.startswith("deep:"):
                url, _ = queue_bench.deep_url(clients[who], url.removeprefix("deep:"))
            yield name, clients[who], url, streamed

    def run(self) -> dict:
        from accounts.models import User
        from agencies.models import Agency

        for name, client, url, streamed in self.pages_with_clients():
            self.measure(name, client, url, streaming=streamed)
        self.measure_admin_baseline()
        return {
            "agencies": Agency.objects.count(),
            "staff": User.objects.filter(memberships__isnull=False).distinct().count(),
            "pages": self.pages,
        }

    def explain(self) -> None:
        """EXPLAIN (ANALYZE, BUFFERS) of each page's slowest query, warm, printed."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for name, client, url, streamed in self.pages_with_clients():
            fetch(client, url)  # warm
            with CaptureQueriesContext(connection) as queries:
                response = fetch(client, url)
                if streamed:
                    b"".join(response.streaming_content)
            slowest, plan, took = None, [], -1.0
            with connection.cursor() as cursor:
                for query in queries.captured_queries:
                    started = time.perf_counter()
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    rows = [row[0] for row in cursor.fetchall()]
                    elapsed = (time.perf_counter() - started) * 1000
                    if elapsed > took:
                        slowest, plan, took = query["sql"], rows, elapsed
            print(f"\n### {name}\n\n`{url}` — {len(queries)} queries; the slowest:\n")
            print("```sql\n" + slowest[:600] + (" …" if len(slowest) > 600 else "") + "\n```")
            print("```\n" + "\n".join(plan) + "\n```", flush=True)

    def measure_admin_baseline(self) -> None:
        """Django admin's default changelist of referrals on the deep page: OFFSET paging and a
        full COUNT(*), the naive way, through a bench-only admin site mounted for the run."""
        from django.test import Client, override_settings

        from accounts.models import User
        from referrals.models import Referral

        admin_user, _ = User.objects.update_or_create(
            username="bench-admin",
            defaults={"full_name": "ベンチ管理者", "is_staff": True, "is_system_admin": True},
        )
        client = Client()
        client.force_login(admin_user)
        # 100 rows a page: the queue's page 50 is the admin's page 25 (0-based ?p=24), or the
        # last page when there are fewer referrals.
        page = min(24, (Referral.objects.count() - 1) // 100)
        with override_settings(ROOT_URLCONF="bench_admin_urls"):
            url = f"/bench-admin/referrals/referral/?p={page}"
            self.measure("admin changelist (deep)", client, url)


def queue_under_load(accounts: dict) -> dict:
    """Requests/s of the incoming queue from gunicorn with two workers on 127.0.0.1."""
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.post(
        reverse("login"),
        {"username": accounts["supervisor"], "password": accounts["password"]},
    )
    client.get(reverse("agencies:choose"))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 — the project's own gunicorn
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env={**os.environ, "ALLOWED_HOSTS": "127.0.0.1"},
    )
    path = reverse("referrals:incoming")
    times: list[float] = []
    errors = [0]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start within 30 s") from None
                time.sleep(0.2)

        def get() -> None:
            connection = HTTPConnection("127.0.0.1", port, timeout=10)
            started = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            connection.close()
            if response.status != 200:
                errors[0] += 1
            times.append(elapsed)

        for _ in range(10):
            get()
        times.clear()

        def worker() -> None:
            for _ in range(LOAD_REQUESTS // LOAD_THREADS):
                get()

        threads = [threading.Thread(target=worker) for _ in range(LOAD_THREADS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "rps": len(times) / wall,
        "requests": len(times),
        "median": statistics.median(times),
        "p95": percentile(times, 0.95),
        "errors": errors[0],
    }


if __name__ == "__main__":
    main()
