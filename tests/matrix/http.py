"""Requesting a registry row as a persona, and reading what came back and what it wrote."""

from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from .personas import STATES, may_see, sentinels
from .registry import Url


def sent_to_login(response) -> bool:
    """The login page: a redirect to it, or, for an htmx request, the whole page sent there
    (HX-Redirect, accounts.middleware) rather than the login form swapped into a fragment."""
    login = reverse("login")
    if response.status_code == 302:
        return response.get("Location", "").startswith(login)
    return response.status_code == 200 and response.get("HX-Redirect", "").startswith(login)


def http_client(world: dict, persona: str) -> HttpClient:
    client = HttpClient()
    if persona != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["cookies"][persona]
    return client


def path_of(url: Url, world: dict, state: str | None) -> str:
    kwargs = url.args(world, state) if url.args else None
    return reverse(url.name, kwargs=kwargs)


def send(url: Url, world: dict, persona: str, state: str | None):
    """The request ``url`` stands for (its query, its htmx target, its form), as ``persona``."""
    path = path_of(url, world, state)
    client = http_client(world, persona)
    headers = {"HX-Request": "true", "HX-Target": url.htmx} if url.htmx else {}
    if url.method == "POST":
        data = url.data(world, state) if url.data else {}
        return client.post(path, data, headers=headers)
    query = url.query(world, state) if url.query else None
    return client.get(path, query, headers=headers)


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    text = content.decode("utf-8", errors="replace")
    return text + "\n" + response.get("Location", "")


def seen(body: str) -> dict[str, list[str]]:
    """{state: categories} of the sentinels in ``body``."""
    found: dict[str, list[str]] = {}
    for state in STATES:
        for category, strings in sentinels(state).items():
            if any(s in body for s in strings):
                found.setdefault(state, []).append(category)
    return found


def leaks(body: str, persona: str, name: str) -> list[str]:
    """Sentinels in ``body`` of categories ``persona`` may not see, for every client."""
    found = []
    for state in STATES:
        allowed = may_see(persona, state, name)
        for category, strings in sentinels(state).items():
            if category in allowed:
                continue
            found += [f"{state}/{category}:{s}" for s in strings if s in body]
    return found


# The access log: a look is written there, refusals too; that is no change to the world.
LOOK_TABLES = frozenset({"audit_accessentry"})


def writes() -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this transaction, per table (PostgreSQL's
    own count: every table, one query). Diff two of them to see what a request wrote."""
    if connection.vendor != "postgresql":
        return _fingerprint()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
        )
        return {table: count for table, count in cursor.fetchall() if table not in LOOK_TABLES}


def _fingerprint() -> dict[str, int]:
    """Without PostgreSQL: the audit trail (every sensitive change writes to it) and the
    referral threads (messages are not audited)."""
    from audit.models import AuditEntry
    from referrals.models import ReferralMessage

    return {
        "audit_auditentry": AuditEntry.objects.count(),
        "referrals_referralmessage": ReferralMessage.objects.count(),
    }


def written(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """{table: rows written} between two ``writes()``."""
    return {
        table: after[table] - before.get(table, 0)
        for table in after
        if after[table] != before.get(table, 0)
    }
