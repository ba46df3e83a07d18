"""The consent gate on every path (issue 7): every URL that shows client data × persona × consent
state, and no leak.

The URLs are the rows of ``tests/matrix/registry.py`` that show client data (``client_data``,
and every client-bound row); the world, the personas, the five consent states, the sentinels and
the oracle are in ``tests/matrix/world.py`` and ``personas.py``. The world is built once per
module, through the services, in one transaction rolled back when the module ends; each test is
one persona's cells of one URL (test id ``persona-urlname``), in a savepoint rolled back after
it. The rows that show no client data, and what a POST writes when it is allowed, are checked by
``test_permission_matrix``, which also asserts that those pages show no sentinel at all.

A client-bound URL is requested once per consent state (by default thinned: see ``states_for``),
any other once. Each cell is one request (GET, or the POST-only view's real form) and checks:

- the status: the row's own for who may open it (200 or 302 for a POST: a service may refuse it
  in one state and not another), a deliberate 403 where a service refuses a side of a referral
  an action, else 404; no login: the login page;
- no sentinel of a category the oracle denies, for any of the five clients, in any response
  (404 pages and redirects included);
- on the live view: every category has its section, shown on the oracle's basis with the live
  record in it, or withheld as 同意なし;
- the access log: a look from outside H written with its basis and categories, whatever a page
  showed an outsider logged for that page, a refusal of anyone signed in logged as denied, the
  holder's own looks not logged;
- a refused POST writes nothing (the access log aside) and leaves its rows as they were; a GET
  writes nothing but the access log.

By default a persona meets, on most pages, one state per distinct answer of the oracle rather
than all five (see ``states_for``); ``ACCESS_MATRIX_FULL=1`` runs the whole cross product.

Findings the matrix made are in ``KNOWN_GAPS``: those cells must still show exactly that problem
(so a fix makes the test fail until its row is dropped); any other problem fails as usual.
"""

import os
import re
from dataclasses import dataclass, field

import pytest
from django.db.models import Max
from django.urls import reverse

from tests.matrix.http import body_of, leaks, seen, send, sent_to_login, writes, written
from tests.matrix.personas import (
    ALL,
    BASIC,
    PERSONAS,
    SENT,
    STATES,
    Audience,
    holder,
    oracle,
    sentinels,
)
from tests.matrix.registry import LOGIN, REGISTRY, Url
from tests.matrix.world import world_for_module

# Every request of a row that shows client data, by key (name, or name@variant).
ACCESS: dict[str, Url] = {url.key: url for url in REGISTRY if url.shows_client_data}
CLIENT_BOUND = [key for key, url in ACCESS.items() if url.client_bound]

# The whole cross product is about 11,000 requests. By default it is thinned where the state
# cannot change what the persona may see: each persona is requested in one state per distinct
# answer of the oracle — the state taken in turn, from URL to URL and persona to persona, among
# the states that share that answer — so L's caseworker meets "some", "emergency" and one of the
# three where it sees nothing on every page, and every state on many. Every state is requested
# for everyone on the pages where the gate decides for whoever asks (GATE_ROWS), and for no
# login. ACCESS_MATRIX_FULL=1 requests the whole cross product.
FULL = os.environ.get("ACCESS_MATRIX_FULL", "") == "1"
GATE_ROWS = frozenset(
    {
        "referrals:shared_record",
        "referrals:detail@L",
        "referrals:detail@J",
        "councils:agenda_add@client",
        "councils:agenda_withdraw",
    }
)


def states_for(key: str, persona: str) -> tuple[str | None, ...]:
    if not ACCESS[key].client_bound:
        return (None,)
    if FULL or key in GATE_ROWS or persona == "anonymous":
        return STATES
    answers: dict[tuple, list[str]] = {}
    for state in STATES:
        answers.setdefault(tuple(sorted(oracle(persona, state).items())), []).append(state)
    turn = CLIENT_BOUND.index(key) + PERSONAS.index(persona)
    chosen = {states[turn % len(states)] for states in answers.values()}
    return tuple(state for state in STATES if state in chosen)


CELLS = [
    pytest.param(persona, key, id=f"{persona}-{key}") for key in ACCESS for persona in PERSONAS
]
REQUESTS = sum(len(states_for(key, persona)) for key in ACCESS for persona in PERSONAS)


def test_the_matrix_has_at_least_4000_requests():
    client_bound = sum(len(states_for(k, p)) for k in CLIENT_BOUND for p in PERSONAS)
    print(
        f"access matrix: {REQUESTS} requests in {len(CELLS)} tests ({client_bound} client-bound,"
        f" {len(CLIENT_BOUND)} URLs; {REQUESTS - client_bound} without a client, "
        f"{len(ACCESS) - len(CLIENT_BOUND)} URLs; {len(PERSONAS)} personas; full: {FULL})"
    )
    assert REQUESTS >= 4000


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_for_module(django_db_blocker) as built:
        yield built


# --- Known gaps (findings of this matrix) -----------------------------------------------------


NOT_LOGGED = "refused without a denied access-log entry"

# key: (who, problem, why). These cells must still show exactly that problem (so a fix makes
# the test fail until the row is dropped); any other problem fails as usual.
KNOWN_GAPS: dict[str, tuple[Audience, str, str]] = {}


# --- One cell ------------------------------------------------------------------------------------

SECTION = re.compile(r'<section[^>]*data-category="(\w+)"[^>]*>(.*?)</section>', re.DOTALL)
BASIS = re.compile(r'data-basis="(\w+)"')


def _live_view_problems(body: str, persona: str, state: str) -> list[str]:
    """Every category has its section: shown with its basis iff allowed, else 同意なし; what
    is shown holds the live record (the sentinels), so the check above has teeth."""
    allowed = oracle(persona, state)
    sections = dict(SECTION.findall(body))
    problems = []
    if sorted(sections) != sorted(ALL):
        problems.append(f"sections {sorted(sections)} ≠ every category")
    for category, inner in sections.items():
        basis = BASIS.search(inner)
        if category in allowed:
            if "data-withheld" in inner or basis is None or basis.group(1) != allowed[category]:
                problems.append(f"{category} should show on basis {allowed[category]}")
            missing = [s for s in sentinels(state).get(category, ()) if s not in inner]
            if missing:
                problems.append(f"{category} shown without the live record {missing}")
        elif "data-withheld" not in inner or "同意なし" not in inner or basis is not None:
            problems.append(f"{category} should be withheld (同意なし)")
    return problems


@dataclass
class Cell:
    key: str
    persona: str
    state: str | None
    label: str = ""
    path: str = ""
    status: int = 0
    seen: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.label} × {self.persona} × {self.state}: {'; '.join(self.problems)}"


def _check_status(cell: Cell, url: Url, response) -> None:
    status, location = response.status_code, response.get("Location", "")
    want = url.expected(cell.persona, cell.state)
    if want == LOGIN:
        if not sent_to_login(response):
            cell.problems.append(f"status {status}, not the login page")
    elif url.method == "POST" and want in (200, 302):
        # allowed: done (302), or told on the page why not in this state (200); the exact
        # answer in the permission matrix's state is checked there
        if status not in (200, 302) or location.startswith(reverse("login")):
            cell.problems.append(f"status {status} {location}, expected 200/302")
    elif status != want:
        cell.problems.append(f"status {status} {location}, expected {want}")


def _run_cell(world: dict, url: Url, persona: str, state: str | None) -> Cell:
    cell = Cell(url.key, persona, state)
    refused_post = url.method == "POST" and url.expected(persona, state) in (LOGIN, 403, 404)
    if refused_post:
        rows_before = url.unchanged(world, state) if url.unchanged else None
        before = writes()
    response = send(url, world, persona, state)
    if refused_post:
        wrote = written(before, writes())
        if wrote:
            cell.problems.append(f"a refused POST wrote {wrote}")
        if url.unchanged and url.unchanged(world, state) != rows_before:
            cell.problems.append("a refused POST changed its rows")
    cell.path = response.request["PATH_INFO"]
    cell.label = f"{url.key} {url.method} {cell.path}{'?…' if url.query else ''}"
    cell.status = response.status_code
    _check_status(cell, url, response)
    body = body_of(response)
    cell.seen = seen(body)
    cell.problems += [f"leaks {leak}" for leak in leaks(body, persona, url.name)]
    if url.name == "referrals:shared_record" and response.status_code == 200:
        cell.problems += _live_view_problems(body, persona, state)
    # the holder's own page shows the live record: the sentinels are real
    holders_page = url.name == "cases:client" and response.status_code == 200
    if holders_page and sentinels(state)[BASIC][0] not in body:
        cell.problems.append("the holder's page does not show the client's name")
    return cell


def _check_access_log(world: dict, url: Url, cells: list[Cell], since: int) -> None:
    """Looks from outside H are logged with their basis and categories; refusals of anyone
    signed in as denied; the holder's own looks not at all. One query for the whole test."""
    from audit.models import AccessEntry

    persona = cells[0].persona
    if persona == "anonymous":
        return
    user = world["users"][persona]
    by_client: dict[int, list] = {}
    for entry in AccessEntry.objects.filter(id__gt=since, user=user).order_by("id"):
        by_client.setdefault(entry.client_id, []).append(entry)
    for cell in cells:
        state = cell.state
        entries = by_client.get(world["states"][state]["client_pk"], [])
        got = [(e.outcome, e.categories, e.basis) for e in entries]
        refused = cell.status in (403, 404)
        if holder(persona) and not refused:
            if entries:
                cell.problems.append(f"the holder's own look was logged: {got}")
        elif refused:
            logged = any(e.outcome == "denied" for e in entries)
            if not logged and not url.unlogged(persona, state):
                cell.problems.append(NOT_LOGGED)
        elif url.name == "referrals:shared_record":
            # the page was shown (with placeholders at least): "shown", with what it showed
            allowed = oracle(persona, state)
            want = (
                "shown",
                [c for c in ALL if c in allowed],
                ",".join(sorted(set(allowed.values()))),
            )
            if got != [want]:
                cell.problems.append(f"access log {got}, expected [{want}]")
        elif url.name == "referrals:detail" and cell.status == 200:
            # the receiver's own copy of what crossed (accepted): logged as provided
            want = ("shown", [c for c in ALL if c in SENT[state]], "provided")
            if got != [want]:
                cell.problems.append(f"access log {got}, expected [{want}]")


def _known(key: str, persona: str, cells: list[Cell]) -> list[str]:
    """Take a known gap's problem off its cells; a gap that no longer shows is a problem."""
    gap = KNOWN_GAPS.get(key) or KNOWN_GAPS.get(key.split("@")[0])
    if gap is None or not gap[0](persona):
        return []
    found = False
    for cell in cells:
        if gap[1] in cell.problems:
            cell.problems.remove(gap[1])
            found = True
    return [] if found else [f"known gap fixed? {key} × {persona}: drop it from KNOWN_GAPS"]


def _last_access_entry() -> int:
    from audit.models import AccessEntry

    return AccessEntry.objects.aggregate(m=Max("id"))["m"] or 0


def _looks_logged(world: dict, cells: list[Cell], since: int) -> None:
    """Whatever of a client a page showed someone outside H, on any page, was logged for that
    page: an entry for the client, on that address, shown, covering what the page held."""
    from audit.models import AccessEntry

    persona = cells[0].persona
    # H's own dispatched supporter is shown the household's name on its own screens, unlogged
    own_staff = holder(persona) or persona == "H-dispatched"
    if persona == "anonymous" or own_staff or not any(c.seen for c in cells):
        return
    entries = list(AccessEntry.objects.filter(id__gt=since, user=world["users"][persona]))
    for cell in cells:
        for state, categories in cell.seen.items():
            client_pk = world["states"][state]["client_pk"]
            if not any(
                e.client_id == client_pk
                and e.path == cell.path
                and e.outcome == "shown"
                and set(categories) <= set(e.categories)
                for e in entries
            ):
                cell.problems.append(f"showed {state}/{categories} without logging the look")


def _council_page_log(world: dict, cell: Cell, since: int) -> None:
    """The 支援会議 session page shows every person on its agenda through the gate: one entry
    per person for a member outside H (what it showed, on what basis) and for a system admin
    (nothing shown); none for H's own staff."""
    from audit.models import AccessEntry

    persona = cell.persona
    if cell.status != 200 or persona == "anonymous":
        return
    entries = AccessEntry.objects.filter(id__gt=since, user=world["users"][persona])
    got = sorted((e.client_id, e.outcome, tuple(e.categories), e.basis) for e in entries)
    want = []
    if not holder(persona):
        for state in STATES:
            allowed = oracle(persona, state)
            want.append(
                (
                    world["states"][state]["client_pk"],
                    "shown" if allowed else "denied",
                    tuple(c for c in ALL if c in allowed),
                    ",".join(sorted(set(allowed.values()))),
                )
            )
    if got != sorted(want):
        cell.problems.append(f"access log {got}, expected {sorted(want)}")


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "key"), CELLS)
def test_access(world, persona, key):
    """One persona's cells of one URL (a savepoint each test: a permitted POST may change the
    world; the next test finds it as it was)."""
    url = ACCESS[key]
    states = states_for(key, persona)
    # ids only grow: entries of a rolled-back test are gone, the next ones are above this
    since = _last_access_entry()
    before = writes()
    cells = [_run_cell(world, url, persona, state) for state in states]
    problems = []
    if url.method == "GET" and (wrote := written(before, writes())):
        problems.append(f"{key} × {persona}: a GET wrote {wrote}")
    _looks_logged(world, cells, since)
    if url.client_bound:
        _check_access_log(world, url, cells, since)
    elif url.name == "councils:session":
        _council_page_log(world, cells[0], since)
    problems += _known(key, persona, cells)
    problems += [str(c) for c in cells if c.problems]
    assert not problems, "\n".join(problems)
