"""Who may reach which URL: every persona × every URL, each cell its own test.

The URLs, their audiences and their forms are the rows of ``tests/matrix/registry.py``, shared
with ``test_access_matrix``; the world and the personas are in ``tests/matrix/world.py`` and
``personas.py``. A view without a registry row fails ``test_every_url_has_a_registry_row``, a
row whose view is gone ``test_every_registry_row_still_exists``.

This module requests every row that shows no client data, and every POST-only view; the rows
that show client data are requested by ``test_access_matrix`` for every persona in every
consent state, with the same expected statuses and the gate's own checks on top.

Each cell (test id ``persona-urlname``) is one request, in a savepoint rolled back after it, on
the world built once for the module. Client-bound URLs are requested with the objects of the
client whose consent state is ``PERMISSION_STATE``. A cell checks:

- the status: the row's ``ok`` for its audience, 403 for ``forbidden``, else 404; no login: the
  login page (the open pages aside);
- a GET writes nothing (the access log aside);
- a POST-only view answers a GET with 405 (no login: the login page), and its POST sends the
  real form: refused, it writes nothing at all and the rows it would write are as they were;
  allowed, it answers ``ok`` and those rows moved for ``writes``, and only for them;
- no client's record leaks: no sentinel at all on a page that shows no client data, none the
  persona may not see on the others.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.matrix.http import (
    body_of,
    http_client,
    leaks,
    path_of,
    seen,
    send,
    sent_to_login,
    writes,
    written,
)
from tests.matrix.personas import PERSONAS
from tests.matrix.registry import (
    FORBIDDEN,
    LOGIN,
    NAMES,
    NOT_FOUND,
    PERMISSION_STATE,
    REGISTRY,
    REQUESTS,
    Url,
)
from tests.matrix.world import world_for_module

# Namespaces outside the matrix: the Django admin (covered by test_accounts).
EXCLUDED_NAMESPACES = frozenset({"admin", "djdt"})


def resolver_names(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    """Every named URL of the project's own apps."""
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= resolver_names(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_url_has_a_registry_row():
    missing = resolver_names() - NAMES
    assert not missing, f"add these URLs to tests/matrix/registry.py: {sorted(missing)}"


def test_every_registry_row_still_exists():
    gone = NAMES - resolver_names()
    assert not gone, f"these URLs are gone: drop their rows from the registry: {sorted(gone)}"


# The rows that show no client data, and every POST (those that show client data are requested
# in every consent state by test_access_matrix, which checks the gate and the access log).
URLS = [url for url in REGISTRY if not url.shows_client_data or url.method == "POST"]
CELLS = [
    pytest.param(persona, url.key, id=f"{persona}-{url.key}")
    for url in URLS
    for persona in PERSONAS
]


def test_the_matrix_counts():
    posts = sum(1 for url in URLS if url.method == "POST")
    print(
        f"permission matrix: {len(CELLS)} cells: {len(URLS)} requests ({posts} POST, each also "
        f"a GET answered 405) × {len(PERSONAS)} personas"
    )
    assert len(CELLS) >= 1900


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_for_module(django_db_blocker) as built:
        yield built


def _status_problem(response, want) -> str | None:
    status, location = response.status_code, response.get("Location", "")
    if want == LOGIN:
        if not sent_to_login(response):
            return f"status {status} {location}, expected the login page"
    elif status != want:
        return f"status {status} {location}, expected {want}"
    return None


def _post_problems(url: Url, persona: str, state, allowed: bool, wrote: dict, rows) -> list:
    """A refused POST writes nothing and leaves its rows; an allowed one moves its rows for
    ``writes`` only."""
    before, after = rows
    if not allowed:
        problems = [f"a refused POST wrote {wrote}"] if wrote else []
        if after != before:
            problems.append(f"a refused POST changed {before} → {after}")
        return problems
    if url.unchanged is None:
        return []
    if url.writes(persona, state) and after == before:
        return [f"the POST did not change {before}"]
    if after != before and not url.writes(persona, state):
        return [f"the POST changed {before} → {after}"]
    return []


# The views a GET row shows: a POST to one of them is a variant (a search), not a POST-only view.
SHOWN_BY_A_GET = {url.name for url in REQUESTS.values() if url.method == "GET"}


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "key"), CELLS)
def test_permission(world, persona, key):
    url = REQUESTS[key]
    state = PERMISSION_STATE if url.client_bound else None
    want = url.expected(persona, state)
    problems = []
    if url.method == "POST" and url.name not in SHOWN_BY_A_GET and not url.open:
        # a POST-only view answers a GET with 405: it reveals nothing (a POSTed search of a
        # page that a GET shows, e.g. a search by name, is a variant of a GET row)
        response = http_client(world, persona).get(path_of(url, world, state))
        problem = _status_problem(response, LOGIN if want == LOGIN else 405)
        problems += [f"GET: {problem}"] if problem else []

    rows_before = url.unchanged(world, state) if url.unchanged else None
    before = writes()
    response = send(url, world, persona, state)
    wrote = written(before, writes())
    rows_after = url.unchanged(world, state) if url.unchanged else None

    problem = _status_problem(response, want)
    problems += [problem] if problem else []
    if url.method == "GET" and wrote:
        problems.append(f"a GET wrote {wrote}")
    if url.method == "POST":
        allowed = want not in (LOGIN, FORBIDDEN, NOT_FOUND)
        problems += _post_problems(url, persona, state, allowed, wrote, (rows_before, rows_after))
    body = body_of(response)
    if not url.shows_client_data and seen(body):
        problems.append(f"a page without client data shows {seen(body)}")
    problems += [f"leaks {leak}" for leak in leaks(body, persona, url.name)]
    assert not problems, f"{persona} {url.method} {key}: " + "; ".join(problems)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_write_count_sees_a_write(world):
    """The "nothing written" checks count on PostgreSQL's per-transaction statistics: they
    must see a row written in this savepoint (else every refused POST would pass)."""
    from agencies.models import Membership

    before = writes()
    Membership.objects.filter(public_id=world["H_cw_membership"]).update(is_active=False)
    assert written(before, writes()) == {"agencies_membership": 1}


@pytest.mark.django_db
def test_the_council_member_picker_is_a_404_without_a_council_or_with_a_bad_one(world):
    client = http_client(world, "H-supervisor")
    path = reverse("agencies:pick", args=["council-member"])
    some_case = str(world["states"][PERMISSION_STATE]["case"])
    for params in ({}, {"council": "not-a-uuid"}, {"council": some_case}):
        assert client.get(path, {"q": "じりつ", **params}).status_code == NOT_FOUND, params
