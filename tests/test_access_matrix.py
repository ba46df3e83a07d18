"""The consent gate on every path (issue 7): every URL × persona × consent state, and no leak.

The world is built once per module, through the services, inside one transaction that is rolled
back when the module ends (other tests on the same database never see it):

- H (自立相談支援機関) holds five clients, one per consent state; each carries sentinel strings per
  category (基本情報: the name and phone; 相談内容: a consultation's summary and notes; プラン: the
  plan's own words), written *after* the referrals were sent, so what crossed with them (the
  recipients' own records) holds none of them;
- L got an accepted つなぎ from H and J an accepted 共同支援, for every client;
- C sits with H on a 支援会議 whose session (sharing today) has every client on its agenda with
  基本情報 and 世帯の状況;
- U is unrelated; P (no staff) only receives a consent and an emergency disclosure per client,
  so the consent and emergency pages have something to open in every state.

The five states, of the consents to L and J: none (no consent row); some (valid, 基本情報 and
相談内容); withdrawn and expired (all categories, withdrawn through the service or run out
yesterday); emergency (no consent, and an active emergency disclosure of 基本情報 and 心身の状況
to L, J, C and U).

Each agency has a caseworker, a supervisor, a supporter and a roster admin (administrative staff);
then a system admin and no login. ``oracle`` says what each persona may see of each client; it
is written from the law and the data above, not from ``consent.gate``.

Every named URL is either client-bound (its arguments come from one client's objects; each cell
is URL × persona × state) or takes no client (URL × persona, checked against the sentinels of all
five clients). A URL in neither table fails ``test_every_url_is_classified``. Searches, filters
and htmx fragments are rows of their own (``name@variant``).

Each cell is one request (GET, or an empty POST for a POST-only view) and checks:

- the status: 200/302 for who may open it, a deliberate 403 where a service refuses a side of a
  referral an action, else 404; no login: the login page;
- no sentinel of a category the oracle denies, for any of the five clients, in any response
  (404 pages and redirects included);
- on the live view: every category has its section, shown on the oracle's basis with the live
  record in it, or withheld as 同意なし;
- the access log: a look from outside H written with its basis and categories, whatever a page
  showed an outsider logged for that page, a refusal of anyone signed in logged as denied, the
  holder's own looks not logged; a refused POST changes nothing (no audit entry, no message).

By default a persona meets, on most pages, one state per distinct answer of the oracle rather
than all five (see ``states_for``); ``ACCESS_MATRIX_FULL=1`` runs the whole cross product.

Findings the matrix made are in ``KNOWN_GAPS``: those cells must still show exactly that problem
(so a fix makes the test fail until its row is dropped); any other problem fails as usual.
"""

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from consent.models import DataCategory
from tests.conftest import make_agency, make_user, municipality, viewer_for

BASIC = DataCategory.BASIC.value
HOUSEHOLD = DataCategory.HOUSEHOLD.value
CONSULTATION = DataCategory.CONSULTATION.value
HEALTH = DataCategory.HEALTH.value
FINANCE = DataCategory.FINANCE.value
PLAN = DataCategory.PLAN.value
ALL = (BASIC, HOUSEHOLD, CONSULTATION, HEALTH, FINANCE, PLAN)

STATES = ("none", "some", "withdrawn", "expired", "emergency")
AGENCIES = ("H", "L", "J", "C", "U")
ROLES = ("caseworker", "supervisor", "supporter", "roster_admin")
STAFF = tuple(f"{agency}-{role}" for agency in AGENCIES for role in ROLES)
PERSONAS = (*STAFF, "sysadmin", "anonymous")

# --- The oracle: what the law and the data say, independently of consent.gate -----------------

# Valid consents to L and to J today, by state ("withdrawn" and "expired" had all categories).
CONSENTED_TODAY = {"some": (BASIC, CONSULTATION)}
COUNCIL_SHARED = (BASIC, HOUSEHOLD)  # every client, every state, to the council's members
EMERGENCY_SHARED = (BASIC, HEALTH)  # state "emergency" only
EMERGENCY_TO = ("L", "J", "C", "U")
LINKED = ("L", "J")  # an accepted つなぎ (L) or 共同支援 (J) joins their records to H's
# What crossed with the referrals (the recipients' own copy, by state).
SENT = {
    "none": (BASIC,),
    "some": (BASIC, CONSULTATION),
    "withdrawn": ALL,
    "expired": ALL,
    "emergency": (BASIC,),
}


def agency_of(persona: str) -> str | None:
    return persona.split("-")[0] if "-" in persona else None


def role_of(persona: str) -> str | None:
    return persona.split("-")[1] if "-" in persona else None


def works_with_clients(persona: str) -> bool:
    return role_of(persona) in ("caseworker", "supervisor")


def oracle(persona: str, state: str) -> dict[str, str]:
    """{category: basis} of what ``persona`` may see of the client in ``state`` today.

    The holding agency's caseworkers and supervisors see everything; nobody else without a
    caseworker's or supervisor's role sees anything (supporters, administrative staff, system
    admins). Outside H: a valid consent to one's agency while linked, then a 支援会議 sharing,
    then an emergency disclosure — the least exceptional basis is the one recorded."""
    if not works_with_clients(persona):
        return {}
    agency = agency_of(persona)
    if agency == "H":
        return dict.fromkeys(ALL, "holder")
    shown: dict[str, str] = {}
    if agency in LINKED:
        for category in CONSENTED_TODAY.get(state, ()):
            shown.setdefault(category, "consent")
    if agency == "C":
        for category in COUNCIL_SHARED:
            shown.setdefault(category, "council")
    if state == "emergency" and agency in EMERGENCY_TO:
        for category in EMERGENCY_SHARED:
            shown.setdefault(category, "emergency")
    return shown


def sentinels(state: str) -> dict[str, tuple[str, ...]]:
    """Strings that exist only in the live record of the state's client, per category."""
    tag = state.upper()
    number = STATES.index(state) + 1
    return {
        BASIC: (f"ZQ{tag}NAMEQZ", f"099-4{number}{number}7-20{number}1"),
        HOUSEHOLD: (f"ZQ{tag}HOUSEHOLDQZ",),
        CONSULTATION: (f"ZQ{tag}SUMMARYQZ", f"ZQ{tag}NOTESQZ"),
        PLAN: (f"ZQ{tag}PLANWORDSQZ",),
    }


# --- Who may open a page (the status half of the oracle) -----------------------------------------

Audience = Callable[[str, str | None], bool]


def holder(persona: str, state: str | None = None) -> bool:
    return works_with_clients(persona) and agency_of(persona) == "H"


def live_view(persona: str, state: str | None) -> bool:
    linked = works_with_clients(persona) and agency_of(persona) in LINKED
    return holder(persona) or linked or bool(oracle(persona, state))


def sides(to: str) -> Audience:
    """The sending (H) and the receiving agency's caseworkers and supervisors."""
    agencies = ("H", to)
    return lambda persona, state=None: (
        works_with_clients(persona) and agency_of(persona) in agencies
    )


def receiver(to: str) -> Audience:
    return lambda persona, state=None: works_with_clients(persona) and agency_of(persona) == to


def nobody(persona: str, state: str | None = None) -> bool:
    return False


def holder_or_sysadmin(persona: str, state: str | None = None) -> bool:
    return holder(persona) or persona == "sysadmin"


def h_supervisor(persona: str, state: str | None = None) -> bool:
    return persona == "H-supervisor"


def everyone(persona: str, state: str | None = None) -> bool:
    return True


def signed_in(persona: str, state: str | None = None) -> bool:
    return persona != "anonymous"


def client_work(persona: str, state: str | None = None) -> bool:
    return works_with_clients(persona)


def supervisors(persona: str, state: str | None = None) -> bool:
    return role_of(persona) == "supervisor"


def system_only(persona: str, state: str | None = None) -> bool:
    return persona == "sysadmin"


def h_roster(persona: str, state: str | None = None) -> bool:
    return persona in ("H-roster_admin", "sysadmin")


def roster_admins(persona: str, state: str | None = None) -> bool:
    return role_of(persona) == "roster_admin" or persona == "sysadmin"


def supporters(persona: str, state: str | None = None) -> bool:
    return role_of(persona) == "supporter"


def not_supporters(persona: str, state: str | None = None) -> bool:
    return signed_in(persona) and not supporters(persona)


def with_agency(persona: str, state: str | None = None) -> bool:
    return persona not in ("anonymous", "sysadmin")


def council_members(persona: str, state: str | None = None) -> bool:
    return (works_with_clients(persona) and agency_of(persona) in ("H", "C")) or (
        persona == "sysadmin"
    )


def council_member_staff(persona: str, state: str | None = None) -> bool:
    return works_with_clients(persona) and agency_of(persona) in ("H", "C")


def council_runner(persona: str, state: str | None = None) -> bool:
    return persona in ("H-supervisor", "sysadmin")


def councils_page(persona: str, state: str | None = None) -> bool:
    return works_with_clients(persona) or persona == "sysadmin"


@dataclass(frozen=True)
class Url:
    """How one URL is requested and who may open it.

    ``args`` builds the URL's arguments from the world (and the state, for a client-bound URL).
    ``post``: a POST-only view, requested with ``data`` (empty by default), which must change
    nothing for anyone refused. ``forbidden``: who gets a deliberate 403 (a service's
    PermissionDenied) instead of the 404 everyone else refused gets. ``unlogged``: who may be
    refused without an access-log entry because they may see the record and were refused an
    action on it, not a look."""

    audience: Audience
    args: Callable[[dict, str | None], dict] | None = None
    post: bool = False
    data: Callable[[dict, str | None], dict] | None = None
    forbidden: Audience = nobody
    unlogged: Audience = nobody
    # a query string (searches, filters, a partial's parameters) and an htmx request's target
    query: Callable[[dict, str | None], dict] | None = None
    htmx: str | None = None


def of(**keys: str) -> Callable[[dict, str | None], dict]:
    """URL arguments from a state's objects: of(public_id="client") → {"public_id": <uuid>}."""
    return lambda world, state: {name: world["states"][state][key] for name, key in keys.items()}


def fixed(**keys: str) -> Callable[[dict, str | None], dict]:
    """URL arguments from the world's objects that belong to no client."""
    return lambda world, state: {name: world[key] for name, key in keys.items()}


def literal(**values) -> Callable[[dict, str | None], dict]:
    return lambda world, state: values


def referral_urls(to: str) -> dict[str, Url]:
    ref = of(public_id=f"referral_{to}")
    both, recv = sides(to), receiver(to)
    urls = {
        "referrals:detail": Url(both, ref),
        # not a draft any more: its sender is sent back to the referral's page
        "referrals:edit": Url(holder, ref, unlogged=both),
        "referrals:print": Url(holder, ref, unlogged=both),
        "referrals:send": Url(holder, ref, post=True, forbidden=recv, unlogged=both),
        "referrals:withdraw": Url(holder, ref, post=True, forbidden=recv, unlogged=both),
        "referrals:message_post": Url(both, ref, post=True),
        "referrals:accept": Url(recv, ref, post=True, forbidden=holder, unlogged=both),
        "referrals:decline": Url(both, ref, post=True),
        "referrals:first_contact": Url(both, ref, post=True),
    }
    if to == "J":
        urls |= {
            "referrals:joint": Url(both, ref),
            "referrals:joint_role": Url(both, ref, post=True),
            "referrals:joint_policy": Url(both, ref, post=True),
        }
    return {f"{name}@{to}": url for name, url in urls.items()}


CLIENT = of(public_id="client")
CASE = of(public_id="case")
PLAN_ID = of(public_id="plan")
MEETING = of(public_id="meeting")

# name[@variant]: how to request it for one state's client
CLIENT_URLS: dict[str, Url] = {
    "cases:client": Url(holder, CLIENT),
    "cases:client_edit": Url(holder, CLIENT),
    "cases:client_first_contact": Url(holder, CLIENT, post=True),
    "cases:client_timeline": Url(holder, CLIENT),
    "cases:client_timeline@kinds": Url(
        holder, CLIENT, query=literal(kind=["consultation", "plan", "consent", "referral"])
    ),
    # a later page of the timeline (an edited cursor starts from the top: still the holder's)
    "cases:client_timeline@after": Url(
        holder, CLIENT, query=literal(after="WyIyMDk5LTAxLTAxIl0="), htmx="timeline"
    ),
    # the client page's sections that load when opened (htmx fragments of the page)
    "consent:client_consents": Url(holder, CLIENT, htmx="consents-section"),
    "consent:client_emergencies": Url(holder, CLIENT, htmx="emergency-section"),
    "councils:client_councils": Url(holder, CLIENT, htmx="councils-section"),
    "cases:client_access_log": Url(holder, CLIENT, htmx="access-log-section"),
    "cases:client_supporters": Url(holder, CLIENT, htmx="supporters-section"),
    "referrals:client_referrals": Url(holder, CLIENT, htmx="referrals-section"),
    "cases:client_case_history": Url(holder, CLIENT, htmx="case-history-section"),
    "referrals:shared_record": Url(live_view, CLIENT),
    "cases:household_edit": Url(holder, CLIENT),
    "cases:member_add": Url(holder, CLIENT),
    "cases:member_edit": Url(holder, of(public_id="client", member_id="member")),
    "cases:member_remove": Url(holder, of(public_id="client", member_id="member"), post=True),
    "cases:case_open": Url(holder, CLIENT),
    "cases:case_edit": Url(holder, CASE),
    "cases:case_stage": Url(holder, CASE),
    "cases:case_close": Url(holder, CASE),
    "cases:case_reopen": Url(holder, CASE),
    "cases:consultation_new": Url(holder, CASE),
    "cases:consultation": Url(holder, of(public_id="consultation")),
    "cases:consultation_edit": Url(holder, of(public_id="consultation")),
    "cases:plan_create": Url(holder, CASE, post=True),
    "cases:plan": Url(holder, PLAN_ID),
    "cases:plan_update": Url(holder, PLAN_ID, post=True),
    "cases:plan_goal_add": Url(holder, PLAN_ID, post=True),
    "cases:plan_goal_edit": Url(holder, of(public_id="plan", goal_id="goal")),
    "cases:plan_goal_remove": Url(holder, of(public_id="plan", goal_id="goal"), post=True),
    "cases:plan_item_add": Url(holder, PLAN_ID, post=True),
    "cases:plan_items_reorder": Url(holder, PLAN_ID, post=True),
    "cases:plan_item_edit": Url(holder, of(public_id="plan", item_id="item")),
    "cases:plan_item_remove": Url(holder, of(public_id="plan", item_id="item"), post=True),
    "cases:plan_agree": Url(holder, PLAN_ID),
    "cases:plan_revise": Url(holder, PLAN_ID),
    "cases:plan_review": Url(holder, PLAN_ID),
    "cases:plan_print": Url(holder, PLAN_ID),
    # The 支援調整会議 that discussed the client (hosted by H)
    "cases:meeting": Url(holder, MEETING),
    "cases:meeting_edit": Url(holder, MEETING),
    "cases:meeting_case": Url(holder, MEETING),
    "cases:meeting_case@case": Url(holder, MEETING, query=of(case="case"), htmx="case-form"),
    "cases:meeting_print": Url(holder, MEETING),
    # A supporter of H (not one of the personas) is dispatched to every client
    "cases:supporter_assign": Url(holder, CLIENT),
    # the form names the client: the assignment is looked up among that client's
    "cases:supporter_unassign": Url(
        holder, of(assignment_id="assignment"), post=True, data=of(client="client")
    ),
    "cases:visit_acknowledge": Url(holder, of(public_id="visit"), post=True),
    # none of the personas is dispatched to these clients
    "cases:my_household": Url(nobody, CLIENT),
    # Consent and emergency disclosures: the holding agency's own records
    "consent:new": Url(holder, of(client_id="client")),
    "consent:detail": Url(holder, of(public_id="consent")),
    "consent:withdraw": Url(holder, of(public_id="consent"), post=True),
    # no scan was uploaded: nothing to download, even for the holder
    "consent:scan": Url(nobody, of(public_id="consent"), unlogged=holder),
    "consent:emergency_new": Url(holder, of(client_id="client")),
    "consent:emergency_detail": Url(holder, of(public_id="emergency")),
    "consent:emergency_review": Url(
        h_supervisor, of(public_id="emergency"), post=True, unlogged=holder
    ),
    "consent:emergency_end": Url(holder, of(public_id="emergency"), post=True),
    # Referrals: the accepted つなぎ to L and 共同支援 to J
    "referrals:new": Url(holder, of(client_id="client")),
    # the form's categories, reloaded by htmx when the type or the agency changes
    "referrals:new@categories": Url(
        holder,
        of(client_id="client"),
        query=lambda world, state: {
            "partial": "categories",
            "type": "tsunagi",
            "to_agency": str(world["L_id"]),
        },
        htmx="categories",
    ),
    "referrals:client_records": Url(holder, of(client_id="client")),
    **referral_urls("L"),
    **referral_urls("J"),
    # 支援会議: the holder, or whoever runs the council, takes a person off the agenda
    # (the council's other members see the item: refusing them an action needs no log entry)
    # the session page with the agenda form opened for this client (?client=…): refused at
    # the council, before any client is looked up, so nothing to log
    "councils:agenda_add@client": Url(
        council_member_staff,
        fixed(public_id="session_id"),
        query=of(client="client"),
        unlogged=everyone,
    ),
    "councils:agenda_withdraw": Url(
        holder_or_sysadmin, of(public_id="agenda"), post=True, unlogged=council_member_staff
    ),
}

H_AGENCY = fixed(public_id="H_id")

OTHER_URLS: dict[str, Url] = {
    "home": Url(signed_in),
    "health": Url(everyone),
    "login": Url(everyone),
    "logout": Url(everyone, post=True),
    "password_change": Url(signed_in),
    "password_change_done": Url(signed_in),
    "password_reset_confirm": Url(everyone, literal(uidb64="MQ", token="0-invalid")),
    "password_reset_complete": Url(everyone),
    "set_language": Url(everyone, post=True),
    "agencies:choose": Url(signed_in),
    # the agency picker of the forms; each purpose's audience is in test_permission_matrix
    "agencies:pick": Url(client_work, literal(purpose="consent-recipient")),
    "agencies:directory": Url(not_supporters),
    "agencies:detail": Url(not_supporters, fixed(public_id="L_id")),
    "agencies:roster_home": Url(roster_admins),
    "agencies:manage": Url(h_roster, H_AGENCY),
    "agencies:profile_edit": Url(h_roster, H_AGENCY),
    "agencies:staff_invite": Url(h_roster, H_AGENCY),
    "agencies:staff_edit": Url(h_roster, fixed(public_id="H_id", membership_id="H_cw_membership")),
    "agencies:staff_deactivate": Url(
        h_roster, fixed(public_id="H_id", membership_id="H_cw_membership"), post=True
    ),
    "agencies:staff_reactivate": Url(
        h_roster, fixed(public_id="H_id", membership_id="H_cw_membership"), post=True
    ),
    "agencies:my_supporter_profile": Url(supporters),
    "agencies:system_agencies": Url(system_only),
    "agencies:system_agency_create": Url(system_only),
    "agencies:system_municipalities": Url(system_only),
    "agencies:system_municipality_edit": Url(system_only, literal(code="202011")),
    "agencies:system_networks": Url(system_only),
    "agencies:system_network_create": Url(system_only),
    "agencies:system_network_edit": Url(system_only, fixed(public_id="network_id")),
    "agencies:system_import": Url(system_only),
    "agencies:system_export_municipalities": Url(system_only),
    "agencies:system_export_agencies": Url(system_only),
    "audit:list": Url(system_only),
    "cases:caseload": Url(client_work),
    "cases:caseload@agency": Url(client_work, query=literal(scope="agency")),
    "cases:client_search": Url(client_work),
    # "ZQ" begins every sentinel name: only H's staff may find the five
    "cases:client_search@name": Url(client_work, query=literal(q="ZQ")),
    "cases:client_search@htmx": Url(client_work, query=literal(q="ZQ"), htmx="results"),
    # the client picker of the forms: the kana search, at most 15, nothing logged (as the search)
    "cases:client_pick": Url(client_work),
    "cases:client_pick@name": Url(client_work, query=literal(q="ZQ"), htmx="client_listbox"),
    "cases:client_create": Url(client_work),
    "cases:meetings": Url(client_work),
    "cases:meeting_create": Url(client_work),
    "cases:my_households": Url(supporters),
    "consent:emergency_list": Url(client_work),
    "councils:list": Url(councils_page),
    "councils:create": Url(system_only),
    "councils:detail": Url(council_members, fixed(public_id="council_id")),
    "councils:edit": Url(system_only, fixed(public_id="council_id")),
    "councils:end": Url(system_only, fixed(public_id="council_id"), post=True),
    "councils:member_add": Url(council_runner, fixed(public_id="council_id")),
    "councils:member_leave": Url(
        council_runner, fixed(public_id="council_id", member_id="C_member"), post=True
    ),
    "councils:session_create": Url(council_runner, fixed(public_id="council_id")),
    "councils:session": Url(council_members, fixed(public_id="session_id")),
    "councils:session_edit": Url(council_runner, fixed(public_id="session_id")),
    "councils:minutes": Url(council_runner, fixed(public_id="session_id")),
    "councils:agenda_add": Url(council_member_staff, fixed(public_id="session_id")),
    "referrals:records": Url(client_work),
    "referrals:records@name": Url(client_work, query=literal(q="ZQ")),
    "referrals:records_csv": Url(client_work),
    "referrals:records_csv@name": Url(client_work, query=literal(q="ZQ")),
    "referrals:incoming": Url(supervisors),
    "referrals:incoming@htmx": Url(supervisors, htmx="queue"),
    "referrals:outgoing": Url(client_work),
    "referrals:assign": Url(supervisors, post=True),
    "reminders:list": Url(signed_in),
    "reminders:list@htmx": Url(signed_in, htmx="reminder-more"),
    "reminders:badge": Url(signed_in),
    # nobody's reminder: a 404 for everyone signed in
    "reminders:read": Url(
        nobody, literal(public_id="00000000-0000-0000-0000-000000000000"), post=True
    ),
    "reminders:read_all": Url(signed_in, post=True),
    "reminders:preferences": Url(signed_in),
    "reminders:agency_settings": Url(h_roster, H_AGENCY),
}

# Views that need no login (LoginRequiredMiddleware lets them through).
OPEN_TO_ALL = {
    "health",
    "login",
    "logout",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
}


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the Django admin registers no client-data model (test_accounts)
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _names(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def _base(name: str) -> str:
    return name.split("@")[0]


def test_every_url_is_classified():
    """A URL that is neither client-bound nor listed as taking no client fails here."""
    resolved = _names(get_resolver())
    classified = {_base(name) for name in [*CLIENT_URLS, *OTHER_URLS]}
    assert resolved - classified == set(), "classify these URLs in test_access_matrix"
    assert classified - resolved == set(), "these URLs are gone: drop their rows"


# The whole cross product is about 10,000 requests (some 140 CPU-seconds here, two minutes on
# two workers). By default it is thinned where the state cannot change what the persona may see:
# each persona is requested in one state per distinct answer of the oracle — the state taken in
# turn, from URL to URL and persona to persona, among the states that share that answer — so
# L's caseworker meets "some", "emergency" and one of the three where it sees nothing on every
# page, and every state on many. Every state is requested for everyone on the pages where the
# gate decides for whoever asks (GATE_ROWS), and for no login. ACCESS_MATRIX_FULL=1 requests
# the whole cross product.
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


def states_for(name: str, persona: str) -> tuple[str, ...]:
    if FULL or name in GATE_ROWS or persona == "anonymous":
        return STATES
    answers: dict[tuple, list[str]] = {}
    for state in STATES:
        answers.setdefault(tuple(sorted(oracle(persona, state).items())), []).append(state)
    turn = list(CLIENT_URLS).index(name) + PERSONAS.index(persona)
    chosen = {states[turn % len(states)] for states in answers.values()}
    return tuple(state for state in STATES if state in chosen)


CLIENT_CELLS = sum(len(states_for(n, p)) for n in CLIENT_URLS for p in PERSONAS)
OTHER_CELLS = len(OTHER_URLS) * len(PERSONAS)
CELLS = CLIENT_CELLS + OTHER_CELLS


def test_the_matrix_has_at_least_1000_cells():
    print(
        f"access matrix: {CELLS} cells ({CLIENT_CELLS} client-bound, {len(CLIENT_URLS)} URLs; "
        f"{OTHER_CELLS} without a client, {len(OTHER_URLS)} URLs; "
        f"{len(PERSONAS)} personas; full cross product: {FULL})"
    )
    assert CELLS >= 1000


# --- The world -----------------------------------------------------------------------------------


def _staff(agencies: dict) -> dict:
    from agencies.models import Role
    from agencies.services import membership_ensure

    roles = {
        "caseworker": (Role.CASEWORKER, False),
        "supervisor": (Role.SUPERVISOR, False),
        "supporter": (Role.SUPPORTER, False),
        "roster_admin": (Role.ADMINISTRATIVE, True),
    }
    users = {}
    for persona in STAFF:
        agency, role = persona.split("-")
        user = make_user(f"gate-{agency}-{role}", f"{agency}機関 {role}")
        membership_ensure(
            actor=None,
            user=user,
            agency=agencies[agency],
            role=roles[role][0],
            is_roster_admin=roles[role][1],
        )
        users[persona] = user
    users["sysadmin"] = make_user("gate-sysadmin", "システム管理者", system_admin=True)
    return users


def _referral(*, client, to, kind: str, categories, sender, answerer):
    from referrals.services import referral_accept, referral_draft, referral_send

    referral = referral_draft(
        viewer=viewer_for(sender),
        client=client,
        fields={
            "type": kind,
            "to_agency": to,
            "reason": "世帯の困りごと",
            "client_wishes": "一緒に考えてほしい",
            "categories": list(categories),
        },
    )
    referral_send(viewer=viewer_for(sender), referral=referral)
    return referral_accept(viewer=viewer_for(answerer), referral=referral)


def _client(state: str, *, agencies: dict, users: dict, session) -> dict:
    """One client of H in ``state``, linked to L and J; the sentinels written after sending."""
    from cases.services import (
        case_open,
        client_create,
        client_update,
        consultation_log,
        home_visit_log,
        household_member_save,
        household_save,
        meeting_case_record,
        meeting_save,
        plan_create,
        plan_goal_save,
        plan_item_save,
        plan_update,
        supporter_assign,
    )
    from consent.models import Consent
    from consent.services import consent_record, consent_withdraw, emergency_disclose
    from councils.services import agenda_item_add

    number = STATES.index(state) + 1
    worker = users["H-caseworker"]
    hv = viewer_for(worker)
    today = timezone.localdate()
    client = client_create(
        viewer=hv,
        duplicate_confirmed=True,
        fields={
            "full_name": f"山川 {'一二三四五'[number - 1]}郎",
            "full_name_kana": "ヤマカワ タロウ",
            "birth_date": date(1980 + number, 4, 1),
            "phone": f"090-1000-000{number}",
        },
    )
    household_save(viewer=hv, client=client, postal_code="", address="", note="")
    client.refresh_from_db()
    member = household_member_save(
        viewer=hv,
        client=client,
        member=None,
        fields={"name": "母", "relationship": "mother", "birth_year": 1950, "lives_together": True},
    )
    case = case_open(
        viewer=hv,
        client=client,
        fields={"origin": "family", "support_type": "no_plan", "withdrawal_duration": "10y"},
        topics=["hikikomori", "family"],
        main_topic="hikikomori",
        primary_worker=worker,
    )
    consultation_log(viewer=hv, case=case, fields={"method": "phone", "summary": "母からの電話"})
    plan = plan_create(viewer=hv, case=case, client_words="まだ決めていない")
    goal = plan_goal_save(viewer=hv, plan=plan, goal=None, text="週1回外出する")
    item = plan_item_save(
        viewer=hv, plan=plan, item=None, fields={"what": "見守り", "agency": agencies["H"]}
    )

    # The consents the referrals rest on, to L and to J.
    categories = SENT[state]
    consents = []
    for to, purpose in (("L", "referral"), ("J", "joint_support")):
        consents.append(
            consent_record(
                viewer=hv,
                client=client,
                recipient=agencies[to],
                purpose=purpose,
                categories=list(categories),
                method="written",
                obtained_on=today - timedelta(days=400) if state == "expired" else None,
                valid_until=today if state == "expired" else None,
            )
        )
    referral_l = _referral(
        client=client,
        to=agencies["L"],
        kind="tsunagi",
        categories=categories,
        sender=worker,
        answerer=users["L-supervisor"],
    )
    referral_j = _referral(
        client=client,
        to=agencies["J"],
        kind="joint",
        categories=categories,
        sender=worker,
        answerer=users["J-supervisor"],
    )
    ids = [c.pk for c in consents]
    if state == "withdrawn":
        for consent in consents:
            consent_withdraw(viewer=hv, consent=consent, how="電話で撤回の申し出")
    elif state == "expired":
        # It ran out yesterday (the rows as the service writes a consent that ended then).
        Consent.objects.filter(pk__in=ids).update(valid_until=today - timedelta(days=1))
    elif state in ("none", "emergency"):
        # No consent to L or J at all: the links stay, the consent rows the referrals rested
        # on are gone (the provision records name them by public id only).
        Consent.objects.filter(pk__in=ids).delete()
    if state == "emergency":
        for to in EMERGENCY_TO:
            emergency_disclose(
                viewer=hv,
                client=client,
                recipient=agencies[to],
                categories=list(EMERGENCY_SHARED),
                reason="本人の生命に危険があり、同意を得る時間がない",
            )
    # P has no staff: its consent and disclosure only give the consent pages something to open.
    consent_p = consent_record(
        viewer=hv,
        client=client,
        recipient=agencies["P"],
        purpose="meeting",
        categories=[BASIC],
        method="oral",
    )
    emergency_p = emergency_disclose(
        viewer=hv, client=client, recipient=agencies["P"], categories=[BASIC], reason="安否確認"
    )
    agenda = agenda_item_add(
        viewer=hv,
        session=session,
        client=client,
        categories=list(COUNCIL_SHARED),
        reason="地域で見守りが必要",
    )
    meeting = meeting_save(
        viewer=hv,
        meeting=None,
        fields={"held_on": today},
        participant_agencies=[],
        participant_users=[worker],
    )
    meeting_case_record(
        viewer=hv,
        meeting=meeting,
        case=case,
        plan=None,
        decisions=[],
        next_review_on=None,
        note="",
    )
    dispatched = users["H-dispatched"]
    assignment = supporter_assign(viewer=hv, client=client, supporter=dispatched.memberships.get())
    visit = home_visit_log(
        viewer=viewer_for(dispatched),
        client=client,
        fields={"outcome": "met_family", "is_urgent": True, "urgent_note": "母が体調不良"},
    )

    # The live record moves on: only from now on does it hold the sentinels.
    marks = sentinels(state)
    client_update(
        viewer=hv, client=client, fields={"full_name": marks[BASIC][0], "phone": marks[BASIC][1]}
    )
    consultation = consultation_log(
        viewer=hv,
        case=case,
        fields={
            "method": "home_visit",
            "summary": marks[CONSULTATION][0],
            "notes": marks[CONSULTATION][1],
        },
    )
    plan_update(viewer=hv, plan=plan, client_words=marks[PLAN][0], review_on=None)
    household_save(viewer=hv, client=client, postal_code="", address="", note=marks[HOUSEHOLD][0])
    return {
        "client": client.public_id,
        "client_pk": client.pk,
        "case": case.public_id,
        "consultation": consultation.public_id,
        "plan": plan.public_id,
        "goal": goal.id,
        "item": item.id,
        "member": member.id,
        "consent": consent_p.public_id,
        "emergency": emergency_p.public_id,
        "meeting": meeting.public_id,
        "assignment": assignment.id,
        "visit": visit.public_id,
        "agenda": agenda.public_id,
        "referral_L": referral_l.public_id,
        "referral_J": referral_j.public_id,
        "consents": ids,
    }


def _build() -> dict:
    from agencies.models import Role
    from agencies.permissions import Viewer
    from agencies.services import membership_ensure, network_save
    from councils.services import council_create, council_member_add, council_session_create

    nagano = municipality(
        "202011", "長野市", "city", municipality("200000", "長野県", "prefecture")
    )
    agencies = {
        "H": make_agency("自立相談支援機関H", "ジリツソウダンエイチ", "self_reliance"),
        "L": make_agency("ひきこもり支援ステーションL", "ヒキコモリエル", "hikikomori_station"),
        "J": make_agency("ひきこもり地域支援センターJ", "ヒキコモリジェイ", "hikikomori_center"),
        "C": make_agency("社会福祉協議会C", "シャカイフクシシー", "social_welfare_council"),
        "U": make_agency("NPO法人U", "エヌピーオーユー", "npo"),
        "P": make_agency("保健所P", "ホケンジョピー", "public_health_center"),
    }
    users = _staff(agencies)
    dispatched = make_user("gate-H-dispatched", "派遣 サポーター")
    membership_ensure(actor=None, user=dispatched, agency=agencies["H"], role=Role.SUPPORTER)
    users["H-dispatched"] = dispatched
    system = Viewer(user=users["sysadmin"], membership=None)
    council = council_create(
        viewer=system,
        municipality=nagano,
        name="長野市支援会議",
        legal_basis="self_reliance_9",
        chair_agency=agencies["H"],
        established_on=timezone.localdate() - timedelta(days=30),
    )
    member_c = council_member_add(
        viewer=viewer_for(users["H-supervisor"]),
        council=council,
        agency=agencies["C"],
        joined_on=timezone.localdate() - timedelta(days=30),
    )
    session = council_session_create(
        viewer=viewer_for(users["H-supervisor"]), council=council, held_on=timezone.localdate()
    )
    network = network_save(
        viewer=system,
        network=None,
        fields={
            "name": "長野市プラットフォーム",
            "kind": "municipal_platform",
            "municipality": nagano,
            "coordinating_agency": agencies["H"],
        },
        members=[],
    )
    states = {
        state: _client(state, agencies=agencies, users=users, session=session) for state in STATES
    }
    return {
        "agencies": agencies,
        "users": users,
        "states": states,
        "H_id": agencies["H"].public_id,
        "L_id": agencies["L"].public_id,
        "H_cw_membership": users["H-caseworker"].memberships.get().public_id,
        "network_id": network.public_id,
        "council_id": council.public_id,
        "session_id": session.public_id,
        "C_member": member_c.id,
    }


def _log_in(users: dict) -> dict[str, str]:
    """A session per persona, acting as its agency (as the login flow leaves it)."""
    cookies = {}
    for persona, user in users.items():
        if persona not in PERSONAS:
            continue
        client = HttpClient()
        client.force_login(user)
        client.get(reverse("agencies:choose"))
        cookies[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


@pytest.fixture(scope="module")
def gate_world(django_db_setup, django_db_blocker):
    """The world, built once for the module in a transaction rolled back at its end.

    Sessions live in signed cookies here, so a request spends no query on its session (the
    matrix makes thousands); who the viewer is still comes from the session, as in production.
    404s are not logged as warnings: thousands of them are expected."""
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        ),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = _build()
            world["cookies"] = _log_in(world["users"])
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            request_log.setLevel(level)


# --- Known gaps (findings of this matrix) -----------------------------------------------------


NOT_LOGGED = "refused without a denied access-log entry"

# name: (who, problem, why). These cells must still show exactly that problem (so a fix makes
# the test fail until the row is dropped); any other problem fails as usual.
KNOWN_GAPS: dict[str, tuple[Audience, str, str]] = {}


# --- One cell ------------------------------------------------------------------------------------


def _http(world: dict, persona: str) -> HttpClient:
    client = HttpClient()
    if persona != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["cookies"][persona]
    return client


def _body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    text = content.decode("utf-8", errors="replace")
    return text + "\n" + response.get("Location", "")


def _fingerprint() -> tuple:
    """What a refused POST must leave as it was: the audit trail (every sensitive change
    writes to it) and the referral threads (messages are not audited). One query."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT max(id) FROM audit_auditentry),"
            " (SELECT max(id) FROM referrals_referralmessage)"
        )
        return cursor.fetchone()


def _seen(body: str) -> dict[str, list[str]]:
    """{state: categories} of the sentinels in ``body``."""
    seen: dict[str, list[str]] = {}
    for state in STATES:
        for category, strings in sentinels(state).items():
            if any(s in body for s in strings):
                seen.setdefault(state, []).append(category)
    return seen


def _leaks(body: str, persona: str) -> list[str]:
    """Sentinels in ``body`` of categories the oracle denies ``persona``, for every client."""
    found = []
    for state in STATES:
        allowed = oracle(persona, state)
        for category, strings in sentinels(state).items():
            if category in allowed:
                continue
            found += [f"{state}/{category}:{s}" for s in strings if s in body]
    return found


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
    name: str
    persona: str
    state: str | None
    label: str = ""
    path: str = ""
    status: int = 0
    seen: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.label} × {self.persona} × {self.state}: {'; '.join(self.problems)}"


def _check_status(cell: Cell, url: Url, response, allowed: bool, forbidden: bool) -> None:
    status = response.status_code
    location = response.get("Location", "")
    login = reverse("login")
    if cell.persona == "anonymous" and _base(cell.name) not in OPEN_TO_ALL:
        if status != 302 or not location.startswith(login):
            cell.problems.append(f"status {status}, not the login page")
    elif allowed:
        to_login = location.startswith(login) and _base(cell.name) != "logout"
        if status not in (200, 302) or to_login:
            cell.problems.append(f"status {status} {location}, expected 200/302")
    elif forbidden:
        if status != 403:
            cell.problems.append(f"status {status}, expected 403")
    elif status != 404:
        cell.problems.append(f"status {status}, expected 404")


def _run_cell(world: dict, name: str, url: Url, persona: str, state: str | None) -> Cell:
    cell = Cell(name, persona, state)
    kwargs = url.args(world, state) if url.args else None
    path = reverse(_base(name), kwargs=kwargs)
    client = _http(world, persona)
    headers = {"HX-Request": "true", "HX-Target": url.htmx} if url.htmx else {}
    if url.post:
        data = url.data(world, state) if url.data else {}
        response = client.post(path, data, headers=headers)
    else:
        query = url.query(world, state) if url.query else None
        response = client.get(path, query, headers=headers)
    cell.label = f"{name} {'POST' if url.post else 'GET'} {path}{'?…' if url.query else ''}"
    cell.status = response.status_code
    _check_status(cell, url, response, url.audience(persona, state), url.forbidden(persona, state))
    body = _body(response)
    cell.path = path
    cell.seen = _seen(body)
    cell.problems += [f"leaks {leak}" for leak in _leaks(body, persona)]
    if _base(name) == "referrals:shared_record" and response.status_code == 200:
        cell.problems += _live_view_problems(body, persona, state)
    # the holder's own page shows the live record: the sentinels are real
    holders_page = _base(name) == "cases:client" and response.status_code == 200
    if holders_page and sentinels(state)[BASIC][0] not in body:
        cell.problems.append("the holder's page does not show the client's name")
    return cell


def _check_access_log(world: dict, name: str, url: Url, cells: list[Cell], since: int) -> None:
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
    base = _base(name)
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
        elif base == "referrals:shared_record":
            # the page was shown (with placeholders at least): "shown", with what it showed
            allowed = oracle(persona, state)
            want = (
                "shown",
                [c for c in ALL if c in allowed],
                ",".join(sorted(set(allowed.values()))),
            )
            if got != [want]:
                cell.problems.append(f"access log {got}, expected [{want}]")
        elif base == "referrals:detail" and cell.status == 200:
            # the receiver's own copy of what crossed (accepted): logged as provided
            want = ("shown", [c for c in ALL if c in SENT[state]], "provided")
            if got != [want]:
                cell.problems.append(f"access log {got}, expected [{want}]")


def _known(name: str, persona: str, cells: list[Cell]) -> list[str]:
    """Take a known gap's problem off its cells; a gap that no longer shows is a problem."""
    gap = KNOWN_GAPS.get(name) or KNOWN_GAPS.get(_base(name))
    if gap is None or not gap[0](persona):
        return []
    seen = False
    for cell in cells:
        if gap[1] in cell.problems:
            cell.problems.remove(gap[1])
            seen = True
    return [] if seen else [f"known gap fixed? {name} × {persona}: drop it from KNOWN_GAPS"]


def _last_access_entry() -> int:
    from audit.models import AccessEntry

    return AccessEntry.objects.aggregate(m=Max("id"))["m"] or 0


def _looks_logged(world: dict, cells: list[Cell], since: int) -> None:
    """Whatever of a client a page showed someone outside H, on any page, was logged for that
    page: an entry for the client, on that address, shown, covering what the page held."""
    from audit.models import AccessEntry

    persona = cells[0].persona
    if persona == "anonymous" or holder(persona) or not any(c.seen for c in cells):
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


def _persona_cells(world: dict, name: str, url: Url, persona: str, states, since: int) -> list[str]:
    """One persona's cells of one URL, in a savepoint rolled back afterwards (a permitted POST
    may change the world; the next persona must find it as it was)."""
    with transaction.atomic():
        refused_post = url.post and not any(url.audience(persona, s) for s in states)
        before = _fingerprint() if refused_post else None
        cells = [_run_cell(world, name, url, persona, state) for state in states]
        _looks_logged(world, cells, since)
        if states != (None,):
            _check_access_log(world, name, url, cells, since)
        elif name == "councils:session":
            _council_page_log(world, cells[0], since)
        if before is not None and _fingerprint() != before:
            cells[0].problems.append("a refused POST changed something")
        transaction.set_rollback(True)
    problems = _known(name, persona, cells)
    return problems + [str(c) for c in cells if c.problems]


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CLIENT_URLS))
def test_client_url(gate_world, name):
    url = CLIENT_URLS[name]
    # ids only grow: entries of a rolled-back persona are gone, the next ones are above this
    since = _last_access_entry()
    problems = []
    for persona in PERSONAS:
        states = states_for(name, persona)
        problems += _persona_cells(gate_world, name, url, persona, states, since)
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(OTHER_URLS))
def test_url_without_client(gate_world, name):
    url = OTHER_URLS[name]
    since = _last_access_entry()
    problems = []
    for persona in PERSONAS:
        problems += _persona_cells(gate_world, name, url, persona, (None,), since)
    assert not problems, "\n".join(problems)
