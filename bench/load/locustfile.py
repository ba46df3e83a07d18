"""The simulated caseworkers and supervisors of ``bench/load`` (a locustfile).

``bench/load`` runs these users in its own process against the gunicorn it starts. They can
also be pointed at a running server by hand, with locust's web UI or headless::

    LOAD_ACCOUNTS=var/bench/load_100000/load_accounts.json \\
        .venv/bin/locust -f bench/load/locustfile.py --host http://127.0.0.1:8000

``LOAD_ACCOUNTS`` is the file ``bench/load`` writes (the accounts, their password and second
factor, the clients each one works with). ``LOAD_BEHIND_TLS=0`` for a server that is not told
it sits behind a TLS proxy (a development server); the default, 1, sends what the proxy in
front of a production Tsunagu sends.

Each user logs in through the login form as a person does (the CSRF token from the page, a TOTP
code when the login asks for one), once, and then works: think 1–5 s, do one thing, each thing a
page and what the browser requests with it (htmx fragments that load with the page, a section
opened, the form typed into). Every answer is checked: a status other than the one a browser
expects, a redirect to the login page or a form error is a failure with the reason. A login
that fails stops the whole run at once, loudly: with django-axes on, retrying would lock the
address out for everyone.
"""

import hashlib
import hmac
import json
import os
import random
import re
import struct
import sys
import time
from collections.abc import Callable
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import gevent
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from page import Page, route  # bench/load is not a package: its folder is on the path

ACCOUNTS = json.loads(Path(os.environ.get("LOAD_ACCOUNTS", "load_accounts.json")).read_text())
BEHIND_TLS = os.environ.get("LOAD_BEHIND_TLS", "1") != "0"
LOGIN_PATH = "/accounts/login/"
HOME_PATH = "/cases/"
CLIENT_SEARCH_PATH = "/cases/clients/"
INCOMING_PATH = "/referrals/incoming/"
OUTGOING_PATH = "/referrals/outgoing/"
RECORDS_PATH = "/referrals/records/"
NOTIFICATIONS_PATH = "/reminders/"
# What a caseworker writes straight after a call or a visit.
SUMMARIES = [
    "電話で近況を確認。生活費の見通しについて次回面談で整理することにした。",
    "来所面談。ハローワークの求人票を一緒に確認し、応募書類の準備を進める。",
    "家族から電話。本人は最近、昼間に外出できる日が増えてきたとのこと。",
    "家計の状況を聞き取り。滞納している家賃について大家さんと相談する予定。",
    "居場所のプログラムに初めて参加。次回も参加したいと話していた。",
]


# --- what the driver reads ---------------------------------------------------------------------

# Accounts are handed out in order, each to one simulated user.
_queues = {
    role: [account for account in ACCOUNTS["users"] if account["role"] == role]
    for role in ("caseworker", "supervisor")
}
logins = {"done": 0, "failed": None}


def login_failed(reason: str, environment) -> None:
    """Stop everything: one failed login is a broken bench, and retrying would only add
    failures that django-axes counts against 127.0.0.1 (5 lock the address out)."""
    if logins["failed"] is None:
        logins["failed"] = reason
        print(f"\nLOGIN FAILED: {reason}\nThe run stops here.\n", file=sys.stderr, flush=True)
        environment.process_exit_code = 1
        if environment.runner is not None:
            gevent.spawn(environment.runner.quit)
    raise StopUser


@events.quitting.add_listener
def _exit_code(environment, **_kwargs) -> None:
    if environment.stats.total.num_failures or logins["failed"]:
        environment.process_exit_code = 1


def totp(key_hex: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238, as django-otp's TOTPDevice checks it (SHA-1, 30 s, 6 digits)."""
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


def hiragana(katakana: str) -> str:
    """How a caseworker types a reading: ヤマダ → やまだ."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


class BehindTLSCookies(DefaultCookiePolicy):
    """Send Secure cookies (the session, the CSRF cookie) over the plain HTTP to 127.0.0.1:
    the bench stands where the TLS-terminating proxy would, so the browser's side is HTTPS."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


# --- one person in a browser -------------------------------------------------------------------


class Staff(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 5)
    # A person's browser keeps a few connections open; so does this one.
    concurrency = 4
    # A login hashes the password (PBKDF2, about a second of a core, several on a busy machine)
    # and they queue at the start: a slow answer is a figure, a timeout an error.
    connection_timeout = 60.0
    network_timeout = 180.0

    def on_start(self) -> None:
        queue = _queues[self.role]
        if not queue:
            login_failed(f"more {self.role} users started than accounts prepared", self.environment)
        self.account = queue.pop(0)
        self.origin = f"{'https' if BEHIND_TLS else 'http'}://{urlsplit(self.host).netloc}"
        if BEHIND_TLS:
            self.client.cookiejar.set_policy(BehindTLSCookies())
        self.csrf = ""
        self.current = HOME_PATH
        try:
            self.log_in()
        except StopUser:
            raise
        except Exception as error:  # any surprise while logging in stops the run too
            login_failed(f"{self.account['username']}: {error!r}", self.environment)
        logins["done"] += 1

    # --- requests as the browser sends them

    def headers(self, *, htmx: str | None = None, post: bool = False) -> dict[str, str]:
        headers = {"Accept-Language": "ja", "Referer": self.origin + self.current}
        if BEHIND_TLS:
            # What the TLS-terminating proxy in front of gunicorn adds (SECURE_PROXY_SSL_HEADER).
            headers["X-Forwarded-Proto"] = "https"
        if post:
            headers["Origin"] = self.origin
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if htmx is not None:
            headers.update({"HX-Request": "true", "HX-Current-URL": self.origin + self.current})
            if htmx:
                headers["HX-Target"] = htmx
            if post and self.csrf:
                headers["X-CSRFToken"] = self.csrf  # from <body hx-headers>, as htmx sends it
        return headers

    def get(
        self, path: str, name: str, *, htmx: str | None = None, verify: Callable | None = None
    ) -> Page:
        """GET ``path`` (200 expected); a full page (``htmx`` None) becomes the current page,
        and what it loads by itself (hx-trigger "load": the notification badge, the timeline)
        is requested too."""
        with self.client.get(
            path,
            name=name,
            headers=self.headers(htmx=htmx),
            allow_redirects=False,
            catch_response=True,
        ) as response:
            page = Page(self.check(response, 200, verify))
        if htmx is None:
            self.current = path
            self.csrf = page.csrf_header or self.csrf
            for element in page.triggered_by("load"):
                self.fragment(element)
        return page

    def post(
        self,
        path: str,
        name: str,
        data: list,
        *,
        htmx: str | None = None,
        expect: int,
        verify: Callable | None = None,
    ):
        with self.client.post(
            path,
            name=name,
            data=urlencode(data),
            headers=self.headers(htmx=htmx, post=True),
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self.check(response, expect, verify)
            return response

    def fragment(self, element) -> Page:
        return self.get(element.url, f"{route(element.url)} (htmx)", htmx=element.target_id)

    def check(self, response, expect: int, verify: Callable | None = None) -> str:
        """The body, or the request marked failed with why: an unexpected status, or what
        ``verify(response)`` finds wrong with the answer."""
        status = response.status_code
        if status != expect:
            where = response.headers.get("Location", "") if 300 <= status < 400 else ""
            if LOGIN_PATH in where:
                response.failure(f"HTTP {status}: sent to the login page (session lost)")
            else:
                response.failure(f"HTTP {status} (expected {expect}) {where}".strip())
            return ""
        wrong = verify(response) if verify else None
        if wrong:
            response.failure(wrong)
            return ""
        response.success()
        return response.text or ""

    # --- logging in

    def log_in(self) -> None:
        username = self.account["username"]
        page = self.get(LOGIN_PATH, "login: form")
        form = page.form_with("password")
        if form is None:
            login_failed(f"{username}: no login form at {LOGIN_PATH}", self.environment)
        for asset in page.assets:  # the first visit fetches the CSS and scripts (WhiteNoise)
            with self.client.get(
                asset,
                name="static files (first visit)",
                headers=self.headers(),
                allow_redirects=False,
                catch_response=True,
            ) as response:
                self.check(response, 200)
        data = form.values(username=username, password=ACCOUNTS["password"])
        response = self.post(LOGIN_PATH, "login: password", data, expect=302)
        if response.status_code == 429:
            login_failed(
                f"{username}: locked out (HTTP 429, django-axes). Earlier failed logins from "
                "127.0.0.1 are counted; bench/load clears them in its own database when it "
                "prepares, so run it again after fixing the cause.",
                self.environment,
            )
        if response.status_code == 0:
            login_failed(
                f"{username}: no answer to the login: {getattr(response, 'error', None)!r}",
                self.environment,
            )
        if response.status_code != 302:
            login_failed(
                f"{username}: the login form answered HTTP {response.status_code} instead of "
                "a redirect (a wrong password, or a form that changed?)",
                self.environment,
            )
        self.after_login(response.headers["Location"])

    def after_login(self, location: str) -> None:
        """Follow the redirects after the password, answering a second-factor form on the
        way, until the caseload (home) is reached."""
        username = self.account["username"]
        for _hop in range(6):
            path = urlsplit(location).path + (
                f"?{urlsplit(location).query}" if urlsplit(location).query else ""
            )
            if path.rstrip("?") == HOME_PATH:
                self.get(HOME_PATH, "dashboard (caseload)")
                return
            with self.client.get(
                path,
                name="login: redirect",
                headers=self.headers(),
                allow_redirects=False,
                catch_response=True,
            ) as response:
                response.success()
            if 300 <= response.status_code < 400:
                location = response.headers["Location"]
                continue
            if response.status_code != 200:
                login_failed(
                    f"{username}: {path} answered {response.status_code} after the password",
                    self.environment,
                )
            self.current = path
            location = self.second_factor(path, Page(response.text or ""))
        login_failed(f"{username}: never reached {HOME_PATH} after logging in", self.environment)

    def second_factor(self, path: str, page: Page) -> str:
        """Answer the page the login stopped at with a TOTP code; where it sends us next."""
        username = self.account["username"]
        form = next(
            (f for f in page.forms if any(re.search(r"otp|token|code", n) for n in f.typed)),
            None,
        )
        if form is None:
            login_failed(
                f"{username}: the login stopped at {path}, which asks for nothing this bench "
                "knows how to answer",
                self.environment,
            )
        key = self.account.get("totp_key")
        if not key:
            login_failed(
                f"{username}: {path} asks for a second factor, but the bench gave this "
                f"{self.role} no device (bench/load prepares one where the app requires it)",
                self.environment,
            )
        field = next(n for n in form.typed if re.search(r"otp|token|code", n))
        response = self.post(
            form.action(path),
            "login: second factor",
            form.values(**{field: totp(key)}),
            expect=302,
        )
        if response.status_code != 302:
            login_failed(
                f"{username}: the second-factor form at {path} answered "
                f"{response.status_code} instead of a redirect (the code refused?)",
                self.environment,
            )
        return response.headers["Location"]

    # --- what both roles do

    def client_page(self, client: dict) -> Page:
        """The client page, its timeline (htmx, on load) and, as often as not, one of the
        closed sections opened."""
        page = self.get(f"/cases/clients/{client['client']}/", "client page")
        closed = page.triggered_by("toggle")
        if closed and random.random() < 0.5:
            section = random.choice(closed)
            self.get(
                section.url,
                f"{route(section.url)} (section, htmx)",
                htmx=section.target_id,
            )
        return page

    def type_into(
        self, form, page_path: str, name: str, target: str, verify=None, **typed: str
    ) -> None:
        """What htmx sends while one types into a search form: GET with the fields in the
        query, or POST (a search kept out of URLs and logs), as the form says."""
        data = form.values(**typed)
        action = form.action(page_path)
        if form.method == "POST":
            self.post(action, name, data, htmx=target, expect=200, verify=verify)
        else:
            self.get(f"{action}?{urlencode(data)}", name, htmx=target, verify=verify)

    @task(1)
    def notifications(self) -> None:
        self.get(NOTIFICATIONS_PATH, "notification centre")


class Caseworker(Staff):
    role = "caseworker"

    @task(4)
    def dashboard(self) -> None:
        self.get(HOME_PATH, "dashboard (caseload)")

    @task(1)
    def filter_caseload(self) -> None:
        """Type a family name into the caseload's filter (htmx swaps the list as one types)."""
        client = random.choice(self.account["clients"])
        page = self.get(HOME_PATH, "dashboard (caseload)")
        form = page.form_with("q")
        if form is not None:
            family = hiragana(client["kana"].split()[0])
            self.type_into(form, HOME_PATH, "caseload filter (htmx)", "caseload-list", q=family)

    @task(3)
    def search_then_open(self) -> None:
        """The client search as htmx sends it while one types: the family name, then the full
        reading, which must find the client (one of the caseworker's own); then the client."""
        client = random.choice(self.account["clients"])
        family, _, given = client["kana"].partition(" ")
        page = self.get(CLIENT_SEARCH_PATH, "client search")
        form = page.form_with("q")
        if form is None:
            return

        def found(response) -> str | None:
            if client["client"] in (response.text or ""):
                return None
            return f"{client['kana']} is not among the results"

        name = "client search: typed (htmx)"
        self.type_into(form, CLIENT_SEARCH_PATH, name, "results", q=hiragana(family))
        full = hiragana(f"{family} {given}".strip())
        self.type_into(form, CLIENT_SEARCH_PATH, name, "results", verify=found, q=full)
        self.client_page(client)

    @task(3)
    def open_from_caseload(self) -> None:
        self.client_page(random.choice(self.account["clients"]))

    @task(2)
    def log_consultation(self) -> None:
        """On the client page, open the quick entry, type a summary and save (htmx), then the
        timeline refreshes (hx-trigger "consultation-logged from:body")."""
        client = random.choice([c for c in self.account["clients"] if c["case"]])
        page = self.client_page(client)
        quick = next((e for e in page.htmx if "/consultations/new/" in e.url), None)
        if quick is None:
            return
        entry = self.get(quick.url, "quick entry form (htmx)", htmx=quick.target_id)
        form = entry.form_with("summary")
        if form is None:
            return
        response = self.post(
            form.action(quick.url),
            "log a consultation (POST, htmx)",
            form.values(summary=random.choice(SUMMARIES)),
            htmx=f"quick-consultation-{client['case']}",
            expect=200,
            verify=saved,
        )
        if response.status_code != 200 or saved(response):
            return
        for element in page.triggered_by("consultation-logged"):
            self.fragment(element)


def saved(response) -> str | None:
    """What is wrong with the quick entry's answer: saved, it says so with an HX-Trigger; not
    saved, it comes back 200 with the form's errors (htmx swaps only 2xx answers)."""
    if response.headers.get("HX-Trigger") == "consultation-logged":
        return None
    text = response.text or ""
    errors = re.findall(r'class="invalid-feedback[^"]*"[^>]*>\s*(?:<strong>)?([^<]+)', text)
    return f"not saved: {'; '.join(e.strip() for e in errors) or 'no HX-Trigger, no field error'}"


class Supervisor(Staff):
    role = "supervisor"

    def on_start(self) -> None:
        super().on_start()
        self.referrals: list[str] = []

    @task(4)
    def incoming(self) -> None:
        """The incoming queue; now and then its next page or another status tab."""
        page = self.get(INCOMING_PATH, "incoming queue")
        self.remember_referrals(page)
        if random.random() < 0.3:
            more = [link for link in page.links if "after=" in link]
            if more:
                # The link is relative ("?after=…"), as the browser resolves it.
                path = urljoin(INCOMING_PATH, more[0])
                self.remember_referrals(self.get(path, "incoming queue: next page"))
        elif random.random() < 0.3:
            tabs = [link for link in page.links if link.startswith("?") and "status=" in link]
            if tabs:
                tab = random.choice(tabs)
                self.get(urljoin(INCOMING_PATH, tab), "incoming queue: status tab")

    def remember_referrals(self, page: Page) -> None:
        found = [link for link in page.links if re.fullmatch(r"/referrals/[0-9a-f-]{36}/", link)]
        if found:
            self.referrals = found

    @task(3)
    def referral(self) -> None:
        if self.referrals:
            self.get(random.choice(self.referrals), "referral")

    @task(2)
    def outgoing(self) -> None:
        self.get(OUTGOING_PATH, "outgoing queue")

    @task(2)
    def agency_caseload(self) -> None:
        self.get(f"{HOME_PATH}?scope=agency", "dashboard (agency caseload)")

    @task(2)
    def open_client(self) -> None:
        self.client_page(random.choice(self.account["clients"]))

    @task(1)
    def records(self) -> None:
        self.get(RECORDS_PATH, "provision records")
