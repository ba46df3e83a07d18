"""Load: 50 caseworkers and 5 supervisors at work for 2 minutes against gunicorn, PostgreSQL and
Redis, in production settings (issue 15). Prints requests/s, p50/p95/p99 and the errors of each
kind of request; exits non-zero on any error.

    .venv/bin/python bench/load                            # 100,000 clients, 55 users, 2 min
    .venv/bin/python bench/load --duration 30              # a shorter run
    .venv/bin/python bench/load --clients 10000            # a smaller database (filled once)
    .venv/bin/python bench/load --workers 4 --threads 2    # gunicorn's shape (the default)
    .venv/bin/python bench/load --json result.json         # the figures as JSON as well

PostgreSQL and Redis must be running (DATABASE_URL names the server, default 127.0.0.1:5432;
REDIS_URL the broker, default redis://127.0.0.1:6379/13).

What it does, in four processes:

1. **Prepare** (a child with Django, development settings: ``seed_scale`` refuses production).
   The database ``tsunagu_bench_load_N`` (N clients) is created if missing, migrated and filled
   once with ``manage.py seed_scale --clients N --agencies M`` (100,000 clients take about
   1 min 40 s here); it is kept between runs, with its ``var/`` in ``var/bench/load_N/``. Drop
   the database to fill it again. The simulated staff are the seeded staff of the agencies
   with the most open cases — the large agency's 30 caseworkers and 4 supervisors, then the
   caseworkers and supervisor of the next agencies — so that each has a real caseload; their
   password is the one ``seed_scale`` wrote to ``scale_accounts.json`` (bench database only).
   Where django-otp is installed, each supervisor gets a confirmed TOTP device whose key the
   simulated user knows. Failed-login records (django-axes) of earlier runs are cleared.
   Everything the users need is written to ``var/bench/load_N/load_accounts.json``.
2. **Static files**: ``collectstatic`` in production settings (WhiteNoise's compressed manifest).
3. **gunicorn** with ``DJANGO_ENV=production`` (``DEBUG`` off, WhiteNoise, Secure cookies, HSTS,
   the HTTPS redirect), bound to 127.0.0.1, ``--workers 4 --threads 2`` by default: 2 cores,
   and a request spends part of its time waiting for PostgreSQL on the same machine, so twice
   as many processes as cores keep both busy; two threads each let one slow request (a login
   hashes the password for about a second) wait without holding its process's other requests.
   The users send ``X-Forwarded-Proto: https`` as the TLS-terminating proxy in front of a
   production Tsunagu does. Its error log is read afterwards: any server error counts.
4. **Swarm** (a child, because locust monkey-patches the process for gevent): the users of
   ``bench/load/locustfile.py``, started one a second (each login hashes the password for
   about a second of CPU: ten a second would queue for minutes on 2 cores). Each logs in
   through the login form (and a TOTP code where asked) first and then works; when all are in,
   ``--warm-up`` seconds more (each gunicorn process compiles its templates on first use), then
   the statistics restart and the mix runs for ``--duration`` seconds, the measured part.
   Login and warm-up figures are printed apart.

The mix (think time 1–5 s between things, each thing with what the browser requests with it):
caseworkers — the dashboard (caseload), the caseload filter typed, the client search typed (as
htmx sends it) then the client opened, a client opened from the caseload (its timeline, and one
closed section opened half the time), logging a consultation with the quick entry on the client
page (htmx POST, checked saved) and the notification centre; supervisors — the incoming queue,
its next page and status tabs, referrals from it, the outgoing queue, the agency-wide caseload,
a client of the agency, the provision records and the notification centre.

Percentiles are locust's: exact below 100 ms, rounded to 10 ms up to 1 s and to 100 ms above.
On a shared machine the figures move with whatever else runs; the load average is printed.
"""

import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from datetime import datetime
from http.client import HTTPConnection
from pathlib import Path

from page import route  # bench/load is not a package: its folder is on the path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SERVER_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
CLIENTS_PER_CASEWORKER = 40
CLIENTS_PER_SUPERVISOR = 60
# Lines of gunicorn's and Django's log that mean the server failed a request.
SERVER_ERROR = re.compile(r"Internal Server Error|Traceback|WORKER TIMEOUT|\[CRITICAL\]|\[ERROR\]")
# A line of the access log: [when] "METHOD path…" status … ms (config/gunicorn.py's format, or
# the one start_gunicorn gives without it).
ACCESS = re.compile(r'\[([^\]]+)\] "(\S+) (\S+)[^"]*" (\d+) .*?(\d+)(?:ms)?$')


def database_url(clients: int) -> str:
    base, _, _ = SERVER_URL.rpartition("/")
    return f"{base}/tsunagu_bench_load_{clients}"


def var_dir(clients: int) -> Path:
    return ROOT / "var" / "bench" / f"load_{clients}"


def base_env(clients: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(clients),
        "REDIS_URL": REDIS_URL,
        "TSUNAGU_VAR_DIR": str(var_dir(clients)),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
    }


def production_env(clients: int) -> dict[str, str]:
    """config/settings.py's production shape, as docker-compose.yml gives it, on loopback."""
    return {
        **base_env(clients),
        "DJANGO_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(var_dir(clients) / "staticfiles"),
        "MEDIA_ROOT": str(var_dir(clients) / "media"),
        # Nothing in the mix sends mail (reminders leave from the Celery sweep): a closed port
        # makes an unexpected attempt fail loudly instead of reaching anyone.
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": "9",
        "CELERY_TASK_DEFAULT_QUEUE": "bench_load",
        "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "0"),
    }


def result_line(stdout: str) -> dict:
    line = next((line for line in stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit("a child process ended without its result (see above)")
    return json.loads(line.removeprefix("RESULT "))


# --- the parent --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000, help="size of the database")
    parser.add_argument("--agencies", type=int, default=1_400)
    parser.add_argument("--caseworkers", type=int, default=50)
    parser.add_argument("--supervisors", type=int, default=5)
    parser.add_argument("--duration", type=int, default=120, help="seconds of the measured mix")
    parser.add_argument(
        "--warm-up",
        type=int,
        default=20,
        help="seconds of the mix after the logins, before the measured part (each gunicorn "
        "process compiles its templates on first use)",
    )
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=1,
        help="users started a second (each begins with a login, a second of CPU for the hash)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (gthread)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--swarm", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args)
        return
    if args.swarm:
        swarm(args)
        return
    if not SERVER_URL.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/load needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared machine: others' work too)",
        flush=True,
    )
    started = time.monotonic()
    data = run_child(["--prepare"], base_env(args.clients), args)
    print(
        f"{data['clients']:,} clients, {data['agencies']:,} agencies, {data['staff']:,} staff; "
        f"users: {data['caseworkers']} caseworkers and {data['supervisors']} supervisors of "
        f"{data['user_agencies']} agencies; second factor: {data['second_factor']} "
        f"(prepared in {time.monotonic() - started:.0f} s)",
        flush=True,
    )
    env = production_env(args.clients)
    collect_static(env)
    server, port, log = start_gunicorn(env, args)
    print(f"static files collected and gunicorn up at {time.monotonic() - started:.0f} s")
    try:
        print(
            f"gunicorn on 127.0.0.1:{port}: {args.workers} workers × {args.threads} threads, "
            f"DJANGO_ENV=production, REDIS_URL={REDIS_URL}; {args.caseworkers + args.supervisors}"
            f" users for {args.duration} s …",
            flush=True,
        )
        host = f"http://127.0.0.1:{port}"
        result = run_child(["--swarm", "--host", host], base_env(args.clients), args)
    finally:
        stop(server)
    result["server_errors"] = [
        line for line in log.read_text().splitlines() if SERVER_ERROR.search(line)
    ]
    result["load_after"] = os.getloadavg()
    result["server"] = server_times(log.with_name("access.log"), *result["mix_window"])
    result["setup"] = {
        **data,
        "workers": args.workers,
        "threads": args.threads,
        "duration": args.duration,
    }
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    failed = (
        result["aborted"]
        or result["server_errors"]
        or result["exceptions"]
        or any(row["failures"] for phase in ("ramp", "mix") for row in result[phase])
    )
    sys.exit(1 if failed else 0)


def run_child(role: list[str], env: dict, args) -> dict:
    command = [sys.executable, str(HERE), *role]
    names = ("clients", "agencies", "caseworkers", "supervisors", "duration", "warm_up")
    for name in (*names, "spawn_rate"):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    result = subprocess.run(  # noqa: S603 — this very script
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    if result.returncode != 0 and "RESULT " not in result.stdout:
        raise SystemExit(f"bench/load {role[0]} failed ({result.returncode})")
    return result_line(result.stdout)


def stop(server: subprocess.Popen) -> None:
    """gunicorn's graceful stop lets requests in flight finish; then it is killed."""
    server.terminate()
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def collect_static(env: dict) -> None:
    """collectstatic in production settings, unless nothing in static/ changed since the last
    time: compressing every file again takes a minute on a busy machine."""
    manifest = Path(env["STATIC_ROOT"]) / "staticfiles.json"
    newest = max(path.stat().st_mtime for path in (ROOT / "static").rglob("*") if path.is_file())
    if manifest.exists() and manifest.stat().st_mtime > newest:
        return
    subprocess.run(  # the project's own manage.py
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def start_gunicorn(env: dict, args) -> tuple[subprocess.Popen, int, Path]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = var_dir(args.clients)
    log = folder / "gunicorn.log"
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={args.workers}",
        f"--threads={args.threads}",
        "--log-level=warning",
        f"--error-logfile={log}",
        # As in production (the Dockerfile logs every request), to a file; each line ends with
        # the request's time in the server (ms), read for the server's own figures.
        f"--access-logfile={folder / 'access.log'}",
    ]
    if (ROOT / "config" / "gunicorn.py").exists():
        command.append("--config=config/gunicorn.py")  # production's, as the Dockerfile runs it
    else:
        command.append('--access-logformat=%(t)s "%(m)s %(U)s" %(s)s %(M)s')
    if args.threads > 1:
        command.append("--worker-class=gthread")
    log.write_text("")
    (folder / "access.log").write_text("")
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 — the project's gunicorn
    # Four workers each import Django and the app: a minute or more on a busy machine.
    deadline = time.monotonic() + 180
    while True:
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health/")
            response = connection.getresponse()
            body = response.read().decode()
            connection.close()
            if response.status == 200:
                return server, port, log
            raise SystemExit(f"/health/ answered {response.status}: {body}")
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit(f"gunicorn did not start (see {log})") from None
            time.sleep(0.3)


# --- the report --------------------------------------------------------------------------------


def report(result: dict) -> None:
    if result["aborted"]:
        print(f"\nABORTED: {result['aborted']}")
    print(
        f"\nLogging in ({result['login_seconds']:.1f} s until all {result['users']} were in), "
        f"then {result['warm_up']} s of warm-up ({result['ramp_seconds']:.0f} s in all):"
    )
    table(result["ramp"])
    print(f"\nThe mix, {result['mix_seconds']:.0f} s with {result['users']} users:")
    table(result["mix"])
    if result["server"]:
        print("\nTime in gunicorn during the mix (its access log):")
        print(f"  {'request':<60} {'count':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
        for row in result["server"]:
            print(
                f"  {row['name']:<60} {row['count']:>6} "
                f"{row['p50']:>7.0f} {row['p95']:>7.0f} {row['p99']:>7.0f}"
            )
    if result["errors"]:
        print("\nErrors:")
        for error in result["errors"]:
            print(
                f"  {error['occurrences']:>5} × {error['method']} {error['name']}: {error['error']}"
            )
    for exception in result["exceptions"]:
        print(f"\nException in a task, {exception['count']} ×: {exception['msg']}")
        print(exception["traceback"])
    if result["server_errors"]:
        print(f"\nServer errors in gunicorn.log ({len(result['server_errors'])} lines), first:")
        for line in result["server_errors"][:10]:
            print(f"  {line}")
    # Each phase's last row is its total.
    errors = sum(result[phase][-1]["failures"] for phase in ("ramp", "mix") if result[phase])
    after = " ".join(f"{x:.2f}" for x in result["load_after"])
    print(f"\n{errors} failed requests, {len(result['server_errors'])} server errors; load {after}")


def table(rows: list[dict]) -> None:
    print(
        f"  {'request':<60} {'count':>6} {'fail':>5} {'req/s':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    for row in rows:
        if not row["count"]:
            continue  # a name seen before the statistics restarted
        label = row["name"] if row["method"] in ("GET", "") else f"{row['name']} [{row['method']}]"
        print(
            f"  {label:<60} {row['count']:>6} {row['failures']:>5} {row['rps']:>6.2f} "
            f"{row['p50']:>7.0f} {row['p95']:>7.0f} {row['p99']:>7.0f}"
        )


# --- the children ------------------------------------------------------------------------------


def prepare(args) -> None:
    """Create, migrate and fill the database if needed; choose the users; write their file."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from import_bench import create_postgres_database

    create_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    folder = Path(settings.VAR_DIR)
    scale_file = folder / "scale_accounts.json"
    if not scale_file.exists():
        print(f"filling {os.environ['DATABASE_URL']} …", file=sys.stderr, flush=True)
        call_command("seed_scale", clients=args.clients, agencies=args.agencies)
    scale = json.loads(scale_file.read_text())
    from load_accounts import choose_accounts

    accounts = choose_accounts(
        caseworkers=args.caseworkers,
        supervisors=args.supervisors,
        per_caseworker=CLIENTS_PER_CASEWORKER,
        per_supervisor=CLIENTS_PER_SUPERVISOR,
    )
    accounts["password"] = scale["password"]
    path = folder / "load_accounts.json"
    path.write_text(json.dumps(accounts, indent=1, ensure_ascii=False))
    path.chmod(0o600)
    print("RESULT " + json.dumps({**accounts["summary"], "accounts": str(path)}), flush=True)


def swarm(args) -> None:
    """The users against ``--host``: log all in, restart the statistics, run the mix."""
    os.environ["LOAD_ACCOUNTS"] = str(var_dir(args.clients) / "load_accounts.json")
    # Imported here: locust patches the process for gevent as it is imported.
    import logging

    import gevent
    import locust
    import locustfile
    from locust.env import Environment

    locustfile.Caseworker.fixed_count = args.caseworkers
    locustfile.Supervisor.fixed_count = args.supervisors
    users = args.caseworkers + args.supervisors
    environment = Environment(
        user_classes=[locustfile.Caseworker, locustfile.Supervisor],
        host=args.host,
        events=locust.events,
    )
    runner = environment.create_local_runner()
    # A failed login says why itself and stops the user: not its traceback again.
    logging.getLogger("locust.user.users").setLevel(logging.CRITICAL)
    started = time.monotonic()
    runner.start(users, spawn_rate=args.spawn_rate)
    # Every login hashes a password (about a second of CPU each, many on a busy machine, where
    # they queue behind the users already at work): give them time, boundedly.
    deadline = started + 60 + 10 * users
    logins = locustfile.logins
    while logins["done"] < users and not logins["failed"] and time.monotonic() < deadline:
        gevent.sleep(0.2)
    aborted = logins["failed"]
    if not aborted and logins["done"] < users:
        aborted = (
            f"only {logins['done']} of {users} users had logged in after {deadline - started:.0f} s"
        )
    login_seconds = time.monotonic() - started
    warm_until = time.monotonic() + args.warm_up
    while not aborted and time.monotonic() < warm_until and not logins["failed"]:
        gevent.sleep(0.5)
    aborted = aborted or logins["failed"]
    ramp_seconds = time.monotonic() - started
    ramp = rows(environment.stats, ramp_seconds)
    errors = error_rows(environment.stats)
    mix, mix_seconds, mix_window = [], 0.0, [0.0, 0.0]
    if not aborted:
        environment.stats.reset_all()
        mix_started = time.monotonic()
        mix_window[0] = time.time()
        while time.monotonic() - mix_started < args.duration and not logins["failed"]:
            gevent.sleep(0.5)
        mix_seconds = time.monotonic() - mix_started
        mix_window[1] = time.time()
        mix = rows(environment.stats, mix_seconds)
        errors += error_rows(environment.stats)
        aborted = logins["failed"]
    runner.quit()
    # An exception in a task is no request's failure: count it as one all the same.
    exceptions = [
        {"count": e["count"], "msg": e["msg"], "traceback": e["traceback"]}
        for e in runner.exceptions.values()
    ]
    result = {
        "users": users,
        "aborted": aborted,
        "login_seconds": login_seconds,
        "warm_up": args.warm_up,
        "ramp_seconds": ramp_seconds,
        "ramp": ramp,
        "mix_seconds": mix_seconds,
        "mix": mix,
        "mix_window": mix_window,
        "errors": errors,
        "exceptions": exceptions,
    }
    print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)


def rows(stats, seconds: float) -> list[dict]:
    """One row per request name, in order of count, then the total."""

    def row(entry, name: str, method: str) -> dict:
        return {
            "name": name,
            "method": method,
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.num_requests / seconds if seconds else 0.0,
            "p50": entry.get_response_time_percentile(0.5) or 0,
            "p95": entry.get_response_time_percentile(0.95) or 0,
            "p99": entry.get_response_time_percentile(0.99) or 0,
            "max": entry.max_response_time or 0,
        }

    entries = sorted(stats.entries.values(), key=lambda e: (-e.num_requests, e.name))
    return [row(e, e.name, e.method) for e in entries] + [row(stats.total, "total", "")]


def server_times(access_log: Path, start: float, end: float) -> list[dict]:
    """Time in gunicorn per kind of request during the mix, from its access log: what the
    server spent, without the load generator's own delays on a busy machine."""
    times: dict[str, list[int]] = {}
    for line in access_log.read_text().splitlines():
        match = ACCESS.search(line)
        if not match:
            continue
        at = datetime.strptime(match[1], "%d/%b/%Y:%H:%M:%S %z").timestamp()
        if start <= at <= end:
            times.setdefault(f"{match[2]} {route(match[3])}", []).append(int(match[5]))
    everything = [ms for values in times.values() for ms in values]
    ordered = sorted(times.items(), key=lambda item: -len(item[1]))
    return [
        {
            "name": name,
            "count": len(values),
            "p50": percentile(values, 0.50),
            "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99),
        }
        for name, values in [*ordered, ("total", everything)]
        if values
    ]


def percentile(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def error_rows(stats) -> list[dict]:
    return [
        {"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
        for e in stats.errors.values()
    ]


if __name__ == "__main__":
    main()
