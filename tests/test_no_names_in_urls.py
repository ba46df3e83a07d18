"""No personal data in URLs (issue 15): what is typed to find a person is POSTed, and no log
keeps a query string.

- Every search that may carry a name — the client search, the caseload's filter, the referral
  records' filter and its CSV, the client picker — is a POST form (htmx too) that pushes nothing
  into the history; its page buttons post the criteria again with the cursor. A name in an old
  bookmark's ``?q=`` finds nothing and is not written back into the page.
- Django's logs (captured here) and the access logs of real servers — gunicorn started with the
  project's ``config/gunicorn.py``, and ``runserver`` — after a real search flow over HTTP by a
  logged-in caseworker, an old bookmark and a Referer with a name: 山本 太郎's name, reading and
  their percent-encodings appear nowhere; the requests themselves do.

Personas: 田中 (caseworker, station A), 山本 太郎 his client.
"""

import http.client
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.urls import reverse

from cases.services import household_save
from tests.conftest import login_as, viewer_for
from tests.test_caseload import open_case_for
from tests.test_client_picker import bulk_clients
from tests.test_two_processes import (
    ROOT,
    SECRET_KEY,
    TIMEOUT,
    Browser,
    free_port,
    give_a_password_the_servers_know,
    this_runs_database_url,
)

# 山本 太郎 as one might type him, and as a URL would carry him.
TYPED = ("山本 太郎", "山本", "太郎", "やまもと", "ヤマモト", "ﾔﾏﾓﾄ")
STARTUP_TIMEOUT = 30  # seconds (two cores, shared)


def encodings(text: str) -> set[str]:
    """The text and every way a URL or a log may have written it."""
    forms = {text, quote(text), quote_plus(text)}
    forms |= {form.lower() for form in forms if "%" in form}
    forms.add(text.encode("utf-8").decode("latin-1"))  # bytes logged as if Latin-1
    forms.add(text.encode("unicode_escape").decode("ascii"))  # \u5c71… in a repr
    return forms


def names_in(text: str) -> list[str]:
    return sorted({form for typed in TYPED for form in encodings(typed) if form in text})


def forms_of(page: str) -> list[str]:
    """Each <form …> opening tag of the page."""
    return re.findall(r"<form\b[^>]*>", page)


# --- The forms: POSTed, nothing pushed into the history ------------------------------------------


def test_every_search_that_may_carry_a_name_is_posted(client, tanaka, yamamoto):
    open_case_for(tanaka, "青木 二郎", "アオキ ジロウ")
    household_save(viewer=viewer_for(tanaka), client=yamamoto, postal_code="", address="", note="")
    login_as(client, tanaka)
    pages = {
        "client search": reverse("cases:client_search"),
        "caseload": reverse("cases:caseload"),
        "referral records": reverse("referrals:records"),
        # the household member form's client picker
        "member": reverse("cases:member_add", args=[yamamoto.public_id]),
    }
    for label, url in pages.items():
        page = client.get(url).text
        assert "hx-push-url" not in page, label
        for tag in forms_of(page):
            if 'role="search"' in tag:
                assert 'method="post"' in tag, (label, tag)
                assert "hx-get" not in tag, (label, tag)
        # No text box that may hold a name asks the server with a GET.
        for box in re.findall(r"<input\b[^>]*>", page):
            if 'name="q"' in box or "data-agency-picker-text" in box:
                assert "hx-get" not in box, (label, box)
    picker = client.get(pages["member"]).text.split("data-agency-picker-text")[0]
    box = picker.rsplit("<input", 1)[1]
    assert f'hx-post="{reverse("cases:client_pick")}?' in box
    assert 'hx-params="none"' in box  # what was typed alone, not the member form
    records = client.get(pages["referral records"]).text
    csv_form = records.split("data-records-csv>")[0].rsplit("<form", 1)[1]
    assert 'method="post"' in csv_form
    assert f'action="{reverse("referrals:records_csv")}"' in csv_form


def test_a_name_in_an_old_bookmark_finds_no_one_and_is_not_written_back(client, tanaka, yamamoto):
    login_as(client, tanaka)
    bookmark = {"q": "山本 太郎"}

    search = client.get(reverse("cases:client_search"), bookmark)
    caseload = client.get(reverse("cases:caseload"), {"q": "やまもと"})
    records = client.get(reverse("referrals:records"), {"q": "やまもと"})

    assert search.status_code == caseload.status_code == records.status_code == 200
    # No search made: no result, the box empty. (The language switch's ``next`` echoes the
    # URL as it came, which does not send it anywhere new.)
    assert "山本 太郎" not in search.text
    assert "<table" not in search.text
    assert 'value="やまもと"' not in caseload.text
    assert 'value="やまもと"' not in records.text
    # The picker answers only a POST.
    assert client.get(reverse("cases:client_pick"), bookmark).status_code == 405


def test_the_client_search_pages_by_posting_the_criteria_again(client, tanaka, station_a):
    bulk_clients(station_a, 30, name="山本")
    login_as(client, tanaka)

    first = client.post(reverse("cases:client_search"), {"q": "りよう"}).text
    more = first.split("data-next-page>")[1].split("</form>")[0]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', more))
    second = client.post(reverse("cases:client_search"), fields).text

    assert fields["q"] == "りよう"
    assert fields["after"]
    shown = re.findall(r"山本(\d{4})", first), re.findall(r"山本(\d{4})", second)
    assert len(shown[0]) == 25
    assert len(shown[1]) == 5
    assert sorted(shown[0] + shown[1]) == [f"{n:04d}" for n in range(30)]
    assert "data-next-page" not in second
    # No link carries the criteria or the cursor (which holds a reading).
    assert "?q=" not in first + second
    assert "after=" not in first + second
    # htmx gets the results alone, paged the same way.
    fragment = client.post(reverse("cases:client_search"), fields, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert len(re.findall(r"山本(\d{4})", fragment.text)) == 5


# --- Django's own logs -----------------------------------------------------------------------


def test_djangos_logs_keep_no_name(client, caplog, tanaka, yamamoto):
    server = logging.getLogger("django.server")
    # runserver's logger does not propagate: listen to it directly.
    server.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO):
            login_as(client, tanaka)
            client.post(reverse("cases:client_search"), {"q": "山本 太郎"})
            client.post(reverse("cases:caseload"), {"q": "やまもと"})
            client.post(reverse("cases:client_pick"), {"q": "ﾔﾏﾓﾄ"})
            client.post(reverse("referrals:records"), {"q": "山本"})
            # Refused requests are logged by django.request with their path.
            client.get(reverse("cases:client_pick"), {"q": "山本 太郎"})  # 405
            client.get("/no-such-page/", {"q": "山本 太郎"})  # 404
            # A request line as runserver writes it (django.core.servers.basehttp).
            server.info(
                '"%s" %s %s', f"GET /cases/clients/?{urlencode({'q': '山本'})} HTTP/1.1", 200, 9
            )
            server.info(f"GET /cases/?q={quote('やまもと')} HTTP/1.1")
    finally:
        server.removeHandler(caplog.handler)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert '"GET /cases/clients/ HTTP/1.1" 200 9' in logged  # the line kept, its query gone
    assert "GET /cases/ HTTP/1.1" in logged
    assert "Method Not Allowed (GET): /cases/clients/pick/" in logged
    assert "Not Found: /no-such-page/" in logged
    assert names_in(logged) == []
    assert "q=" not in logged


# --- The access logs of real servers ---------------------------------------------------------


class Server:
    """A real web server on a free port of 127.0.0.1, its output in files, stopped (and so its
    logs flushed) by ``stop``."""

    def __init__(self, tmp_path: Path, command: list[str]):
        self.tmp_path = tmp_path
        self.port = free_port()
        self.output = tmp_path / "output.log"
        self.access_log = tmp_path / "access.log"
        args = [arg.format(port=self.port, access_log=self.access_log) for arg in command]
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_ENV", "PYTEST_XDIST_WORKER", "TSUNAGU_VAR_DIR"}
        } | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": this_runs_database_url(),
            "SECRET_KEY": SECRET_KEY,
            "DEBUG": "false",
            "DB_CONN_MAX_AGE": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "TSUNAGU_VAR_DIR": str(tmp_path / "var"),
            "LOG_LEVEL": "INFO",
        }
        (tmp_path / "var").mkdir()
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(  # the project's own servers
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert self.proc.poll() is None, f"the server exited:\n{self.logs()}"
            try:
                if Browser().get(self.port, "/health/").status == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"not up:\n{self.logs()}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def logs(self) -> str:
        files = (self.output, self.access_log)
        return "\n".join(f.read_text(errors="replace") for f in files if f.exists())


def search_as_a_caseworker_would(port: int, username: str) -> None:
    """Log in, then every search by name, POSTed as the pages send it; then an old bookmark
    with a name in its query, and a Referer with one."""
    browser = Browser()
    browser.log_in(port, username)
    search = reverse("cases:client_search")
    token = browser.get(port, search).csrf_token()
    found = browser.post(port, search, {"q": "山本 太郎", "csrfmiddlewaretoken": token})
    assert found.status == 200, found.text[:500]
    assert "山本 太郎" in found.text  # the search did find him: the name went somewhere
    for path, typed in (
        (reverse("cases:caseload"), "やまもと"),
        (reverse("cases:client_pick"), "ﾔﾏﾓﾄ"),
        (reverse("referrals:records"), "山本"),
        (reverse("referrals:records_csv"), "山本"),
    ):
        answer = browser.post(port, path, {"q": typed, "csrfmiddlewaretoken": token})
        assert answer.status == 200, (path, answer.status, answer.text[:500])
    # An old bookmark (the name in the query) still reaches the server.
    assert browser.get(port, f"{search}?{urlencode({'q': '山本 太郎'})}").status == 200
    # A page opened from a URL with a name: the browser sends it as the Referer.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(
            "GET",
            "/health/",
            headers={
                "Host": "127.0.0.1",
                "Referer": f"http://127.0.0.1:{port}{search}?q={quote('やまもと')}",
            },
        )
        assert conn.getresponse().status == 200
    finally:
        conn.close()


@pytest.fixture
def caseworker(tanaka, yamamoto):
    open_case_for(tanaka, "青木 二郎", "アオキ ジロウ")
    give_a_password_the_servers_know(tanaka)
    return tanaka


GUNICORN = [
    str(Path(sys.executable).with_name("gunicorn")),
    "--config",
    "config/gunicorn.py",
    "config.wsgi",
    "--bind",
    "127.0.0.1:{port}",
    "--workers",
    "1",
    "--access-logfile",
    "{access_log}",
    "--no-control-socket",
]
RUNSERVER = [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:{port}"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("command", "request_line"),
    [
        # gunicorn writes the access log production keeps
        (GUNICORN, '"POST /cases/clients/ HTTP/1.1" 200'),
        # runserver's request lines (django.server)
        (RUNSERVER, '"POST /cases/clients/ HTTP/1.1" 200'),
    ],
    ids=["gunicorn", "runserver"],
)
def test_a_servers_logs_keep_no_name_after_a_real_search(
    tmp_path, caseworker, command, request_line
):
    server = Server(tmp_path, command)
    try:
        server.wait_until_up()
        search_as_a_caseworker_would(server.port, "tanaka")
    finally:
        server.stop()
    logs = server.logs()

    # The requests are there (the log is real), without their query strings.
    assert request_line in logs, logs[-3000:]
    assert '"GET /cases/clients/ HTTP/1.1" 200' in logs, logs[-3000:]  # the bookmark
    assert f'"POST {reverse("referrals:records_csv")} HTTP/1.1" 200' in logs
    assert names_in(logs) == [], logs[-3000:]
    assert "q=" not in logs
