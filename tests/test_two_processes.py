"""Two web processes behind one PostgreSQL, as two hosts behind a load balancer would be.

Two real `gunicorn config.wsgi` processes (one sync worker each) on free loopback ports, each
with a var/ folder of its own (nothing on local disk is shared, as on two hosts), the same
SECRET_KEY and the test database. Everything is said over real HTTP with cookies kept by hand,
so what one process knows reaches the other only through the database. See docs/scaling.md.

The processes run the settings' development shape with DEBUG off: production's manifest static
storage needs a collectstatic first (seconds), and what decides statelessness — the session
backend (the database in both shapes), SECRET_KEY, DATABASE_URL — is the same in both.

Personas: 鈴木 (supervisor, 自立相談 B) and 渡辺 (a second supervisor of B) answer a つなぎ that
田中 (station A) sent about 山本.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.urls import reverse

from cases.models import Client
from referrals.models import ConfirmationRecord, Referral, Status
from tests.conftest import PASSWORD, make_user, send_referral
from tests.second_factor import authenticator_for, device_code, must_use_second_factor

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
SECRET_KEY = "two-processes-test-secret-key-two-processes-test-secret"
TIMEOUT = 15  # seconds, for any one request
STARTUP_TIMEOUT = 30  # seconds for both servers to answer /health/ (two cores, shared)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def this_runs_database_url() -> str:
    """The database pytest-django made for this run (test_<name>), which the rows committed by
    this test (transactional_db) are in."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def give_a_password_the_servers_know(user) -> None:
    """The suite hashes passwords with MD5 for speed, which the servers (Django's default
    hashers) refuse. PBKDF2 of few iterations they accept (and re-hash at the first login)."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: str):
        self.status = status
        self.headers = headers
        self.text = body

    def csrf_token(self) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.text)
        assert found, f"no CSRF token on the page ({self.status})"
        return found.group(1)


class Browser:
    """One person's browser: a cookie jar, requests to whichever process it is pointed at, no
    redirects followed (the test follows the ones it means to)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, data: dict | None = None) -> Response:
        headers = {"Host": "127.0.0.1", "Accept-Language": "ja"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            text = raw.read().decode()
        finally:
            conn.close()
        for header in raw.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Response(raw.status, raw.headers, text)

    def get(self, port: int, path: str) -> Response:
        return self.request(port, "GET", path)

    def post(self, port: int, path: str, data: dict) -> Response:
        return self.request(port, "POST", path, data)

    def log_in(self, port: int, username: str) -> None:
        """The real login form, then the agency choice it redirects to (one membership: made
        for you, kept in the session)."""
        user = get_user_model().objects.get(username=username)
        # Someone who must use a second factor has set up their authenticator long before.
        device = authenticator_for(user) if must_use_second_factor(user) else None
        login = reverse("login")
        token = self.get(port, login).csrf_token()
        response = self.post(
            port,
            login,
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert response.status == 302, response.text[:500]
        if device is not None:
            # The code page: the code their authenticator shows now.
            code_page = response.headers["Location"]
            token = self.get(port, code_page).csrf_token()
            response = self.post(
                port, code_page, {"code": device_code(device), "csrfmiddlewaretoken": token}
            )
            assert response.status == 302, response.text[:500]
        chosen = self.get(port, response.headers["Location"])
        assert chosen.status == 302, chosen.text[:500]


class WebProcesses:
    """Real gunicorn processes on 127.0.0.1, stopped by ``stop`` whatever happened."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []

    def env(self, number: int) -> dict:
        var_dir = self.tmp_path / f"host{number}"
        var_dir.mkdir()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_ENV", "PYTEST_XDIST_WORKER", "TSUNAGU_VAR_DIR"}
        }
        return env | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": this_runs_database_url(),
            # Shared by every web process: it signs the session and CSRF cookies.
            "SECRET_KEY": SECRET_KEY,
            "DEBUG": "false",
            "DB_CONN_MAX_AGE": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            # Each process its own var/ (and so MEDIA_ROOT, broker folder, mail folder).
            "TSUNAGU_VAR_DIR": str(var_dir),
        }

    def start(self) -> int:
        number, port = len(self.procs), free_port()
        with (self.tmp_path / f"gunicorn-{number}.log").open("wb") as log:
            proc = subprocess.Popen(
                [
                    str(GUNICORN),
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--timeout",
                    str(TIMEOUT),
                    "--graceful-timeout",
                    "2",
                    # The default control socket is one path per user: two servers would share it.
                    "--no-control-socket",
                ],
                cwd=ROOT,
                env=self.env(number),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        self.ports.append(port)
        return port

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for number, (proc, port) in enumerate(zip(self.procs, self.ports, strict=True)):
            answer = "no answer"
            while True:
                assert proc.poll() is None, f"gunicorn {number} exited:\n{self.log(number)}"
                try:
                    health = Browser().get(port, "/health/")
                    if health.status == 200:
                        break
                    answer = f"{health.status} {health.text}"
                except OSError as error:
                    answer = repr(error)
                assert time.monotonic() < deadline, (
                    f"gunicorn {number} not up ({answer}):\n{self.log(number)}"
                )
                time.sleep(0.1)

    def log(self, number: int) -> str:
        return (self.tmp_path / f"gunicorn-{number}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@pytest.fixture(scope="module")
def web(tmp_path_factory, django_db_setup):
    """Two servers for the module: they keep nothing between requests (no connection either,
    DB_CONN_MAX_AGE=0), so each test's own committed rows are all they see."""
    processes = WebProcesses(tmp_path_factory.mktemp("web"))
    try:
        processes.start()
        processes.start()
        processes.wait_until_up()
        yield processes
    finally:
        processes.stop()


@pytest.fixture
def watanabe(jiritsu_b):
    """渡辺: a second supervisor of 自立相談 B, answering the same queue as 鈴木."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("watanabe", "渡辺 主任")
    membership_ensure(actor=None, user=user, agency=jiritsu_b, role=Role.SUPERVISOR)
    give_a_password_the_servers_know(user)
    return user


@pytest.fixture
def referral(tanaka, yamamoto_case, jiritsu_b):
    return send_referral(tanaka, yamamoto_case.client, jiritsu_b)


def test_a_session_made_on_one_process_works_on_the_other(web, suzuki, referral):
    first, second = web.ports
    give_a_password_the_servers_know(suzuki)
    suzuki_browser = Browser()
    suzuki_browser.log_in(first, "suzuki")

    page = suzuki_browser.get(second, reverse("referrals:detail", args=[referral.public_id]))

    assert page.status == 200, page.headers.get("Location")
    assert "鈴木 花子" in page.text
    assert "自立相談支援機関B" in page.text  # the agency chosen on the first process
    assert 'data-referral-status="sent"' in page.text


def test_two_accepts_through_two_processes_at_once_have_one_winner(web, suzuki, watanabe, referral):
    first, second = web.ports
    give_a_password_the_servers_know(suzuki)
    detail = reverse("referrals:detail", args=[referral.public_id])
    accept = reverse("referrals:accept", args=[referral.public_id])
    # 鈴木 logs in on the first process and answers through the second; 渡辺 the other way
    # round. Each posts the CSRF token of the page the process it posts to served.
    suzuki_browser, watanabe_browser = Browser(), Browser()
    suzuki_browser.log_in(first, "suzuki")
    watanabe_browser.log_in(second, "watanabe")
    plans = [
        (suzuki_browser, second, suzuki_browser.get(second, detail).csrf_token()),
        (watanabe_browser, first, watanabe_browser.get(first, detail).csrf_token()),
    ]
    start = threading.Barrier(len(plans), timeout=TIMEOUT)
    responses: list[Response | None] = [None] * len(plans)
    errors: list[BaseException] = []

    def answer(index: int, browser: Browser, port: int, token: str) -> None:
        try:
            start.wait()
            responses[index] = browser.post(
                port, accept, {"assignee": "", "csrfmiddlewaretoken": token}
            )
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=answer, args=(index, *plan)) for index, plan in enumerate(plans)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)

    assert errors == []
    statuses = sorted(response.status for response in responses)
    assert statuses == [200, 302]  # one redirect to the accepted referral, one refusal
    loser = next(response for response in responses if response.status == 200)
    assert "このつなぎはすでに他の職員が対応したか" in loser.text
    assert 'data-referral-status="accepted"' in loser.text
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED
    assert Referral.objects.filter(status=Status.ACCEPTED).count() == 1
    assert Client.objects.filter(agency=referral.to_agency).count() == 1
    assert Client.objects.get(agency=referral.to_agency) == referral.receiving_client
    assert ConfirmationRecord.objects.filter(referral=referral).count() == 1
