"""Hostile input to every POST form: never a 500, nothing half-saved, the input kept with a
Japanese message.

Every view the URL resolver knows that accepts a POST is walked here or excluded with a reason
(``EXCLUDED``); a new one fails ``test_every_post_view_is_walked_or_excluded``. Each is
requested as a persona its row in ``tests/matrix/registry.py`` allows, on the matrices' world
(``tests/matrix/world.py``). Its form is read from the page that shows it — the view's own page,
or for a POST-only action the page whose form posts to it — and filled in as a person would
(``tests.hostile.values.baseline``); hypothesis then replaces one to three fields with hostile
values (very long text, control characters, NUL, emoji, bytes that are not UTF-8, full-width
digits, impossible dates, huge and negative numbers, values not among the options), leaves them
out or sends them twice. Each example runs in a savepoint rolled back after it. An answer:

- is never a 5xx (the test client raises the view's exception: hypothesis shows the input);
- is a 4xx only for a value no person can type (a tampered select, hidden field or tick box,
  a missing or doubled field);
- that is not a redirect leaves every table as it was: the tables PostgreSQL saw written are
  compared by content, after the request and once it is rolled back (``tests.hostile.database``;
  the access log and the login records aside);
- that shows the form again shows an error (a search aside), in Japanese, and every printable
  value typed;
- that is a redirect after a write stored the typed text as it was sent (``DROPPED`` names
  text a form drops on purpose).

Examples are not shrunk, to keep the time bounded; with CI=true the "ci" profile of
``tests/conftest.py`` draws the same examples every run.
"""

import inspect
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core.japanese import to_katakana
from tests.hostile.database import NOT_THE_FORMS, changed, fingerprint, stored_in
from tests.hostile.html import Field, Form, read_page
from tests.hostile.values import Mutation, Pairs, Value, baseline, encode, mutations
from tests.matrix.http import http_client, path_of, send, writes, written
from tests.matrix.personas import PERSONAS
from tests.matrix.registry import PERMISSION_STATE, REGISTRY, REQUESTS, Url
from tests.matrix.world import world_for_module

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Namespaces outside the walk, as in the permission matrix: the Django admin (its login is the
# app's own, see test_accounts).
EXCLUDED_NAMESPACES = frozenset({"admin", "djdt"})

# POST views not walked here, each with the reason.
EXCLUDED = {
    "logout": "nothing is typed: the button ends the session (test_accounts)",
    "reminders:read": "the world holds no reminder: every POST is a 404 (test_reminders)",
    "password_reset_confirm": "the world's link is not valid, so no form; the valid link's "
    "form is Django's SetPasswordForm (test_roster)",
    "password_change": "asks to sign in again first (two-factor login); the form behind it "
    "is Django's PasswordChangeForm",
    "agencies:system_import": "a file upload and nothing else: bad files are test_imports'",
}
# Whole namespaces, by prefix.
EXCLUDED_PREFIXES = {
    # Being built as this walk was written, without rows in tests/matrix/registry.py yet: drop
    # this line once they have them, and the walk takes them.
    "two_factor:": "the two-factor screens: not in the registry yet",
}


def _excluded(name: str) -> bool:
    return name in EXCLUDED or name.startswith(tuple(EXCLUDED_PREFIXES))


# Who fills a form in: the first persona of this list the URL's row allows.
PREFERRED = (
    "H-caseworker",
    "H-supervisor",
    "H-roster_admin",
    "sysadmin",
    "H-dispatched",
    "L-supervisor",
    "L-caseworker",
    "J-supervisor",
    *PERSONAS,
)


def _accepted_methods(callback) -> frozenset[str] | None:
    """The methods a view accepts, from its ``require_http_methods`` decorator or its class;
    None when it does not say (it may take a POST)."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return frozenset(m.upper() for m in view_class.http_method_names if hasattr(view_class, m))
    function = callback
    while function is not None:
        methods = inspect.getclosurevars(function).nonlocals.get("request_method_list")
        if methods is not None:
            return frozenset(methods)
        function = getattr(function, "__wrapped__", None)
    return None


def post_views(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    """Every named URL of the project whose view may take a POST."""
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= post_views(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            methods = _accepted_methods(pattern.callback)
            if methods is None or "POST" in methods:
                names.add(prefix + pattern.name)
    return names


POST_VIEWS = post_views()
# One request per view: the registry's first POST row, else its first (a referral's is the
# つなぎ to L).
ROWS: dict[str, Url] = {}
for _url in REGISTRY:
    if _url.name not in POST_VIEWS or _excluded(_url.name):
        continue
    if _url.name not in ROWS or (_url.method == "POST" != ROWS[_url.name].method):
        ROWS[_url.name] = _url
WALKED = sorted(ROWS)


def test_every_post_view_is_walked_or_excluded():
    missing = {name for name in POST_VIEWS - set(WALKED) if not _excluded(name)}
    assert not missing, (
        f"POST views neither walked nor excluded: {sorted(missing)} "
        "(add their row to tests/matrix/registry.py, or a reason to EXCLUDED)"
    )
    assert not set(EXCLUDED) - POST_VIEWS, "EXCLUDED names a view that takes no POST any more"


def test_a_view_that_does_not_say_its_methods_counts_as_taking_a_post():
    def undecorated(request):
        return None

    assert _accepted_methods(undecorated) is None


# --- Finding each form -------------------------------------------------------------------------

# The page that shows a POST-only action's form (a registry key); one not named here is looked
# for on the pages of its own app.
FORM_PAGES = {
    "agencies:staff_deactivate": "agencies:manage",
    "agencies:staff_reactivate": "agencies:manage",
    "audit:authentication_unlock": "audit:authentication@unlock",
    "cases:member_remove": "cases:client",
    "cases:plan_update": "cases:plan",
    "cases:plan_goal_add": "cases:plan",
    "cases:plan_goal_remove": "cases:plan",
    "cases:plan_item_add": "cases:plan",
    "cases:plan_item_remove": "cases:plan",
    "cases:plan_items_reorder": "cases:plan",
    "cases:supporter_unassign": "cases:client_supporters",
    "cases:visit_acknowledge": "cases:caseload",
    "consent:emergency_end": "consent:emergency_detail",
    "consent:emergency_review": "consent:emergency_detail",
    "consent:withdraw": "consent:detail",
    "councils:agenda_withdraw": "councils:session",
    "councils:end": "councils:detail",
    "councils:member_leave": "councils:detail",
    "referrals:first_contact": "referrals:detail@L",
    "referrals:message_post": "referrals:detail@L",
    "set_language": "login",
    # the searches, posted so that a name stays out of the URL
    "agencies:system_users": "agencies:system_users",
    "cases:client_search": "cases:client_search",
    "referrals:records": "referrals:records",
}

# Forms the world's pages do not show, posted with the registry's form for the row as the
# baseline (its fields typed as text), each with the reason.
NOT_ON_A_PAGE = {
    "cases:client_access_log": "its filter is in the client page's access-log section",
    "cases:client_first_contact": "shown only before a first contact; the world has visits",
    "cases:plan_create": "the world's case has a draft plan already: a second is refused",
    "referrals:accept": "the world's referrals were accepted: the receiver is told so",
    "referrals:decline": "the world's referrals were accepted: the receiver is told so",
    "referrals:send": "the world's referrals were sent: the sender is told so",
    "referrals:withdraw": "the world's referrals were accepted: the sender is told so",
    "referrals:assign": "the world's referrals are assigned already",
    "referrals:joint_role": "the joint support page shows no form without a consent to J",
    "referrals:joint_policy": "the joint support page shows no form without a consent to J",
    "reminders:read_all": "the world's personas have no reminder: the button is not shown",
    "cases:plan_review": "the world's plan is a draft: its staff are sent back to it",
    "cases:plan_revise": "the world's plan is a draft: its staff are sent back to it",
    "referrals:edit": "the world's referrals were sent: their sender is sent back to them",
    "cases:client_pick": "the picker's search is posted by script as one types (q)",
    "referrals:records_csv": "the CSV of the filter: posted with the filter's q",
    "session_keep_alive": "posted by script before the idle timeout: no fields",
}


def _agency(key: str):
    return lambda world: world["agencies"][key].pk


def _agency_id(key: str):
    """The public id, for the pickers that post it (consent and referral recipients)."""
    return lambda world: str(world["agencies"][key].public_id)


def _client_of(key: str):
    return lambda world: str(world["states"][PERMISSION_STATE][key])


# Values a page cannot give its form: a picker filled in by script (the hidden id behind an
# agency's or a client's name), a name the page leaves blank, a stage other than the current.
OVERRIDES: dict[str, dict] = {
    "login": {"username": "gate-H-caseworker"},
    "agencies:staff_invite": {"username": "hostile-newcomer", "full_name_kana": "アラタ"},
    "agencies:system_agency_create": {"name_kana": "テストキカン", "kind": "npo"},
    "agencies:system_network_create": {"coordinating_agency": _agency("H"), "members": []},
    "agencies:system_network_edit": {"members": [_agency("H")]},
    "cases:case_stage": {"to_stage": "assessment"},
    "cases:meeting_case": {"case": _client_of("case")},
    "cases:meeting_create": {"participant_agencies": [_agency("L")]},
    "cases:meeting_edit": {"participant_agencies": [_agency("L")]},
    "cases:member_add": {"name": "父"},
    "consent:new": {"recipient": _agency_id("U"), "purpose": "meeting"},
    "consent:emergency_new": {"recipient": _agency_id("U")},
    "councils:create": {"chair_agency": _agency("H")},
    "councils:member_add": {"agency": _agency("U")},
    "referrals:new": {"to_agency": _agency_id("L"), "categories": "basic"},
}


@dataclass
class Target:
    url: Url
    persona: str
    path: str
    page: str  # where the form was read: a registry key, or "registry" for NOT_ON_A_PAGE
    form: Form
    baseline: Pairs


def _state(url: Url) -> str | None:
    return PERMISSION_STATE if url.client_bound else None


def _persona(url: Url) -> str | None:
    if url.open:
        return "anonymous"
    return next((p for p in PREFERRED if url.audience(p, _state(url))), None)


def _action_path(form: Form, page_path: str) -> str:
    return urlsplit(form.action).path if form.action else page_path


def _html(response) -> str:
    html = response.get("Content-Type", "").startswith("text/html")
    shown = response.status_code == 200 and html and not response.streaming
    return response.content.decode() if shown else ""


def _forms_posting_to(body: str, page_path: str, path: str) -> list[Form]:
    return [
        form
        for form in read_page(body).forms
        if form.method == "post" and _action_path(form, page_path) == path
    ]


def _pages(url: Url, persona: str) -> list[Url]:
    if url.method != "POST":
        return [url]
    if url.name in FORM_PAGES:
        return [REQUESTS[FORM_PAGES[url.name]]]
    namespace = url.name.partition(":")[0]
    return [
        page
        for page in REGISTRY
        if page.method == "GET"
        and page.name.startswith(f"{namespace}:")
        and page.audience(persona, _state(page))
    ]


def _overrides(url: Url, world: dict) -> dict:
    if url.name in OVERRIDES:
        given = OVERRIDES[url.name]
        return {
            name: [v(world) if callable(v) else v for v in value]
            if isinstance(value, list)
            else (value(world) if callable(value) else value)
            for name, value in given.items()
        }
    return url.data(world, _state(url)) if url.data else {}


def find(url: Url, world: dict) -> Target:
    """The form ``url`` takes, read from the page that shows it, and its valid baseline."""
    persona = _persona(url)
    assert persona is not None, f"nobody may use {url.name}: exclude it with the reason"
    path = path_of(url, world, _state(url))
    overrides = _overrides(url, world)
    if url.name in NOT_ON_A_PAGE:
        form = Form(action=path, method="post")
        form.fields = [Field(name, "text") for name in overrides]
        return Target(url, persona, path, "registry", form, baseline(form, overrides))
    for page in _pages(url, persona):
        response = send(page, world, persona, _state(page))
        page_path = path_of(page, world, _state(page))
        forms = _forms_posting_to(_html(response), page_path, path)
        if forms:
            form = max(forms, key=lambda f: len(f.fields))
            return Target(url, persona, path, page.key, form, baseline(form, overrides))
    pytest.fail(f"no page shows the form of {url.name}: name it in FORM_PAGES or NOT_ON_A_PAGE")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_for_module(django_db_blocker) as built:
        yield built


@pytest.fixture(scope="module")
def targets() -> dict[str, Target]:
    """Each form, read once per module (in the first example's test)."""
    return {}


def post(target: Target, world: dict, pairs: Pairs):
    headers = {"HX-Request": "true", "HX-Target": target.url.htmx} if target.url.htmx else {}
    return http_client(world, target.persona).post(
        target.path,
        encode(pairs),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


# Typed text a successful form may drop on purpose, by form and field, each with the reason.
DROPPED = {
    # typed, then unticked: not urgent after all (cases.forms.visits)
    "cases:my_household": {"urgent_note"},
}

# Searches: the page comes back with results, not an error; what was typed must still be kept
# and nothing written.
SEARCHES = frozenset(
    {"cases:client_search", "cases:client_pick", "referrals:records", "agencies:system_users"}
)

# --- What an answer must be ------------------------------------------------------------------

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
REDIRECTS = frozenset({301, 302, 303})


def _last(pairs: Pairs) -> dict[str, Value]:
    """What a form field reads from a submission: the last value of each name."""
    return dict(pairs)


def _printable(value: Value) -> bool:
    return isinstance(value, str) and value.isprintable()


def _tampered(target: Target, changes: list[Mutation]) -> bool:
    """Whether a change is beyond typing: a value a select, tick box or hidden field does not
    offer, a field left out or sent twice."""
    fields = {f.name: f for f in target.form.fields}
    return any(
        change.op != "replace" or change.name not in fields or fields[change.name].picked
        for change in changes
    )


def problems_of(target: Target, sent: Pairs, changes, response, tables: list[str]) -> list[str]:
    status = response.status_code
    if status >= 500:
        return [f"answered {status}"]
    problems = []
    if 400 <= status < 500 and not _tampered(target, changes):
        problems.append(f"answered {status} to what a person can type")
    if status not in REDIRECTS and tables:
        problems.append(f"answered {status} and wrote {tables} (half-saved)")
    if status == 200:
        problems += _shown_again(target, sent, _html(response))
    return problems


def _shown_again(target: Target, sent: Pairs, html: str) -> list[str]:
    """The form again: an error in Japanese, and every printable value typed kept."""
    page = read_page(html)
    again = [
        form
        for form in page.forms
        if form.method == "post" and _action_path(form, target.path) == target.path
    ]
    if not again:
        return []
    problems = []
    if not page.errors and target.url.name not in SEARCHES:
        problems.append("the form came back without an error")
    elif page.errors and not any(JAPANESE.search(error) for error in page.errors):
        problems.append(f"the errors are not in Japanese: {page.errors}")
    shown = {f.name: f for f in max(again, key=lambda f: len(f.fields)).fields if f.typed}
    for name, value in _last(sent).items():
        field = shown.get(name)
        if field is None or field.kind == "password" or not _printable(value):
            continue
        if field.value != value:
            problems.append(f"{name} was not kept: sent {value[:40]!r}, shown {field.value[:40]!r}")
    return problems


def _stored(target: Target, sent: Pairs, changes: list[Mutation], tables: list[str]) -> list[str]:
    """After a write, the typed text is stored as it was sent (surrounding blanks aside)."""
    if target.page == "registry":
        return []  # the fields' kinds are not known: a date is not text
    fields = {f.name: f for f in target.form.fields}
    last = _last(sent)
    problems = []
    for change in changes:
        field = fields.get(change.name)
        value = last.get(change.name)
        typed_text = field is not None and field.kind in {"text", "textarea", "search"}
        # A picker's text box only searches: the hidden id beside it is what is saved.
        if change.name.endswith("_text") and change.name.removesuffix("_text") in fields:
            continue
        read = change.op == "replace" or (change.op == "twice" and not change.first)
        if not typed_text or not read or not isinstance(value, str):
            continue
        if change.name in DROPPED.get(target.url.name, ()):
            continue
        # Or as the one normaliser of names stores a reading (core.japanese.to_katakana: NFKC).
        as_stored = {value.strip(), to_katakana(value)}
        if value.strip() and not any(stored_in(tables, text) for text in as_stored if text):
            problems.append(f"{change.name}: {value[:40]!r} was saved as something else")
    return problems


# --- The walk ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WALKED)
@settings(
    max_examples=8,
    deadline=None,
    # Bounded time: a failure is reported as found (one to three fields changed), unshrunk.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_input_is_refused_or_kept(world, targets, name, data):
    if name not in targets:
        targets[name] = find(ROWS[name], world)
    target = targets[name]
    changes = data.draw(mutations(target.form, target.baseline), label="changes")
    sent = target.baseline
    for change in changes:
        sent = change.apply(sent)
    with transaction.atomic():
        counts = writes()
        with transaction.atomic():
            response = post(target, world, sent)
            # Only the tables PostgreSQL saw written are compared: as they are now, then as
            # they were (once the request is rolled back).
            touched = sorted(set(written(counts, writes())) - NOT_THE_FORMS)
            after = fingerprint(touched)
            stored = (
                _stored(target, sent, changes, touched) if response.status_code in REDIRECTS else []
            )
            transaction.set_rollback(True)
        tables = changed(fingerprint(touched), after)
        transaction.set_rollback(True)
    problems = problems_of(target, sent, changes, response, tables)
    if tables:
        problems += stored
    assert not problems, f"{name} as {target.persona}: " + "; ".join(problems)


# --- What the walk found, pinned -----------------------------------------------------------


@pytest.mark.parametrize("next_url", ["no-such-page", "-1", "9" * 40, "//evil.example/"])
def test_acknowledging_a_visit_with_a_bad_next_goes_to_the_client(world, next_url):
    """``next`` without a slash was taken for a view name: reverse() failed with a 500."""
    url = REQUESTS["cases:visit_acknowledge"]
    response = http_client(world, "H-caseworker").post(
        path_of(url, world, PERMISSION_STATE), {"next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/cases/clients/{world['states'][PERMISSION_STATE]['client']}/"


def test_a_nul_in_a_consultations_tags_is_a_form_error(world):
    """The tags are cleaned to a list, which hid the NUL from CharField's own check:
    PostgreSQL's JSON refused it with a 500."""
    target = find(ROWS["cases:consultation_new"], world)
    sent = Mutation("tags", "replace", "家族\x00就労").apply(target.baseline)
    before = writes()
    response = post(target, world, sent)
    assert response.status_code == 200
    assert not set(written(before, writes())) - NOT_THE_FORMS
    errors = read_page(response.content.decode()).errors
    assert errors
    assert all(JAPANESE.search(error) for error in errors), errors


def test_assigning_with_a_bad_next_goes_back_to_the_queue(world):
    """The queue's ``next`` too: a string without a slash was taken for a view name."""
    url = REQUESTS["referrals:assign"]
    data = {**url.data(world, None), "next": "no-such-page"}
    response = http_client(world, "L-supervisor").post(path_of(url, world, None), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:incoming")


def test_recording_a_consent_with_a_bad_next_is_no_500(world):
    """The consent form's ``next`` (back to a referral draft): a path, or nowhere."""
    target = find(ROWS["consent:new"], world)
    response = http_client(world, target.persona).post(
        f"{target.path}?next=no-such-page",
        encode(target.baseline),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert "no-such-page" not in response["Location"]
